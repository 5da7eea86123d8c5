package policy

import (
	"strings"
)

// objReader reads a JSON object strictly: keys match known names ignoring
// case, and unknown or duplicate keys are problems with a hint.
type objReader struct {
	at   string
	obj  map[string]any
	keys map[string]string // canonical name -> key as written
	errs *problemList
}

// readObject checks that v is an object whose keys are all in names.
func readObject(errs *problemList, path string, v any, names []string) (*objReader, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		errs.add(path, "", "expected an object, got %s", kindOf(v))
		return nil, false
	}
	r := &objReader{at: path, obj: obj, keys: map[string]string{}, errs: errs}
	good := true
	for _, k := range sortedKeys(obj) {
		name := canonicalKey(k, names)
		switch prev, dup := r.keys[name]; {
		case name == "":
			errs.add(joinKey(path, k), didYouMean(k, names), "unknown field %q", k)
			good = false
		case dup:
			errs.add(joinKey(path, k), "keep one", "duplicate field (also written %q; keys ignore case)", prev)
			good = false
		default:
			r.keys[name] = k
		}
	}
	return r, good
}

func (r *objReader) has(name string) bool {
	_, ok := r.keys[name]
	return ok
}

// value is a field's raw value; ok is false when it is absent or null.
func (r *objReader) value(name string) (any, bool) {
	k, ok := r.keys[name]
	if !ok || r.obj[k] == nil {
		return nil, false
	}
	return r.obj[k], true
}

// path is the JSON path of a field, as written when present.
func (r *objReader) path(name string) string {
	if k, ok := r.keys[name]; ok {
		return joinKey(r.at, k)
	}
	return joinKey(r.at, name)
}

// str reads an optional string; absent and null read as "".
func (r *objReader) str(name string) string {
	v, ok := r.value(name)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		r.errs.add(r.path(name), "", "expected a string, got %s", kindOf(v))
	}
	return s
}

// required reads a string that must be present and not empty.
func (r *objReader) required(name string) string {
	v, ok := r.value(name)
	if !ok {
		r.errs.add(r.path(name), "", "missing required field %q", name)
		return ""
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		r.errs.add(r.path(name), "", "expected a string, got %s", kindOf(v))
	case s == "":
		r.errs.add(r.path(name), "", "%q must not be empty", name)
	}
	return s
}

// strList reads an optional array of strings.
func (r *objReader) strList(name string) []string {
	v, ok := r.value(name)
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		hint := ""
		if _, isStr := v.(string); isStr {
			hint = "write it as a list: [" + jsonText(v) + "]"
		}
		r.errs.add(r.path(name), hint, "expected an array of strings, got %s", kindOf(v))
		return nil
	}
	out := make([]string, 0, len(list))
	for i, x := range list {
		s, isStr := x.(string)
		if !isStr {
			r.errs.add(joinIndex(r.path(name), i), "", "expected a string, got %s", kindOf(x))
			continue
		}
		out = append(out, s)
	}
	return out
}

// object reads an optional object (any keys).
func (r *objReader) object(name string) map[string]any {
	v, ok := r.value(name)
	if !ok {
		return nil
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		r.errs.add(r.path(name), "", "expected an object, got %s", kindOf(v))
	}
	return m
}

// oneOf reads an optional string that must be one of names (ignoring
// case), returned in its canonical spelling.
func (r *objReader) oneOf(name string, names ...string) string {
	s := r.str(name)
	if s == "" {
		return ""
	}
	if c := canonicalKey(s, names); c != "" {
		return c
	}
	hint := didYouMean(s, names)
	if hint == "" {
		hint = "one of " + strings.Join(names, ", ")
	}
	r.errs.add(r.path(name), hint, "unknown value %q", s)
	return ""
}
