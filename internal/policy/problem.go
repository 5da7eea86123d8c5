package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kiln-dev/kiln/internal/suggest"
)

// ErrInvalid is wrapped by every error that reports invalid input (a
// definition, an assignment, parameter values, an alias file), so that
// callers can tell bad input from other failures with errors.Is.
var ErrInvalid = errors.New("invalid policy input")

// Problem is one thing wrong in a policy document, located by the JSON
// path of the offending value as the input spelled it
// ("properties.policyRule.if.allOf[1].field").
type Problem struct {
	Path    string // "" for the whole document
	Message string // what is wrong
	Hint    string // what to do or what was meant, may be empty
}

// Error prints "<path>: <message>; <hint>", leaving out empty parts.
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

// Is makes errors.Is(p, ErrInvalid) true.
func (p Problem) Is(target error) bool { return target == ErrInvalid }

// Problems is every problem found in one input, reported at once.
type Problems []Problem

// Error prints one problem a line.
func (ps Problems) Error() string {
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

// Is makes errors.Is(ps, ErrInvalid) true.
func (ps Problems) Is(target error) bool { return target == ErrInvalid }

// maxProblems stops collecting after this many, so that a huge broken
// input does not produce a huge error.
const maxProblems = 50

// problemList collects problems while an input is walked.
type problemList struct {
	list Problems
}

func (l *problemList) add(path, hint, format string, args ...any) {
	if len(l.list) >= maxProblems {
		return
	}
	l.list = append(l.list, Problem{Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// addErr records err at path: its own Problems keep their paths (prefixed
// by path when they have none).
func (l *problemList) addErr(path string, err error) {
	var ps Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			if p.Path == "" {
				p.Path = path
			}
			l.add(p.Path, p.Hint, "%s", p.Message)
		}
		return
	}
	var p Problem
	if errors.As(err, &p) {
		if p.Path == "" {
			p.Path = path
		}
		l.add(p.Path, p.Hint, "%s", p.Message)
		return
	}
	l.add(path, "", "%s", err.Error())
}

func (l *problemList) empty() bool { return len(l.list) == 0 }

// err returns nil when nothing was found, so that no typed nil escapes.
func (l *problemList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	return l.list
}

// joinKey appends an object key to a JSON path: ".key" for a plain
// identifier, `["key"]` otherwise.
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

func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return k != ""
}

// didYouMean is the hint for a misspelt name, or "" when nothing is close.
func didYouMean(name string, candidates []string) string {
	return suggest.DidYouMean(name, candidates)
}

// syntaxProblem turns a JSON decoding error into a Problem that says where,
// by line and column.
func syntaxProblem(data []byte, err error) Problem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset-1)
		return Problem{Message: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)}
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return Problem{Message: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(data, int64(len(data)))
		return Problem{Message: fmt.Sprintf("invalid JSON at line %d, column %d: unexpected end of input", line, col)}
	default:
		return Problem{Message: "invalid JSON: " + err.Error()}
	}
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return line, col
}
