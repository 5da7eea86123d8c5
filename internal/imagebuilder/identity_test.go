package imagebuilder_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/imagebuilder"
	"github.com/kiln-dev/kiln/internal/rbac"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/template"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

const (
	sub     = "/subscriptions/00000000-0000-0000-0000-000000000000"
	rg      = sub + "/resourceGroups/ImageBuilderRG"
	otherRG = sub + "/resourceGroups/Other"
	gallery = rg + "/providers/Microsoft.Compute/galleries/myGallery"
	def     = gallery + "/images/debian12"
	image   = rg + "/providers/Microsoft.Compute/images/debian12"
	ident   = rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/AIBIdentity"
)

func parseTemplate(t *testing.T, doc string) template.ImageTemplate {
	t.Helper()
	tmpl, err := template.Parse([]byte(doc), template.ParseOptions{Filename: "t.json"})
	if err != nil {
		t.Fatalf("parse template: %v", err)
	}
	return *tmpl
}

// templateJSON is a Debian template distributing to the given targets.
func templateJSON(identity string, distribute ...string) string {
	id := ""
	if identity != "" {
		id = `"identity": {"type": "UserAssigned", "userAssignedIdentities": {"` + identity + `": {}}},`
	}
	return `{"type": "Microsoft.VirtualMachineImages/imageTemplates", "location": "eastus", ` + id + `
		"properties": {
			"source": {"type": "PlatformImage", "publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"},
			"distribute": [` + strings.Join(distribute, ",") + `]}}`
}

func managedImage(id string) string {
	return `{"type": "ManagedImage", "runOutputName": "img", "imageId": "` + id + `", "location": "eastus"}`
}

func sharedImage(id string) string {
	return `{"type": "SharedImage", "runOutputName": "sig", "galleryImageId": "` + id + `", "targetRegions": [{"name": "eastus"}]}`
}

func TestRequiredPermissions(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		want []imagebuilder.Requirement
	}{
		"VHD from a platform image needs nothing": {
			templateJSON("", `{"type": "VHD", "runOutputName": "vhd"}`), nil},
		"a managed image target": {
			templateJSON("", managedImage(image)),
			[]imagebuilder.Requirement{{Action: "Microsoft.Compute/images/write", Scope: image, For: "properties.distribute[0].imageId"}}},
		"a gallery image definition target": {
			templateJSON("", sharedImage(def)),
			[]imagebuilder.Requirement{
				{Action: "Microsoft.Compute/galleries/read", Scope: gallery, For: "properties.distribute[0].galleryImageId"},
				{Action: "Microsoft.Compute/galleries/images/read", Scope: def, For: "properties.distribute[0].galleryImageId"},
				{Action: "Microsoft.Compute/galleries/images/versions/write", Scope: def, For: "properties.distribute[0].galleryImageId"},
			}},
		"an explicit gallery version target, twice": {
			templateJSON("", sharedImage(def+"/versions/1.0.0"), strings.Replace(sharedImage(def+"/versions/1.0.0"), `"sig"`, `"sig2"`, 1)),
			[]imagebuilder.Requirement{
				{Action: "Microsoft.Compute/galleries/read", Scope: gallery, For: "properties.distribute[0].galleryImageId"},
				{Action: "Microsoft.Compute/galleries/images/read", Scope: def, For: "properties.distribute[0].galleryImageId"},
				{Action: "Microsoft.Compute/galleries/images/versions/write", Scope: def + "/versions/1.0.0", For: "properties.distribute[0].galleryImageId"},
			}},
	} {
		t.Run(name, func(t *testing.T) {
			got := imagebuilder.RequiredPermissions(parseTemplate(t, tc.doc))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RequiredPermissions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequiredPermissionsOfSources(t *testing.T) {
	tmpl := parseTemplate(t, templateJSON("", managedImage(image)))
	tmpl.Properties.Source = template.Source{Type: template.SourceSharedImageVersion, ImageVersionID: def + "/versions/latest"}
	got := imagebuilder.RequiredPermissions(tmpl)
	want := []imagebuilder.Requirement{
		{Action: "Microsoft.Compute/galleries/read", Scope: gallery, For: "properties.source.imageVersionId"},
		{Action: "Microsoft.Compute/galleries/images/read", Scope: def, For: "properties.source.imageVersionId"},
		{Action: "Microsoft.Compute/galleries/images/versions/read", Scope: def, For: "properties.source.imageVersionId"},
		{Action: "Microsoft.Compute/images/write", Scope: image, For: "properties.distribute[0].imageId"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SharedImageVersion latest source (-want +got):\n%s", diff)
	}
	tmpl.Properties.Source = template.Source{Type: template.SourceManagedImage, ImageID: otherRG + "/providers/Microsoft.Compute/images/base"}
	if got := imagebuilder.RequiredPermissions(tmpl); got[0].Action != "Microsoft.Compute/images/read" || !strings.HasPrefix(got[0].Scope, otherRG) {
		t.Errorf("ManagedImage source needs %+v", got[0])
	}
}

// env is an installation with a group, an identity and the services.
type env struct {
	t       *testing.T
	st      *store.SQLite
	admin   authz.Principal
	cache   *authz.Cache
	rbac    *rbac.Service
	ids     *directory.Identities
	builder *imagebuilder.Service
	mi      authz.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := tenancy.Bootstrap(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := rbac.Bootstrap(ctx, st, d); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, admin: d.Admin, cache: authz.NewCache(rbac.Source{Store: st})}
	dir := &directory.Service{Store: st, Authz: e.cache, Defaults: d}
	e.ids = &directory.Identities{Store: st, Authz: e.cache, Defaults: d}
	e.rbac = &rbac.Service{Store: st, Authz: e.cache, Defaults: d, Directory: dir}
	groups := &tenancy.Groups{Store: st, Authz: e.cache, Defaults: d}
	for _, g := range []string{"ImageBuilderRG", "Other"} {
		if _, err := groups.Create(ctx, e.admin, g, "eastus", nil); err != nil {
			t.Fatal(err)
		}
	}
	created, err := e.ids.Create(ctx, e.admin, "ImageBuilderRG", "AIBIdentity", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.mi = authz.Principal{ID: created.PrincipalID, Name: "AIBIdentity", Type: authz.TypeManagedIdentity}
	e.builder = &imagebuilder.Service{Store: st, Authz: e.cache, Defaults: d, Groups: groups, RunsDir: t.TempDir(),
		IdentityExists: e.ids.Exists, Identities: e.ids}
	return e
}

func (e *env) create(name, doc string) {
	e.t.Helper()
	_, err := e.builder.Create(e.t.Context(), e.admin, imagebuilder.CreateRequest{Group: "ImageBuilderRG", Name: name, Template: parseTemplate(e.t, doc)})
	if err != nil {
		e.t.Fatalf("create template %s: %v", name, err)
	}
}

// grant creates a role from JSON and assigns it to the identity at each
// of its assignable scopes; it returns the assignments' IDs.
func (e *env) grant(roleJSON []byte) []string {
	e.t.Helper()
	role, warnings, err := e.rbac.CreateRole(e.t.Context(), e.admin, roleJSON)
	if err != nil || len(warnings) > 0 {
		e.t.Fatalf("create role: %v, warnings %v", err, warnings)
	}
	var ids []string
	for _, scope := range role.AssignableScopes {
		a, err := e.rbac.CreateAssignment(e.t.Context(), e.admin, rbac.AssignmentRequest{Assignee: e.mi.ID, Role: role.Name, Scope: scope})
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

// The role `kiln image builder permissions` prints is valid Azure role
// JSON, and it is exactly what the preflight needs: with it the preflight
// passes, without any one of its actions it fails naming that action.
func TestMinimalRoleMatchesThePreflight(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.create("t", templateJSON(ident, managedImage(image), sharedImage(def)))
	role, reqs, err := e.builder.Permissions(ctx, e.admin, "ImageBuilderRG", "t")
	if err != nil {
		t.Fatal(err)
	}
	wantActions := []string{"Microsoft.Compute/galleries/images/read", "Microsoft.Compute/galleries/images/versions/write",
		"Microsoft.Compute/galleries/read", "Microsoft.Compute/images/write"}
	if !slices.Equal(role.Actions, wantActions) || !slices.Equal(role.AssignableScopes, []string{rg}) || !role.IsCustom || len(reqs) != 4 {
		t.Fatalf("Permissions = %+v (%d requirements)", role, len(reqs))
	}
	tmpl := parseTemplate(t, templateJSON(ident, managedImage(image), sharedImage(def)))
	for _, dropped := range role.Actions {
		partial := role
		partial.Name = "without " + dropped
		partial.Actions = slices.DeleteFunc(slices.Clone(role.Actions), func(a string) bool { return a == dropped })
		data, _ := json.Marshal(partial)
		granted := e.grant(data)
		var pe *imagebuilder.PreflightError
		if err := e.builder.Preflight(ctx, e.mi, "t", tmpl); !errors.As(err, &pe) || len(pe.Missing) != 1 || pe.Missing[0].Action != dropped {
			t.Errorf("without %s the preflight says %v", dropped, err)
		}
		if _, err := e.rbac.DeleteAssignments(ctx, e.admin, rbac.AssignmentDeletion{IDs: granted}); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := json.Marshal(role)
	if _, warnings, err := authz.ParseRoleDefinition(data); err != nil || len(warnings) > 0 {
		t.Fatalf("the printed role does not parse cleanly: %v %v", err, warnings)
	}
	e.grant(data)
	if err := e.builder.Preflight(ctx, e.mi, "t", tmpl); err != nil {
		t.Errorf("with the printed role the preflight fails: %v", err)
	}
}

// The guide's role, granted at the group, lets the identity publish to a
// gallery and an image in that group, and nowhere else.
func TestPreflightWithTheGuidesRole(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.grant([]byte(`{"Name": "Azure Image Builder Service Image Creation Role", "IsCustom": true,
		"Actions": ["Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/images/read",
			"Microsoft.Compute/galleries/images/versions/read", "Microsoft.Compute/galleries/images/versions/write",
			"Microsoft.Compute/images/write", "Microsoft.Compute/images/read", "Microsoft.Compute/images/delete"],
		"NotActions": [], "AssignableScopes": ["` + rg + `"]}`))
	ok := parseTemplate(t, templateJSON(ident, managedImage(image), sharedImage(def)))
	if err := e.builder.Preflight(ctx, e.mi, "t", ok); err != nil {
		t.Errorf("preflight in the granted group: %v", err)
	}
	elsewhere := parseTemplate(t, templateJSON(ident, sharedImage(strings.Replace(def, rg, otherRG, 1))))
	var pe *imagebuilder.PreflightError
	if err := e.builder.Preflight(ctx, e.mi, "t", elsewhere); !errors.As(err, &pe) || len(pe.Missing) != 3 {
		t.Fatalf("a gallery in another group: %v", err)
	}
	for _, want := range []string{"galleries/read over scope '" + otherRG, "galleries/images/read", "galleries/images/versions/write", "AIBIdentity"} {
		if !strings.Contains(pe.Error(), want) {
			t.Errorf("the preflight error does not name %q:\n%s", want, pe)
		}
	}
}

// A run of a template whose identity lacks its permissions fails at
// preflight: no run starts (there is no engine here to start one).
func TestRunFailsAtPreflight(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.create("t", templateJSON(ident, managedImage(image)))
	_, err := e.builder.Run(ctx, e.admin, "ImageBuilderRG", "t", imagebuilder.RunOptions{})
	var pe *imagebuilder.PreflightError
	if !errors.As(err, &pe) || pe.Identity.ID != e.mi.ID || len(pe.Missing) != 1 || pe.Missing[0].Action != "Microsoft.Compute/images/write" {
		t.Fatalf("Run = %v, want a PreflightError naming images/write for the identity", err)
	}
	if runs, _ := e.st.ListRuns(ctx, ""); len(runs) != 0 {
		t.Errorf("a refused run left %d runs behind", len(runs))
	}
}

// Giving a template an identity needs assign/action on the identity, and
// the identity must exist.
func TestCreateNeedsAssignOnTheIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	writer, err := e.rbac.Directory.CreateUser(ctx, e.admin, "writer", "writer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p := authz.Principal{ID: writer.ID, Name: "writer@example.com", Type: authz.TypeUser}
	if _, _, err := e.rbac.CreateRole(ctx, e.admin, []byte(`{"Name": "Template writer",
		"Actions": ["Microsoft.VirtualMachineImages/imageTemplates/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
		"AssignableScopes": ["`+rg+`"]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: p.ID, Role: "Template writer", Scope: rg}); err != nil {
		t.Fatal(err)
	}
	req := imagebuilder.CreateRequest{Group: "ImageBuilderRG", Name: "t", Template: parseTemplate(t, templateJSON(ident, managedImage(image)))}
	_, err = e.builder.Create(ctx, p, req)
	var denied *authz.AuthorizationFailedError
	if !errors.As(err, &denied) || denied.Action != imagebuilder.ActionIdentityAssign || !strings.EqualFold(denied.Scope, ident) {
		t.Fatalf("Create without assign/action = %v", err)
	}
	if _, err := e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: p.ID, Role: "Managed Identity Operator", Scope: ident}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.builder.Create(ctx, p, req); err != nil {
		t.Errorf("Create with Managed Identity Operator on the identity: %v", err)
	}
	req.Name, req.Template = "t2", parseTemplate(t, templateJSON(rg+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Missing", managedImage(image)))
	if _, err := e.builder.Create(ctx, e.admin, req); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Create with a missing identity: %v", err)
	}
}

// A ReadOnly lock blocks run and cancel, whoever asks.
func TestReadOnlyLockBlocksRun(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.create("t", templateJSON("", `{"type": "VHD", "runOutputName": "vhd"}`))
	if _, err := e.rbac.CreateLock(ctx, e.admin, rbac.LockRequest{Name: "freeze", Level: "ReadOnly", Scope: rg}); err != nil {
		t.Fatal(err)
	}
	var locked *authz.ScopeLockedError
	if _, err := e.builder.Run(ctx, e.admin, "ImageBuilderRG", "t", imagebuilder.RunOptions{}); !errors.As(err, &locked) {
		t.Errorf("Run under ReadOnly = %v, want ScopeLocked", err)
	}
	if _, err := e.builder.Cancel(ctx, e.admin, "ImageBuilderRG", "t"); !errors.As(err, &locked) {
		t.Errorf("Cancel under ReadOnly = %v, want ScopeLocked", err)
	}
}
