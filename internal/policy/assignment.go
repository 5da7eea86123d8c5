package policy

import (
	"fmt"
	"strings"
	"time"
)

// ARM types of assignments and exemptions.
const (
	AssignmentType = "Microsoft.Authorization/policyAssignments"
	ExemptionType  = "Microsoft.Authorization/policyExemptions"
)

// Enforcement modes.
const (
	EnforcementDefault      = "Default"
	EnforcementDoNotEnforce = "DoNotEnforce"
)

// Exemption categories.
const (
	CategoryWaiver    = "Waiver"
	CategoryMitigated = "Mitigated"
)

// Assignment is a policy assignment: a definition or an initiative in force
// at a scope, minus its notScopes.
type Assignment struct {
	ID          string
	Name        string
	DisplayName string
	Description string
	// Scope is where the assignment applies; it defaults to the part of
	// ID before /providers/Microsoft.Authorization/policyAssignments/.
	Scope     string
	NotScopes []string
	// PolicyDefinitionID names a definition or an initiative.
	PolicyDefinitionID string
	// Parameters are the values, unwrapped from {"value": ...}.
	Parameters            map[string]any
	EnforcementMode       string // EnforcementDefault or EnforcementDoNotEnforce
	NonComplianceMessages []NonComplianceMessage
	ResourceSelectors     []ResourceSelector
	Overrides             []Override
	Metadata              map[string]any
}

// NonComplianceMessage is the message shown for a denial or a
// non-compliant resource, for the whole assignment or one member.
type NonComplianceMessage struct {
	Message                     string
	PolicyDefinitionReferenceID string
}

// ResourceSelector limits an assignment (or an override) to resources that
// satisfy all its selectors.
type ResourceSelector struct {
	Name      string
	Selectors []Selector
}

// Selector kinds.
const (
	SelectorResourceLocation        = "resourceLocation"
	SelectorResourceType            = "resourceType"
	SelectorResourceWithoutLocation = "resourceWithoutLocation"
	SelectorReferenceID             = "policyDefinitionReferenceId"
)

// Selector is one {kind, in | notIn}.
type Selector struct {
	Kind  string
	In    []string
	NotIn []string
}

// Override replaces the effect of the members it selects (kind
// policyEffect); overrides apply in order.
type Override struct {
	Kind      string
	Value     string
	Selectors []Selector
}

var (
	assignmentPropsKeys = []string{"displayName", "description", "scope", "notScopes", "policyDefinitionId",
		"parameters", "enforcementMode", "nonComplianceMessages", "resourceSelectors", "overrides", "metadata",
		"definitionVersion", "assignmentType", "instanceId", "effectiveDefinitionVersion", "latestDefinitionVersion"}
	assignmentTopKeys = []string{"id", "name", "type", "properties", "systemData", "identity", "location"}
)

// ParseAssignment reads a policy assignment: the full ARM resource (as
// `az policy assignment show` prints it) or its bare properties.
func ParseAssignment(data []byte) (*Assignment, error) {
	var errs problemList
	doc, err := decodeJSON(data)
	if err != nil {
		errs.addErr("", err)
		return nil, errs.err()
	}
	a := &Assignment{EnforcementMode: EnforcementDefault}
	env, path, ok := readResource(&errs, doc, AssignmentType, assignmentTopKeys)
	if ok {
		a.ID, a.Name = env.id, env.name
		a.readProperties(&errs, path, env.props)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return a, nil
}

// readResource is readEnvelope with the top-level keys of the resource.
func readResource(errs *problemList, doc any, armType string, topKeys []string) (envelope, string, bool) {
	obj, ok := doc.(map[string]any)
	if !ok {
		errs.add("", "", "expected a JSON object, got %s", kindOf(doc))
		return envelope{}, "", false
	}
	if _, full := lookupKey(obj, "properties"); !full {
		return envelope{props: obj}, "", true
	}
	top, ok := readObject(errs, "", obj, topKeys)
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

func (a *Assignment) readProperties(errs *problemList, path string, props map[string]any) {
	r, ok := readObject(errs, path, props, assignmentPropsKeys)
	if !ok {
		return
	}
	a.DisplayName, a.Description = r.str("displayName"), r.str("description")
	a.Scope, a.NotScopes = r.str("scope"), r.strList("notScopes")
	a.PolicyDefinitionID = r.required("policyDefinitionId")
	a.Parameters = unwrapValues(errs, r.path("parameters"), r.object("parameters"))
	if m := r.oneOf("enforcementMode", EnforcementDefault, EnforcementDoNotEnforce); m != "" {
		a.EnforcementMode = m
	}
	a.Metadata = r.object("metadata")
	a.NonComplianceMessages = readMessages(errs, r)
	a.ResourceSelectors = readResourceSelectors(errs, r)
	a.Overrides = readOverrides(errs, r)
	if a.Scope == "" {
		a.Scope = scopeOfExtension(a.ID, AssignmentType)
	}
	if a.Scope == "" {
		errs.add(r.path("scope"), "give the scope, or the assignment's full id", "missing scope")
	}
}

// scopeOfExtension is the scope an assignment or exemption ID lives at:
// what comes before /providers/<type>/.
func scopeOfExtension(id, armType string) string {
	marker := "/providers/" + strings.ToLower(armType) + "/"
	i := strings.LastIndex(strings.ToLower(id), marker)
	if i < 0 {
		return ""
	}
	if i == 0 {
		return "/"
	}
	return id[:i]
}

func readMessages(errs *problemList, r *objReader) []NonComplianceMessage {
	list := objectList(errs, r, "nonComplianceMessages")
	out := make([]NonComplianceMessage, 0, len(list))
	for _, m := range list {
		mr, ok := readObject(errs, m.path, m.obj, []string{"message", "policyDefinitionReferenceId"})
		if ok {
			out = append(out, NonComplianceMessage{Message: mr.required("message"), PolicyDefinitionReferenceID: mr.str("policyDefinitionReferenceId")})
		}
	}
	return out
}

// objectList reads an optional array of objects.
func objectList(errs *problemList, r *objReader, name string) []located {
	v, ok := r.value(name)
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		errs.add(r.path(name), "", "expected an array, got %s", kindOf(v))
		return nil
	}
	out := make([]located, 0, len(list))
	for i, x := range list {
		obj, isObj := x.(map[string]any)
		if !isObj {
			errs.add(joinIndex(r.path(name), i), "", "expected an object, got %s", kindOf(x))
			continue
		}
		out = append(out, located{joinIndex(r.path(name), i), obj})
	}
	return out
}

func readResourceSelectors(errs *problemList, r *objReader) []ResourceSelector {
	var out []ResourceSelector
	for _, rs := range objectList(errs, r, "resourceSelectors") {
		sr, ok := readObject(errs, rs.path, rs.obj, []string{"name", "selectors"})
		if ok {
			out = append(out, ResourceSelector{Name: sr.str("name"),
				Selectors: readSelectors(errs, sr, SelectorResourceLocation, SelectorResourceType, SelectorResourceWithoutLocation)})
		}
	}
	return out
}

func readOverrides(errs *problemList, r *objReader) []Override {
	var out []Override
	for _, o := range objectList(errs, r, "overrides") {
		or, ok := readObject(errs, o.path, o.obj, []string{"kind", "value", "selectors"})
		if !ok {
			continue
		}
		ov := Override{Kind: or.oneOf("kind", "policyEffect", "definitionVersion"), Value: or.required("value"),
			Selectors: readSelectors(errs, or, SelectorReferenceID, SelectorResourceLocation)}
		if ov.Kind == "policyEffect" {
			if _, err := canonicalEffect(ov.Value); err != nil {
				errs.addErr(or.path("value"), err)
			}
		}
		out = append(out, ov)
	}
	return out
}

func readSelectors(errs *problemList, r *objReader, kinds ...string) []Selector {
	var out []Selector
	for _, s := range objectList(errs, r, "selectors") {
		sr, ok := readObject(errs, s.path, s.obj, []string{"kind", "in", "notIn"})
		if !ok {
			continue
		}
		sel := Selector{Kind: sr.oneOf("kind", kinds...), In: sr.strList("in"), NotIn: sr.strList("notIn")}
		if sr.has("in") == sr.has("notIn") {
			errs.add(s.path, "", "a selector needs exactly one of \"in\" and \"notIn\"")
		}
		out = append(out, sel)
	}
	return out
}

// Exemption exempts resources under its scope from an assignment (or some
// of an initiative's members) until it expires.
type Exemption struct {
	ID          string
	Name        string
	DisplayName string
	Description string
	// Scope is the exempted hierarchy; it defaults to the part of ID
	// before /providers/Microsoft.Authorization/policyExemptions/.
	Scope                        string
	PolicyAssignmentID           string
	PolicyDefinitionReferenceIDs []string // empty: every member
	Category                     string   // CategoryWaiver or CategoryMitigated
	ExpiresOn                    *time.Time
	AssignmentScopeValidation    string // Default or DoNotValidate
	ResourceSelectors            []ResourceSelector
	Metadata                     map[string]any
}

var exemptionPropsKeys = []string{"displayName", "description", "policyAssignmentId", "policyDefinitionReferenceIds",
	"exemptionCategory", "expiresOn", "assignmentScopeValidation", "resourceSelectors", "metadata", "scope"}

// ParseExemption reads a policy exemption: the full ARM resource or its
// bare properties (with "scope" when there is no id).
func ParseExemption(data []byte) (*Exemption, error) {
	var errs problemList
	doc, err := decodeJSON(data)
	if err != nil {
		errs.addErr("", err)
		return nil, errs.err()
	}
	e := &Exemption{}
	env, path, ok := readResource(&errs, doc, ExemptionType, definitionTopKeys)
	if ok {
		e.ID, e.Name = env.id, env.name
		e.readProperties(&errs, path, env.props)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Exemption) readProperties(errs *problemList, path string, props map[string]any) {
	r, ok := readObject(errs, path, props, exemptionPropsKeys)
	if !ok {
		return
	}
	e.DisplayName, e.Description, e.Metadata = r.str("displayName"), r.str("description"), r.object("metadata")
	e.PolicyAssignmentID = r.required("policyAssignmentId")
	e.PolicyDefinitionReferenceIDs = r.strList("policyDefinitionReferenceIds")
	if e.Category = r.oneOf("exemptionCategory", CategoryWaiver, CategoryMitigated); e.Category == "" && !r.has("exemptionCategory") {
		errs.add(r.path("exemptionCategory"), "Waiver or Mitigated", "missing exemptionCategory")
	}
	if s := r.str("expiresOn"); s != "" {
		t, ok := parseTime(s)
		if !ok {
			errs.add(r.path("expiresOn"), "write it as 2026-12-31T23:59:00Z", "cannot read %q as a date and time", s)
		}
		e.ExpiresOn = &t
	}
	e.AssignmentScopeValidation = r.oneOf("assignmentScopeValidation", "Default", "DoNotValidate")
	e.ResourceSelectors = readResourceSelectors(errs, r)
	if e.Scope = r.str("scope"); e.Scope == "" {
		e.Scope = scopeOfExtension(e.ID, ExemptionType)
	}
	if e.Scope == "" {
		errs.add(r.path("scope"), "give the scope, or the exemption's full id", "missing scope")
	}
}

// Active reports whether the exemption is in force at now: an expired
// exemption is ignored (not deleted).
func (e *Exemption) Active(now time.Time) bool {
	return e.ExpiresOn == nil || now.Before(*e.ExpiresOn)
}

// exemptionSet is a list of exemptions with their scopes and assignment
// IDs in comparison form, prepared once per admission or scan.
type exemptionSet struct {
	list        []*Exemption
	scopes      []string
	assignments []string
}

func prepareExemptions(es []*Exemption) exemptionSet {
	set := exemptionSet{list: es, scopes: make([]string, len(es)), assignments: make([]string, len(es))}
	for i, e := range es {
		set.scopes[i], set.assignments[i] = scopeKey(e.Scope), scopeKey(e.PolicyAssignmentID)
	}
	return set
}

// find returns the first exemption in force at now for a resource (by
// scope key) and one member of an assignment (by ID key), or nil.
func (s exemptionSet) find(resourceKey, assignmentKey, referenceID string, v *view, now time.Time) *Exemption {
	for i, e := range s.list {
		if s.assignments[i] == assignmentKey && scopeContains(s.scopes[i], resourceKey) &&
			e.Active(now) && e.coversReference(referenceID) && exemptionSelects(e, v) {
			return e
		}
	}
	return nil
}

// coversReference reports whether the exemption covers an initiative
// member: every member when it lists none.
func (e *Exemption) coversReference(referenceID string) bool {
	if len(e.PolicyDefinitionReferenceIDs) == 0 {
		return true
	}
	for _, r := range e.PolicyDefinitionReferenceIDs {
		if strings.EqualFold(r, referenceID) {
			return true
		}
	}
	return false
}

// Validate checks an exemption against its assignment: the same
// assignment, references that exist, and (unless DoNotValidate) a scope
// at or under the assignment's.
func (e *Exemption) Validate(a *CompiledAssignment) error {
	var errs problemList
	if !strings.EqualFold(e.PolicyAssignmentID, a.Assignment.ID) {
		errs.add("policyAssignmentId", "", "exemption is for %q, not %q", e.PolicyAssignmentID, a.Assignment.ID)
	}
	if e.AssignmentScopeValidation != "DoNotValidate" && !scopeContains(a.scope, scopeKey(e.Scope)) {
		errs.add("scope", "set assignmentScopeValidation to DoNotValidate to allow it", "scope %q is not under the assignment's scope %q", e.Scope, a.Assignment.Scope)
	}
	refs := a.ReferenceIDs()
	for i, r := range e.PolicyDefinitionReferenceIDs {
		if !listContainsFold(refs, r) {
			errs.add(joinIndex("policyDefinitionReferenceIds", i), didYouMean(r, refs), "the assignment has no member %q", r)
		}
	}
	return errs.err()
}

func listContainsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// scopeKey is a scope's comparison form: lower-cased, no trailing slash.
func scopeKey(s string) string {
	return strings.ToLower(strings.TrimRight(s, "/"))
}

// scopeContains reports whether scope (a scopeKey) is target (a scopeKey)
// or one of its ancestors, on whole segments; "" is the root.
func scopeContains(scope, target string) bool {
	return scope == "" || scope == target || len(target) > len(scope) && strings.HasPrefix(target, scope) && target[len(scope)] == '/'
}

// selectorsMatch reports whether a resource satisfies every selector.
func selectorsMatch(sels []Selector, v *view, referenceID string) bool {
	for _, s := range sels {
		if !selectorMatches(s, v, referenceID) {
			return false
		}
	}
	return true
}

func selectorMatches(s Selector, v *view, referenceID string) bool {
	var value string
	switch s.Kind {
	case SelectorResourceLocation:
		loc, _ := v.prop("location").(string)
		value = normalizeLocation(loc).(string)
	case SelectorResourceType:
		value = v.typ
	case SelectorResourceWithoutLocation:
		loc, _ := v.prop("location").(string)
		value = fmt.Sprint(loc == "" || strings.EqualFold(loc, "global"))
	case SelectorReferenceID:
		value = referenceID
	}
	match := func(list []string) bool {
		for _, x := range list {
			if s.Kind == SelectorResourceLocation {
				x = normalizeLocation(x).(string)
			}
			if strings.EqualFold(x, value) {
				return true
			}
		}
		return false
	}
	if len(s.In) > 0 || s.NotIn == nil {
		return match(s.In)
	}
	return !match(s.NotIn)
}
