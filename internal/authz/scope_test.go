package authz

import (
	"strings"
	"testing"
)

// referenceScopeKey is scopeKey written plainly, for FuzzScopeKey.
func referenceScopeKey(scope string) (string, bool) {
	if scope == "/" {
		return "", true
	}
	s := strings.TrimSuffix(scope, "/")
	if !strings.HasPrefix(scope, "/") || strings.Contains(s, "//") {
		return "", false
	}
	return strings.ToLower(s), true
}

// FuzzScopeKey checks that the fast scope normalization never panics and
// agrees with the plain one.
func FuzzScopeKey(f *testing.F) {
	for _, s := range []string{"/", "", "//", "/subscriptions/S/resourceGroups/RG/", "/subscriptions/s//x", "/Ä/b", "x", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, scope string) {
		got, ok := scopeKey(scope)
		want, wantOK := referenceScopeKey(scope)
		if got != want || ok != wantOK {
			t.Errorf("scopeKey(%q) = %q, %v; want %q, %v", scope, got, ok, want, wantOK)
		}
	})
}

func TestAncestorKeys(t *testing.T) {
	var got []string
	for k := range ancestorKeys("/subscriptions/s/resourcegroups/g") {
		got = append(got, k)
	}
	want := []string{"", "/subscriptions", "/subscriptions/s", "/subscriptions/s/resourcegroups", "/subscriptions/s/resourcegroups/g"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ancestorKeys = %q, want %q", got, want)
	}
	got = nil
	for k := range ancestorKeys("") {
		got = append(got, k)
	}
	if len(got) != 1 || got[0] != "" {
		t.Errorf("ancestorKeys(root) = %q, want only the root", got)
	}
}
