package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// object reads a JSON object at path and matches its keys, ignoring case,
// against fields. Unknown keys are errors with a hint: the nearest field,
// or what misplaced lists that belong to another shape (keyed by lower
// case). ok is false when the value is not an object.
func (d *roleDecoder) object(path string, raw json.RawMessage, fields []string, misplaced map[string]string) (object, bool) {
	o := object{path: path, fields: map[string]member{}}
	members, isObject := objectMembers(raw)
	if !isObject {
		d.typeError(path, "an object", raw)
		return o, false
	}
	for _, m := range members {
		name := nearestExact(m.key, fields)
		switch prev, dup := o.fields[name]; {
		case name == "":
			hint := misplaced[strings.ToLower(m.key)]
			if hint == "" {
				hint = didYouMean(m.key, fields)
			}
			d.errs.add(jsonpath.Key(path, m.key), hint, "unknown field")
		case dup:
			d.errs.add(jsonpath.Key(path, m.key), "keep one", "duplicate field (also written %q; keys ignore case)", prev.key)
		default:
			o.fields[name] = m
		}
	}
	return o, true
}

// str reads an optional string field; absent and null read as "".
func (d *roleDecoder) str(o object, name string) string {
	m, ok := o.fields[name]
	if !ok || jsonKind(m.value) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(m.value, &s); err != nil {
		d.typeError(o.pathOf(name), "a string", m.value)
	}
	return s
}

// boolean reads an optional boolean field; present is false when it is
// absent or null.
func (d *roleDecoder) boolean(o object, name string) (v, present bool) {
	m, ok := o.fields[name]
	if !ok || jsonKind(m.value) == "null" {
		return false, false
	}
	if err := json.Unmarshal(m.value, &v); err != nil {
		d.typeError(o.pathOf(name), "true or false", m.value)
		return false, false
	}
	return v, true
}

// array reads an optional array field; absent and null read as empty.
// want describes the array in errors ("an array of strings").
func (d *roleDecoder) array(o object, name, want string) ([]json.RawMessage, string) {
	path := o.pathOf(name)
	m, ok := o.fields[name]
	if !ok || jsonKind(m.value) == "null" {
		return nil, path
	}
	var items []json.RawMessage
	if err := json.Unmarshal(m.value, &items); err != nil {
		d.typeError(path, want, m.value)
		return nil, path
	}
	return items, path
}

// strList reads an optional array of strings; absent and null read as
// an empty, non-nil list.
func (d *roleDecoder) strList(o object, name string) []string {
	items, path := d.array(o, name, "an array of strings")
	out := make([]string, 0, len(items))
	for i, raw := range items {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || jsonKind(raw) == "null" {
			d.typeError(jsonpath.Index(path, i), "a string", raw)
			continue
		}
		out = append(out, s)
	}
	return out
}

// typeError reports a value of the wrong JSON type, with a hint for the
// common slip of a single string where a list belongs.
func (d *roleDecoder) typeError(path, want string, got json.RawMessage) {
	hint := ""
	if strings.HasPrefix(want, "an array") && jsonKind(got) == "a string" {
		hint = fmt.Sprintf("write it as a list: [%s]", bytes.TrimSpace(got))
	}
	d.errs.add(path, hint, "expected %s, got %s", want, jsonKind(got))
}

// objectMembers lists the members of a JSON object in document order;
// isObject is false when raw is not an object. raw must be valid JSON.
func objectMembers(raw json.RawMessage) (members []member, isObject bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return members, true
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return members, true
		}
		members = append(members, member{key: key, value: v})
	}
	return members, true
}

// hasKeyFold reports whether an object has key, ignoring case.
func hasKeyFold(members []member, key string) bool {
	for _, m := range members {
		if strings.EqualFold(m.key, key) {
			return true
		}
	}
	return false
}

// jsonKind names the JSON type of a valid value, with its article, as
// errors print it ("an object", "a string", ...); "null" for null.
func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// syntaxProblem turns a JSON decoding error into a Problem that says
// where, by line and column.
func syntaxProblem(data []byte, err error) Problem {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		off := syn.Offset - 1 // Offset counts the offending byte
		if strings.Contains(syn.Error(), "unexpected end") {
			off = syn.Offset // the end is after the last byte
		}
		line, col := jsonpath.LineCol(data, off)
		return Problem{Message: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := jsonpath.LineCol(data, int64(len(data)))
		return Problem{Message: fmt.Sprintf("invalid JSON at line %d, column %d: unexpected end of input", line, col)}
	default:
		return Problem{Message: "invalid JSON: " + err.Error()}
	}
}
