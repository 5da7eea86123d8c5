package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// SetDefinitionType is the ARM type of an initiative.
const SetDefinitionType = "Microsoft.Authorization/policySetDefinitions"

// SetDefinition is an initiative (policy set definition): definitions
// evaluated together, each under a reference ID, with parameter values
// that may be expressions over the initiative's own parameters.
type SetDefinition struct {
	ID          string
	Name        string
	DisplayName string
	Description string
	PolicyType  string
	Version     string
	Metadata    map[string]any
	Parameters  map[string]*ParameterDefinition
	// PolicyDefinitions are the members, in order.
	PolicyDefinitions []DefinitionReference
	Groups            []DefinitionGroup

	params map[string]*ParameterDefinition
}

// DefinitionReference is one member of an initiative.
type DefinitionReference struct {
	PolicyDefinitionID string
	ReferenceID        string
	DefinitionVersion  string
	GroupNames         []string
	// Parameters are the member's parameter values, unwrapped from
	// {"value": ...}; strings may be expressions over the initiative's
	// parameters ("[parameters('initLocations')]").
	Parameters map[string]any
}

// DefinitionGroup is a group of members (a control of a compliance
// framework).
type DefinitionGroup struct {
	Name                 string
	DisplayName          string
	Category             string
	Description          string
	AdditionalMetadataID string
}

var (
	setPropsKeys = []string{"displayName", "description", "policyType", "metadata", "parameters",
		"policyDefinitions", "policyDefinitionGroups", "version", "versions"}
	memberKeys = []string{"policyDefinitionId", "policyDefinitionReferenceId", "definitionVersion", "groupNames", "parameters"}
	groupKeys  = []string{"name", "displayName", "category", "description", "additionalMetadataId"}
)

// ParseSetDefinition reads an initiative: the full ARM resource or its
// bare properties. Member parameter expressions are checked against the
// initiative's parameters; the members' own definitions are checked when
// an assignment is compiled (CompileSetAssignment).
func ParseSetDefinition(data []byte) (*SetDefinition, error) {
	var errs problemList
	doc, err := decodeJSON(data)
	if err != nil {
		errs.addErr("", err)
		return nil, errs.err()
	}
	s := &SetDefinition{PolicyType: PolicyTypeCustom}
	top, path, ok := readEnvelope(&errs, doc, SetDefinitionType)
	if ok {
		s.ID, s.Name = top.id, top.name
		s.readProperties(&errs, path, top.props)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// envelope is an ARM resource's id, name and properties.
type envelope struct {
	id, name string
	props    map[string]any
}

// readEnvelope accepts {"id", "name", "type", "properties": {...}} or the
// bare properties.
func readEnvelope(errs *problemList, doc any, armType string) (envelope, string, bool) {
	obj, ok := doc.(map[string]any)
	if !ok {
		errs.add("", "", "expected a JSON object, got %s", kindOf(doc))
		return envelope{}, "", false
	}
	if _, full := lookupKey(obj, "properties"); !full {
		return envelope{props: obj}, "", true
	}
	top, ok := readObject(errs, "", obj, definitionTopKeys)
	if !ok {
		return envelope{}, "", false
	}
	if t := top.str("type"); t != "" && !strings.EqualFold(t, armType) {
		errs.add(top.path("type"), "", "expected type %q, got %q", armType, t)
	}
	props, isObj := top.obj[top.keys["properties"]].(map[string]any)
	if !isObj {
		errs.add(top.path("properties"), "", "expected an object")
		return envelope{}, "", false
	}
	return envelope{id: top.str("id"), name: top.str("name"), props: props}, top.path("properties"), true
}

func (s *SetDefinition) readProperties(errs *problemList, path string, props map[string]any) {
	r, ok := readObject(errs, path, props, setPropsKeys)
	if !ok {
		return
	}
	s.DisplayName, s.Description, s.Version = r.str("displayName"), r.str("description"), r.str("version")
	if pt := r.oneOf("policyType", PolicyTypeBuiltIn, PolicyTypeCustom, PolicyTypeStatic, PolicyTypeNotSpecified); pt != "" {
		s.PolicyType = pt
	}
	s.Metadata = r.object("metadata")
	s.Parameters, s.params = readParameterDefinitions(errs, r.path("parameters"), r.object("parameters"))
	s.Groups = readGroups(errs, r)
	members, ok := r.value("policyDefinitions")
	list, isList := members.([]any)
	if !ok || !isList || len(list) == 0 {
		errs.add(r.path("policyDefinitions"), "", "an initiative needs a non-empty array of policyDefinitions")
		return
	}
	s.readMembers(errs, r.path("policyDefinitions"), list)
}

func readGroups(errs *problemList, r *objReader) []DefinitionGroup {
	v, ok := r.value("policyDefinitionGroups")
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		errs.add(r.path("policyDefinitionGroups"), "", "expected an array, got %s", kindOf(v))
		return nil
	}
	var out []DefinitionGroup
	for i, x := range list {
		g, ok := readObject(errs, joinIndex(r.path("policyDefinitionGroups"), i), x, groupKeys)
		if !ok {
			continue
		}
		out = append(out, DefinitionGroup{Name: g.required("name"), DisplayName: g.str("displayName"),
			Category: g.str("category"), Description: g.str("description"), AdditionalMetadataID: g.str("additionalMetadataId")})
	}
	return out
}

func (s *SetDefinition) readMembers(errs *problemList, path string, list []any) {
	seen := map[string]bool{}
	groups := map[string]bool{}
	for _, g := range s.Groups {
		groups[strings.ToLower(g.Name)] = true
	}
	for i, x := range list {
		p := joinIndex(path, i)
		r, ok := readObject(errs, p, x, memberKeys)
		if !ok {
			continue
		}
		m := DefinitionReference{PolicyDefinitionID: r.required("policyDefinitionId"), ReferenceID: r.str("policyDefinitionReferenceId"),
			DefinitionVersion: r.str("definitionVersion"), GroupNames: r.strList("groupNames")}
		if m.ReferenceID == "" {
			m.ReferenceID = defaultReferenceID(m.PolicyDefinitionID, i, seen)
		}
		if seen[strings.ToLower(m.ReferenceID)] {
			errs.add(r.path("policyDefinitionReferenceId"), "each member needs its own reference ID", "duplicate reference ID %q", m.ReferenceID)
		}
		seen[strings.ToLower(m.ReferenceID)] = true
		for j, g := range m.GroupNames {
			if !groups[strings.ToLower(g)] {
				errs.add(joinIndex(r.path("groupNames"), j), didYouMean(g, groupNames(s.Groups)), "group %q is not in policyDefinitionGroups", g)
			}
		}
		m.Parameters = unwrapValues(errs, r.path("parameters"), r.object("parameters"))
		s.checkMemberParameters(errs, r.path("parameters"), m.Parameters)
		s.PolicyDefinitions = append(s.PolicyDefinitions, m)
	}
}

// defaultReferenceID names a member that has no reference ID after its
// definition, as Azure generates one.
func defaultReferenceID(definitionID string, i int, seen map[string]bool) string {
	id := definitionID[strings.LastIndexByte(definitionID, '/')+1:]
	if id == "" || seen[strings.ToLower(id)] {
		id += "_" + strconv.Itoa(i)
	}
	return id
}

func groupNames(groups []DefinitionGroup) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.Name
	}
	return out
}

// checkMemberParameters checks that member values use only the
// initiative's parameters.
func (s *SetDefinition) checkMemberParameters(errs *problemList, path string, values map[string]any) {
	c := newCompiler(BuiltinAliases(), s.params, nil)
	for _, name := range sortedKeys(values) {
		c.compileJSON(joinKey(joinKey(path, name), "value"), values[name])
	}
	errs.list = append(errs.list, c.errs.list...)
}

// memberValues computes a member's parameter values from the initiative's
// bound values.
func (s *SetDefinition) memberValues(m DefinitionReference, setValues map[string]any) (map[string]any, error) {
	c := newCompiler(BuiltinAliases(), s.params, setValues)
	out := make(map[string]any, len(m.Parameters))
	for _, name := range sortedKeys(m.Parameters) {
		x, ok := c.compileJSON(joinKey(name, "value"), m.Parameters[name])
		if !ok {
			break
		}
		if !x.static {
			c.errs.add(name, "use parameters() and functions of constants only", "the value of member parameter %q depends on the resource", name)
			break
		}
		out[name] = x.val
	}
	if err := c.errs.err(); err != nil {
		return nil, fmt.Errorf("member %q: %w", m.ReferenceID, err)
	}
	return out, nil
}
