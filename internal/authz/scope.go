package authz

import (
	"fmt"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/kiln-dev/kiln/internal/arm"
)

// scopeKey normalizes a scope for comparison: lower case, no trailing
// "/", and "" for the root scope "/". Scopes compare case-insensitively
// on whole segments, as ARM IDs do. ok is false for a string that cannot
// be a scope (empty, relative, or with an empty segment). It runs on
// every check, so ASCII scopes take one pass and at most one allocation.
func scopeKey(scope string) (key string, ok bool) {
	if scope == "/" {
		return "", true
	}
	if !strings.HasPrefix(scope, "/") {
		return "", false
	}
	s := strings.TrimSuffix(scope, "/")
	var stack [256]byte
	buf := stack[:0]
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return unicodeScopeKey(s)
		case c == '/' && i > 0 && s[i-1] == '/':
			return "", false
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			changed = true
		}
		buf = append(buf, c)
	}
	if !changed {
		return s, true
	}
	return string(buf), true
}

// unicodeScopeKey is scopeKey's slow path for names beyond ASCII.
func unicodeScopeKey(s string) (string, bool) {
	if strings.Contains(s, "//") {
		return "", false
	}
	return strings.ToLower(s), true
}

// ancestorKeys yields the keys of every scope that contains key, from the
// root down to key itself: "", "/subscriptions", "/subscriptions/s",
// "/subscriptions/s/resourcegroups", ... Prefixes that are not scopes
// (such as "/subscriptions") cost a map miss and nothing else.
func ancestorKeys(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if !yield("") || key == "" {
			return
		}
		for i := 1; i < len(key); i++ {
			if key[i] == '/' && !yield(key[:i]) {
				return
			}
		}
		yield(key)
	}
}

// isUnderKey reports whether the scope with key child lies strictly below
// the scope with key parent.
func isUnderKey(child, parent string) bool {
	return len(child) > len(parent) && strings.HasPrefix(child, parent) && child[len(parent)] == '/'
}

// depth counts the segments of a scope key; the root has depth 0.
func depth(key string) int { return strings.Count(key, "/") }

// checkScope validates a scope held in the state: the root "/" or an ARM
// ID (management group, subscription, resource group, resource or child
// resource). A trailing "/" is tolerated, as everywhere in kiln.
func checkScope(scope string) error {
	if scope == "/" {
		return nil
	}
	if strings.ContainsAny(scope, "<>") {
		return fmt.Errorf("scope %q holds a placeholder; replace it with a real name", scope)
	}
	if _, err := arm.ParseID(strings.TrimSuffix(scope, "/")); err != nil {
		return fmt.Errorf("scope: %w", err)
	}
	return nil
}
