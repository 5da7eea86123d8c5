package authz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/authz"
)

// The locks of the lock tests:
//
//	keep-a    CanNotDelete on group A
//	freeze-b  ReadOnly on group B
//	freeze-2  ReadOnly on subscription 2, and keep-c CanNotDelete on group C below it
//	keep-sa   CanNotDelete on storage account A (a resource)
var testLocks = []authz.Lock{
	{Name: "keep-a", Scope: rgA, Level: authz.LockCanNotDelete, Notes: "production images"},
	{Name: "freeze-b", Scope: rgB, Level: authz.LockReadOnly},
	{Name: "keep-c", Scope: rgC, Level: authz.LockCanNotDelete},
	{Name: "freeze-2", Scope: sub2, Level: "readonly"},
	{Name: "keep-sa", Scope: storageA, Level: authz.LockCanNotDelete},
}

func TestLockSetBlocking(t *testing.T) {
	locks, err := authz.NewLockSet(testLocks)
	if err != nil {
		t.Fatal(err)
	}
	vmB := rgB + "/providers/Microsoft.Compute/virtualMachines/vm1"
	diagA := storageA + "/providers/Microsoft.Insights/diagnosticSettings/d"
	tests := []struct {
		name   string
		action string
		scope  string
		want   []string // names of the blocking locks, most restrictive first; none when allowed
	}{
		// CanNotDelete: deletes are blocked here and below; reads and changes are not.
		{"CanNotDelete blocks deleting the group, and so does the lock of a resource in it", "Microsoft.Resources/subscriptions/resourceGroups/delete", rgA, []string{"keep-a", "keep-sa"}},
		{"CanNotDelete blocks deleting a resource below", imageDelete, imageA, []string{"keep-a"}},
		{"CanNotDelete blocks deleting a nested child resource", versionDelete, versionA, []string{"keep-a"}},
		{"CanNotDelete blocks deleting a role assignment there", assnDelete, roleAssnA, []string{"keep-a"}},
		{"CanNotDelete lets writes through", imageWrite, imageA, nil},
		{"CanNotDelete lets POST actions through", templateRun, templateA, nil},
		{"CanNotDelete lets reads through", imageRead, imageA, nil},
		{"CanNotDelete at a group does not reach a sibling", imageDelete, sub1 + "/resourceGroups/rg-d/providers/Microsoft.Compute/images/x", nil},
		{"CanNotDelete at a group does not reach a group whose name extends it", imageDelete, rgA + "2/providers/Microsoft.Compute/images/x", nil},
		{"a delete above a locked group is blocked: deletes take children along", "Microsoft.Resources/subscriptions/delete", sub1, []string{"freeze-b", "keep-a", "keep-sa"}},
		{"both locks on the path block, the group's first", "Microsoft.Storage/storageAccounts/delete", storageA, []string{"keep-a", "keep-sa"}},
		{"a lock on a resource covers its extension resources", "Microsoft.Insights/diagnosticSettings/delete", diagA, []string{"keep-a", "keep-sa"}},

		// ReadOnly: everything but reads is blocked, POST included.
		{"ReadOnly blocks writes", imageWrite, imageB, []string{"freeze-b"}},
		{"ReadOnly blocks deletes", imageDelete, imageB, []string{"freeze-b"}},
		{"ReadOnly blocks writing the group itself", rgWrite, rgB, []string{"freeze-b"}},
		{"ReadOnly blocks VM start (POST)", "Microsoft.Compute/virtualMachines/start/action", vmB, []string{"freeze-b"}},
		{"ReadOnly blocks listKeys (POST)", listKeys, storageB, []string{"freeze-b"}},
		{"ReadOnly blocks image template run (POST)", templateRun, rgB + "/providers/Microsoft.VirtualMachineImages/imageTemplates/t", []string{"freeze-b"}},
		{"ReadOnly blocks image template cancel (POST)", "Microsoft.VirtualMachineImages/imageTemplates/cancel/action", rgB + "/providers/Microsoft.VirtualMachineImages/imageTemplates/t", []string{"freeze-b"}},
		{"ReadOnly blocks role assignments there", assnWrite, rgB + "/providers/Microsoft.Authorization/roleAssignments/x", []string{"freeze-b"}},
		{"ReadOnly lets reads through", imageRead, imageB, nil},
		{"a ReadOnly lock below does not block writing above", rgWrite, sub1, nil},

		// The most restrictive lock comes first.
		{"ReadOnly above CanNotDelete: both block a delete, ReadOnly first", imageDelete, imageC, []string{"freeze-2", "keep-c"}},
		{"ReadOnly above CanNotDelete: only ReadOnly blocks a write", imageWrite, imageC, []string{"freeze-2"}},

		// Exemptions.
		{"locks can be written under a ReadOnly lock", lockWrite, rgB + "/providers/Microsoft.Authorization/locks/freeze-b", nil},
		{"locks can be deleted under themselves", "Microsoft.Authorization/locks/delete", rgA + "/providers/Microsoft.Authorization/locks/keep-a", nil},
		{"a subscription can be cancelled despite its locks", "Microsoft.Subscription/cancel/action", sub2, nil},

		// Case and form.
		{"scopes and actions compare case-insensitively", "MICROSOFT.COMPUTE/IMAGES/WRITE", strings.ToLower(imageB), []string{"freeze-b"}},
		{"unlocked subscription", imageDelete, "/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/x", nil},
		{"an invalid scope is not under any lock", imageDelete, "nowhere", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range locks.Blocking(tc.action, tc.scope) {
				got = append(got, l.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Blocking(%s, %s) (-want +got):\n%s", tc.action, tc.scope, diff)
			}
			err := locks.Check(tc.action, tc.scope)
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("Check = %v, want blocked %v", err, tc.want != nil)
			}
			if err != nil {
				var locked *authz.ScopeLockedError
				if !errors.As(err, &locked) || locked.Locks[0].Name != tc.want[0] || locked.Scope != tc.scope || locked.Action != tc.action {
					t.Errorf("Check = %#v, want *ScopeLockedError naming %s", err, tc.want[0])
				}
			}
		})
	}
}

// TestLocksBindOwners: locks are checked after RBAC, and bind every
// principal, Owner included; they never touch the data plane.
func TestLocksBindOwners(t *testing.T) {
	st := matrixState(t)
	st.Locks = []authz.Lock{{Name: "freeze-a", Scope: rgA, Level: authz.LockReadOnly}}
	s := newSnapshot(t, st)

	err := s.Check(t.Context(), alice, imageWrite, imageA)
	want := &authz.ScopeLockedError{Action: imageWrite, Scope: imageA, Locks: []authz.Lock{{Name: "freeze-a", Scope: rgA, Level: authz.LockReadOnly}}}
	var locked *authz.ScopeLockedError
	if !errors.As(err, &locked) {
		t.Fatalf("Owner's write under a ReadOnly lock: %v, want *ScopeLockedError", err)
	}
	if diff := cmp.Diff(want, locked); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if err := s.Check(t.Context(), alice, imageRead, imageA); err != nil {
		t.Errorf("Owner's read under a ReadOnly lock: %v", err)
	}
	if err := s.Check(t.Context(), alice, imageWrite, imageB); err != nil {
		t.Errorf("Owner's write outside the lock: %v", err)
	}
	var denied *authz.AuthorizationFailedError
	if err := s.Check(t.Context(), nobody, imageWrite, imageA); !errors.As(err, &denied) {
		t.Errorf("RBAC comes before locks: got %v, want *AuthorizationFailedError", err)
	}
	if err := s.DataCheck(t.Context(), grace, blobRead, containerA); err != nil {
		t.Errorf("data action under a ReadOnly lock: %v", err)
	}
	if !s.Allows(alice.ID, imageWrite, imageA) {
		t.Error("Allows consults locks; it is RBAC only")
	}
}

func TestScopeLockedErrorMessage(t *testing.T) {
	err := authz.CheckLocks(testLocks, imageDelete, imageC)
	want := "ScopeLocked: the scope '" + imageC + "' cannot perform delete operation because the following scope(s) are locked: " +
		"'" + sub2 + "/providers/Microsoft.Authorization/locks/freeze-2' (ReadOnly), " +
		"'" + rgC + "/providers/Microsoft.Authorization/locks/keep-c' (CanNotDelete); " +
		"remove the lock and try again (kiln lock delete --ids " + sub2 + "/providers/Microsoft.Authorization/locks/freeze-2)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	err = authz.CheckLocks(testLocks, templateRun, rgB+"/providers/Microsoft.VirtualMachineImages/imageTemplates/t")
	if err == nil || !strings.Contains(err.Error(), "cannot perform write operation") {
		t.Errorf("POST under ReadOnly: %v, want a write operation refused", err)
	}
}

func TestNewLockSetRejectsBadLocks(t *testing.T) {
	_, err := authz.NewLockSet([]authz.Lock{
		{Name: "", Scope: rgA, Level: authz.LockReadOnly},
		{Name: "a/b", Scope: rgA, Level: authz.LockReadOnly},
		{Name: "l", Scope: rgA, Level: "NotSpecified"},
		{Name: "l", Scope: "/", Level: authz.LockReadOnly},
		{Name: "l", Scope: "/providers/Microsoft.Management/managementGroups/mg", Level: authz.LockReadOnly},
		{Name: "l", Scope: "rg", Level: authz.LockReadOnly},
		{Name: "twice", Scope: rgA, Level: authz.LockReadOnly},
		{Name: "TWICE", Scope: strings.ToUpper(rgA), Level: authz.LockCanNotDelete},
	})
	assertProblems(t, err, []string{
		`locks[0].name: lock name "" must be non-empty and hold no "/"`,
		`locks[1].name: lock name "a/b" must be non-empty and hold no "/"`,
		`locks[2].level: lock level "NotSpecified" is neither "CanNotDelete" nor "ReadOnly"`,
		`locks[3].scope: locks cannot be placed at "/"; lock a subscription, a resource group or a resource`,
		`locks[4].scope: locks cannot be placed at "/providers/Microsoft.Management/managementGroups/mg"; lock a subscription, a resource group or a resource`,
		`locks[5].scope: scope: invalid resource ID "rg": it must start with "/"; expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{type}/{name}`,
		`locks[7].name: a lock named "TWICE" already exists at ` + strings.ToUpper(rgA) + `; choose another name`,
	})
}

func TestParseLockLevel(t *testing.T) {
	for in, want := range map[string]authz.LockLevel{"CanNotDelete": authz.LockCanNotDelete, "cannotdelete": authz.LockCanNotDelete, "READONLY": authz.LockReadOnly} {
		if got, err := authz.ParseLockLevel(in); err != nil || got != want {
			t.Errorf("ParseLockLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := authz.ParseLockLevel("Delete"); err == nil {
		t.Error(`ParseLockLevel("Delete") succeeded`)
	}
}

func TestLockID(t *testing.T) {
	l := authz.Lock{Name: "keep", Scope: rgA + "/"}
	if got, want := l.ID(), rgA+"/providers/Microsoft.Authorization/locks/keep"; got != want {
		t.Errorf("ID() = %s, want %s", got, want)
	}
}
