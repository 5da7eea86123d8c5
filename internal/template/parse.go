package template

import (
	"reflect"
	"strings"
)

// ParseOptions configure Parse.
type ParseOptions struct {
	// Filename names the document in error messages.
	Filename string
}

// Parse decodes an image template strictly. The document is JSON when its
// first non-space byte is "{", else YAML (same shape; duplicate keys,
// merge keys and multiple documents are refused).
//
// Two shapes are accepted: the full resource ({"type":
// "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion",
// "location", "tags", "identity", "properties": {...}}, type optional) and
// a bare properties object ({"source": ..., "customize": ..., ...}). Paths
// in errors always start at the resource, so a bare document's fields are
// reported as "properties.<field>".
//
// Field names are case-sensitive. Every unknown field, wrong type and
// field that does not belong to its union kind (a "inline" on a File
// customizer) is reported, all at once, as Errors. Parse checks shape
// only; call Validate for meaning (required fields, ranges, references).
func Parse(data []byte, opts ParseOptions) (*ImageTemplate, error) {
	tree, list := decodeTree(data)
	if len(list) > 0 && tree == nil {
		return nil, list.withFile(opts.Filename)
	}
	d := &decoder{}
	t, bare := d.document(tree)
	if bare {
		list = underProperties(list)
	}
	d.errs.list = append(list, d.errs.list...)
	if err := d.errs.list.withFile(opts.Filename); err != nil {
		return nil, err
	}
	return t, nil
}

// document decodes the top level in either shape; bare is true for a
// bare properties object.
func (d *decoder) document(tree any) (t *ImageTemplate, bare bool) {
	obj, ok := tree.(*object)
	if !ok {
		d.errs.add("", "", "an image template is an object, got %s", nodeKind(tree))
		return nil, false
	}
	if isDeploymentTemplate(obj) {
		d.errs.add("", "evaluate it with: kiln deployment group create -g RG --template-file FILE",
			"this is an ARM deployment template, not an image template")
		return nil, false
	}
	t = &ImageTemplate{}
	if !isResource(obj) {
		d.structValue("properties", obj, reflect.ValueOf(&t.Properties).Elem(), nil)
		return t, true
	}
	d.structValue("", obj, reflect.ValueOf(t).Elem(), nil)
	if t.Type != "" && !strings.EqualFold(t.Type, ResourceType) {
		d.errs.add("type", "expected \""+ResourceType+"\"", "resource type %q is not an image template", t.Type)
	}
	return t, false
}

// underProperties moves the paths of errors found while reading a bare
// properties document (duplicate keys) under "properties".
func underProperties(list Errors) Errors {
	out := make(Errors, len(list))
	for i, e := range list {
		switch {
		case e.Path == "":
		case strings.HasPrefix(e.Path, "["):
			e.Path = "properties" + e.Path
		default:
			e.Path = "properties." + e.Path
		}
		out[i] = e
	}
	return out
}

// isDeploymentTemplate recognizes an ARM deployment template by its schema.
func isDeploymentTemplate(obj *object) bool {
	schema, _ := obj.vals["$schema"].(string)
	return strings.Contains(strings.ToLower(schema), "deploymenttemplate.json")
}

// isResource reports whether obj is the resource envelope: it has a key
// that belongs to the envelope and not to properties.
func isResource(obj *object) bool {
	for _, k := range fieldsOf(reflect.TypeFor[ImageTemplate]()).names {
		if _, ok := obj.vals[k]; ok {
			return true
		}
	}
	return false
}
