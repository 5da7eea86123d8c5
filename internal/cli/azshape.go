package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kiln-dev/kiln/internal/arm"
)

// The az CLI prints resources flattened: the members of "properties" sit
// at the top level next to id, name, type, location and tags, and
// resourceGroup is added (az sig image-version show --query
// "publishingProfile.targetRegions[].name"). azShape renders kiln's
// ARM-shaped resources that way, keeping the order of the fields, and
// unflatten turns an edited flat document back into the ARM shape (for
// --set).

// envelopeKeys stay at the top level when a resource is unflattened.
var envelopeKeys = map[string]bool{"id": true, "name": true, "type": true, "location": true, "tags": true}

// member is one member of a JSON object, in order.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers decodes a JSON object's members in order.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key: tok.(string), value: v})
	}
	return out, nil
}

func writeObject(ms []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// azShape flattens a resource as az prints it; extra members are added at
// the end.
func azShape(resource any, extra ...member) (json.RawMessage, error) {
	data, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	ms, err := objectMembers(data)
	if err != nil {
		return nil, err
	}
	var out []member
	for _, m := range ms {
		switch m.key {
		case "properties":
			props, err := objectMembers(m.value)
			if err != nil {
				return nil, fmt.Errorf("properties: %w", err)
			}
			out = append(out, props...)
		case "location":
			out = append(out, m, member{key: "resourceGroup", value: resourceGroupOf(ms)})
		default:
			out = append(out, m)
		}
	}
	return writeObject(append(out, extra...)), nil
}

func resourceGroupOf(ms []member) json.RawMessage {
	for _, m := range ms {
		if m.key != "id" {
			continue
		}
		var id string
		if json.Unmarshal(m.value, &id) == nil {
			if p, err := arm.ParseID(id); err == nil {
				rg, _ := json.Marshal(p.ResourceGroup())
				return rg
			}
		}
	}
	return json.RawMessage(`null`)
}

// azShapes flattens a list.
func azShapes[T any](items []T) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		v, err := azShape(it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// applySets applies az-style --set path=value assignments to a resource
// (addressed in its flattened az shape) and decodes the result into it
// strictly, so that a misspelt path is an error. A value is JSON when it
// parses as JSON, a string otherwise.
func applySets[T any](resource *T, sets []string) error {
	if len(sets) == 0 {
		return nil
	}
	flat, err := azShape(resource)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(flat, &doc); err != nil {
		return err
	}
	for _, s := range sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return &usageError{fmt.Errorf("--set %q: use path=value, e.g. --set description=\"golden images\"", s)}
		}
		if err := setPath(doc, path, parseSetValue(value)); err != nil {
			return &usageError{fmt.Errorf("--set %s: %w", path, err)}
		}
	}
	var fresh T
	if err := decodeStrict(unflatten(doc), &fresh); err != nil {
		return err
	}
	*resource = fresh
	return nil
}

func parseSetValue(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v
	}
	return s
}

// setPath sets a dotted path (with [n] list indexes) in doc, creating
// objects on the way.
func setPath(doc map[string]any, path string, value any) error {
	parts := strings.Split(path, ".")
	var cur any = doc
	for i, part := range parts {
		name, index, err := splitIndex(part)
		if err != nil {
			return err
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is not an object", strings.Join(parts[:i], "."))
		}
		last := i == len(parts)-1
		if index < 0 {
			if last {
				obj[name] = value
				return nil
			}
			if _, ok := obj[name].(map[string]any); !ok {
				obj[name] = map[string]any{}
			}
			cur = obj[name]
			continue
		}
		list, ok := obj[name].([]any)
		if !ok || index >= len(list) {
			return fmt.Errorf("%s has no element %d", name, index)
		}
		if last {
			list[index] = value
			return nil
		}
		cur = list[index]
	}
	return nil
}

func splitIndex(part string) (string, int, error) {
	name, rest, ok := strings.Cut(part, "[")
	if !ok {
		return part, -1, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	if err != nil || !strings.HasSuffix(rest, "]") || n < 0 {
		return "", 0, fmt.Errorf("%q is not name[index]", part)
	}
	return name, n, nil
}

// unflatten moves everything but the envelope into "properties" and
// drops resourceGroup, which is derived from the ID.
func unflatten(doc map[string]any) map[string]any {
	out, props := map[string]any{}, map[string]any{}
	for k, v := range doc {
		switch {
		case k == "resourceGroup":
		case envelopeKeys[k]:
			out[k] = v
		default:
			props[k] = v
		}
	}
	out["properties"] = props
	return out
}

func decodeStrict(doc map[string]any, into any) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return &usageError{fmt.Errorf("--set: %w", err)}
	}
	return nil
}
