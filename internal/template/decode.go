package template

import (
	"github.com/kiln-dev/kiln/internal/jsonpath"
	"github.com/kiln-dev/kiln/internal/suggest"

	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// decoder walks the generic tree against the Go types, filling them in
// and collecting every error on the way.
type decoder struct {
	errs errs
}

// structInfo lists a struct's JSON fields.
type structInfo struct {
	names  []string       // JSON names in declaration order
	byName map[string]int // JSON name to field index
}

var structInfos sync.Map // reflect.Type -> *structInfo

// fieldsOf reads the json tags of a struct type (fields tagged "-" and
// unexported fields are not part of the document).
func fieldsOf(t reflect.Type) *structInfo {
	if info, ok := structInfos.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{byName: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		info.names = append(info.names, name)
		info.byName[name] = i
	}
	structInfos.Store(t, info)
	return info
}

// value decodes node into v; u is the union v (or its elements) belong to.
func (d *decoder) value(path string, node any, v reflect.Value, u *union) {
	if node == nil {
		d.typeError(path, v.Type(), node)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.value(path, node, elem.Elem(), u)
		v.Set(elem)
	case reflect.Struct:
		d.structValue(path, node, v, u)
	case reflect.Slice:
		d.sliceValue(path, node, v, u)
	case reflect.Map:
		d.mapValue(path, node, v)
	case reflect.String:
		d.stringValue(path, node, v)
	case reflect.Bool:
		b, ok := node.(bool)
		if !ok {
			d.typeError(path, v.Type(), node)
			return
		}
		v.SetBool(b)
	case reflect.Int:
		d.intValue(path, node, v)
	case reflect.Float64:
		num, ok := node.(json.Number)
		if !ok {
			d.typeError(path, v.Type(), node)
			return
		}
		f, err := num.Float64()
		if err != nil {
			d.errs.add(path, "", "%s is not a number", num)
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		v.Set(reflect.ValueOf(plainValue(node)))
	default:
		d.errs.add(path, "", "internal error: cannot decode into %s", v.Type())
	}
}

func (d *decoder) stringValue(path string, node any, v reflect.Value) {
	s, ok := node.(string)
	if !ok {
		d.typeError(path, v.Type(), node)
		return
	}
	v.SetString(s)
}

// intValue accepts integral numbers in the int32 range (1.0 and 1e2 are
// integral).
func (d *decoder) intValue(path string, node any, v reflect.Value) {
	num, ok := node.(json.Number)
	if !ok {
		d.typeError(path, v.Type(), node)
		return
	}
	i, integral := parseIntegral(num.String())
	switch {
	case !integral:
		d.errs.add(path, "", "expected integer, got %s", num)
	case i < math.MinInt32 || i > math.MaxInt32:
		d.errs.add(path, "", "%s is out of range for a 32-bit integer", num)
	default:
		v.SetInt(i)
	}
}

// parseIntegral parses a JSON number that must be a whole number; values
// beyond int64 come back as math.MaxInt64 (out of every range we accept).
func parseIntegral(s string) (int64, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, false
	}
	if math.Abs(f) > math.MaxInt32 {
		return math.MaxInt64, true
	}
	return int64(f), true
}

func (d *decoder) sliceValue(path string, node any, v reflect.Value, u *union) {
	arr, ok := node.([]any)
	if !ok {
		d.typeError(path, v.Type(), node)
		return
	}
	out := reflect.MakeSlice(v.Type(), len(arr), len(arr))
	for i, x := range arr {
		d.value(jsonpath.Index(path, i), x, out.Index(i), u)
	}
	v.Set(out)
}

func (d *decoder) mapValue(path string, node any, v reflect.Value) {
	obj, ok := node.(*object)
	if !ok {
		d.typeError(path, v.Type(), node)
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(obj.keys))
	for _, k := range obj.keys {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(jsonpath.Key(path, k), obj.vals[k], elem, nil)
		out.SetMapIndex(reflect.ValueOf(k), elem)
	}
	v.Set(out)
}

// structValue decodes an object into a struct, rejecting unknown fields
// and, for unions, fields that do not belong to the selected kind. null
// fields are treated as absent.
func (d *decoder) structValue(path string, node any, v reflect.Value, u *union) {
	obj, ok := node.(*object)
	if !ok {
		d.typeError(path, v.Type(), node)
		return
	}
	info := fieldsOf(v.Type())
	kind, selected := d.discriminate(path, obj, u)
	for _, key := range obj.keys {
		idx, known := info.byName[key]
		switch {
		case !known:
			candidates := info.names
			if selected {
				candidates = kind.fields
			}
			d.unknownField(path, key, v.Type(), candidates)
		case selected && !slices.Contains(kind.fields, key):
			d.errs.add(jsonpath.Key(path, key), "", "field %q is not valid for %s; valid fields: %s",
				key, u.label(kind.name), strings.Join(kind.fields, ", "))
		case obj.vals[key] != nil:
			d.value(jsonpath.Key(path, key), obj.vals[key], v.Field(idx), unionFields[fieldKey{v.Type(), key}])
		}
	}
}

// discriminate reads a union's discriminator. A missing or empty one
// selects nothing (Validate reports it); an unknown one is an error here.
func (d *decoder) discriminate(path string, obj *object, u *union) (kind, bool) {
	if u == nil {
		return kind{}, false
	}
	name, ok := obj.vals[u.key].(string)
	if !ok || name == "" {
		return kind{}, false
	}
	k, found := u.find(name)
	if !found {
		d.unknownKind(jsonpath.Key(path, u.key), u, name)
	}
	return k, found
}

func (d *decoder) unknownKind(path string, u *union, name string) {
	hint := ""
	if s := suggest.Nearest(name, u.names()); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	}
	d.errs.add(path, hint, "unknown %s %s %q; valid values: %s", u.what, u.key, name, strings.Join(u.names(), ", "))
}

// unknownField reports a key that is not a field, with the nearest valid name.
func (d *decoder) unknownField(path, key string, t reflect.Type, candidates []string) {
	fpath := jsonpath.Key(path, key)
	if slices.Contains(readOnlyFields[t], key) {
		d.errs.add(fpath, "it is set by the service; remove it from the template", "field %q is read-only", key)
		return
	}
	hint := ""
	switch s := suggest.Nearest(key, candidates); {
	case s != "":
		hint = fmt.Sprintf("did you mean %q?", s)
	case t == reflect.TypeFor[ImageTemplate]() && slices.Contains(fieldsOf(reflect.TypeFor[Properties]()).names, key):
		hint = `it belongs inside "properties"`
	default:
		hint = "valid fields: " + strings.Join(candidates, ", ")
	}
	d.errs.add(fpath, hint, "unknown field %q", key)
}

// typeError reports a value of the wrong JSON type.
func (d *decoder) typeError(path string, want reflect.Type, node any) {
	hint := ""
	if jsonKind(want) == "string" {
		switch n := node.(type) {
		case json.Number:
			hint = fmt.Sprintf("write it in quotes: %q", n.String())
		case bool:
			hint = fmt.Sprintf("write it in quotes: %q", strconv.FormatBool(n))
		}
	}
	d.errs.add(path, hint, "expected %s, got %s", jsonKind(want), nodeKind(node))
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int:
		return "integer"
	case reflect.Slice:
		return "array"
	}
	return "object"
}

// nodeKind names the JSON type of a tree node.
func nodeKind(node any) string {
	switch node.(type) {
	case *object:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", node)
}

// plainValue turns a decoded tree into plain Go values (json.Number becomes
// float64) for fields typed any.
func plainValue(node any) any {
	switch x := node.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainValue(e)
		}
		return out
	}
	return node
}
