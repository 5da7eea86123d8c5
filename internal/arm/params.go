package arm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// Parameter types, lower-cased as kiln compares them (ARM ignores case).
const (
	TypeString       = "string"
	TypeSecureString = "securestring"
	TypeInt          = "int"
	TypeBool         = "bool"
	TypeObject       = "object"
	TypeSecureObject = "secureobject"
	TypeArray        = "array"
)

var parameterTypes = []string{"string", "secureString", "int", "bool", "object", "secureObject", "array"}

var parameterKeys = []string{"type", "defaultValue", "allowedValues", "minValue", "maxValue", "minLength", "maxLength", "metadata"}

// paramDecl is one entry of a template's parameters section.
type paramDecl struct {
	name                 string
	typ                  string // lower-cased
	allowed              []any
	minValue, maxValue   *int64
	minLength, maxLength *int64
}

func isSecureType(typ string) bool { return typ == TypeSecureString || typ == TypeSecureObject }

// declareParameters reads the parameters section, matches the given
// values to it and fills the parameters table.
func (ev *evaluation) declareParameters(given map[string]any) {
	ev.e.params = newTable("parameter", "parameters")
	decls, _ := ev.section("parameters")
	for _, name := range sortedKeys(decls) {
		path := jsonpath.Key("parameters", name)
		d, ok := ev.paramDecl(path, name, decls[name])
		if !ok {
			ev.e.params.add(name, &entry{state: failed})
			continue
		}
		ev.decls = append(ev.decls, d)
		ev.e.params.add(name, ev.paramEntry(path, d, decls[name].(map[string]any), given))
	}
	ev.checkUndeclared(given, decls)
}

// checkUndeclared reports given values that the template does not declare.
func (ev *evaluation) checkUndeclared(given map[string]any, decls map[string]any) {
	names := sortedKeys(decls)
	for _, name := range sortedKeys(given) {
		if _, _, ok := ev.e.params.find(name); ok {
			continue
		}
		hint := didYouMean(name, names, "'")
		switch {
		case hint != "":
		case len(names) == 0:
			hint = "the template declares no parameters"
		default:
			hint = "declared parameters: " + strings.Join(names, ", ")
		}
		ev.failHint(jsonpath.Key("parameters", name), hint, "a value was given for parameter '%s', which the template does not declare", name)
	}
}

// paramEntry is the table entry of a declared parameter: the given value
// (final) or the default (evaluated on first use).
func (ev *evaluation) paramEntry(path string, d *paramDecl, decl map[string]any, given map[string]any) *entry {
	check := func(v any) *evalError { return d.check(v) }
	if v, ok := lookupFold(given, d.name); ok {
		v, err := coerce(d.typ, v)
		if err != nil {
			ev.e.record(path, err)
			return &entry{raw: v, state: failed}
		}
		return &entry{raw: v, literal: true, check: check}
	}
	if def, ok := decl["defaultValue"]; ok {
		return &entry{raw: def, check: check}
	}
	ev.failHint(path, fmt.Sprintf("pass it with --parameters %s=VALUE or give it a defaultValue", d.name),
		"parameter '%s' is required: no value was given and it has no defaultValue", d.name)
	return &entry{state: failed}
}

// lookupFold finds a key exactly, then ignoring case.
func lookupFold(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, name) {
			return m[k], true
		}
	}
	return nil, false
}

// paramDecl checks and reads one parameter declaration.
func (ev *evaluation) paramDecl(path, name string, raw any) (*paramDecl, bool) {
	obj, ok := raw.(map[string]any)
	if !ok {
		ev.fail(path, "a parameter declaration is an object with a \"type\", got %s", describeType(raw))
		return nil, false
	}
	ok = ev.knownKeys(path, obj, parameterKeys, "parameter property")
	typ, typeOK := ev.declaredType(path, obj)
	d := &paramDecl{name: name, typ: typ}
	ok = typeOK && ok
	if a, has := obj["allowedValues"]; has {
		arr, isArr := a.([]any)
		if !isArr || len(arr) == 0 {
			ev.fail(jsonpath.Key(path, "allowedValues"), "expected a non-empty array, got %s", describeType(a))
			ok = false
		}
		d.allowed = arr
	}
	for _, b := range []struct {
		key string
		dst **int64
	}{{"minValue", &d.minValue}, {"maxValue", &d.maxValue}, {"minLength", &d.minLength}, {"maxLength", &d.maxLength}} {
		ok = ev.bound(path, obj, b.key, b.dst) && ok
	}
	return d, ok
}

// declaredType reads the "type" of a parameter or output declaration.
func (ev *evaluation) declaredType(path string, obj map[string]any) (string, bool) {
	raw, has := obj["type"]
	typ, isStr := raw.(string)
	switch {
	case !has:
		ev.failHint(path, "one of "+strings.Join(parameterTypes, ", "), "\"type\" is required")
		return "", false
	case !isStr:
		ev.fail(jsonpath.Key(path, "type"), "expected a string, got %s", describeType(raw))
		return "", false
	}
	for _, t := range parameterTypes {
		if strings.EqualFold(t, typ) {
			return strings.ToLower(t), true
		}
	}
	ev.failHint(jsonpath.Key(path, "type"), "valid types: "+strings.Join(parameterTypes, ", "), "unknown type %q", typ)
	return "", false
}

// bound reads an optional integer constraint.
func (ev *evaluation) bound(path string, obj map[string]any, key string, dst **int64) bool {
	raw, has := obj[key]
	if !has {
		return true
	}
	n, ok := raw.(int64)
	if !ok {
		ev.fail(jsonpath.Key(path, key), "expected an int, got %s", describeType(raw))
		return false
	}
	*dst = &n
	return true
}

// check tests a parameter value against its type and constraints.
func (d *paramDecl) check(v any) *evalError {
	if err := checkType(d.typ, v); err != nil {
		return err
	}
	if err := d.checkAllowed(v); err != nil {
		return err
	}
	if err := d.checkRange(v); err != nil {
		return err
	}
	return d.checkLength(v)
}

// checkType tests a value against a parameter or output type.
func checkType(typ string, v any) *evalError {
	want := map[string]string{
		TypeString: "string", TypeSecureString: "string", TypeInt: "int", TypeBool: "bool",
		TypeObject: "object", TypeSecureObject: "object", TypeArray: "array",
	}[typ]
	if got := typeName(v); got != want {
		return newEvalError("expected %s value, got %s", articled(want), describeType(v))
	}
	return nil
}

func articled(t string) string {
	if t == "int" || t == "array" || t == "object" {
		return "an " + t
	}
	return "a " + t
}

func (d *paramDecl) checkAllowed(v any) *evalError {
	if d.allowed == nil {
		return nil
	}
	values := []any{v}
	if arr, ok := v.([]any); ok && d.typ == TypeArray && !containsValue(d.allowed, v) {
		values = arr
	}
	for _, x := range values {
		if containsValue(d.allowed, x) {
			continue
		}
		err := newEvalError("value %s is not allowed", toJSON(x))
		if isSecureType(d.typ) {
			err.msg = "the value is not one of the allowed values"
		}
		err.hint = "allowed values: " + joinJSON(d.allowed)
		return err
	}
	return nil
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if equalValues(x, v) {
			return true
		}
	}
	return false
}

func joinJSON(list []any) string {
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = toJSON(x)
	}
	return strings.Join(parts, ", ")
}

func (d *paramDecl) checkRange(v any) *evalError {
	n, ok := v.(int64)
	switch {
	case !ok:
		return nil
	case d.minValue != nil && n < *d.minValue:
		return newEvalError("value %d is less than minValue %d", n, *d.minValue)
	case d.maxValue != nil && n > *d.maxValue:
		return newEvalError("value %d is greater than maxValue %d", n, *d.maxValue)
	}
	return nil
}

func (d *paramDecl) checkLength(v any) *evalError {
	var n int64
	switch v := v.(type) {
	case string:
		n = int64(len([]rune(v)))
	case []any:
		n = int64(len(v))
	default:
		return nil
	}
	switch {
	case d.minLength != nil && n < *d.minLength:
		return newEvalError("length %d is less than minLength %d", n, *d.minLength)
	case d.maxLength != nil && n > *d.maxLength:
		return newEvalError("length %d is greater than maxLength %d", n, *d.maxLength)
	}
	return nil
}

// coerce converts a given value to a parameter's type where the value is
// a RawValue (NAME=VALUE from a command line); other values are only
// normalized and checked later.
func coerce(typ string, v any) (any, *evalError) {
	raw, ok := v.(RawValue)
	if !ok {
		return normalize(v), nil
	}
	s := string(raw)
	switch typ {
	case TypeString, TypeSecureString:
		return s, nil
	case TypeInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return raw, newEvalError("cannot use %q as an int", s)
		}
		return n, nil
	case TypeBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return raw, newEvalError("cannot use %q as a bool (expected true or false)", s)
	}
	parsed, err := decodeJSON([]byte(s))
	if err != nil {
		return raw, newEvalError("cannot use %q as %s: it is not valid JSON", s, articled(strings.TrimPrefix(typ, "secure")))
	}
	return parsed, nil
}
