package authz

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong (an error) or doubtful (a warning) in a role
// definition or in the state a Snapshot is built from, located by the JSON
// path of the offending value as the input spelled it ("Actions[2]",
// "properties.permissions[0].notActions[1]", "assignments[3].scope").
type Problem struct {
	Path    string // "" for the whole document
	Message string // what is wrong
	Hint    string // what to do or what was meant, may be empty
}

// Error prints "<path>: <message>; <hint>", leaving out empty parts, for
// example `Actons: unknown field; did you mean "Actions"?`.
func (p Problem) Error() string {
	var sb strings.Builder
	if p.Path != "" {
		sb.WriteString(p.Path + ": ")
	}
	sb.WriteString(p.Message)
	if p.Hint != "" {
		sb.WriteString("; " + p.Hint)
	}
	return sb.String()
}

// Problems is every error found in one input, reported at once, field by
// field.
type Problems []Problem

// Error prints one problem a line.
func (ps Problems) Error() string {
	if len(ps) == 0 {
		return "no problems"
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach each Problem.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// problemList collects problems while an input is walked.
type problemList struct {
	list Problems
}

func (l *problemList) add(path, hint, format string, args ...any) {
	l.list = append(l.list, Problem{Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// has reports whether a problem was found at path or below it.
func (l *problemList) has(path string) bool {
	for _, p := range l.list {
		if p.Path == path || strings.HasPrefix(p.Path, path+".") || strings.HasPrefix(p.Path, path+"[") {
			return true
		}
	}
	return false
}

// err returns nil when nothing was found, so that no typed nil escapes as
// a non-nil error.
func (l *problemList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	return l.list
}

// joinKey appends an object key to a JSON path: ".key" when the key is a
// plain identifier, `["key"]` otherwise.
func joinKey(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends an array index to a JSON path.
func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// plainKey reports whether a key is a letter or "_" followed by letters,
// digits and "_".
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return k != ""
}

// didYouMean is the hint for a misspelt name, or "" when no candidate is
// close.
func didYouMean(name string, candidates []string) string {
	if s := nearest(name, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

// nearest returns the candidate closest to name: a case-insensitive match
// first, else the nearest by edit distance when it is close enough to be a
// typo (at most a third of the name, and at least 2, edits).
func nearest(name string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
	}
	best, bestDist := "", max(2, len(name)/3)+1
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if d := editDistance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, counted in bytes.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
