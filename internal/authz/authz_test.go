package authz_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/authz"
)

const (
	sub   = "/subscriptions/00000000-0000-0000-0000-000000000000"
	other = "/subscriptions/11111111-1111-1111-1111-111111111111"
	rg    = sub + "/resourceGroups/rg"
	write = "Microsoft.Compute/images/write"
)

var (
	admin = authz.Principal{ID: "a0a0a0a0-0000-0000-0000-000000000001", Name: "admin", Type: authz.TypeUser}
	dev   = authz.Principal{ID: "d0d0d0d0-0000-0000-0000-000000000002", Name: "dev@example.com", Type: authz.TypeUser}
	mi    = authz.Principal{ID: "e0e0e0e0-0000-0000-0000-000000000003", Type: authz.TypeManagedIdentity}
)

func TestOwnerOf(t *testing.T) {
	checker := authz.OwnerOf{Owners: map[string][]string{
		admin.ID: {sub},
		dev.ID:   {rg, other + "/resourceGroups/Build/"},
		mi.ID:    {"/"},
	}}
	tests := []struct {
		name    string
		p       authz.Principal
		scope   string
		allowed bool
	}{
		{"owner at the subscription itself", admin, sub, true},
		{"owner at a group of the subscription", admin, rg, true},
		{"owner at a resource deep in the subscription", admin, rg + "/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0", true},
		{"scope in upper case", admin, "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG", true},
		{"scope with a trailing slash", admin, sub + "/", true},
		{"another subscription", admin, other, false},
		{"subscription ID that extends the owned one", admin, sub + "0", false},
		{"group owner at the group", dev, rg, true},
		{"group owner at a resource of the group", dev, rg + "/providers/Microsoft.Compute/images/img", true},
		{"group owner at a group whose name extends the owned one", dev, sub + "/resourceGroups/rg2", false},
		{"group owner at a group whose name is a prefix of the owned one", dev, sub + "/resourceGroups/r", false},
		{"group owner at the subscription above", dev, sub, false},
		{"group owner at a sibling group", dev, sub + "/resourceGroups/other", false},
		{"second owned scope, written with a trailing slash and other case", dev, other + "/resourcegroups/build/providers/Microsoft.Compute/images/x", true},
		{"owner of the root scope owns every subscription", mi, other + "/resourceGroups/anything", true},
		{"principal with no assignments", authz.Principal{ID: "ffffffff-0000-0000-0000-000000000000"}, sub, false},
		{"empty principal", authz.Principal{}, sub, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checker.Check(t.Context(), tc.p, write, tc.scope)
			if tc.allowed {
				if err != nil {
					t.Errorf("Check(%s at %s) = %v, want allowed", tc.p, tc.scope, err)
				}
				return
			}
			var af *authz.AuthorizationFailedError
			if !errors.As(err, &af) {
				t.Fatalf("Check(%s at %s) = %v, want *AuthorizationFailedError", tc.p, tc.scope, err)
			}
			want := &authz.AuthorizationFailedError{Principal: tc.p, Action: write, Scope: tc.scope}
			if diff := cmp.Diff(want, af); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnerOfWithoutOwnersDeniesEveryone(t *testing.T) {
	for _, c := range []authz.OwnerOf{{}, {Owners: map[string][]string{}}, {Owners: map[string][]string{admin.ID: nil}}} {
		if err := c.Check(t.Context(), admin, write, sub); err == nil {
			t.Errorf("%+v allowed %s", c, admin)
		}
	}
}

func TestAuthorizationFailedErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  authz.AuthorizationFailedError
		want string
	}{
		{
			name: "named principal",
			err:  authz.AuthorizationFailedError{Principal: dev, Action: "Microsoft.Resources/subscriptions/resourceGroups/write", Scope: rg},
			want: "AuthorizationFailed: the client dev@example.com (d0d0d0d0-0000-0000-0000-000000000002) does not have authorization to perform action " +
				"'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '" + rg + "' or the scope is invalid; " +
				"ask an Owner to assign a role that grants it (kiln role assignment create --assignee d0d0d0d0-0000-0000-0000-000000000002 --role ... --scope " + rg + ")",
		},
		{
			name: "principal without a name",
			err:  authz.AuthorizationFailedError{Principal: mi, Action: write, Scope: sub},
			want: "AuthorizationFailed: the client e0e0e0e0-0000-0000-0000-000000000003 does not have authorization to perform action " +
				"'Microsoft.Compute/images/write' over scope '" + sub + "' or the scope is invalid; " +
				"ask an Owner to assign a role that grants it (kiln role assignment create --assignee e0e0e0e0-0000-0000-0000-000000000003 --role ... --scope " + sub + ")",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error():\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestPrincipalString(t *testing.T) {
	tests := []struct {
		p    authz.Principal
		want string
	}{
		{admin, "admin (a0a0a0a0-0000-0000-0000-000000000001)"},
		{mi, "e0e0e0e0-0000-0000-0000-000000000003"},
		{authz.Principal{}, ""},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}
