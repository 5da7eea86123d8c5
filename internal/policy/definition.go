package policy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Definition modes kiln evaluates.
const (
	ModeAll     = "All"
	ModeIndexed = "Indexed"
)

// Policy types.
const (
	PolicyTypeBuiltIn      = "BuiltIn"
	PolicyTypeCustom       = "Custom"
	PolicyTypeStatic       = "Static"
	PolicyTypeNotSpecified = "NotSpecified"
)

// DefinitionType is the ARM type of a policy definition.
const DefinitionType = "Microsoft.Authorization/policyDefinitions"

// providerModes are Azure's resource provider modes: they evaluate
// data-plane components, which kiln does not have.
var providerModes = []string{
	"Microsoft.Kubernetes.Data", "Microsoft.KeyVault.Data", "Microsoft.Network.Data",
	"Microsoft.ManagedHSM.Data", "Microsoft.DataFactory.Data", "Microsoft.MachineLearningServices.v2.Data",
	"Microsoft.MachineLearningServices.Data", "Microsoft.ContainerInstance.Data",
}

// Definition is a parsed policy definition: its properties as Azure writes
// them, checked, and its rule ready to compile with parameter values.
type Definition struct {
	ID          string
	Name        string
	DisplayName string
	Description string
	PolicyType  string
	Mode        string // ModeAll or ModeIndexed
	Version     string
	Metadata    map[string]any
	// Parameters are the declared parameters, by name as written.
	Parameters map[string]*ParameterDefinition
	// PolicyRule is the rule ({"if": ..., "then": ...}) as written.
	PolicyRule map[string]any

	aliases  *Aliases
	params   map[string]*ParameterDefinition // lower-cased names
	rulePath string                          // JSON path of the rule in the input
	effect   string                          // canonical effect when literal
}

var (
	definitionTopKeys   = []string{"id", "name", "type", "properties", "systemData"}
	definitionPropsKeys = []string{"displayName", "description", "policyType", "mode", "metadata", "parameters", "policyRule", "version", "versions"}
	policyRuleKeys      = []string{"if", "then"}
	thenKeys            = []string{"effect", "details"}
)

// ParseDefinition reads a policy definition: the full ARM resource
// ({"name", "properties": {...}}), the bare properties ({"mode",
// "parameters", "policyRule"}), or only a rule ({"if", "then"}, mode
// Indexed). aliases resolves alias names (nil: BuiltinAliases). Every
// problem is reported at once, by JSON path, in a Problems.
func ParseDefinition(data []byte, aliases *Aliases) (*Definition, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		var errs problemList
		errs.addErr("", err)
		return nil, errs.err()
	}
	return definitionFromDoc(doc, aliases)
}

// NewDefinition builds a definition from the pieces `az policy definition
// create` takes: the rule (--rules: {"if", "then"}, or a whole definition
// whose policyRule is used), the parameter declarations (--params, may be
// empty) and the mode ("" for Indexed).
func NewDefinition(rules, params []byte, mode string, aliases *Aliases) (*Definition, error) {
	var errs problemList
	rule, err := decodeJSON(rules)
	if err != nil {
		errs.addErr("rules", err)
		return nil, errs.err()
	}
	props := map[string]any{"policyRule": extractRule(rule)}
	if len(strings.TrimSpace(string(params))) > 0 {
		p, err := decodeJSON(params)
		if err != nil {
			errs.addErr("params", err)
			return nil, errs.err()
		}
		props["parameters"] = p
	}
	if mode != "" {
		props["mode"] = mode
	}
	return definitionFromDoc(props, aliases)
}

// extractRule accepts a rule, or a definition (full or bare) around one.
func extractRule(doc any) any {
	obj, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	if p, ok := lookupKey(obj, "properties"); ok {
		if po, isObj := p.(map[string]any); isObj {
			obj = po
		}
	}
	if r, ok := lookupKey(obj, "policyRule"); ok {
		return r
	}
	return doc
}

func definitionFromDoc(doc any, aliases *Aliases) (*Definition, error) {
	if aliases == nil {
		aliases = BuiltinAliases()
	}
	var errs problemList
	d := &Definition{aliases: aliases, Mode: ModeIndexed, PolicyType: PolicyTypeCustom}
	props, path := d.readEnvelope(&errs, doc)
	if props != nil {
		d.readProperties(&errs, path, props)
	}
	if errs.empty() {
		c := newCompiler(aliases, d.params, nil)
		c.rule(d.rulePath, d.PolicyRule)
		errs.list = append(errs.list, c.errs.list...)
		d.effect = c.effect
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return d, nil
}

// readEnvelope finds the properties bag in any of the accepted shapes.
func (d *Definition) readEnvelope(errs *problemList, doc any) (map[string]any, string) {
	obj, ok := doc.(map[string]any)
	if !ok {
		errs.add("", "", "a policy definition must be a JSON object, got %s", kindOf(doc))
		return nil, ""
	}
	if _, isRule := lookupKey(obj, "if"); isRule {
		return map[string]any{"policyRule": obj}, ""
	}
	if _, full := lookupKey(obj, "properties"); !full {
		return obj, ""
	}
	top, ok := readObject(errs, "", obj, definitionTopKeys)
	if !ok {
		return nil, ""
	}
	d.ID, d.Name = top.str("id"), top.str("name")
	if t := top.str("type"); t != "" && !strings.EqualFold(t, DefinitionType) {
		errs.add(top.path("type"), "", "expected type %q, got %q", DefinitionType, t)
	}
	props, ok := top.value("properties")
	if !ok {
		errs.add(top.path("properties"), "", "missing properties")
		return nil, ""
	}
	pm, isObj := props.(map[string]any)
	if !isObj {
		errs.add(top.path("properties"), "", "expected an object, got %s", kindOf(props))
		return nil, ""
	}
	return pm, top.path("properties")
}

func (d *Definition) readProperties(errs *problemList, path string, props map[string]any) {
	r, ok := readObject(errs, path, props, definitionPropsKeys)
	if !ok {
		return
	}
	d.DisplayName, d.Description, d.Version = r.str("displayName"), r.str("description"), r.str("version")
	if pt := r.oneOf("policyType", PolicyTypeBuiltIn, PolicyTypeCustom, PolicyTypeStatic, PolicyTypeNotSpecified); pt != "" {
		d.PolicyType = pt
	}
	d.Mode = readMode(errs, r)
	d.Metadata = r.object("metadata")
	d.Parameters, d.params = readParameterDefinitions(errs, r.path("parameters"), r.object("parameters"))
	d.rulePath = r.path("policyRule")
	rule, ok := r.value("policyRule")
	if !ok {
		errs.add(d.rulePath, "", "missing policyRule")
		return
	}
	if rr, ok := readObject(errs, d.rulePath, rule, policyRuleKeys); ok {
		d.PolicyRule = rr.obj
		if !rr.has("if") || !rr.has("then") {
			errs.add(d.rulePath, "", "policyRule needs both \"if\" and \"then\"")
		}
	}
}

// readMode reads mode: All or Indexed (missing means Indexed); resource
// provider modes are refused.
func readMode(errs *problemList, r *objReader) string {
	m := r.str("mode")
	switch {
	case m == "":
		return ModeIndexed
	case strings.EqualFold(m, ModeAll):
		return ModeAll
	case strings.EqualFold(m, ModeIndexed):
		return ModeIndexed
	case canonicalKey(m, providerModes) != "":
		errs.add(r.path("mode"), "use \"All\" or \"Indexed\"", "resource provider mode %q evaluates data-plane components, which kiln does not have", m)
	default:
		errs.add(r.path("mode"), didYouMean(m, []string{ModeAll, ModeIndexed}), "unknown mode %q; kiln evaluates \"All\" and \"Indexed\"", m)
	}
	return ModeIndexed
}

// Effect is the definition's effect when it is written literally, "" when
// it comes from a parameter.
func (d *Definition) Effect() string { return d.effect }

// Compile binds parameter values (by name, ignoring case; defaults fill
// the rest) and compiles the rule. The result is safe for concurrent use.
func (d *Definition) Compile(values map[string]any) (*CompiledDefinition, error) {
	bound, err := bindParameters(d.Parameters, d.params, values)
	if err != nil {
		return nil, err
	}
	c := newCompiler(d.aliases, d.params, bound)
	r := c.rule(d.rulePath, d.PolicyRule)
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	return newCompiledDefinition(d, bound, r), nil
}

// MarshalJSON writes the definition as the full ARM resource.
func (d *Definition) MarshalJSON() ([]byte, error) {
	props := map[string]any{
		"displayName": d.DisplayName, "policyType": d.PolicyType, "mode": d.Mode, "policyRule": d.PolicyRule,
	}
	if d.Description != "" {
		props["description"] = d.Description
	}
	if d.Version != "" {
		props["version"] = d.Version
	}
	if d.Metadata != nil {
		props["metadata"] = d.Metadata
	}
	if len(d.Parameters) > 0 {
		props["parameters"] = d.Parameters
	}
	return json.Marshal(map[string]any{"id": d.ID, "name": d.Name, "type": DefinitionType, "properties": props})
}

// String names the definition in messages: its display name, else name.
func (d *Definition) String() string {
	switch {
	case d.DisplayName != "" && d.Name != "":
		return fmt.Sprintf("'%s' (%s)", d.DisplayName, d.Name)
	case d.DisplayName != "":
		return "'" + d.DisplayName + "'"
	case d.Name != "":
		return "'" + d.Name + "'"
	}
	return "(unnamed definition)"
}
