package template

import (
	"fmt"
	"strings"
)

// FieldError is one problem in a template, located by its JSON path
// ("properties.customize[2].scriptUri"). Syntax errors have a Line and
// Column instead of a path.
type FieldError struct {
	File         string // the file name from ParseOptions or ValidateEnv, may be empty
	Path         string
	Message      string
	Hint         string // what to do or what was meant, may be empty
	Line, Column int    // 1-based position of a syntax error, 0 when unknown
}

// Error prints "<file>: <path>: <message> (<hint>)", leaving out empty
// parts; a syntax error prints "<file>:<line>:<column>: <message>".
func (e FieldError) Error() string {
	var sb strings.Builder
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&sb, "%s:%d:%d: ", e.fileOr("<input>"), e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&sb, "%s:%d: ", e.fileOr("<input>"), e.Line)
	case e.File != "":
		sb.WriteString(e.File + ": ")
	}
	if e.Path != "" {
		sb.WriteString(e.Path + ": ")
	}
	sb.WriteString(e.Message)
	if e.Hint != "" {
		sb.WriteString(" (" + e.Hint + ")")
	}
	return sb.String()
}

func (e FieldError) fileOr(def string) string {
	if e.File == "" {
		return def
	}
	return e.File
}

// Errors is every problem found in a template, reported at once.
type Errors []FieldError

// Error prints one line per error.
func (es Errors) Error() string {
	if len(es) == 0 {
		return "no errors"
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach each FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// withFile sets File on every error and returns nil when there are none,
// so that no typed nil escapes as a non-nil error.
func (es Errors) withFile(file string) error {
	if len(es) == 0 {
		return nil
	}
	out := make(Errors, len(es))
	for i, e := range es {
		e.File = file
		out[i] = e
	}
	return out
}

// errs collects FieldErrors.
type errs struct {
	list Errors
}

func (c *errs) add(path, hint, format string, args ...any) {
	c.list = append(c.list, FieldError{Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}
