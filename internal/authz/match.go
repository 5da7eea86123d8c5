package authz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidActionPattern is wrapped by every error CompileActionPattern
// returns.
var ErrInvalidActionPattern = errors.New("invalid action pattern")

// ErrInvalidAction is returned, wrapped, by checks of an action that is
// not a concrete action (empty, or holding a wildcard).
var ErrInvalidAction = errors.New("invalid action")

// maxWildcards bounds the "*" in one pattern. Azure's built-in roles use at
// most two; the bound keeps the zero-segment expansion below small.
const maxWildcards = 8

// Operation verbs: the last segment of every Azure action.
var verbs = []string{"read", "write", "delete", "action"}

// ActionPatternError is an action pattern that does not parse.
type ActionPatternError struct {
	Pattern string // the input
	Reason  string // what is wrong
	Hint    string // what to do, may be empty
}

func (e *ActionPatternError) Error() string {
	msg := fmt.Sprintf("invalid action %q: %s", e.Pattern, e.Reason)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrInvalidActionPattern) true.
func (e *ActionPatternError) Unwrap() error { return ErrInvalidActionPattern }

// ActionPattern is a compiled entry of a role's Actions, NotActions,
// DataActions or NotDataActions: an action such as
// "Microsoft.Compute/images/write", or a pattern with "*" wildcards such as
// "*", "*/read", "Microsoft.Compute/*" or "Microsoft.Compute/galleries/*/read".
//
// Matching follows Azure:
//   - it is case-insensitive and covers the whole action;
//   - "*" matches any run of characters, "/" included, so
//     "Microsoft.Compute/*" matches "Microsoft.Compute/galleries/images/versions/write"
//     and "*/read" matches every action that ends in "/read" (not ".../listKeys/action");
//   - a "*" that fills a whole segment ("…/x/*/y…") may also stand for no
//     segment at all, so "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"
//     matches "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action".
//
// The last rule is where Azure's practice and the literal regular
// expression disagree: Microsoft's own Go matcher (Azure/ARO-RP
// permissions.CanDoAction, `strings.ReplaceAll(QuoteMeta(p), "\*", ".*")`)
// requires two slashes around the "*". But Azure's built-in Managed
// Identity Operator role grants exactly
// ".../userAssignedIdentities/*/assign/action" and ".../*/read", and Azure's
// documentation tells users that this role lets them assign and read
// identities, which are the actions ".../userAssignedIdentities/assign/action"
// and ".../userAssignedIdentities/read". We follow practice.
type ActionPattern struct {
	text     string
	variants []glob // lower-cased; the pattern matches when any variant does
}

// glob is a lower-cased pattern split at its "*"; one part is an exact
// action.
type glob []string

// CompileActionPattern parses and compiles an action pattern. The error,
// if any, is an *ActionPatternError.
func CompileActionPattern(pattern string) (ActionPattern, error) {
	if reason, hint := patternSyntax(pattern); reason != "" {
		return ActionPattern{}, &ActionPatternError{Pattern: pattern, Reason: reason, Hint: hint}
	}
	lower := lowerASCII(pattern)
	var variants []glob
	for _, v := range withoutSegmentWildcards(lower) {
		variants = append(variants, strings.Split(v, "*"))
	}
	return ActionPattern{text: pattern, variants: variants}, nil
}

// String returns the pattern as written.
func (p ActionPattern) String() string { return p.text }

// HasWildcard reports whether the pattern holds a "*".
func (p ActionPattern) HasWildcard() bool { return strings.Contains(p.text, "*") }

// Matches reports whether the pattern matches a concrete action,
// ignoring ASCII case.
func (p ActionPattern) Matches(action string) bool {
	return p.matchesLower(lowerASCII(action))
}

// matchesLower matches an action that is already lower-cased.
func (p ActionPattern) matchesLower(action string) bool {
	for _, g := range p.variants {
		if g.matches(action) {
			return true
		}
	}
	return false
}

// matches is glob matching where each "*" (a split point) stands for any
// run of characters. Taking the leftmost occurrence of each middle part is
// enough: a later occurrence never leaves more room for what follows.
func (g glob) matches(s string) bool {
	if len(g) == 1 {
		return s == g[0]
	}
	first, last := g[0], g[len(g)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	rest := s[len(first) : len(s)-len(last)]
	for _, mid := range g[1 : len(g)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return true
}

// withoutSegmentWildcards returns the pattern and every variant of it with
// some whole-segment wildcards ("/*/") collapsed to "/", without
// duplicates, the pattern itself first.
func withoutSegmentWildcards(p string) []string {
	out := []string{p}
	seen := map[string]bool{p: true}
	for i := 0; i < len(out); i++ {
		v := out[i]
		for j := 1; j+1 < len(v); j++ {
			if v[j] != '*' || v[j-1] != '/' || v[j+1] != '/' {
				continue
			}
			collapsed := v[:j] + v[j+2:]
			if !seen[collapsed] {
				seen[collapsed] = true
				out = append(out, collapsed)
			}
		}
	}
	return out
}

// patternSyntax checks the form of an action pattern:
// {Company}.{Provider}/{type}[/{childType}…]/{verb}, with "*" anywhere. It
// returns "" when the form is right, else the reason and a hint.
func patternSyntax(p string) (reason, hint string) {
	if p == "" {
		return "it is empty", `write an action such as "Microsoft.Compute/images/read", or "*" for every action`
	}
	if strings.TrimSpace(p) != p {
		return "it has leading or trailing spaces", fmt.Sprintf("write %q", strings.TrimSpace(p))
	}
	if reason, hint := patternChars(p); reason != "" {
		return reason, hint
	}
	if p == "*" {
		return "", ""
	}
	if n := strings.Count(p, "*"); n > maxWildcards {
		return fmt.Sprintf("it has %d wildcards, more than the %d kiln accepts", n, maxWildcards), ""
	}
	segs := strings.Split(p, "/")
	if slices.Contains(segs, "") {
		return `it has an empty segment (a leading or trailing "/", or "//")`, ""
	}
	return segmentSyntax(segs)
}

// patternChars accepts ASCII letters, digits, ".", "-", "_", "/" and "*".
func patternChars(p string) (reason, hint string) {
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".-_/*", r):
		case r == '?':
			return `"?" is not a wildcard in actions`, `use "*", which matches any run of characters`
		case r == ' ':
			return "it contains a space", ""
		default:
			return fmt.Sprintf("character %q is not allowed", r), `actions hold letters, digits, ".", "-", "_", "/" and the wildcard "*"`
		}
	}
	return "", ""
}

// segmentSyntax checks the provider namespace and the verb of a pattern
// of at least one segment; segments holding "*" are not checked.
func segmentSyntax(segs []string) (reason, hint string) {
	ns, last := segs[0], segs[len(segs)-1]
	if !strings.Contains(ns, "*") && !strings.Contains(ns, ".") {
		return fmt.Sprintf("%q is not a resource provider namespace", ns),
			`an action starts with {Company}.{Provider}, for example "Microsoft.Compute/images/read"`
	}
	if len(segs) == 1 {
		if strings.Contains(ns, "*") {
			return "", ""
		}
		return "it names a provider but no operation", fmt.Sprintf("write %q for every action of the provider", ns+"/*")
	}
	if strings.Contains(last, "*") {
		return "", ""
	}
	if !containsFold(verbs, last) {
		hint := didYouMean(last, verbs)
		if hint == "" {
			hint = `an action ends in "/read", "/write", "/delete" or "/{verb}/action"`
		}
		return fmt.Sprintf("it ends in %q, which is not an operation", last), hint
	}
	if strings.EqualFold(last, "action") && len(segs) < 3 {
		return `"action" must follow a verb`, `write for example "Microsoft.Compute/virtualMachines/start/action"`
	}
	return "", ""
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases ASCII letters only, and allocates (once) only
// when there is one to change. Actions are ASCII; folding only ASCII keeps
// matching independent of Unicode case rules (no "K" Kelvin sign equal
// to "k").
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var stack [128]byte
	b := append(stack[:0], s...) // on the stack when it fits
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// concreteAction reports whether action can be checked: non-empty and
// without a wildcard.
func concreteAction(action string) bool {
	return action != "" && !strings.Contains(action, "*")
}
