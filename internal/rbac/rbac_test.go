package rbac_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/rbac"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// env is one kiln installation, opened the way the CLI opens it.
type env struct {
	t        testing.TB
	st       *store.SQLite
	defaults tenancy.Defaults
	admin    authz.Principal
	cache    *authz.Cache
	rbac     *rbac.Service
	dir      *directory.Service
	ids      *directory.Identities
	groups   *tenancy.Groups
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	return openEnv(t, filepath.Join(t.TempDir(), "kiln.db"))
}

// openEnv opens (another handle on) the installation at path.
func openEnv(t testing.TB, path string) *env {
	t.Helper()
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, path)
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
	e := &env{t: t, st: st, defaults: d, admin: d.Admin, cache: authz.NewCache(rbac.Source{Store: st})}
	e.dir = &directory.Service{Store: st, Authz: e.cache, Defaults: d}
	e.ids = &directory.Identities{Store: st, Authz: e.cache, Defaults: d}
	e.rbac = &rbac.Service{Store: st, Authz: e.cache, Defaults: d, Directory: e.dir}
	e.groups = &tenancy.Groups{Store: st, Authz: e.cache, Defaults: d}
	return e
}

func (e *env) group(name string) string {
	e.t.Helper()
	if _, err := e.groups.Create(e.t.Context(), e.admin, name, "eastus", nil); err != nil {
		e.t.Fatalf("create group %s: %v", name, err)
	}
	return e.rbac.GroupScope(name)
}

func (e *env) user(upn string) authz.Principal {
	e.t.Helper()
	u, err := e.dir.CreateUser(e.t.Context(), e.admin, upn, upn)
	if err != nil {
		e.t.Fatalf("create user %s: %v", upn, err)
	}
	return authz.Principal{ID: u.ID, Name: upn, Type: authz.TypeUser}
}

func (e *env) identity(group, name string) (directory.Identity, authz.Principal) {
	e.t.Helper()
	ident, err := e.ids.Create(e.t.Context(), e.admin, group, name, "", nil)
	if err != nil {
		e.t.Fatalf("create identity %s: %v", name, err)
	}
	return ident, authz.Principal{ID: ident.PrincipalID, Name: name, Type: authz.TypeManagedIdentity}
}

func (e *env) assign(assignee, role, scope string) rbac.Assignment {
	e.t.Helper()
	a, err := e.rbac.CreateAssignment(e.t.Context(), e.admin, rbac.AssignmentRequest{Assignee: assignee, Role: role, Scope: scope})
	if err != nil {
		e.t.Fatalf("assign %s to %s at %s: %v", role, assignee, scope, err)
	}
	return a
}

func wantAs[T error](t *testing.T, what string, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("%s: error = %v, want a %T", what, err, target)
	}
	return target
}

func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
}

// galleryRole is the guide's least-privilege role, in Azure's file shape.
func galleryRole(scope string) []byte {
	return []byte(`{
    "Name": "Azure Image Builder Service Image Creation Role",
    "IsCustom": true,
    "Description": "Image Builder access to create resources for the image build",
    "Actions": [
        "Microsoft.Compute/galleries/read",
        "Microsoft.Compute/galleries/images/read",
        "Microsoft.Compute/galleries/images/versions/read",
        "Microsoft.Compute/galleries/images/versions/write",
        "Microsoft.Compute/images/write",
        "Microsoft.Compute/images/read",
        "Microsoft.Compute/images/delete"
    ],
    "NotActions": [],
    "AssignableScopes": ["` + scope + `"]
}`)
}

func TestBootstrapMakesTheAdminOwner(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	as, err := e.rbac.ListAssignments(ctx, e.admin, rbac.AssignmentQuery{Assignee: e.admin.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].RoleDefinitionName != "Owner" || as[0].Scope != e.defaults.SubscriptionScope() || as[0].PrincipalName != "admin" {
		t.Fatalf("the admin's assignments = %+v, want Owner at %s", as, e.defaults.SubscriptionScope())
	}
	// Opening again (another process, a later run) changes nothing.
	if err := rbac.Bootstrap(ctx, e.st, e.defaults); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.rbac.ListAssignments(ctx, e.admin, rbac.AssignmentQuery{All: true}); len(again) != 1 {
		t.Errorf("a second bootstrap left %d assignments, want 1", len(again))
	}
	for _, action := range []string{"Microsoft.Compute/images/write", rbac.LockWrite, rbac.RoleAssignmentWrite} {
		if err := e.cache.Check(ctx, e.admin, action, e.defaults.SubscriptionScope()+"/resourceGroups/x"); err != nil {
			t.Errorf("the admin may not %s: %v", action, err)
		}
	}
}

func TestCreateRoleFromAzureJSON(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rg := e.group("ImageBuilderRG")
	role, warnings, err := e.rbac.CreateRole(ctx, e.admin, galleryRole(rg))
	if err != nil || len(warnings) != 0 {
		t.Fatalf("CreateRole = %v, warnings %v", err, warnings)
	}
	if role.RoleType != authz.RoleTypeCustom || len(role.Permissions) != 1 || len(role.Permissions[0].Actions) != 7 ||
		!strings.HasSuffix(role.ID, "/providers/Microsoft.Authorization/roleDefinitions/"+role.Name) {
		t.Errorf("created role = %+v", role)
	}
	got, err := e.rbac.GetRole(ctx, e.admin, "azure image builder service image creation role")
	if err != nil || got.Name != role.Name {
		t.Errorf("GetRole by name in another case = %+v, %v", got, err)
	}
	customs, _ := e.rbac.ListRoles(ctx, e.admin, rbac.RoleQuery{CustomOnly: true})
	if len(customs) != 1 {
		t.Errorf("ListRoles(custom only) = %d roles, want 1", len(customs))
	}
	// What list prints goes back into update unchanged.
	listed, _ := json.Marshal(customs[0])
	if _, _, err := e.rbac.UpdateRole(ctx, e.admin, listed); err != nil {
		t.Errorf("UpdateRole with list output: %v", err)
	}
}

func TestCreateRoleRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rg := e.group("rg")
	if _, _, err := e.rbac.CreateRole(ctx, e.admin, galleryRole(rg)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		json string
		want string
	}{
		"malformed, with the path": {`{"Name": "x", "Actons": [], "AssignableScopes": ["` + rg + `"]}`, `Actons: unknown field`},
		"bad action pattern":       {`{"Name": "x", "Actions": ["*/read", "Microsoft.Compute/images/wirte"], "AssignableScopes": ["` + rg + `"]}`, `Actions[1]: invalid action`},
		"a built-in name":          {`{"Name": "owner", "Actions": ["*/read"], "AssignableScopes": ["` + rg + `"]}`, `built-in role`},
		"a taken name":             {`{"Name": "AZURE IMAGE BUILDER SERVICE IMAGE CREATION ROLE", "Actions": ["*/read"], "AssignableScopes": ["` + rg + `"]}`, `already exists`},
		"another subscription":     {`{"Name": "x", "Actions": ["*/read"], "AssignableScopes": ["/subscriptions/11111111-1111-1111-1111-111111111111"]}`, `outside this tenant's subscription`},
		"no assignable scopes":     {`{"Name": "x", "IsCustom": false, "Actions": ["*/read"]}`, `at least one assignable scope`},
	} {
		_, _, err := e.rbac.CreateRole(ctx, e.admin, []byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", name, err, tc.want)
		}
	}
	_, warnings, err := e.rbac.CreateRole(ctx, e.admin, []byte(`{"Name": "w", "Actions": ["Microsoft.Compute/imags/write"], "AssignableScopes": ["`+rg+`"]}`))
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0].Error(), `did you mean "Microsoft.Compute/images/write"`) {
		t.Errorf("an unknown action: err %v, warnings %v; want one warning with a suggestion", err, warnings)
	}
}

func TestAssignments(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rg, other := e.group("ImageBuilderRG"), e.group("Other")
	ident, mi := e.identity("ImageBuilderRG", "AIBIdentity")
	role, _, err := e.rbac.CreateRole(ctx, e.admin, galleryRole(rg))
	if err != nil {
		t.Fatal(err)
	}
	a := e.assign(ident.PrincipalID, role.RoleName, rg)
	if a.PrincipalType != authz.TypeServicePrincipal || a.Scope != rg || a.ResourceGroup != "ImageBuilderRG" {
		t.Errorf("assignment = %+v", a)
	}
	image := rg + "/providers/Microsoft.Compute/images/img"
	if err := e.cache.Check(ctx, mi, "Microsoft.Compute/images/write", image); err != nil {
		t.Errorf("the identity may not write images in its group: %v", err)
	}
	denied := wantAs[*authz.AuthorizationFailedError](t, "writing elsewhere", e.cache.Check(ctx, mi, "Microsoft.Compute/images/write", other+"/providers/Microsoft.Compute/images/img"))
	if denied.Principal.ID != mi.ID || denied.Action != "Microsoft.Compute/images/write" {
		t.Errorf("AuthorizationFailed names %+v", denied)
	}

	_, err = e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: "AIBIdentity", Role: role.Name, Scope: rg})
	wantIs(t, "the same assignment twice (by name and GUID)", err, store.ErrConflict)
	_, err = e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: ident.ClientID, Role: role.RoleName, Scope: other})
	if err == nil || !strings.Contains(err.Error(), "AssignableScopes") {
		t.Errorf("an assignment outside AssignableScopes: %v", err)
	}
	_, err = e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: "nobody@example.com", Role: "Reader", Scope: rg})
	wantIs(t, "an assignment to a missing principal", err, store.ErrNotFound)
	_, err = e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: "AIBIdentity", Role: "Reader", Scope: e.rbac.GroupScope("missing")})
	wantIs(t, "an assignment at a missing group", err, store.ErrNotFound)
	_, err = e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: "AIBIdentity", Role: "No Such Role", Scope: rg})
	wantIs(t, "an assignment of a missing role", err, store.ErrNotFound)

	wantIs(t, "deleting a role still assigned", e.rbac.DeleteRole(ctx, e.admin, role.RoleName), store.ErrConflict)
	if _, err := e.rbac.DeleteAssignments(ctx, e.admin, rbac.AssignmentDeletion{Assignee: "AIBIdentity", Role: role.RoleName, Scope: rg}); err != nil {
		t.Fatal(err)
	}
	if err := e.rbac.DeleteRole(ctx, e.admin, role.RoleName); err != nil {
		t.Errorf("deleting the unassigned role: %v", err)
	}
	if err := e.cache.Check(ctx, mi, "Microsoft.Compute/images/write", image); err == nil {
		t.Error("the identity keeps its permission after its assignment was deleted")
	}
}

// Updating a role may not strand its assignments outside its scopes.
func TestUpdateRoleKeepsAssignmentsAssignable(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rg1, rg2 := e.group("rg1"), e.group("rg2")
	u := e.user("alice@example.com")
	twoScopes := `{"Name": "R", "Actions": ["*/read"], "AssignableScopes": ["` + rg1 + `", "` + rg2 + `"]}`
	if _, _, err := e.rbac.CreateRole(ctx, e.admin, []byte(twoScopes)); err != nil {
		t.Fatal(err)
	}
	e.assign(u.ID, "R", rg2)
	_, _, err := e.rbac.UpdateRole(ctx, e.admin, []byte(`{"Name": "R", "Actions": ["*/read"], "AssignableScopes": ["`+rg1+`"]}`))
	wantIs(t, "narrowing past an assignment", err, store.ErrConflict)
	_, _, err = e.rbac.UpdateRole(ctx, e.admin, []byte(`{"Name": "Owner", "Actions": ["*"], "AssignableScopes": ["`+rg1+`"]}`))
	wantIs(t, "updating a built-in role", err, store.ErrConflict)
}

// Changing access control is itself authorized, locks are managed by
// Owners only, and bind Owners too.
func TestLocks(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rg := e.group("rg")
	contributor := e.user("contributor@example.com")
	e.assign(contributor.ID, "Contributor", "")
	_, err := e.rbac.CreateLock(ctx, contributor, rbac.LockRequest{Name: "keep", Level: "CanNotDelete", Scope: rg})
	denied := wantAs[*authz.AuthorizationFailedError](t, "a Contributor creating a lock", err)
	if denied.Action != rbac.LockWrite {
		t.Errorf("denied action = %s, want %s", denied.Action, rbac.LockWrite)
	}
	_, err = e.rbac.CreateLock(ctx, e.admin, rbac.LockRequest{Name: "x", Level: "CanNotDelete", Scope: e.rbac.GroupScope("missing")})
	wantIs(t, "a lock on a missing group", err, store.ErrNotFound)
	_, err = e.rbac.CreateLock(ctx, e.admin, rbac.LockRequest{Name: "x", Level: "Sometimes", Scope: rg})
	if err == nil || !strings.Contains(err.Error(), "CanNotDelete") {
		t.Errorf("a lock with a bad level: %v", err)
	}
	l, err := e.rbac.CreateLock(ctx, e.admin, rbac.LockRequest{Name: "keep", Level: "canNotDelete", Scope: rg, Notes: "prod"})
	if err != nil || l.Level != "CanNotDelete" || l.ResourceGroup != "rg" || *l.Notes != "prod" {
		t.Fatalf("CreateLock = %+v, %v", l, err)
	}
	_, err = e.rbac.CreateLock(ctx, e.admin, rbac.LockRequest{Name: "keep", Level: "ReadOnly", Scope: rg})
	wantIs(t, "a second lock of that name", err, store.ErrConflict)

	// The Owner cannot delete the group, nor an assignment in it.
	wantAs[*authz.ScopeLockedError](t, "an Owner deleting a locked group", e.groups.Delete(ctx, e.admin, "rg"))
	a := e.assign(contributor.ID, "Reader", rg)
	_, err = e.rbac.DeleteAssignments(ctx, e.admin, rbac.AssignmentDeletion{IDs: []string{a.ID}})
	wantAs[*authz.ScopeLockedError](t, "deleting an assignment under a CanNotDelete lock", err)
	// Writes go through; a lock never blocks its own removal.
	if _, err := e.groups.Create(ctx, e.admin, "rg", "eastus", map[string]string{"k": "v"}); err != nil {
		t.Errorf("writing under CanNotDelete: %v", err)
	}
	locks, err := e.rbac.ListLocks(ctx, e.admin, "")
	if err != nil || len(locks) != 1 {
		t.Fatalf("ListLocks = %+v, %v", locks, err)
	}
	if err := e.rbac.DeleteLock(ctx, contributor, l.ID); err == nil {
		t.Error("a Contributor deleted a lock")
	}
	if err := e.rbac.DeleteLock(ctx, e.admin, l.ID); err != nil {
		t.Fatalf("DeleteLock: %v", err)
	}
	if err := e.groups.Delete(ctx, e.admin, "rg"); err != nil {
		t.Errorf("deleting the group once unlocked: %v", err)
	}
}

// A lock on the subscription is inherited by every group and resource;
// ReadOnly also blocks POST actions such as run.
func TestLockInheritance(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	rg := e.group("rg")
	if _, err := e.rbac.CreateLock(ctx, e.admin, rbac.LockRequest{Name: "freeze", Level: "ReadOnly"}); err != nil {
		t.Fatal(err)
	}
	template := rg + "/providers/Microsoft.VirtualMachineImages/imageTemplates/t"
	for _, action := range []string{
		"Microsoft.VirtualMachineImages/imageTemplates/write",
		"Microsoft.VirtualMachineImages/imageTemplates/run/action",
		"Microsoft.VirtualMachineImages/imageTemplates/cancel/action",
		"Microsoft.VirtualMachineImages/imageTemplates/delete",
	} {
		locked := wantAs[*authz.ScopeLockedError](t, action+" under a subscription ReadOnly lock", e.cache.Check(ctx, e.admin, action, template))
		if len(locked.Locks) != 1 || locked.Locks[0].Name != "freeze" {
			t.Errorf("%s: blocking locks = %+v", action, locked.Locks)
		}
	}
	if err := e.cache.Check(ctx, e.admin, "Microsoft.VirtualMachineImages/imageTemplates/read", template); err != nil {
		t.Errorf("a read under ReadOnly: %v", err)
	}
}

// The permission matrix, through the store: principals × actions ×
// scopes, with inheritance, nested groups, NotActions, wildcards and
// built-in roles.
func TestPermissionMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sub := e.defaults.SubscriptionScope()
	rg1, rg2 := e.group("rg1"), e.group("rg2")
	contributor, reader, member := e.user("c@example.com"), e.user("r@example.com"), e.user("m@example.com")
	_, mi := e.identity("rg1", "aib")
	e.assign(contributor.ID, "Contributor", "")
	e.assign(reader.ID, "Reader", rg1)
	outer, err := e.dir.CreateGroup(ctx, e.admin, "Outer", "outer", "")
	if err != nil {
		t.Fatal(err)
	}
	inner, err := e.dir.CreateGroup(ctx, e.admin, "Inner", "inner", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range [][2]string{{outer.ID, inner.ID}, {inner.ID, member.ID}} {
		if err := e.dir.AddMember(ctx, e.admin, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.rbac.CreateRole(ctx, e.admin, []byte(`{"Name": "Compute but not delete", "Actions": ["Microsoft.Compute/*"],
		"NotActions": ["Microsoft.Compute/*/delete"], "AssignableScopes": ["`+sub+`"]}`)); err != nil {
		t.Fatal(err)
	}
	e.assign(outer.ID, "Compute but not delete", rg2)
	if _, _, err := e.rbac.CreateRole(ctx, e.admin, galleryRole(rg1)); err != nil {
		t.Fatal(err)
	}
	e.assign(mi.ID, "Azure Image Builder Service Image Creation Role", rg1)

	img := func(rg string) string { return rg + "/providers/Microsoft.Compute/images/i" }
	version := rg1 + "/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0"
	for _, tc := range []struct {
		who    authz.Principal
		action string
		scope  string
		allow  bool
	}{
		{e.admin, "Microsoft.Compute/images/delete", img(rg2), true},
		{e.admin, rbac.LockWrite, rg1, true},
		{contributor, "Microsoft.Compute/images/write", img(rg1), true},
		{contributor, rbac.LockWrite, rg1, false},         // NotActions Microsoft.Authorization/*/Write
		{contributor, rbac.RoleAssignmentRead, rg1, true}, // but reads are not excluded
		{contributor, "Microsoft.Compute/galleries/share/action", rg1, false},
		{reader, "Microsoft.Compute/images/read", img(rg1), true},
		{reader, "Microsoft.Compute/images/read", img(rg2), false}, // not inherited sideways
		{reader, "Microsoft.Storage/storageAccounts/listKeys/action", rg1, false},
		{member, "Microsoft.Compute/images/write", img(rg2), true}, // through two groups
		{member, "Microsoft.Compute/images/delete", img(rg2), false},
		{member, "Microsoft.Compute/images/write", img(rg1), false},
		{mi, "Microsoft.Compute/galleries/images/versions/write", version, true},
		{mi, "Microsoft.Compute/galleries/images/versions/delete", version, false},
		{mi, "Microsoft.Compute/images/write", img(rg2), false},
		{mi, "Microsoft.VirtualMachineImages/imageTemplates/read", rg1, false},
	} {
		err := e.cache.Check(ctx, tc.who, tc.action, tc.scope)
		if (err == nil) != tc.allow {
			t.Errorf("%s: %s at %s: allowed = %v, want %v (%v)", tc.who.Name, tc.action, tc.scope, err == nil, tc.allow, err)
		}
	}
}

// Concurrent creates of one assignment, from several processes: exactly
// one lands, the others are RoleAssignmentExists, and the state stays
// valid for the authorization engine.
func TestConcurrentAssignmentCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiln.db")
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	first := openEnv(t, path)
	rg := first.group("rg")
	u := first.user("alice@example.com")
	envs := []*env{first, openEnv(t, path), openEnv(t, path)}
	const n = 12
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			_, err := envs[i%len(envs)].rbac.CreateAssignment(context.Background(), first.admin, rbac.AssignmentRequest{Assignee: u.ID, Role: "Reader", Scope: rg})
			errs <- err
		}()
	}
	close(start)
	wins := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "RoleAssignmentExists"):
			t.Errorf("a losing create failed with %v, want RoleAssignmentExists", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", wins)
	}
	// Every handle sees the grant: the generation moved for all of them.
	for i, e := range envs {
		if err := e.cache.Check(t.Context(), u, "Microsoft.Compute/images/read", rg); err != nil {
			t.Errorf("handle %d does not see the assignment: %v", i, err)
		}
	}
}
