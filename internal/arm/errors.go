package arm

import (
	"github.com/kiln-dev/kiln/internal/jsonpath"
	"github.com/kiln-dev/kiln/internal/suggest"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Error is one problem found in a deployment template, a parameter file or
// an expression, located by the JSON path of the offending value (for
// example "resources[0].properties.source.offer").
type Error struct {
	File    string // file the value came from, may be empty
	Path    string // JSON path, "" for the whole document
	Message string // what is wrong
	Hint    string // what to do, may be empty
}

func (e Error) Error() string {
	var sb strings.Builder
	if e.File != "" {
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

// Errors is every problem found at once, in document order.
type Errors []Error

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

// Unwrap lets errors.As find each Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// asError returns nil for no errors, so that callers never return a typed nil.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// jsonSyntaxError turns a decoding error into an Error with line and column.
func jsonSyntaxError(data []byte, err error) Error {
	var (
		syn   *json.SyntaxError
		trail *trailingDataError
	)
	off := int64(-1)
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // Offset counts the offending byte
	case errors.As(err, &trail):
		off = trail.offset
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
			off++
		}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		off, err = int64(len(data)), errors.New("unexpected end of input")
	}
	if off < 0 {
		return Error{Message: "invalid JSON: " + err.Error()}
	}
	line, col := jsonpath.LineCol(data, off)
	return Error{Message: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)}
}

// trailingDataError is data after the single top-level JSON value.
type trailingDataError struct{ offset int64 }

func (e *trailingDataError) Error() string { return "unexpected data after the top-level value" }

// didYouMean is a hint naming the nearest candidate, or "".
func didYouMean(name string, candidates []string, quote string) string {
	if n := suggest.Nearest(name, candidates); n != "" {
		return "did you mean " + quote + n + quote + "?"
	}
	return ""
}
