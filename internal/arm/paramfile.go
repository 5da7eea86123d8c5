package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// RawValue is a value given as NAME=VALUE on a command line when VALUE is
// not a JSON object, array or string. Like az, kiln decides its type from
// the parameter's declared type: "3" is the int 3 for an int parameter and
// the string "3" for a string parameter; "true" likewise.
type RawValue string

// ParseParameters reads deployment parameter values given the way az
// accepts them, later arguments overriding earlier ones:
//
//   - @FILE: a deploymentParameters file ({"$schema", "contentVersion",
//     "parameters": {"name": {"value": ...}}}) or a bare object of
//     {"name": {"value": ...}} or {"name": value} entries;
//   - a JSON object inline, in the same forms;
//   - NAME=VALUE: VALUE is JSON when it is a JSON object, array or string,
//     else a RawValue typed by the template;
//   - the path of an existing file, as with @FILE.
//
// Key Vault references are refused.
func ParseParameters(args []string) (map[string]any, error) {
	out := map[string]any{}
	var errs Errors
	for _, arg := range args {
		vals, err := parseParameterArg(arg)
		if err != nil {
			var es Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
				continue
			}
			return nil, err
		}
		for k, v := range vals {
			out[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// parseParameterArg reads one --parameters argument.
func parseParameterArg(arg string) (map[string]any, error) {
	trimmed := strings.TrimSpace(arg)
	switch {
	case strings.HasPrefix(trimmed, "@"):
		return parseParameterFile(trimmed[1:])
	case strings.HasPrefix(trimmed, "{"):
		return parseParameterDoc([]byte(trimmed), "inline parameters")
	}
	if name, value, ok := strings.Cut(arg, "="); ok && validParamName(name) {
		return map[string]any{name: parseCLIValue(value)}, nil
	}
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		return parseParameterFile(arg)
	}
	return nil, fmt.Errorf("parameter argument %q is not NAME=VALUE, @FILE or a JSON object", arg)
}

func validParamName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n{}[]\"'@")
}

func parseParameterFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading parameters: %w", err)
	}
	return parseParameterDoc(data, path)
}

// parseCLIValue interprets VALUE of NAME=VALUE.
func parseCLIValue(value string) any {
	t := strings.TrimSpace(value)
	if t == "" || !strings.ContainsAny(t[:1], "{[\"") {
		return RawValue(value)
	}
	v, err := decodeJSON([]byte(t))
	if err != nil {
		return RawValue(value)
	}
	return v
}

var parameterFileKeys = []string{"$schema", "contentVersion", "parameters"}

// parseParameterDoc reads a parameters document from file (named for errors).
func parseParameterDoc(data []byte, file string) (map[string]any, error) {
	root, err := decodeJSON(data)
	if err != nil {
		e := jsonSyntaxError(data, err)
		e.File = file
		return nil, Errors{e}
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, Errors{{File: file, Message: "parameters are a JSON object, got " + describeType(root)}}
	}
	entries, wrapped, errs := parameterEntries(obj, file)
	if len(errs) > 0 {
		return nil, errs
	}
	return unwrapEntries(entries, wrapped, file)
}

// parameterEntries finds the name-to-entry object of a parameters
// document; wrapped is true for the deploymentParameters file form.
func parameterEntries(obj map[string]any, file string) (map[string]any, bool, Errors) {
	schema, hasSchema := obj["$schema"].(string)
	params, hasParams := obj["parameters"].(map[string]any)
	if !hasSchema && !(hasParams && onlyKeys(obj, parameterFileKeys)) {
		return obj, false, nil
	}
	lower := strings.ToLower(schema)
	if strings.Contains(lower, "deploymenttemplate") {
		return nil, false, Errors{{File: file, Path: "$schema", Message: "this is a deployment template, not a parameters file",
			Hint: "pass templates with --template-file"}}
	}
	var errs Errors
	for _, k := range sortedKeys(obj) {
		if !contains(parameterFileKeys, k) {
			errs = append(errs, Error{File: file, Path: jsonpath.Key("", k), Message: fmt.Sprintf("unknown parameters file property %q", k),
				Hint: didYouMean(k, parameterFileKeys, `"`)})
		}
	}
	if !hasParams {
		errs = append(errs, Error{File: file, Path: "parameters", Message: "a parameters file needs a \"parameters\" object"})
	}
	return params, true, errs
}

func onlyKeys(obj map[string]any, allowed []string) bool {
	for k := range obj {
		if !contains(allowed, k) {
			return false
		}
	}
	return true
}

// unwrapEntries takes each {"value": ...} entry apart.
func unwrapEntries(entries map[string]any, wrapped bool, file string) (map[string]any, error) {
	out := map[string]any{}
	var errs Errors
	for _, name := range sortedKeys(entries) {
		path := jsonpath.Key("parameters", name)
		v, err := unwrapEntry(entries[name], wrapped)
		if err != nil {
			err.File, err.Path = file, path
			errs = append(errs, *err)
			continue
		}
		out[name] = v
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func unwrapEntry(v any, wrapped bool) (any, *Error) {
	obj, isObj := v.(map[string]any)
	if isObj {
		if _, ref := obj["reference"]; ref {
			return nil, &Error{Message: "Key Vault references are not supported", Hint: "pass the secret's value as a securestring parameter"}
		}
		if val, has := obj["value"]; has && onlyKeys(obj, []string{"value", "metadata"}) {
			return val, nil
		}
	}
	if wrapped {
		return nil, &Error{Message: fmt.Sprintf("expected an object with a \"value\", got %s", describeType(v)),
			Hint: `write {"value": ...}`}
	}
	return v, nil
}

// MarshalJSON writes a RawValue as a JSON string.
func (r RawValue) MarshalJSON() ([]byte, error) { return json.Marshal(string(r)) }
