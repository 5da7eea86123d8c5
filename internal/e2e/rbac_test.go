package e2e

import (
	"strings"
	"testing"
)

// TestLeastPrivilegeBuild is the guide's identity setup with a real build:
// the template acts as a user-assigned identity that holds only the
// guide's custom role (seven gallery and image actions) at one resource
// group. Without the assignment, or with the gallery in another group, the
// run fails at preflight before anything is built; with it, the build
// publishes to the gallery and creates the managed image.
func TestLeastPrivilegeBuild(t *testing.T) {
	e := setup(t)
	for _, g := range [][]string{{"TeamImagesRG", "TeamGallery"}, {"OtherImagesRG", "OtherGallery"}} {
		e.kiln("group", "delete", "-n", g[0], "--yes") // a rerun in a kept KILN_E2E_HOME starts again
		e.mustKiln("group", "create", "-n", g[0], "-l", "eastus", "-o", "none")
		e.mustKiln("sig", "create", "-g", g[0], "-r", g[1], "-o", "none")
		e.mustKiln("sig", "image-definition", "create", "-g", g[0], "-r", g[1], "-i", "Deb12",
			"--publisher", "Team", "--offer", "Debian", "--sku", "12-"+g[0], "--os-type", "Linux", "--os-state", "Generalized", "-o", "none")
	}
	e.mustKiln("identity", "create", "-g", "TeamImagesRG", "-n", "builder", "-o", "none")
	const role = "Azure Image Builder Service Image Creation Role"
	e.kiln("role", "definition", "delete", "-n", role) // from an earlier run in a kept home
	e.mustKiln("role", "definition", "create", "--role-definition", "internal/e2e/testdata/rbac/role.json", "-o", "none")

	t.Run("without the role assignment the run fails at preflight", func(t *testing.T) {
		_, stderr, code := e.kiln("build", "internal/e2e/testdata/rbac/team.json", "-g", "TeamImagesRG", "-n", "team", "-o", "none")
		if code == 0 || !strings.Contains(stderr, "PreflightFailed") || !strings.Contains(stderr, "galleries/images/versions/write") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		if strings.Contains(stderr, "Starting step") {
			t.Error("the build started before the preflight refused it")
		}
	})

	e.mustKiln("role", "assignment", "create", "--assignee", "builder", "--role", role, "-g", "TeamImagesRG", "-o", "none")

	t.Run("with the role at the group the build publishes to the gallery and creates the image", func(t *testing.T) {
		e.mustKiln("build", "internal/e2e/testdata/rbac/team.json", "-g", "TeamImagesRG", "-n", "team", "-o", "none")
		got := e.mustKiln("sig", "image-version", "list", "-g", "TeamImagesRG", "-r", "TeamGallery", "-i", "Deb12", "--query", "[].name", "-o", "tsv")
		if strings.TrimSpace(got) != "1.0.0" {
			t.Errorf("versions after the build: %q", got)
		}
		e.mustKiln("image", "show", "-g", "TeamImagesRG", "-n", "deb12-team", "-o", "none")
		activity := e.mustKiln("monitor", "activity-log", "list", "-g", "TeamImagesRG", "--query", "[?operationName.value=='Microsoft.Compute/galleries/images/versions/write'].caller", "-o", "tsv")
		principal := strings.TrimSpace(e.mustKiln("identity", "show", "-g", "TeamImagesRG", "-n", "builder", "--query", "principalId", "-o", "tsv"))
		if principal == "" || !strings.Contains(activity, principal) {
			t.Errorf("the version write is not recorded as the identity's:\n%s", activity)
		}
	})

	t.Run("the same role does not reach a gallery in another group", func(t *testing.T) {
		_, stderr, code := e.kiln("build", "internal/e2e/testdata/rbac/team-other-gallery.json", "-g", "TeamImagesRG", "-n", "team-other", "-o", "none")
		if code == 0 || !strings.Contains(stderr, "PreflightFailed") || !strings.Contains(stderr, "resourceGroups/OtherImagesRG/providers/Microsoft.Compute/galleries/OtherGallery") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		if strings.Contains(stderr, "images/write over scope '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/TeamImagesRG") {
			t.Error("the preflight names a permission the identity has")
		}
	})
}
