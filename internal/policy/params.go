package policy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Parameter types, spelled as Azure's built-ins spell them (comparison
// ignores case).
const (
	TypeString   = "String"
	TypeArray    = "Array"
	TypeObject   = "Object"
	TypeBoolean  = "Boolean"
	TypeInteger  = "Integer"
	TypeFloat    = "Float"
	TypeDateTime = "DateTime"
)

var parameterTypes = []string{TypeString, TypeArray, TypeObject, TypeBoolean, TypeInteger, TypeFloat, TypeDateTime}

var parameterKeys = []string{"type", "metadata", "defaultValue", "allowedValues", "schema"}

// ParameterDefinition is one declared parameter of a definition or an
// initiative.
type ParameterDefinition struct {
	Name          string         `json:"-"`
	Type          string         `json:"type"`
	DefaultValue  any            `json:"defaultValue,omitempty"`
	HasDefault    bool           `json:"-"`
	AllowedValues []any          `json:"allowedValues,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
	Schema        any            `json:"schema,omitempty"`
}

// readParameterDefinitions reads the "parameters" object of a definition
// or initiative, by name as written and by lower-cased name.
func readParameterDefinitions(errs *problemList, path string, obj map[string]any) (map[string]*ParameterDefinition, map[string]*ParameterDefinition) {
	byName := map[string]*ParameterDefinition{}
	byLower := map[string]*ParameterDefinition{}
	for _, name := range sortedKeys(obj) {
		p := readParameterDefinition(errs, joinKey(path, name), name, obj[name])
		if p == nil {
			continue
		}
		if prev, dup := byLower[strings.ToLower(name)]; dup {
			errs.add(joinKey(path, name), "parameter names ignore case; keep one", "parameter %q is also declared as %q", name, prev.Name)
			continue
		}
		byName[name], byLower[strings.ToLower(name)] = p, p
	}
	return byName, byLower
}

func readParameterDefinition(errs *problemList, path, name string, v any) *ParameterDefinition {
	r, ok := readObject(errs, path, v, parameterKeys)
	if !ok {
		return nil
	}
	p := &ParameterDefinition{Name: name, Metadata: r.object("metadata")}
	if p.Type = r.oneOf("type", parameterTypes...); p.Type == "" {
		if !r.has("type") {
			errs.add(r.path("type"), "one of "+strings.Join(parameterTypes, ", "), "missing parameter type")
		}
		return nil
	}
	if v, ok := r.value("allowedValues"); ok {
		list, isList := v.([]any)
		if !isList {
			errs.add(r.path("allowedValues"), "", "expected an array, got %s", kindOf(v))
			return nil
		}
		p.AllowedValues = list
	}
	p.Schema, _ = r.value("schema")
	if v, ok := r.value("defaultValue"); ok {
		p.DefaultValue, p.HasDefault = v, true
		if err := p.check(v); err != nil {
			errs.add(r.path("defaultValue"), "", "%v", err)
			return nil
		}
	}
	return p
}

// check verifies a value against the parameter's type and allowed values
// (which compare case-sensitively, as Azure does).
func (p *ParameterDefinition) check(v any) error {
	if err := checkType(p.Type, v); err != nil {
		return err
	}
	if len(p.AllowedValues) == 0 {
		return nil
	}
	if arr, ok := v.([]any); ok && p.Type == TypeArray && !anyArray(p.AllowedValues) {
		for _, x := range arr {
			if !containsExact(p.AllowedValues, x) {
				return fmt.Errorf("%s is not one of the allowed values %s", display(x), display(p.AllowedValues))
			}
		}
		return nil
	}
	if !containsExact(p.AllowedValues, v) {
		return fmt.Errorf("%s is not one of the allowed values %s (they compare case-sensitively)", display(v), display(p.AllowedValues))
	}
	return nil
}

func anyArray(list []any) bool {
	for _, x := range list {
		if isArray(x) {
			return true
		}
	}
	return false
}

// checkType verifies a value against a parameter type.
func checkType(typ string, v any) error {
	ok := false
	switch typ {
	case TypeString:
		_, ok = v.(string)
	case TypeArray:
		_, ok = v.([]any)
	case TypeObject:
		_, ok = v.(map[string]any)
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeInteger:
		_, ok = toInt(v)
	case TypeFloat:
		_, ok = v.(json.Number)
	case TypeDateTime:
		s, isStr := v.(string)
		_, ok = parseTime(s)
		ok = ok && isStr
	}
	if !ok {
		return fmt.Errorf("expected a value of type %s, got %s", typ, kindOf(v))
	}
	return nil
}

// bindParameters checks the values given for a definition's parameters
// and fills in defaults; the result is keyed by lower-cased name.
func bindParameters(byName, byLower map[string]*ParameterDefinition, values map[string]any) (map[string]any, error) {
	var errs problemList
	out := make(map[string]any, len(byLower))
	for _, name := range sortedKeys(values) {
		p, ok := byLower[strings.ToLower(name)]
		if !ok {
			errs.add(joinKey("parameters", name), didYouMean(name, sortedKeys(byName)), "parameter %q is not defined by the definition", name)
			continue
		}
		v, err := Normalize(values[name])
		if err == nil {
			err = p.check(v)
		}
		if err != nil {
			errs.add(joinKey("parameters", name), "", "%v", err)
			continue
		}
		out[strings.ToLower(p.Name)] = v
	}
	for _, name := range sortedKeys(byName) {
		p := byName[name]
		if _, given := out[strings.ToLower(name)]; given {
			continue
		}
		if !p.HasDefault {
			errs.add(joinKey("parameters", name), "give it a value", "parameter %q has no value and no default", name)
			continue
		}
		out[strings.ToLower(name)] = p.DefaultValue
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseParameterValues reads parameter values as `az policy assignment
// create --params` takes them: {"name": {"value": ...}}, optionally inside
// a deployment parameters file ({"$schema", "contentVersion",
// "parameters"}).
func ParseParameterValues(data []byte) (map[string]any, error) {
	var errs problemList
	doc, err := decodeJSON(data)
	if err != nil {
		errs.addErr("", err)
		return nil, errs.err()
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, Problems{{Message: fmt.Sprintf("parameter values must be a JSON object, got %s", kindOf(doc))}}
	}
	path := ""
	if _, isFile := lookupKey(obj, "$schema"); isFile {
		r, ok := readObject(&errs, "", obj, []string{"$schema", "contentVersion", "parameters"})
		if !ok {
			return nil, errs.err()
		}
		obj, path = r.object("parameters"), r.path("parameters")
	}
	out := unwrapValues(&errs, path, obj)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// unwrapValues reads {"name": {"value": v}} entries.
func unwrapValues(errs *problemList, path string, obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for _, name := range sortedKeys(obj) {
		p := joinKey(path, name)
		wrapped, ok := obj[name].(map[string]any)
		v, has := lookupKey(wrapped, "value")
		if !ok || len(wrapped) != 1 || !has {
			errs.add(p, fmt.Sprintf(`write {"%s": {"value": %s}}`, name, shorten(jsonText(obj[name]))), "a parameter value must be wrapped as {\"value\": ...}")
			continue
		}
		out[name] = v
	}
	return out
}
