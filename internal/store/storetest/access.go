package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-dev/kiln/internal/store"
)

// The conformance of Directory and Access: principals and memberships,
// custom roles, role assignments, locks, and the access generation.
//
// Index keys (a stored assignment's RoleGUID and PrincipalID) may come
// back lower-cased, like the resource index keys.

const (
	adminID  = "aaaaaaaa-1111-0000-0000-000000000001"
	aliceID  = "aaaaaaaa-1111-0000-0000-000000000002"
	groupAID = "aaaaaaaa-1111-0000-0000-000000000003"
	groupBID = "aaaaaaaa-1111-0000-0000-000000000004"
	miID     = "aaaaaaaa-1111-0000-0000-000000000005"
	roleGUID = "bbbbbbbb-2222-0000-0000-000000000001"
	ownerRef = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" // a built-in role: not stored
)

func testAccess(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Principals", func(t *testing.T) { testPrincipals(t, open) })
	t.Run("ManagedIdentities", func(t *testing.T) { testManagedIdentities(t, open) })
	t.Run("Memberships", func(t *testing.T) { testMemberships(t, open) })
	t.Run("RoleDefinitions", func(t *testing.T) { testRoleDefinitions(t, open) })
	t.Run("RoleAssignments", func(t *testing.T) { testRoleAssignments(t, open) })
	t.Run("Locks", func(t *testing.T) { testLocks(t, open) })
	t.Run("DeleteAccessUnder", func(t *testing.T) { testDeleteAccessUnder(t, open) })
	t.Run("Generation", func(t *testing.T) { testGeneration(t, open) })
	t.Run("Bootstrap", func(t *testing.T) { testBootstrapAccess(t, open) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open) })
	t.Run("ActivityLog", func(t *testing.T) { testActivityLog(t, open) })
	t.Run("AccessConcurrency", func(t *testing.T) { testAccessConcurrency(t, open) })
}

func principal(id, typ, name, signIn string) store.Principal {
	return store.Principal{ID: id, TenantID: "tenant", Type: typ, DisplayName: name, SignInName: signIn,
		Body: json.RawMessage(fmt.Sprintf(`{"id":%q}`, id))}
}

func mustPrincipal(t *testing.T, s store.Store, p store.Principal) {
	t.Helper()
	if _, err := s.CreatePrincipal(t.Context(), p); err != nil {
		t.Fatalf("CreatePrincipal(%s): %v", p.ID, err)
	}
}

// seedDirectory makes a user, two groups and a resource group rg1.
func seedDirectory(t *testing.T, s store.Store) {
	t.Helper()
	mustPrincipal(t, s, principal(aliceID, "User", "Alice", "alice@example.com"))
	mustPrincipal(t, s, principal(groupAID, "Group", "Builders", ""))
	mustPrincipal(t, s, principal(groupBID, "Group", "Publishers", ""))
	mustCreate(t, s, groupRes(subA, "rg1"))
}

func principalIDs(ps []store.Principal) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.ToLower(p.ID)
	}
	return out
}

func testPrincipals(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	got, err := s.GetPrincipal(ctx, strings.ToUpper(aliceID))
	if err != nil {
		t.Fatalf("GetPrincipal by upper-case ID: %v", err)
	}
	if got.DisplayName != "Alice" || got.SignInName != "alice@example.com" || got.Type != "User" || !jsonEqual(got.Body, json.RawMessage(fmt.Sprintf(`{"id":%q}`, aliceID))) {
		t.Errorf("GetPrincipal = %+v", got)
	}
	_, err = s.CreatePrincipal(ctx, principal(aliceID, "User", "Other", "other@example.com"))
	wantErrIs(t, "CreatePrincipal with a taken ID", err, store.ErrConflict)
	_, err = s.CreatePrincipal(ctx, principal(adminID, "User", "Alice 2", "ALICE@example.com"))
	wantErrIs(t, "CreatePrincipal with a taken sign-in name", err, store.ErrConflict)
	// Sign-in names are unique per type only; groups have none, so two
	// groups may share a display name.
	mustPrincipal(t, s, principal(adminID, "ServicePrincipal", "alice@example.com", "alice@example.com"))
	mustPrincipal(t, s, principal("aaaaaaaa-1111-0000-0000-000000000009", "Group", "Builders", ""))

	for ref, want := range map[string][]string{
		aliceID:             {aliceID},
		"ALICE@EXAMPLE.COM": {adminID, aliceID}, // a UPN and a display name
		"builders":          {groupAID, "aaaaaaaa-1111-0000-0000-000000000009"},
		"nobody":            {},
	} {
		found, err := s.FindPrincipals(ctx, ref)
		if err != nil {
			t.Fatalf("FindPrincipals(%q): %v", ref, err)
		}
		if got := principalIDs(found); !slices.Equal(got, want) {
			t.Errorf("FindPrincipals(%q) = %v, want %v", ref, got, want)
		}
	}
	groups, err := s.ListPrincipals(ctx, "Group")
	if err != nil || len(groups) != 3 {
		t.Fatalf("ListPrincipals(Group) = %d principals, %v; want 3", len(groups), err)
	}
	if err := s.DeletePrincipal(ctx, aliceID); err != nil {
		t.Fatalf("DeletePrincipal: %v", err)
	}
	_, err = s.GetPrincipal(ctx, aliceID)
	wantErrIs(t, "GetPrincipal after delete", err, store.ErrNotFound)
	wantErrIs(t, "DeletePrincipal again", s.DeletePrincipal(ctx, aliceID), store.ErrNotFound)
}

func identityRes(rg, name string) store.Resource {
	return inGroup(subA, rg, "Microsoft.ManagedIdentity/userAssignedIdentities", name)
}

func testManagedIdentities(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	r := identityRes("rg1", "aib")
	if _, _, err := s.CreateManagedIdentity(ctx, r, principal(miID, "ManagedIdentity", "aib", "client-1")); err != nil {
		t.Fatalf("CreateManagedIdentity: %v", err)
	}
	p, err := s.PrincipalByResource(ctx, strings.ToUpper(r.ID))
	if err != nil || !strings.EqualFold(p.ID, miID) || p.ResourceID != r.ID {
		t.Fatalf("PrincipalByResource = %+v, %v; want principal %s of %s", p, err, miID, r.ID)
	}
	if found, _ := s.FindPrincipals(ctx, r.ID); len(found) != 1 {
		t.Errorf("FindPrincipals(resource ID) found %d principals, want 1", len(found))
	}
	wantErrIs(t, "DeletePrincipal of a managed identity", s.DeletePrincipal(ctx, miID), store.ErrConflict)

	// A second identity whose principal clashes is not half-written.
	clash := identityRes("rg1", "other")
	_, _, err = s.CreateManagedIdentity(ctx, clash, principal(miID, "ManagedIdentity", "other", "client-2"))
	wantErrIs(t, "CreateManagedIdentity with a taken principal ID", err, store.ErrConflict)
	_, err = s.GetResource(ctx, clash.ID)
	wantErrIs(t, "the resource of a refused identity", err, store.ErrNotFound)

	mustAssign(t, s, assignment(subID(subA), ownerRef, miID))
	if err := s.DeleteManagedIdentity(ctx, r.ID); err != nil {
		t.Fatalf("DeleteManagedIdentity: %v", err)
	}
	_, err = s.GetPrincipal(ctx, miID)
	wantErrIs(t, "the principal of a deleted identity", err, store.ErrNotFound)
	if as, _ := s.ListRoleAssignments(ctx, miID); len(as) != 0 {
		t.Errorf("a deleted identity keeps %d role assignments", len(as))
	}
	wantErrIs(t, "DeleteManagedIdentity again", s.DeleteManagedIdentity(ctx, r.ID), store.ErrNotFound)
}

func testMemberships(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	if err := s.AddMember(ctx, groupAID, aliceID); err != nil {
		t.Fatalf("AddMember(user): %v", err)
	}
	if err := s.AddMember(ctx, groupBID, strings.ToUpper(groupAID)); err != nil {
		t.Fatalf("AddMember(nested group): %v", err)
	}
	for what, err := range map[string]error{
		"a member twice":         s.AddMember(ctx, groupAID, aliceID),
		"a group to itself":      s.AddMember(ctx, groupAID, groupAID),
		"a cycle through groups": s.AddMember(ctx, groupAID, groupBID),
		"to a user":              s.AddMember(ctx, aliceID, groupAID),
	} {
		wantErrIs(t, "AddMember "+what, err, store.ErrConflict)
	}
	wantErrIs(t, "AddMember of a missing member", s.AddMember(ctx, groupAID, adminID), store.ErrNotFound)
	wantErrIs(t, "AddMember to a missing group", s.AddMember(ctx, adminID, aliceID), store.ErrNotFound)

	members, err := s.ListMembers(ctx, groupBID)
	if err != nil || !slices.Equal(principalIDs(members), []string{groupAID}) {
		t.Errorf("ListMembers(B) = %v, %v; want [A]", principalIDs(members), err)
	}
	st, err := s.AccessState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Memberships) != 2 {
		t.Errorf("AccessState has %d memberships, want 2", len(st.Memberships))
	}
	if err := s.RemoveMember(ctx, groupAID, aliceID); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	wantErrIs(t, "RemoveMember again", s.RemoveMember(ctx, groupAID, aliceID), store.ErrNotFound)
	// Deleting a group takes its memberships with it.
	if err := s.DeletePrincipal(ctx, groupAID); err != nil {
		t.Fatal(err)
	}
	if members, _ := s.ListMembers(ctx, groupBID); len(members) != 0 {
		t.Errorf("group B still lists %d members after A was deleted", len(members))
	}
}

func roleRecord(guid, name string, scopes ...string) store.RoleDefinitionRecord {
	body, _ := json.Marshal(map[string]any{"name": guid, "roleName": name, "assignableScopes": scopes})
	return store.RoleDefinitionRecord{GUID: guid, RoleName: name, Body: body}
}

func testRoleDefinitions(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	created, err := s.CreateRoleDefinition(ctx, roleRecord(roleGUID, "Image Publisher", groupID(subA, "rg1")))
	if err != nil {
		t.Fatalf("CreateRoleDefinition: %v", err)
	}
	_, err = s.CreateRoleDefinition(ctx, roleRecord("bbbbbbbb-2222-0000-0000-000000000002", " image PUBLISHER "))
	wantErrIs(t, "a second role with the same name, in another case", err, store.ErrConflict)
	_, err = s.CreateRoleDefinition(ctx, roleRecord(strings.ToUpper(roleGUID), "Other"))
	wantErrIs(t, "a second role with the same GUID", err, store.ErrConflict)

	mustAssign(t, s, assignment(groupID(subA, "rg1"), roleGUID, aliceID))
	veto := errors.New("veto")
	_, err = s.UpdateRoleDefinition(ctx, roleRecord(roleGUID, "Renamed"), func(as []store.RoleAssignmentRecord) error {
		if len(as) != 1 {
			t.Errorf("the update check saw %d assignments, want 1", len(as))
		}
		return veto
	})
	if !errors.Is(err, veto) {
		t.Fatalf("UpdateRoleDefinition with a vetoing check = %v, want the veto", err)
	}
	if got, _ := s.GetRoleDefinition(ctx, roleGUID); got.RoleName != "Image Publisher" {
		t.Errorf("a vetoed update changed the role to %q", got.RoleName)
	}
	updated, err := s.UpdateRoleDefinition(ctx, roleRecord(roleGUID, "Renamed"), nil)
	if err != nil {
		t.Fatalf("UpdateRoleDefinition: %v", err)
	}
	if !updated.CreatedAt.Equal(created.CreatedAt) || updated.UpdatedAt.Before(created.UpdatedAt) {
		t.Errorf("update times: created %v -> %v, updated %v -> %v", created.CreatedAt, updated.CreatedAt, created.UpdatedAt, updated.UpdatedAt)
	}
	_, err = s.UpdateRoleDefinition(ctx, roleRecord("bbbbbbbb-2222-0000-0000-0000000000ff", "X"), nil)
	wantErrIs(t, "UpdateRoleDefinition of a missing role", err, store.ErrNotFound)

	wantErrIs(t, "DeleteRoleDefinition of an assigned role", s.DeleteRoleDefinition(ctx, roleGUID), store.ErrConflict)
	as, _ := s.ListRoleAssignments(ctx)
	if err := s.DeleteRoleAssignment(ctx, as[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRoleDefinition(ctx, roleGUID); err != nil {
		t.Fatalf("DeleteRoleDefinition once unassigned: %v", err)
	}
	if roles, _ := s.ListRoleDefinitions(ctx); len(roles) != 0 {
		t.Errorf("ListRoleDefinitions after delete = %d roles", len(roles))
	}
}

func assignment(scope, role, principalID string) store.RoleAssignmentRecord {
	id := scope + "/providers/Microsoft.Authorization/roleAssignments/" + strings.ToLower(role[:8]+principalID[8:])
	return store.RoleAssignmentRecord{ID: id, Scope: scope, RoleGUID: role, PrincipalID: principalID, PrincipalType: "User",
		Body: json.RawMessage(fmt.Sprintf(`{"id":%q}`, id))}
}

func mustAssign(t *testing.T, s store.Store, a store.RoleAssignmentRecord) store.RoleAssignmentRecord {
	t.Helper()
	got, err := s.CreateRoleAssignment(t.Context(), a, nil)
	if err != nil {
		t.Fatalf("CreateRoleAssignment(%s): %v", a.ID, err)
	}
	return got
}

func testRoleAssignments(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	if _, err := s.CreateRoleDefinition(ctx, roleRecord(roleGUID, "Image Publisher")); err != nil {
		t.Fatal(err)
	}
	rg1 := groupID(subA, "rg1")

	var seen []*store.RoleDefinitionRecord
	check := func(r *store.RoleDefinitionRecord) error { seen = append(seen, r); return nil }
	if _, err := s.CreateRoleAssignment(ctx, assignment(rg1, roleGUID, aliceID), check); err != nil {
		t.Fatalf("CreateRoleAssignment(custom role): %v", err)
	}
	if _, err := s.CreateRoleAssignment(ctx, assignment(subID(subA), ownerRef, aliceID), check); err != nil {
		t.Fatalf("CreateRoleAssignment(built-in role): %v", err)
	}
	if len(seen) != 2 || seen[0] == nil || seen[0].RoleName != "Image Publisher" || seen[1] != nil {
		t.Errorf("checkRole saw %v, want the custom role, then nil for the built-in one", seen)
	}
	refused := errors.New("refused")
	_, err := s.CreateRoleAssignment(ctx, assignment(rg1, ownerRef, groupAID), func(*store.RoleDefinitionRecord) error { return refused })
	if !errors.Is(err, refused) {
		t.Errorf("CreateRoleAssignment with a refusing check = %v, want the refusal", err)
	}
	_, err = s.CreateRoleAssignment(ctx, assignment(rg1, roleGUID, adminID), nil)
	wantErrIs(t, "an assignment to a missing principal", err, store.ErrNotFound)
	_, err = s.CreateRoleAssignment(ctx, assignment(groupID(subA, "missing"), roleGUID, aliceID), nil)
	wantErrIs(t, "an assignment at a missing group", err, store.ErrNotFound)
	dup := assignment(strings.ToUpper(rg1), strings.ToUpper(roleGUID), aliceID)
	dup.ID += "x"
	_, err = s.CreateRoleAssignment(ctx, dup, nil)
	wantErrIs(t, "the same role for the same principal at the same scope", err, store.ErrConflict)

	all, err := s.ListRoleAssignments(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListRoleAssignments() = %d, %v; want 2", len(all), err)
	}
	mine, _ := s.ListRoleAssignments(ctx, strings.ToUpper(aliceID), groupAID)
	if len(mine) != 2 {
		t.Errorf("ListRoleAssignments(alice, groupA) = %d, want 2", len(mine))
	}
	got, err := s.GetRoleAssignment(ctx, strings.ToUpper(all[0].ID))
	if err != nil || got.ID != all[0].ID || !strings.EqualFold(got.PrincipalID, aliceID) {
		t.Errorf("GetRoleAssignment = %+v, %v", got, err)
	}
	if err := s.DeleteRoleAssignment(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "DeleteRoleAssignment again", s.DeleteRoleAssignment(ctx, all[0].ID), store.ErrNotFound)
	// Deleting a principal takes its assignments with it.
	if err := s.DeletePrincipal(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListRoleAssignments(ctx); len(left) != 0 {
		t.Errorf("%d assignments outlive their principal", len(left))
	}
}

func lockRecord(scope, name, level string) store.LockRecord {
	return store.LockRecord{ID: scope + "/providers/Microsoft.Authorization/locks/" + name, Scope: scope, Name: name, Level: level}
}

func testLocks(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	img := mustCreate(t, s, inGroup(subA, "rg1", imageType, "img1"))
	for _, l := range []store.LockRecord{lockRecord(subID(subA), "sub", "CanNotDelete"), lockRecord(groupID(subA, "rg1"), "keep", "ReadOnly"),
		lockRecord(img.ID, "img", "CanNotDelete")} {
		if _, err := s.CreateLock(ctx, l); err != nil {
			t.Fatalf("CreateLock(%s): %v", l.ID, err)
		}
	}
	_, err := s.CreateLock(ctx, lockRecord(strings.ToUpper(groupID(subA, "rg1")), "KEEP", "CanNotDelete"))
	wantErrIs(t, "a second lock of that name at that scope", err, store.ErrConflict)
	_, err = s.CreateLock(ctx, lockRecord(groupID(subA, "missing"), "x", "ReadOnly"))
	wantErrIs(t, "a lock on a missing group", err, store.ErrNotFound)
	got, err := s.GetLock(ctx, groupID(subA, "rg1")+"/providers/Microsoft.Authorization/locks/keep")
	if err != nil || got.Level != "ReadOnly" || got.Name != "keep" {
		t.Errorf("GetLock = %+v, %v", got, err)
	}
	if all, _ := s.ListLocks(ctx); len(all) != 3 {
		t.Errorf("ListLocks = %d locks, want 3", len(all))
	}
	if err := s.DeleteLock(ctx, got.ID); err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "DeleteLock again", s.DeleteLock(ctx, got.ID), store.ErrNotFound)
}

func testDeleteAccessUnder(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	mustCreate(t, s, groupRes(subA, "rg10"))
	img := mustCreate(t, s, inGroup(subA, "rg1", imageType, "img1"))
	mustAssign(t, s, assignment(groupID(subA, "rg1"), ownerRef, aliceID))
	mustAssign(t, s, assignment(img.ID, ownerRef, groupAID))
	mustAssign(t, s, assignment(groupID(subA, "rg10"), ownerRef, aliceID))
	if _, err := s.CreateLock(ctx, lockRecord(img.ID, "l", "CanNotDelete")); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteAccessUnder(ctx, groupID(subA, "RG1"))
	if err != nil || n != 3 {
		t.Fatalf("DeleteAccessUnder(rg1) = %d, %v; want 3 (two assignments and a lock)", n, err)
	}
	left, _ := s.ListRoleAssignments(ctx)
	if len(left) != 1 || !strings.EqualFold(left[0].Scope, groupID(subA, "rg10")) {
		t.Errorf("after DeleteAccessUnder(rg1), assignments left = %+v; want rg10's only", left)
	}
}

func testGeneration(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	last, err := s.AccessGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	moves := func(what string, change func() error) {
		t.Helper()
		if err := change(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		gen, err := s.AccessGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if gen == last {
			t.Errorf("%s did not move the access generation (%d)", what, gen)
		}
		st, err := s.AccessState(ctx)
		if err != nil || st.Generation != gen {
			t.Errorf("AccessState().Generation = %d, %v; want %d", st.Generation, err, gen)
		}
		last = gen
	}
	var a store.RoleAssignmentRecord
	moves("AddMember", func() error { return s.AddMember(ctx, groupAID, aliceID) })
	moves("RemoveMember", func() error { return s.RemoveMember(ctx, groupAID, aliceID) })
	moves("CreateRoleDefinition", func() error { _, err := s.CreateRoleDefinition(ctx, roleRecord(roleGUID, "R")); return err })
	moves("UpdateRoleDefinition", func() error { _, err := s.UpdateRoleDefinition(ctx, roleRecord(roleGUID, "R2"), nil); return err })
	moves("CreateRoleAssignment", func() error {
		var err error
		a, err = s.CreateRoleAssignment(ctx, assignment(subID(subA), roleGUID, aliceID), nil)
		return err
	})
	moves("DeleteRoleAssignment", func() error { return s.DeleteRoleAssignment(ctx, a.ID) })
	moves("DeleteRoleDefinition", func() error { return s.DeleteRoleDefinition(ctx, roleGUID) })
	l := lockRecord(subID(subA), "l", "ReadOnly")
	moves("CreateLock", func() error { _, err := s.CreateLock(ctx, l); return err })
	moves("DeleteLock", func() error { return s.DeleteLock(ctx, l.ID) })
	moves("DeletePrincipal", func() error { return s.DeletePrincipal(ctx, aliceID) })
}

func testBootstrapAccess(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	admin := principal(adminID, "User", "admin", "admin")
	owner := assignment(subID(subA), ownerRef, adminID)
	for i, want := range []bool{true, false} {
		done, err := s.BootstrapAccess(ctx, admin, []store.RoleAssignmentRecord{owner})
		if err != nil || done != want {
			t.Fatalf("BootstrapAccess call %d = %v, %v; want %v, nil", i+1, done, err, want)
		}
	}
	if _, err := s.GetPrincipal(ctx, adminID); err != nil {
		t.Errorf("the admin is not a principal after bootstrap: %v", err)
	}
	if err := s.DeleteRoleAssignment(ctx, owner.ID); err != nil {
		t.Fatalf("the bootstrap assignment: %v", err)
	}
	if done, _ := s.BootstrapAccess(ctx, admin, []store.RoleAssignmentRecord{owner}); done {
		t.Error("a later bootstrap ran again")
	}
	if as, _ := s.ListRoleAssignments(ctx); len(as) != 0 {
		t.Errorf("a later bootstrap brought back a deleted assignment: %+v", as)
	}
}

func testAccessConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	const n = 20
	t.Run("of many creators of one assignment exactly one wins", func(t *testing.T) {
		s := open(t)
		seedDirectory(t, s)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				a := assignment(groupID(subA, "rg1"), ownerRef, aliceID)
				a.ID = fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/dddddddd-0000-0000-0000-%012d", groupID(subA, "rg1"), i)
				<-start
				_, errs[i] = s.CreateRoleAssignment(t.Context(), a, nil)
			})
		}
		close(start)
		wg.Wait()
		countOutcomes(t, errs, store.ErrConflict)
	})

	t.Run("a role is never both deleted and newly assigned", func(t *testing.T) {
		for round := range 10 {
			s := open(t)
			seedDirectory(t, s)
			guid := fmt.Sprintf("bbbbbbbb-2222-0000-0000-%012d", round)
			if _, err := s.CreateRoleDefinition(t.Context(), roleRecord(guid, "R")); err != nil {
				t.Fatal(err)
			}
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					if i == n/2 {
						errs[i] = s.DeleteRoleDefinition(t.Context(), guid)
						return
					}
					a := assignment(groupID(subA, "rg1"), guid, aliceID)
					a.ID, a.PrincipalID = fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/eeeeeeee-0000-0000-0000-%012d", groupID(subA, "rg1"), i), []string{aliceID, groupAID, groupBID}[i%3]
					_, errs[i] = s.CreateRoleAssignment(t.Context(), a, func(r *store.RoleDefinitionRecord) error {
						if r == nil {
							return fmt.Errorf("role gone: %w", store.ErrNotFound)
						}
						return nil
					})
				})
			}
			close(start)
			wg.Wait()
			checkRoleInvariant(t, s, guid, errs[n/2] == nil)
		}
	})
}

// checkRoleInvariant checks that no assignment names a deleted role, and
// that a surviving role's delete failed only because it was assigned.
func checkRoleInvariant(t *testing.T, s store.Store, guid string, deleted bool) {
	t.Helper()
	st, err := s.AccessState(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	assigned := slices.ContainsFunc(st.Assignments, func(a store.RoleAssignmentRecord) bool { return strings.EqualFold(a.RoleGUID, guid) })
	_, getErr := s.GetRoleDefinition(t.Context(), guid)
	switch {
	case deleted && assigned:
		t.Errorf("role %s was deleted, yet %d assignments name it", guid, len(st.Assignments))
	case deleted && getErr == nil:
		t.Errorf("role %s reported deleted but is still stored", guid)
	case !deleted && !assigned:
		t.Errorf("the delete of role %s failed though nothing was assigned", guid)
	}
}
