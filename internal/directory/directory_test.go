package directory_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/rbac"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

type env struct {
	t      *testing.T
	path   string
	st     *store.SQLite
	d      tenancy.Defaults
	admin  authz.Principal
	cache  *authz.Cache
	dir    *directory.Service
	ids    *directory.Identities
	tokens *directory.Tokens
	rbac   *rbac.Service
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiln.db")
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
	e := &env{t: t, path: path, st: st, d: d, admin: d.Admin, cache: authz.NewCache(rbac.Source{Store: st}), now: time.Now()}
	e.dir = &directory.Service{Store: st, Authz: e.cache, Defaults: d}
	e.ids = &directory.Identities{Store: st, Authz: e.cache, Defaults: d}
	e.tokens = &directory.Tokens{Store: st, Authz: e.cache, Directory: e.dir, Now: func() time.Time { return e.now }}
	e.rbac = &rbac.Service{Store: st, Authz: e.cache, Defaults: d, Directory: e.dir}
	if _, err := (&tenancy.Groups{Store: st, Authz: e.cache, Defaults: d}).Create(ctx, e.admin, "rg", "eastus", nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) user(upn string) authz.Principal {
	e.t.Helper()
	u, err := e.dir.CreateUser(e.t.Context(), e.admin, strings.Split(upn, "@")[0], upn)
	if err != nil {
		e.t.Fatal(err)
	}
	return authz.Principal{ID: u.ID, Name: upn, Type: authz.TypeUser}
}

func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
}

func TestPrincipalsAndResolve(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.user("alice@example.com")
	sp, err := e.dir.CreateServicePrincipal(ctx, e.admin, "pipeline")
	if err != nil || sp.AppID == "" || sp.ServicePrincipalType != "Application" {
		t.Fatalf("CreateServicePrincipal = %+v, %v", sp, err)
	}
	g, err := e.dir.CreateGroup(ctx, e.admin, "Builders", "builders", "")
	if err != nil || !g.SecurityEnabled {
		t.Fatalf("CreateGroup = %+v, %v", g, err)
	}
	for ref, want := range map[string]string{
		alice.ID: alice.ID, "ALICE@example.com": alice.ID, "alice": alice.ID,
		sp.AppID: sp.ID, "pipeline": sp.ID, "builders": g.ID, "admin": e.admin.ID,
	} {
		p, err := e.dir.Resolve(ctx, ref)
		if err != nil || !strings.EqualFold(p.ID, want) {
			t.Errorf("Resolve(%q) = %s, %v; want %s", ref, p.ID, err, want)
		}
	}
	if _, err := e.dir.CreateGroup(ctx, e.admin, "Builders", "builders2", ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.dir.Resolve(ctx, "Builders")
	if err == nil || !strings.Contains(err.Error(), "names 2 principals") {
		t.Errorf("Resolve of an ambiguous display name: %v", err)
	}
	_, err = e.dir.Resolve(ctx, "nobody")
	wantIs(t, "Resolve of nobody", err, store.ErrNotFound)
	_, err = e.dir.CreateUser(ctx, e.admin, "Alice again", "Alice@Example.com")
	wantIs(t, "a second user with the same UPN", err, store.ErrConflict)
	_, err = e.dir.CreateUser(ctx, e.admin, "bad", "no-at-sign")
	if err == nil {
		t.Error("a UPN without @ was accepted")
	}
	if err := e.dir.Delete(ctx, e.admin, "admin", authz.TypeUser); err == nil {
		t.Error("the bootstrapped admin was deleted")
	}
	users, _ := e.dir.List(ctx, authz.TypeUser)
	if len(users) != 2 {
		t.Errorf("List(users) = %d, want 2 (admin, alice)", len(users))
	}
}

// Directory changes hand out roles through groups, so they are guarded as
// role assignment changes: a Contributor may not make them.
func TestDirectoryChangesAreGuarded(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.user("contributor@example.com")
	if _, err := e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: c.ID, Role: "Contributor"}); err != nil {
		t.Fatal(err)
	}
	g, err := e.dir.CreateGroup(ctx, e.admin, "Owners", "owners", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: g.ID, Role: "Owner"}); err != nil {
		t.Fatal(err)
	}
	var denied *authz.AuthorizationFailedError
	if err := e.dir.AddMember(ctx, c, "Owners", c.ID); !errors.As(err, &denied) || denied.Action != directory.GuardCreate {
		t.Errorf("a Contributor adding itself to the Owners group: %v", err)
	}
	if _, err := e.dir.CreateUser(ctx, c, "x", "x@example.com"); !errors.As(err, &denied) {
		t.Errorf("a Contributor creating a user: %v", err)
	}
	if err := e.dir.AddMember(ctx, e.admin, "Owners", c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.cache.Check(ctx, c, "Microsoft.Authorization/locks/write", e.d.SubscriptionScope()); err != nil {
		t.Errorf("a member of the Owners group is not Owner: %v", err)
	}
}

func TestNestedMembership(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.user("alice@example.com")
	for _, name := range []string{"outer", "inner"} {
		if _, err := e.dir.CreateGroup(ctx, e.admin, name, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.dir.AddMember(ctx, e.admin, "outer", "inner"); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.AddMember(ctx, e.admin, "inner", alice.ID); err != nil {
		t.Fatal(err)
	}
	in, err := e.dir.IsMember(ctx, "outer", "alice@example.com")
	if err != nil || !in {
		t.Errorf("IsMember(outer, alice) = %v, %v; want true through inner", in, err)
	}
	wantIs(t, "a cycle", e.dir.AddMember(ctx, e.admin, "inner", "outer"), store.ErrConflict)
	ms, _ := e.dir.Members(ctx, "outer")
	if len(ms) != 1 || !bytes.Contains(ms[0], []byte(`"displayName":"inner"`)) {
		t.Errorf("Members(outer) = %s", ms)
	}
	if err := e.dir.RemoveMember(ctx, e.admin, "inner", alice.ID); err != nil {
		t.Fatal(err)
	}
	if in, _ := e.dir.IsMember(ctx, "outer", alice.ID); in {
		t.Error("alice is still in outer after leaving inner")
	}
}

func TestIdentities(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ident, err := e.ids.Create(ctx, e.admin, "rg", "AIBIdentity", "", map[string]string{"team": "images"})
	if err != nil {
		t.Fatal(err)
	}
	wantID := e.d.SubscriptionScope() + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/AIBIdentity"
	if ident.ID != wantID || ident.Location != "eastus" || ident.TenantID != e.d.TenantID || ident.PrincipalID == "" || ident.ClientID == "" ||
		ident.Properties.PrincipalID != ident.PrincipalID || ident.Properties.ClientID != ident.ClientID || ident.Type != directory.IdentityType {
		t.Fatalf("Create = %+v", ident)
	}
	var shape map[string]any
	raw, _ := json.Marshal(ident)
	_ = json.Unmarshal(raw, &shape)
	for _, k := range []string{"id", "name", "location", "tags", "principalId", "clientId", "tenantId", "properties", "resourceGroup", "type"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("az identity create prints %q; kiln does not", k)
		}
	}
	again, err := e.ids.Create(ctx, e.admin, "rg", "AIBIdentity", "", map[string]string{"team": "other"})
	if err != nil || again.PrincipalID != ident.PrincipalID || again.Tags["team"] != "other" {
		t.Errorf("re-create = %+v, %v; want the same principal with new tags", again, err)
	}
	if p, err := e.ids.PrincipalOf(ctx, strings.ToLower(wantID)); err != nil || p.ID != ident.PrincipalID || p.Type != authz.TypeManagedIdentity {
		t.Errorf("PrincipalOf = %+v, %v", p, err)
	}
	for name, tc := range map[string][2]string{"bad name": {"rg", "x"}, "missing group": {"nope", "ident"}} {
		if _, err := e.ids.Create(ctx, e.admin, tc[0], tc[1], "", nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := e.rbac.CreateAssignment(ctx, e.admin, rbac.AssignmentRequest{Assignee: "AIBIdentity", Role: "Reader", Scope: e.rbac.GroupScope("rg")}); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.Delete(ctx, e.admin, "rg", "AIBIdentity"); err != nil {
		t.Fatal(err)
	}
	if e.ids.Exists(wantID) {
		t.Error("the identity exists after delete")
	}
	if as, _ := e.st.ListRoleAssignments(ctx, ident.PrincipalID); len(as) != 0 {
		t.Errorf("the deleted identity keeps %d assignments", len(as))
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.user("alice@example.com")
	tok, err := e.tokens.Create(ctx, e.admin, "alice@example.com", "ci", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, directory.TokenPrefix) || len(tok.Token) < 40 || tok.Status != directory.TokenActive || tok.PrincipalID != alice.ID {
		t.Fatalf("Create = %+v", tok)
	}
	who, err := e.tokens.Authenticate(ctx, tok.Token)
	if err != nil || who.ID != alice.ID {
		t.Fatalf("Authenticate = %+v, %v", who, err)
	}
	// Only the hash is kept: the secret is nowhere in the database files.
	for _, f := range []string{e.path, e.path + "-wal"} {
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte(tok.Token)) {
			t.Errorf("%s holds the token's secret", filepath.Base(f))
		}
	}
	list, err := e.tokens.List(ctx, alice, "", false)
	if err != nil || len(list) != 1 || list[0].ID != tok.ID {
		t.Errorf("alice's own List = %+v, %v", list, err)
	}
	if raw, _ := json.Marshal(list); bytes.Contains(raw, []byte(tok.Token)) {
		t.Error("List shows the secret")
	}
	bob := e.user("bob@example.com")
	if _, err := e.tokens.Create(ctx, bob, "alice@example.com", "", 0); err == nil {
		t.Error("bob minted a token for alice")
	}
	if _, err := e.tokens.Revoke(ctx, bob, tok.ID); err == nil {
		t.Error("bob revoked alice's token")
	}
	if _, err := e.tokens.List(ctx, bob, "", true); err == nil {
		t.Error("bob listed every token")
	}

	e.now = e.now.Add(25 * time.Hour)
	_, err = e.tokens.Authenticate(ctx, tok.Token)
	if !errors.Is(err, directory.ErrTokenInvalid) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired token: %v", err)
	}
	e.now = e.now.Add(-25 * time.Hour)
	if _, err := e.tokens.Revoke(ctx, alice, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.tokens.Authenticate(ctx, tok.Token)
	if !errors.Is(err, directory.ErrTokenInvalid) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked token: %v", err)
	}
	for _, bad := range []string{"", "kiln_nope", "ghp_abc"} {
		if _, err := e.tokens.Authenticate(ctx, bad); !errors.Is(err, directory.ErrTokenInvalid) {
			t.Errorf("Authenticate(%q) = %v", bad, err)
		}
	}
}
