package authz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/authz"
)

func TestActionPatternMatches(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		action  string
		want    bool
	}{
		{"exact action", "Microsoft.Compute/images/read", "Microsoft.Compute/images/read", true},
		{"exact action, other case", "microsoft.web/sites/restart/Action", "Microsoft.Web/sites/restart/action", true},
		{"pattern in capitals", "MICROSOFT.COMPUTE/IMAGES/READ", "microsoft.compute/images/read", true},
		{"whole action only: longer action", "Microsoft.Compute/images/read", "Microsoft.Compute/images/read/x", false},
		{"whole action only: action with a prefix", "Microsoft.Compute/images/read", "x/Microsoft.Compute/images/read", false},
		{"different verb", "Microsoft.Compute/images/read", "Microsoft.Compute/images/write", false},

		{"star is every action", "*", "Microsoft.Compute/galleries/images/versions/write", true},
		{"star is every POST action too", "*", "Microsoft.Storage/storageAccounts/listKeys/action", true},

		{"provider wildcard, direct type", "Microsoft.Compute/*", "Microsoft.Compute/images/write", true},
		{"provider wildcard spans child types", "Microsoft.Compute/*", "Microsoft.Compute/galleries/images/versions/write", true},
		{"provider wildcard, other provider", "Microsoft.Compute/*", "Microsoft.Network/virtualNetworks/read", false},
		{"provider wildcard, provider whose name extends it", "Microsoft.Compute/*", "Microsoft.ComputeSchedule/actions/read", false},

		{"*/read, a read", "*/read", "Microsoft.Compute/images/read", true},
		{"*/read, a nested read", "*/read", "Microsoft.Compute/galleries/images/versions/read", true},
		{"*/read is not listKeys", "*/read", "Microsoft.Storage/storageAccounts/listKeys/action", false},
		{"*/read is not write", "*/read", "Microsoft.Compute/images/write", false},

		{"middle wildcard, one segment", "Microsoft.Compute/galleries/*/read", "Microsoft.Compute/galleries/images/read", true},
		{"middle wildcard, two segments", "Microsoft.Compute/galleries/*/read", "Microsoft.Compute/galleries/images/versions/read", true},
		{"middle wildcard, no segment (Azure practice)", "Microsoft.Compute/galleries/*/read", "Microsoft.Compute/galleries/read", true},
		{"middle wildcard, other verb", "Microsoft.Compute/galleries/*/read", "Microsoft.Compute/galleries/images/write", false},
		{"middle wildcard, other type", "Microsoft.Compute/galleries/*/read", "Microsoft.Compute/images/read", false},
		{"Contributor's Authorization write exclusion covers role assignments", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true},
		{"Contributor's Authorization write exclusion covers locks", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/locks/write", true},
		{"Contributor's Authorization write exclusion leaves reads", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read", false},
		{"Managed Identity Operator's assign", "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", true},
		{"Managed Identity Operator's read", "Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/read", true},
		{"Managed Identity Operator's read of a child type", "Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read", true},

		{"wildcard inside a segment", "Micro*.Compute/images/read", "Microsoft.Compute/images/read", true},
		{"wildcard inside the verb", "Microsoft.Compute/images/*e", "Microsoft.Compute/images/delete", true},
		{"wildcard inside the verb, not matching", "Microsoft.Compute/images/*e", "Microsoft.Compute/images/read", false},
		{"two wildcards", "Microsoft.*/*/read", "Microsoft.Compute/images/read", true},
		{"two wildcards, not matching", "Microsoft.*/*/read", "Contoso.Compute/images/read", false},
		{"wildcard parts must not overlap", "Microsoft.Compute/images*images/read", "Microsoft.Compute/images/read", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := authz.CompileActionPattern(tc.pattern)
			if err != nil {
				t.Fatalf("CompileActionPattern(%q): %v", tc.pattern, err)
			}
			if got := p.Matches(tc.action); got != tc.want {
				t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.action, got, tc.want)
			}
		})
	}
}

func TestCompileActionPatternAcceptsAzureForms(t *testing.T) {
	for _, p := range []string{
		"*",
		"*/read",
		"Microsoft.Compute/*",
		"Microsoft.*",
		"Microsoft.Support/*",
		"Microsoft.Compute/images/Read",
		"Microsoft.Authorization/*/Delete",
		"Microsoft.Authorization/elevateAccess/Action",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
		"Microsoft.Insights/alertRules/*",
		"Microsoft.Resources/deployments/*",
		"Microsoft.Network/locations/*/read",
		"Microsoft.AAD/domain_services/read",
		"Microsoft.Compute/virtual-machines/read",
	} {
		if _, err := authz.CompileActionPattern(p); err != nil {
			t.Errorf("CompileActionPattern(%q): %v", p, err)
		}
	}
}

func TestCompileActionPatternRejectsMalformed(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // the error message
	}{
		{"", `invalid action "": it is empty; write an action such as "Microsoft.Compute/images/read", or "*" for every action`},
		{" Microsoft.Compute/images/read", `invalid action " Microsoft.Compute/images/read": it has leading or trailing spaces; write "Microsoft.Compute/images/read"`},
		{"Microsoft.Compute/images/re?d", `invalid action "Microsoft.Compute/images/re?d": "?" is not a wildcard in actions; use "*", which matches any run of characters`},
		{"Microsoft.Compute/images list/read", `invalid action "Microsoft.Compute/images list/read": it contains a space`},
		{"Microsoft.Compute/imagés/read", `invalid action "Microsoft.Compute/imagés/read": character 'é' is not allowed; actions hold letters, digits, ".", "-", "_", "/" and the wildcard "*"`},
		{"Microsoft.Compute//read", `invalid action "Microsoft.Compute//read": it has an empty segment (a leading or trailing "/", or "//")`},
		{"/Microsoft.Compute/images/read", `invalid action "/Microsoft.Compute/images/read": it has an empty segment (a leading or trailing "/", or "//")`},
		{"Microsoft.Compute/images/read/", `invalid action "Microsoft.Compute/images/read/": it has an empty segment (a leading or trailing "/", or "//")`},
		{"Compute/images/read", `invalid action "Compute/images/read": "Compute" is not a resource provider namespace; an action starts with {Company}.{Provider}, for example "Microsoft.Compute/images/read"`},
		{"Microsoft.Compute", `invalid action "Microsoft.Compute": it names a provider but no operation; write "Microsoft.Compute/*" for every action of the provider`},
		{"Microsoft.Compute/images/reed", `invalid action "Microsoft.Compute/images/reed": it ends in "reed", which is not an operation; did you mean "read"?`},
		{"Microsoft.Compute/images", `invalid action "Microsoft.Compute/images": it ends in "images", which is not an operation; an action ends in "/read", "/write", "/delete" or "/{verb}/action"`},
		{"Microsoft.Compute/action", `invalid action "Microsoft.Compute/action": "action" must follow a verb; write for example "Microsoft.Compute/virtualMachines/start/action"`},
		{"Microsoft.Compute/*/*/*/*/*/*/*/*/*", `invalid action "Microsoft.Compute/*/*/*/*/*/*/*/*/*": it has 9 wildcards, more than the 8 kiln accepts`},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			_, err := authz.CompileActionPattern(tc.pattern)
			if !errors.Is(err, authz.ErrInvalidActionPattern) {
				t.Fatalf("CompileActionPattern(%q) = %v, want ErrInvalidActionPattern", tc.pattern, err)
			}
			var pe *authz.ActionPatternError
			if !errors.As(err, &pe) || pe.Pattern != tc.pattern {
				t.Errorf("error %#v, want *ActionPatternError for %q", err, tc.pattern)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzActionPattern checks that compiling and matching never panic, and
// the invariants of Azure's matching: a pattern without wildcards matches
// itself in any ASCII case; matching ignores ASCII case on both sides; a
// wildcard pattern matches what it becomes when its stars are filled in.
func FuzzActionPattern(f *testing.F) {
	seeds := [][2]string{
		{"*", "Microsoft.Compute/images/read"},
		{"*/read", "Microsoft.Storage/storageAccounts/listKeys/action"},
		{"Microsoft.Compute/*", "Microsoft.Compute/galleries/images/versions/write"},
		{"Microsoft.Compute/galleries/*/read", "Microsoft.Compute/galleries/read"},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"},
		{"microsoft.web/sites/restart/Action", "Microsoft.Web/sites/restart/action"},
		{"Microsoft.Compute/images*images/read", "Microsoft.Compute/images/read"},
		{"a.b/*/*/c/*/read", "A.B/x/c/read"},
		{"Microsoft.Compute/images/re?d", "x"},
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, action string) {
		p, err := authz.CompileActionPattern(pattern)
		if err != nil {
			if !errors.Is(err, authz.ErrInvalidActionPattern) {
				t.Fatalf("CompileActionPattern(%q) error %v does not wrap ErrInvalidActionPattern", pattern, err)
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q, want %q", p.String(), pattern)
		}
		got := p.Matches(action)
		if p.Matches(upperASCII(action)) != got || p.Matches(lowerASCII(action)) != got {
			t.Errorf("%q: matching %q depends on its case", pattern, action)
		}
		upper, err := authz.CompileActionPattern(upperASCII(pattern))
		if err != nil {
			t.Fatalf("%q compiles but its upper case does not: %v", pattern, err)
		}
		if upper.Matches(action) != got {
			t.Errorf("%q and its upper case disagree on %q", pattern, action)
		}
		if !p.HasWildcard() {
			for _, self := range []string{pattern, upperASCII(pattern), lowerASCII(pattern)} {
				if !p.Matches(self) {
					t.Errorf("%q does not match %q", pattern, self)
				}
			}
			return
		}
		for _, filler := range []string{"", "x", "x/y.z"} {
			if filled := strings.ReplaceAll(pattern, "*", filler); !p.Matches(filled) {
				t.Errorf("%q does not match %q", pattern, filled)
			}
		}
	})
}

func upperASCII(s string) string { return mapASCII(s, 'a', 'z', 'A'-'a') }
func lowerASCII(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A') }

func mapASCII(s string, lo, hi byte, shift int) string {
	b := []byte(s)
	for i, c := range b {
		if c >= lo && c <= hi {
			b[i] = byte(int(c) + shift)
		}
	}
	return string(b)
}

// TestKnownActionsAreConcreteAndDistinct: the actions kiln knows are real
// action names, each once, and the two planes do not overlap.
func TestKnownActionsAreConcreteAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range append(authz.KnownActions(), authz.KnownDataActions()...) {
		p, err := authz.CompileActionPattern(a)
		if err != nil || p.HasWildcard() {
			t.Errorf("%q: %v (wildcard %v), want a concrete action", a, err, p.HasWildcard())
		}
		if seen[strings.ToLower(a)] {
			t.Errorf("%q is listed twice", a)
		}
		seen[strings.ToLower(a)] = true
	}
}
