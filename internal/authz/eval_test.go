package authz_test

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/authz"
)

// The tenant of the permission matrix.
const (
	sub1 = "/subscriptions/11111111-1111-1111-1111-111111111111"
	sub2 = "/subscriptions/22222222-2222-2222-2222-222222222222"

	rgA = sub1 + "/resourceGroups/ImageBuilderRG"
	rgB = sub1 + "/resourceGroups/rg-b"
	rgC = sub2 + "/resourceGroups/rg-c"

	galleryA   = rgA + "/providers/Microsoft.Compute/galleries/gal"
	versionA   = galleryA + "/images/debian12/versions/1.0.0"
	imageA     = rgA + "/providers/Microsoft.Compute/images/img"
	imageB     = rgB + "/providers/Microsoft.Compute/images/img"
	imageC     = rgC + "/providers/Microsoft.Compute/images/img"
	templateA  = rgA + "/providers/Microsoft.VirtualMachineImages/imageTemplates/debian12"
	identityA  = rgA + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
	storageA   = rgA + "/providers/Microsoft.Storage/storageAccounts/scripts"
	containerA = storageA + "/blobServices/default/containers/scripts"
	storageB   = rgB + "/providers/Microsoft.Storage/storageAccounts/other"
	roleAssnA  = rgA + "/providers/Microsoft.Authorization/roleAssignments/99999999-0000-0000-0000-000000000001"
)

// Actions used below.
const (
	rgRead        = "Microsoft.Resources/subscriptions/resourceGroups/read"
	rgWrite       = "Microsoft.Resources/subscriptions/resourceGroups/write"
	imageRead     = "Microsoft.Compute/images/read"
	imageWrite    = "Microsoft.Compute/images/write"
	imageDelete   = "Microsoft.Compute/images/delete"
	galleryRead   = "Microsoft.Compute/galleries/read"
	galleryWrite  = "Microsoft.Compute/galleries/write"
	galleryShare  = "Microsoft.Compute/galleries/share/action"
	defRead       = "Microsoft.Compute/galleries/images/read"
	versionRead   = "Microsoft.Compute/galleries/images/versions/read"
	versionWrite  = "Microsoft.Compute/galleries/images/versions/write"
	versionDelete = "Microsoft.Compute/galleries/images/versions/delete"
	templateWrite = "Microsoft.VirtualMachineImages/imageTemplates/write"
	templateRun   = "Microsoft.VirtualMachineImages/imageTemplates/run/action"
	identityRead  = "Microsoft.ManagedIdentity/userAssignedIdentities/read"
	identityUse   = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
	assnRead      = "Microsoft.Authorization/roleAssignments/read"
	assnWrite     = "Microsoft.Authorization/roleAssignments/write"
	assnDelete    = "Microsoft.Authorization/roleAssignments/delete"
	lockWrite     = "Microsoft.Authorization/locks/write"
	listKeys      = "Microsoft.Storage/storageAccounts/listKeys/action"
	blobRead      = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	blobWrite     = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
)

// Principals and groups of the tenant.
var (
	alice   = authz.Principal{ID: "a0000000-0000-0000-0000-00000000000a", Name: "alice", Type: authz.TypeUser}
	bob     = authz.Principal{ID: "b0000000-0000-0000-0000-00000000000b", Name: "bob", Type: authz.TypeUser}
	carol   = authz.Principal{ID: "c0000000-0000-0000-0000-00000000000c", Name: "carol", Type: authz.TypeUser}
	dave    = authz.Principal{ID: "d0000000-0000-0000-0000-00000000000d", Name: "dave", Type: authz.TypeUser}
	erin    = authz.Principal{ID: "e0000000-0000-0000-0000-00000000000e", Name: "erin", Type: authz.TypeUser}
	frank   = authz.Principal{ID: "f0000000-0000-0000-0000-00000000000f", Name: "frank", Type: authz.TypeUser}
	grace   = authz.Principal{ID: "90000000-0000-0000-0000-000000000009", Name: "grace", Type: authz.TypeUser}
	henry   = authz.Principal{ID: "80000000-0000-0000-0000-000000000008", Name: "henry", Type: authz.TypeUser}
	aibID   = authz.Principal{ID: "70000000-0000-0000-0000-000000000007", Name: "aib", Type: authz.TypeManagedIdentity}
	nobody  = authz.Principal{ID: "60000000-0000-0000-0000-000000000006", Name: "nobody", Type: authz.TypeUser}
	unnamed = authz.Principal{}

	platform    = "10000000-0000-0000-0000-0000000000a1" // carol's group
	engineering = "10000000-0000-0000-0000-0000000000a2" // holds platform, and platform holds it: a cycle
)

// GUIDs of the custom roles.
const (
	aibRoleGUID       = "c1000000-0000-0000-0000-000000000001"
	allButDeleteGUID  = "c1000000-0000-0000-0000-000000000002"
	imageDeleterGUID  = "c1000000-0000-0000-0000-000000000003"
	oddCaseRoleGUID   = "c1000000-0000-0000-0000-000000000004"
	dataOnlyRoleGUID  = "c1000000-0000-0000-0000-000000000005"
	readOnlyInRGAGUID = "c1000000-0000-0000-0000-000000000006"
)

// aibRole is the least-privilege role of Image Builder's hardening guide,
// read verbatim from its az CLI file.
func aibRole(t testing.TB) authz.RoleDefinition {
	t.Helper()
	data, err := os.ReadFile("testdata/aib-role.json")
	if err != nil {
		t.Fatal(err)
	}
	def, warnings, err := authz.ParseRoleDefinition(data)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseRoleDefinition(aib-role.json) = %v, warnings %v", err, warnings)
	}
	def.GUID = aibRoleGUID
	return def
}

func customRole(guid, name string, perm authz.Permission, scopes ...string) authz.RoleDefinition {
	return authz.RoleDefinition{GUID: guid, RoleName: name, RoleType: authz.RoleTypeCustom, Permissions: []authz.Permission{perm}, AssignableScopes: scopes}
}

func assign(n int, who, roleGUID, scope string) authz.RoleAssignment {
	id := scope + "/providers/Microsoft.Authorization/roleAssignments/a5500000-0000-0000-0000-" + twelveDigits(n)
	return authz.RoleAssignment{ID: id, Scope: scope, RoleDefinitionID: sub1 + "/providers/Microsoft.Authorization/roleDefinitions/" + roleGUID, PrincipalID: who}
}

func twelveDigits(n int) string {
	const digits = "000000000000"
	s := []byte(digits)
	for i := len(s) - 1; n > 0 && i >= 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

// matrixState is the tenant of the permission matrix:
//
//	alice  Owner at sub1
//	bob    Reader at sub1, Contributor at rgA (grants add up)
//	carol  through platform ⊂ engineering (a cycle too): engineering is
//	       Contributor at rgB, platform is Reader at sub2
//	dave   User Access Administrator at sub1
//	erin   Role Based Access Control Administrator at rgA
//	frank  "All but image delete" (* minus images/delete) at rgA and rgB,
//	       "Image deleter" (images/delete) at rgA
//	grace  Storage Blob Data Reader on storage account A, and a data-only
//	       role at rgB
//	henry  a role written in odd case, assigned at a scope written in
//	       capitals
//	aibID  the Image Builder role at rgA, Managed Identity Operator on
//	       identity A
func matrixState(t testing.TB) authz.State {
	roles := []authz.RoleDefinition{
		aibRole(t),
		customRole(allButDeleteGUID, "All but image delete", authz.Permission{Actions: []string{"*"}, NotActions: []string{imageDelete}}, sub1),
		customRole(imageDeleterGUID, "Image deleter", authz.Permission{Actions: []string{imageDelete}}, sub1),
		customRole(oddCaseRoleGUID, "Odd case", authz.Permission{Actions: []string{
			"MICROSOFT.COMPUTE/GALLERIES/*/READ", "microsoft.virtualmachineimages/imagetemplates/RUN/ACTION",
		}}, sub1),
		customRole(dataOnlyRoleGUID, "Blob writer", authz.Permission{DataActions: []string{"Microsoft.Storage/*"}, NotDataActions: []string{"*/delete"}}, sub1),
	}
	return authz.State{
		Roles: roles,
		Assignments: []authz.RoleAssignment{
			assign(1, alice.ID, authz.OwnerRoleGUID, sub1),
			assign(2, bob.ID, authz.ReaderRoleGUID, sub1),
			assign(3, bob.ID, authz.ContributorRoleGUID, rgA),
			assign(4, engineering, authz.ContributorRoleGUID, rgB),
			assign(5, platform, authz.ReaderRoleGUID, sub2),
			assign(6, dave.ID, authz.UserAccessAdministratorRoleGUID, sub1),
			assign(7, erin.ID, authz.RBACAdministratorRoleGUID, rgA),
			assign(8, frank.ID, allButDeleteGUID, rgA),
			assign(9, frank.ID, allButDeleteGUID, rgB),
			assign(10, frank.ID, imageDeleterGUID, rgA),
			assign(11, grace.ID, authz.StorageBlobDataReaderRoleGUID, storageA),
			assign(12, grace.ID, dataOnlyRoleGUID, rgB),
			assign(13, henry.ID, oddCaseRoleGUID, "/SUBSCRIPTIONS/11111111-1111-1111-1111-111111111111/RESOURCEGROUPS/IMAGEBUILDERRG/"),
			assign(14, aibID.ID, aibRoleGUID, rgA),
			assign(15, aibID.ID, authz.ManagedIdentityOperatorRoleGUID, identityA),
		},
		Memberships: []authz.Membership{
			{GroupID: platform, MemberID: carol.ID},
			{GroupID: engineering, MemberID: platform},
			{GroupID: platform, MemberID: engineering},
		},
	}
}

func newSnapshot(t testing.TB, st authz.State) *authz.Snapshot {
	t.Helper()
	s, err := authz.NewSnapshot(st)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	return s
}

func TestPermissionMatrix(t *testing.T) {
	s := newSnapshot(t, matrixState(t))
	tests := []struct {
		name    string
		who     authz.Principal
		action  string
		scope   string
		allowed bool
	}{
		// Inheritance: subscription → group → resource → child resource.
		{"Owner at the subscription, at the subscription", alice, rgWrite, sub1, true},
		{"Owner at the subscription, at a group", alice, rgWrite, rgA, true},
		{"Owner at the subscription, at a resource", alice, imageDelete, imageA, true},
		{"Owner at the subscription, at a nested child resource", alice, versionWrite, versionA, true},
		{"Owner at the subscription, at an extension resource", alice, assnWrite, roleAssnA, true},
		{"Owner at the subscription, in another subscription", alice, imageRead, imageC, false},
		{"Owner at the subscription, at the root scope above it", alice, imageRead, "/", false},
		{"Owner at the subscription, at a subscription whose ID extends it", alice, imageRead, sub1 + "0", false},
		{"scopes compare case-insensitively", alice, imageWrite, "/SUBSCRIPTIONS/11111111-1111-1111-1111-111111111111/resourcegroups/imagebuilderrg/providers/microsoft.compute/images/IMG", true},
		{"a trailing slash on the scope is ignored", alice, imageWrite, imageA + "/", true},
		{"actions compare case-insensitively", alice, "MICROSOFT.COMPUTE/IMAGES/WRITE", imageA, true},
		{"an invalid scope is denied", alice, imageRead, "subscriptions/11111111-1111-1111-1111-111111111111", false},
		{"a scope with an empty segment is denied", alice, imageRead, sub1 + "//resourceGroups/x", false},

		// Grants add up: Reader at the subscription plus Contributor at a group.
		{"Reader reads across the subscription", bob, imageRead, imageB, true},
		{"Reader cannot write", bob, imageWrite, imageB, false},
		{"Reader cannot call listKeys", bob, listKeys, storageB, false},
		{"Contributor at the group writes there", bob, imageWrite, imageA, true},
		{"Contributor at the group deletes gallery versions there", bob, versionDelete, versionA, true},
		{"Contributor at the group runs image templates there", bob, templateRun, templateA, true},
		{"Contributor at the group does not write the group's parent", bob, rgWrite, sub1, false},
		{"Contributor cannot write role assignments", bob, assnWrite, roleAssnA, false},
		{"Contributor cannot delete role assignments", bob, assnDelete, roleAssnA, false},
		{"Contributor can read role assignments", bob, assnRead, rgA, true},
		{"Contributor cannot write locks", bob, lockWrite, rgA, false},
		{"Contributor cannot share galleries", bob, galleryShare, galleryA, false},

		// Groups, nested groups and a membership cycle.
		{"nested group: Contributor of the outer group", carol, imageWrite, imageB, true},
		{"nested group: not outside the outer group's scope", carol, imageWrite, imageA, false},
		{"direct group: Reader in the other subscription", carol, imageRead, imageC, true},
		{"direct group: Reader does not write", carol, imageWrite, imageC, false},

		// User Access Administrator and RBAC Administrator.
		{"User Access Administrator writes role assignments", dave, assnWrite, roleAssnA, true},
		{"User Access Administrator writes locks", dave, lockWrite, rgA, true},
		{"User Access Administrator reads resources", dave, imageRead, imageA, true},
		{"User Access Administrator does not write resources", dave, imageWrite, imageA, false},
		{"RBAC Administrator writes role assignments in its group", erin, assnWrite, roleAssnA, true},
		{"RBAC Administrator does not write locks", erin, lockWrite, rgA, false},
		{"RBAC Administrator does not write role assignments elsewhere", erin, assnWrite, rgB, false},

		// NotActions subtract within their own role only.
		{"NotActions of one role do not remove another role's grant", frank, imageDelete, imageA, true},
		{"NotActions apply where no other role grants", frank, imageDelete, imageB, false},
		{"the rest of the * is granted", frank, imageWrite, imageB, true},

		// Wildcards written in any case, and assignment scopes written in capitals.
		{"odd-case */read pattern grants gallery version reads", henry, versionRead, versionA, true},
		{"odd-case */read pattern grants the gallery itself (zero segments)", henry, galleryRead, galleryA, true},
		{"odd-case */read pattern does not grant writes", henry, galleryWrite, galleryA, false},
		{"odd-case exact action", henry, templateRun, templateA, true},
		{"capitalised assignment scope does not leak to other groups", henry, versionRead, rgB + "/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0", false},

		// Managed Identity Operator on one identity.
		{"Managed Identity Operator assigns the identity", aibID, identityUse, identityA, true},
		{"Managed Identity Operator reads the identity", aibID, identityRead, identityA, true},
		{"Managed Identity Operator only on that identity", aibID, identityUse, rgA + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other", false},

		// Data actions are separate: Actions never grant them.
		{"a data action is not granted by Storage Blob Data Reader's Actions", grace, blobRead, containerA, false},
		{"Storage Blob Data Reader's control-plane read of containers", grace, "Microsoft.Storage/storageAccounts/blobServices/containers/read", containerA, true},
		{"a data-only role grants no control-plane action", grace, imageRead, imageB, false},

		// Nobody.
		{"principal without assignments", nobody, imageRead, imageA, false},
		{"empty principal", unnamed, imageRead, imageA, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Allows(tc.who.ID, tc.action, tc.scope); got != tc.allowed {
				t.Errorf("Allows(%s, %s, %s) = %v, want %v", tc.who.Name, tc.action, tc.scope, got, tc.allowed)
			}
			err := s.Check(t.Context(), tc.who, tc.action, tc.scope)
			if tc.allowed {
				if err != nil {
					t.Errorf("Check = %v, want allowed", err)
				}
				return
			}
			want := &authz.AuthorizationFailedError{Principal: tc.who, Action: tc.action, Scope: tc.scope}
			var got *authz.AuthorizationFailedError
			if !errors.As(err, &got) {
				t.Fatalf("Check = %v, want *AuthorizationFailedError", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDataPermissionMatrix(t *testing.T) {
	s := newSnapshot(t, matrixState(t))
	tests := []struct {
		name    string
		who     authz.Principal
		action  string
		scope   string
		allowed bool
	}{
		{"Storage Blob Data Reader reads blobs", grace, blobRead, containerA + "/blobs/script.sh", true},
		{"Storage Blob Data Reader does not write blobs", grace, blobWrite, containerA + "/blobs/script.sh", false},
		{"Storage Blob Data Reader does not reach past its account", grace, blobRead, imageC, false},
		{"a second role at another group adds data access there", grace, blobRead, storageB + "/blobServices/default/containers/c", true},
		{"data-only role: DataActions wildcard", grace, blobWrite, storageB + "/blobServices/default/containers/c", true},
		{"data-only role: NotDataActions subtract", grace, "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete", storageB, false},
		{"Owner's * grants no data action", alice, blobRead, containerA, false},
		{"Contributor's * grants no data action", bob, blobRead, containerA, false},
		{"nobody", nobody, blobRead, containerA, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.AllowsData(tc.who.ID, tc.action, tc.scope); got != tc.allowed {
				t.Errorf("AllowsData(%s, %s, %s) = %v, want %v", tc.who.Name, tc.action, tc.scope, got, tc.allowed)
			}
			err := s.DataCheck(t.Context(), tc.who, tc.action, tc.scope)
			var af *authz.AuthorizationFailedError
			if tc.allowed != (err == nil) || (err != nil && !errors.As(err, &af)) {
				t.Errorf("DataCheck = %v, want allowed %v", err, tc.allowed)
			}
		})
	}
}

// TestGoldenVectors are the RBAC and lock vectors of the reference (policy-and-rbac.md §D).
func TestGoldenVectors(t *testing.T) {
	s := newSnapshot(t, authz.State{
		Roles: []authz.RoleDefinition{
			customRole(allButDeleteGUID, "Role A", authz.Permission{Actions: []string{"*"}, NotActions: []string{imageDelete}}, sub1),
			customRole(imageDeleterGUID, "Role B", authz.Permission{Actions: []string{imageDelete}}, sub1),
		},
		Assignments: []authz.RoleAssignment{
			assign(1, bob.ID, authz.ContributorRoleGUID, sub1),
			assign(2, carol.ID, authz.ReaderRoleGUID, sub1),
			assign(3, frank.ID, allButDeleteGUID, sub1),
			assign(4, frank.ID, imageDeleterGUID, sub1),
			assign(5, alice.ID, authz.OwnerRoleGUID, sub1),
		},
		Locks: []authz.Lock{{Name: "freeze", Scope: rgA, Level: authz.LockReadOnly}},
	})
	t.Run("17 Contributor may not write locks", func(t *testing.T) {
		if s.Allows(bob.ID, lockWrite, rgA) {
			t.Error("allowed")
		}
	})
	t.Run("18 Reader may not list storage keys", func(t *testing.T) {
		if s.Allows(carol.ID, listKeys, storageA) {
			t.Error("allowed")
		}
	})
	t.Run("19 role A's NotActions X do not remove role B's X", func(t *testing.T) {
		if !s.Allows(frank.ID, imageDelete, imageA) {
			t.Error("denied")
		}
	})
	t.Run("20 ReadOnly lock on the group blocks POST start/action on a VM", func(t *testing.T) {
		vm := rgA + "/providers/Microsoft.Compute/virtualMachines/vm1"
		err := s.Check(t.Context(), alice, "Microsoft.Compute/virtualMachines/start/action", vm)
		var locked *authz.ScopeLockedError
		if !errors.As(err, &locked) {
			t.Fatalf("Check = %v, want *ScopeLockedError", err)
		}
	})
}

// TestImageBuilderRoleFromTheHardeningGuide assigns the guide's custom
// role, verbatim, at one resource group: exactly its seven actions are
// allowed there, and nothing elsewhere.
func TestImageBuilderRoleFromTheHardeningGuide(t *testing.T) {
	s := newSnapshot(t, matrixState(t))
	granted := []string{galleryRead, defRead, versionRead, versionWrite, imageRead, imageWrite, imageDelete}
	scopes := map[string]string{
		galleryRead: galleryA, defRead: galleryA + "/images/debian12", versionRead: versionA, versionWrite: versionA,
		imageRead: imageA, imageWrite: imageA, imageDelete: imageA,
	}
	for _, action := range granted {
		if !s.Allows(aibID.ID, action, scopes[action]) {
			t.Errorf("%s at %s: denied, want allowed", action, scopes[action])
		}
		if !s.Allows(aibID.ID, action, rgA) {
			t.Errorf("%s at the group itself: denied, want allowed", action)
		}
		if s.Allows(aibID.ID, action, imageB) || s.Allows(aibID.ID, action, rgB) {
			t.Errorf("%s in another group: allowed, want denied", action)
		}
		if s.Allows(aibID.ID, action, sub1) {
			t.Errorf("%s at the subscription above: allowed, want denied", action)
		}
	}
	for _, action := range []string{galleryWrite, versionDelete, galleryShare, templateWrite, templateRun, rgRead, rgWrite, assnWrite, lockWrite, "Microsoft.Compute/virtualMachines/write"} {
		if s.Allows(aibID.ID, action, imageA) {
			t.Errorf("%s: allowed, want denied", action)
		}
	}

	got := s.EffectivePermissions(aibID.ID, imageA).Actions
	want := []string{imageRead, imageWrite, imageDelete, galleryRead, defRead, versionRead, versionWrite} // KnownActions order
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("effective actions at %s (-want +got):\n%s", imageA, diff)
	}
}

func TestEffectivePermissions(t *testing.T) {
	s := newSnapshot(t, matrixState(t))
	st := matrixState(t)
	got := s.EffectivePermissions(carol.ID, imageB)
	want := authz.EffectivePermissions{
		PrincipalID: carol.ID,
		Scope:       imageB,
		Groups:      []string{platform, engineering},
		Grants: []authz.Grant{
			{Assignment: st.Assignments[3], RoleName: "Contributor", ViaGroup: engineering, Inherited: true},
		},
	}
	got.Actions, got.DataActions = nil, nil // checked below
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EffectivePermissions (-want +got):\n%s", diff)
	}

	bobAtImage := s.EffectivePermissions(bob.ID, imageA)
	if len(bobAtImage.Grants) != 2 || bobAtImage.Grants[0].RoleName != "Reader" || bobAtImage.Grants[1].RoleName != "Contributor" {
		t.Errorf("bob's grants at %s = %+v, want Reader (subscription) then Contributor (group)", imageA, bobAtImage.Grants)
	}
	for _, a := range bobAtImage.Actions {
		if a == assnWrite {
			t.Errorf("Contributor's effective actions include %s", assnWrite)
		}
	}
	if len(bobAtImage.DataActions) != 0 {
		t.Errorf("Contributor's effective data actions = %v, want none", bobAtImage.DataActions)
	}

	if got := s.EffectivePermissions(grace.ID, containerA).DataActions; !cmp.Equal(got, []string{blobRead}) {
		t.Errorf("grace's data actions = %v, want [%s]", got, blobRead)
	}
	if got := s.EffectivePermissions(nobody.ID, imageA); len(got.Grants)+len(got.Actions)+len(got.Groups) != 0 {
		t.Errorf("nobody's permissions = %+v, want none", got)
	}
}

func TestGroupsOfIsTransitiveAndCycleSafe(t *testing.T) {
	s := newSnapshot(t, authz.State{Memberships: []authz.Membership{
		{GroupID: "g1", MemberID: "user"},
		{GroupID: "g2", MemberID: "g1"},
		{GroupID: "g3", MemberID: "g2"},
		{GroupID: "g1", MemberID: "g3"}, // cycle
		{GroupID: "G2", MemberID: "USER"},
		{GroupID: "g4", MemberID: "other"},
	}})
	if diff := cmp.Diff([]string{"g1", "g2", "g3"}, s.GroupsOf("user")); diff != "" {
		t.Errorf("GroupsOf(user) (-want +got):\n%s", diff)
	}
	if got := s.GroupsOf("nobody"); len(got) != 0 {
		t.Errorf("GroupsOf(nobody) = %v", got)
	}
}

func TestCheckRejectsWildcardActions(t *testing.T) {
	s := newSnapshot(t, matrixState(t))
	for _, action := range []string{"", "*", "Microsoft.Compute/*"} {
		if err := s.Check(t.Context(), alice, action, imageA); !errors.Is(err, authz.ErrInvalidAction) {
			t.Errorf("Check(%q) = %v, want ErrInvalidAction", action, err)
		}
		if err := s.DataCheck(t.Context(), grace, action, containerA); !errors.Is(err, authz.ErrInvalidAction) {
			t.Errorf("DataCheck(%q) = %v, want ErrInvalidAction", action, err)
		}
		if s.Allows(alice.ID, action, imageA) {
			t.Errorf("Allows(%q) = true", action)
		}
	}
}

func TestSnapshotRoleLookup(t *testing.T) {
	s := newSnapshot(t, matrixState(t))
	for _, ref := range []string{"owner", "OWNER", authz.OwnerRoleGUID} {
		if r, ok := s.Role(ref); !ok || r.GUID != authz.OwnerRoleGUID {
			t.Errorf("Role(%q) = %v, %v", ref, r.RoleName, ok)
		}
	}
	if r, ok := s.Role("azure image builder service image creation role"); !ok || r.GUID != aibRoleGUID {
		t.Errorf("custom role by name = %v, %v", r.RoleName, ok)
	}
	if _, ok := s.Role("no such role"); ok {
		t.Error("found a role that does not exist")
	}
	roles := s.Roles()
	if len(roles) != len(authz.BuiltInRoles())+len(matrixState(t).Roles) || roles[0].RoleName != "Owner" {
		t.Errorf("Roles() = %d roles starting with %q", len(roles), roles[0].RoleName)
	}
	roles[0].Permissions[0].Actions[0] = "Microsoft.Compute/images/read"
	if !s.Allows(alice.ID, rgWrite, sub1) {
		t.Error("changing a returned role changed the snapshot")
	}
}

func TestNewSnapshotReportsEveryProblem(t *testing.T) {
	noGUID := customRole("", "No GUID", authz.Permission{Actions: []string{imageRead}}, sub1)
	badPattern := customRole("c2000000-0000-0000-0000-000000000001", "Bad pattern", authz.Permission{Actions: []string{"Microsoft.Compute/images/reed"}}, sub1)
	clash := customRole("c2000000-0000-0000-0000-000000000002", "owner", authz.Permission{Actions: []string{imageRead}}, sub1)
	sameGUID := customRole(authz.ReaderRoleGUID, "Reader copy", authz.Permission{Actions: []string{imageRead}}, sub1)
	_, err := authz.NewSnapshot(authz.State{
		Roles: []authz.RoleDefinition{noGUID, badPattern, clash, sameGUID},
		Assignments: []authz.RoleAssignment{
			{Scope: rgA, RoleDefinitionID: authz.ReaderRoleGUID},
			{Scope: "resourceGroups/x", RoleDefinitionID: authz.ReaderRoleGUID, PrincipalID: bob.ID},
			{Scope: rgA, RoleDefinitionID: "Reader", PrincipalID: bob.ID},
			{Scope: rgA, RoleDefinitionID: "c2000000-0000-0000-0000-00000000ffff", PrincipalID: bob.ID, PrincipalType: "Usr"},
		},
		Memberships: []authz.Membership{{GroupID: platform}},
		Locks:       []authz.Lock{{Name: "l", Scope: "/", Level: "Frozen"}},
	})
	want := []string{
		`roles[2].roleName: role name "owner" is already taken by role "Owner" (8e3af657-a8ff-443c-a75c-2fe8c4bcb635); choose another name`,
		`roles[0].name: role "No GUID" has no valid GUID (""); give the role a GUID name`,
		`roles[1].permissions[0].actions[0]: invalid action "Microsoft.Compute/images/reed": it ends in "reed", which is not an operation; did you mean "read"?`,
		`roles[3].name: role GUID acdd72a7-3385-48ef-bd42-f606fba81ae7 is already taken by role "Reader"`,
		`assignments[0].principalId: the principal ID is required`,
		`assignments[1].scope: scope: invalid resource ID "resourceGroups/x": it must start with "/"; expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{type}/{name}`,
		`assignments[2].roleDefinitionId: "Reader" is neither a role definition GUID nor a role definition ID (…/providers/Microsoft.Authorization/roleDefinitions/{GUID})`,
		`assignments[3].principalType: unknown principal type "Usr"; did you mean "User"?`,
		`assignments[3].roleDefinitionId: no role definition has GUID c2000000-0000-0000-0000-00000000ffff`,
		`memberships[0]: a membership needs a group ID and a member ID`,
		`locks[0].level: lock level "Frozen" is neither "CanNotDelete" nor "ReadOnly"`,
		`locks[0].scope: locks cannot be placed at "/"; lock a subscription, a resource group or a resource`,
	}
	assertProblems(t, err, want)
}

// assertProblems checks that err is Problems with exactly the given lines.
func assertProblems(t *testing.T, err error, want []string) {
	t.Helper()
	var ps authz.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error = %v, want Problems", err)
	}
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.Error()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
