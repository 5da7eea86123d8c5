package authz

import (
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/suggest"
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

// didYouMean is the hint for a misspelt name, or "" when no candidate is
// close.
func didYouMean(name string, candidates []string) string {
	return suggest.DidYouMean(name, candidates)
}
