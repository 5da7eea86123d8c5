package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/disk"
)

// galleryVersion is the part of `kiln sig image-version show` the gallery
// test reads (az flattens properties).
type galleryVersion struct {
	ID                string
	Name              string
	Tags              map[string]string
	ParentVersionID   string
	PublishingProfile struct {
		TargetRegions []struct{ Name string }
	}
	ReplicationStatus struct {
		AggregatedState string
		Summary         []struct{ Region, State string }
	}
	StorageProfile struct {
		Artifacts []struct{ Format, SHA256 string }
	}
	Evidence struct {
		Manifest, Tattoo, ComplianceReport, SBOM, BuildRunID string
	}
	Revocation *struct{ Reason, CascadedFrom string }
	Ancestry   json.RawMessage
}

func (v galleryVersion) artifact(t *testing.T, format string) string {
	t.Helper()
	for _, a := range v.StorageProfile.Artifacts {
		if a.Format == format {
			return a.SHA256
		}
	}
	t.Fatalf("version %s has no %s artifact: %+v", v.Name, format, v.StorageProfile.Artifacts)
	return ""
}

// gallery runs `kiln sig ...` with -g ImageBuilderRG -r HardenedImagesGallery.
func (e *env) gallery(args ...string) string {
	e.t.Helper()
	return e.mustKiln(append([]string{"sig"}, append(args, "-g", "ImageBuilderRG", "-r", "HardenedImagesGallery")...)...)
}

func (e *env) showVersion(def, version string) galleryVersion {
	e.t.Helper()
	var v galleryVersion
	if err := json.Unmarshal([]byte(e.gallery("image-version", "show", "-i", def, "-e", version)), &v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// TestGalleryEndToEnd follows the guide's gallery journey with real builds:
// a CIS-hardened image built and published as a signed version replicated
// to two regions, verified, tampered with and repaired, exported, used as
// the source of a chained build, superseded and revoked.
func TestGalleryEndToEnd(t *testing.T) {
	e := setup(t)
	// The test owns the guide's group in the shared home (a rerun with
	// KILN_E2E_HOME starts again from 1.0.0).
	e.kiln("group", "delete", "-n", "ImageBuilderRG", "--yes")
	e.mustKiln("group", "create", "-n", "ImageBuilderRG", "-l", "eastus", "-o", "none")
	e.gallery("create", "-o", "none")
	for _, d := range [][]string{{"Deb12-Hardened", "12-Hardened"}, {"Deb12-App", "12-App"}} {
		e.gallery("image-definition", "create", "-i", d[0], "--publisher", "YourCompany", "--offer", "Debian", "--sku", d[1],
			"--os-type", "Linux", "--os-state", "Generalized", "--hyper-v-generation", "V2", "-o", "none")
	}

	e.mustKiln("build", "examples/debian12-cis-gallery.json", "-g", "ImageBuilderRG", "-n", "deb12-cis", "-o", "none")
	runOutput := e.mustKiln("image", "builder", "output", "list", "-g", "ImageBuilderRG", "-n", "deb12-cis", "--query", "[?name=='deb12-hardened'].artifactId | [0]", "-o", "tsv")
	v := e.showVersion("Deb12-Hardened", "latest")

	t.Run("the build published version 1.0.0, signed, with its evidence, in both regions", func(t *testing.T) {
		if v.Name != "1.0.0" {
			t.Errorf("first version under versioning Latest/major 1 is %q, want 1.0.0", v.Name)
		}
		var regions []string
		for _, r := range v.PublishingProfile.TargetRegions {
			regions = append(regions, r.Name)
		}
		if strings.Join(regions, " ") != "eastus westeurope" {
			t.Errorf("target regions %v", regions)
		}
		if v.ReplicationStatus.AggregatedState != "Completed" || len(v.ReplicationStatus.Summary) != 2 {
			t.Errorf("replication status %+v", v.ReplicationStatus)
		}
		ev := v.Evidence
		if ev.Manifest == "" || ev.Tattoo == "" || ev.ComplianceReport == "" || ev.SBOM == "" || ev.BuildRunID == "" {
			t.Errorf("evidence incomplete: %+v", ev)
		}
		if !strings.EqualFold(strings.TrimSpace(runOutput), v.ID) {
			t.Errorf("the run output's artifactId is %q, want the version %s", runOutput, v.ID)
		}
		if v.Tags["profile"] != "cis-debian-l1" {
			t.Errorf("artifact tags not on the version: %v", v.Tags)
		}
		verified := e.gallery("image-version", "verify", "-i", "Deb12-Hardened", "-e", "1.0.0", "--query", "[verified, signature]", "-o", "tsv")
		if strings.Join(strings.Fields(verified), " ") != "true valid" {
			t.Errorf("verify: %q", verified)
		}
	})

	qcow := v.artifact(t, "qcow2")
	t.Run("a tampered replica fails verification, names the region, and is repaired from the other", func(t *testing.T) {
		replica := filepath.Join(e.home, "regions", "westeurope", "sha256", qcow[:2], qcow)
		if err := os.Chmod(replica, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(replica, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("tampered"), 1<<20); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out, stderr, code := e.kiln("sig", "image-version", "verify", "-g", "ImageBuilderRG", "-r", "HardenedImagesGallery", "-i", "Deb12-Hardened", "-e", "1.0.0", "-o", "none")
		if code == 0 || !strings.Contains(stderr, "westeurope") {
			t.Fatalf("verify of a tampered replica: exit %d\n%s%s", code, out, stderr)
		}
		e.gallery("image-version", "verify", "-i", "Deb12-Hardened", "-e", "1.0.0", "--repair", "-o", "none")
		if got, err := disk.SHA256File(replica); err != nil || got != qcow {
			t.Errorf("after repair the replica hashes to %s (%v), want %s", got, err, qcow)
		}
	})

	t.Run("export writes the westeurope replica, which is the published disk", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "deb12.qcow2")
		e.gallery("image-version", "export", "-i", "Deb12-Hardened", "-e", "1.0.0", "--format", "qcow2", "--region", "westeurope", "-o", out)
		if got, err := disk.SHA256File(out); err != nil || got != qcow {
			t.Errorf("exported qcow2 hashes to %s (%v), want %s", got, err, qcow)
		}
		if b, err := exec.Command("qemu-img", "check", out).CombinedOutput(); err != nil {
			t.Errorf("qemu-img check: %v\n%s", err, b)
		}
	})

	t.Run("a chained build takes latest as its source and records it as parent", func(t *testing.T) {
		e.mustKiln("build", "internal/e2e/testdata/chained.json", "-g", "ImageBuilderRG", "-n", "deb12-app", "-o", "none")
		app := e.showVersion("Deb12-App", "1.0.0")
		if !strings.EqualFold(app.ParentVersionID, v.ID) {
			t.Errorf("parent %q, want %q", app.ParentVersionID, v.ID)
		}
		if !strings.Contains(string(app.Ancestry), "Deb12-Hardened/versions/1.0.0") {
			t.Errorf("ancestry does not name the parent: %s", app.Ancestry)
		}
		logs := e.mustKiln("image", "builder", "logs", "-g", "ImageBuilderRG", "-n", "deb12-app")
		if !strings.Contains(logs, "resolved to "+v.ID) {
			t.Errorf("the build log does not say which version latest resolved to")
		}
	})

	t.Run("a newer version becomes latest; revoking it moves latest back; a cascade revokes descendants", func(t *testing.T) {
		disk := filepath.Join(t.TempDir(), "next.qcow2")
		e.gallery("image-version", "export", "-i", "Deb12-Hardened", "-e", "1.0.0", "--format", "qcow2", "-o", disk)
		e.gallery("image-version", "create", "-i", "Deb12-Hardened", "-e", "1.0.1", "--os-vhd-uri", disk, "-o", "none")
		if got := e.showVersion("Deb12-Hardened", "latest").Name; got != "1.0.1" {
			t.Fatalf("latest after publishing 1.0.1 is %s", got)
		}
		e.gallery("image-version", "revoke", "-i", "Deb12-Hardened", "-e", "1.0.1", "--reason", "CVE-2026-0001", "-o", "none")
		if got := e.showVersion("Deb12-Hardened", "latest").Name; got != "1.0.0" {
			t.Errorf("latest after revoking 1.0.1 is %s, want 1.0.0", got)
		}
		revoked := e.gallery("image-version", "revoke", "-i", "Deb12-Hardened", "-e", "1.0.0", "--cascade", "--reason", "CVE-2026-0002", "--query", "[].id", "-o", "tsv")
		if !strings.Contains(revoked, "Deb12-App/versions/1.0.0") {
			t.Errorf("a cascading revocation did not reach the chained version:\n%s", revoked)
		}
		if app := e.showVersion("Deb12-App", "1.0.0"); app.Revocation == nil || !strings.EqualFold(app.Revocation.CascadedFrom, v.ID) {
			t.Errorf("Deb12-App 1.0.0 revocation %+v", app.Revocation)
		}
		_, stderr, code := e.kiln("build", "internal/e2e/testdata/chained.json", "-g", "ImageBuilderRG", "-n", "deb12-app", "-o", "none")
		if code == 0 || !strings.Contains(stderr, "revoked") {
			t.Errorf("a chained build on a definition whose versions are all revoked: exit %d\n%s", code, stderr)
		}
	})
}
