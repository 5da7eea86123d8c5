package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrConflict is wrapped by the error of an append or modify that cannot
// be applied: a different value already there, a property that cannot be
// modified, a type that does not fit.
var ErrConflict = errors.New("policy conflict")

// applyModify applies a modify effect's operations to a request body (in
// place). A missing parent property skips an operation, as Azure does.
func applyModify(body map[string]any, v *view, d ModifyDetails, aliases *Aliases, apiVersion string) error {
	for _, op := range d.Operations {
		ref, err := parseFieldRef(op.Field, aliases)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrConflict, err)
		}
		if err := modifyField(body, v, ref, op, apiVersion); err != nil {
			return fmt.Errorf("%w: %s %s: %v", ErrConflict, op.Operation, op.Field, err)
		}
	}
	return nil
}

func modifyField(body map[string]any, v *view, ref *fieldRef, op ModifyOperation, apiVersion string) error {
	switch ref.kind {
	case fieldTag:
		return setKey(body, []pathSeg{{key: "tags"}, {key: ref.tag}}, op, true)
	case fieldTags:
		if _, ok := op.Value.(map[string]any); !ok && op.Operation != OperationRemove {
			return fmt.Errorf("tags must be an object, got %s", kindOf(op.Value))
		}
		return setKey(body, []pathSeg{{key: "tags"}}, op, true)
	case fieldIdentityType:
		if !strings.EqualFold(v.typ, TypeVirtualMachine) && !strings.EqualFold(v.typ, TypeVirtualMachineScaleSet) {
			return fmt.Errorf("identity.type can be modified on virtual machines and scale sets only")
		}
		return setKey(body, []pathSeg{{key: "identity"}, {key: "type"}}, op, true)
	case fieldAlias:
		t, ok := ref.alias.byType[v.typLower]
		if !ok {
			return fmt.Errorf("the alias does not exist for type %s", v.typ)
		}
		if !t.modifiable {
			return fmt.Errorf("the alias is not modifiable")
		}
		p := t.path(apiVersion)
		if p.facts || p.wildcards > 0 {
			return fmt.Errorf("the alias cannot be modified")
		}
		return setKey(body, p.segs, op, false)
	}
	return fmt.Errorf("%s cannot be modified", ref.text)
}

// setKey performs one operation at a path of plain keys. createParents
// creates missing objects on the way; otherwise a missing parent skips the
// operation.
func setKey(body map[string]any, segs []pathSeg, op ModifyOperation, createParents bool) error {
	obj := body
	for _, s := range segs[:len(segs)-1] {
		next, ok := lookupKey(obj, s.key)
		if !ok || next == nil {
			if !createParents || op.Operation == OperationRemove {
				return nil
			}
			next = map[string]any{}
			obj[s.key] = next
		}
		child, isObj := next.(map[string]any)
		if !isObj {
			return fmt.Errorf("%s is %s, not an object", s.key, kindOf(next))
		}
		obj = child
	}
	last := segs[len(segs)-1].key
	key, old, exists := existingKey(obj, last)
	switch op.Operation {
	case OperationRemove:
		if exists {
			delete(obj, key)
		}
	case OperationAdd:
		if exists && !valuesEqual(old, op.Value) {
			return fmt.Errorf("it already has the value %s", display(old))
		}
		obj[key] = op.Value
	default:
		obj[key] = op.Value
	}
	return nil
}

// existingKey finds a key ignoring case: the key as spelled in obj (or
// name when absent), its value, and whether it exists.
func existingKey(obj map[string]any, name string) (string, any, bool) {
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return name, nil, false
}

// applyAppend applies an append effect to a request body (in place). A
// value that would replace a different one is a conflict, which Azure
// turns into a deny.
func applyAppend(body map[string]any, v *view, d AppendDetails, aliases *Aliases, apiVersion string) error {
	for _, e := range d.Entries {
		ref, err := parseFieldRef(e.Field, aliases)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrConflict, err)
		}
		if err := appendField(body, v, ref, e, apiVersion); err != nil {
			return fmt.Errorf("%w: append %s: %v", ErrConflict, e.Field, err)
		}
	}
	return nil
}

func appendField(body map[string]any, v *view, ref *fieldRef, e AppendEntry, apiVersion string) error {
	add := ModifyOperation{Operation: OperationAdd, Value: e.Value}
	switch ref.kind {
	case fieldTag:
		return setKey(body, []pathSeg{{key: "tags"}, {key: ref.tag}}, add, true)
	case fieldTags:
		tags, ok := e.Value.(map[string]any)
		if !ok {
			return fmt.Errorf("tags must be an object, got %s", kindOf(e.Value))
		}
		for k, x := range tags {
			if err := setKey(body, []pathSeg{{key: "tags"}, {key: k}}, ModifyOperation{Operation: OperationAdd, Value: x}, true); err != nil {
				return err
			}
		}
		return nil
	case fieldAlias:
		p := v.aliasPath(ref.alias, apiVersion)
		if p == nil || p.facts {
			return fmt.Errorf("the alias does not exist for type %s", v.typ)
		}
		return appendPath(body, p.segs, e.Value)
	}
	return fmt.Errorf("%s cannot be appended", ref.text)
}

// appendPath appends at an alias path: "a[*]" adds the value (or each
// element of an array value) to the array a; "a[*].b" sets b in every
// element of a; a plain path adds a value that is not there yet.
func appendPath(obj map[string]any, segs []pathSeg, value any) error {
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s.wildcard && last:
			return appendElements(obj, s.key, value)
		case s.wildcard:
			return appendEach(obj, s.key, segs[i+1:], value)
		case last:
			return setKey(obj, []pathSeg{s}, ModifyOperation{Operation: OperationAdd, Value: value}, true)
		}
		next, ok := lookupKey(obj, s.key)
		if !ok || next == nil {
			next = map[string]any{}
			obj[s.key] = next
		}
		child, isObj := next.(map[string]any)
		if !isObj {
			return fmt.Errorf("%s is %s, not an object", s.key, kindOf(next))
		}
		obj = child
	}
	return nil
}

func appendElements(obj map[string]any, key string, value any) error {
	k, old, exists := existingKey(obj, key)
	arr, isArr := old.([]any)
	if exists && old != nil && !isArr {
		return fmt.Errorf("%s is %s, not an array", key, kindOf(old))
	}
	if more, ok := value.([]any); ok {
		obj[k] = append(append([]any{}, arr...), more...)
		return nil
	}
	obj[k] = append(append([]any{}, arr...), value)
	return nil
}

func appendEach(obj map[string]any, key string, rest []pathSeg, value any) error {
	old, _ := lookupKey(obj, key)
	arr, _ := old.([]any)
	for i, el := range arr {
		child, ok := el.(map[string]any)
		if !ok {
			return fmt.Errorf("%s[%d] is %s, not an object", key, i, kindOf(el))
		}
		if err := appendPath(child, rest, value); err != nil {
			return err
		}
	}
	return nil
}
