package policy

import (
	"fmt"
	"strings"
	"time"
)

// CompiledAssignment is an assignment bound to its definition or
// initiative, every member compiled with its parameter values. It is
// immutable and safe for concurrent use.
type CompiledAssignment struct {
	Assignment    *Assignment
	Definition    *Definition    // when a definition is assigned
	SetDefinition *SetDefinition // when an initiative is assigned
	Members       []*Member

	scope     string
	notScopes []string
	idKey     string
}

// Member is one definition of a compiled assignment: the definition itself
// for a direct assignment (ReferenceID ""), or one member of an initiative.
type Member struct {
	ReferenceID  string
	DefinitionID string
	Groups       []string
	Compiled     *CompiledDefinition
	// Message is the non-compliance message for this member, "" for none.
	Message string

	variants []effectVariant
}

// effectVariant is the member with an overridden effect, for resources in
// the selected locations (all resources when locations is empty).
type effectVariant struct {
	locations []Selector
	compiled  *CompiledDefinition
}

// DefinitionLookup finds a definition by its ID (for an initiative's
// members).
type DefinitionLookup func(definitionID string) (*Definition, error)

// CompileAssignment binds an assignment to the definition it names.
func CompileAssignment(a *Assignment, d *Definition) (*CompiledAssignment, error) {
	if err := checkAssignedID(a, d.ID, d.Name); err != nil {
		return nil, err
	}
	compiled, err := d.Compile(a.Parameters)
	if err != nil {
		return nil, fmt.Errorf("assignment %q of definition %s: %w", a.Name, d, err)
	}
	ca := newCompiledAssignment(a)
	ca.Definition = d
	m := &Member{DefinitionID: definitionID(d), Compiled: compiled}
	if err := ca.addMember(m); err != nil {
		return nil, err
	}
	return ca, nil
}

// CompileSetAssignment binds an assignment to an initiative: the
// assignment's values bind the initiative's parameters, which give each
// member's values; lookup finds each member's definition.
func CompileSetAssignment(a *Assignment, s *SetDefinition, lookup DefinitionLookup) (*CompiledAssignment, error) {
	if err := checkAssignedID(a, s.ID, s.Name); err != nil {
		return nil, err
	}
	setValues, err := bindParameters(s.Parameters, s.params, a.Parameters)
	if err != nil {
		return nil, fmt.Errorf("assignment %q of initiative %q: %w", a.Name, s.Name, err)
	}
	ca := newCompiledAssignment(a)
	ca.SetDefinition = s
	for _, ref := range s.PolicyDefinitions {
		m, err := compileMember(s, ref, setValues, lookup)
		if err != nil {
			return nil, fmt.Errorf("assignment %q: %w", a.Name, err)
		}
		if err := ca.addMember(m); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

func compileMember(s *SetDefinition, ref DefinitionReference, setValues map[string]any, lookup DefinitionLookup) (*Member, error) {
	d, err := lookup(ref.PolicyDefinitionID)
	if err != nil {
		return nil, fmt.Errorf("member %q: definition %q: %w", ref.ReferenceID, ref.PolicyDefinitionID, err)
	}
	values, err := s.memberValues(ref, setValues)
	if err != nil {
		return nil, err
	}
	compiled, err := d.Compile(values)
	if err != nil {
		return nil, fmt.Errorf("member %q (%s): %w", ref.ReferenceID, d, err)
	}
	return &Member{ReferenceID: ref.ReferenceID, DefinitionID: ref.PolicyDefinitionID, Groups: ref.GroupNames, Compiled: compiled}, nil
}

// checkAssignedID checks that the assignment names what it is bound to: by
// ID when both have one, else by name.
func checkAssignedID(a *Assignment, id, name string) error {
	want := strings.TrimRight(a.PolicyDefinitionID, "/")
	switch {
	case want == "":
		return nil
	case strings.Contains(want, "/") && id != "":
		if strings.EqualFold(want, strings.TrimRight(id, "/")) {
			return nil
		}
	case strings.EqualFold(want[strings.LastIndexByte(want, '/')+1:], name):
		return nil
	}
	return fmt.Errorf("%w: assignment %q names %q, not %q", ErrInvalid, a.Name, a.PolicyDefinitionID, firstNonEmpty(id, name))
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// definitionID is a definition's ID, or its name when it has none.
func definitionID(d *Definition) string {
	return firstNonEmpty(d.ID, d.Name)
}

func newCompiledAssignment(a *Assignment) *CompiledAssignment {
	ca := &CompiledAssignment{Assignment: a, scope: scopeKey(a.Scope), idKey: scopeKey(a.ID)}
	for _, ns := range a.NotScopes {
		ca.notScopes = append(ca.notScopes, scopeKey(ns))
	}
	return ca
}

// addMember applies the assignment's messages and effect overrides.
func (ca *CompiledAssignment) addMember(m *Member) error {
	for _, msg := range ca.Assignment.NonComplianceMessages {
		switch ref := msg.PolicyDefinitionReferenceID; {
		case ref == "" && m.Message == "": // the assignment's message
			m.Message = msg.Message
		case ref != "" && strings.EqualFold(ref, m.ReferenceID): // the member's own wins
			m.Message = msg.Message
		}
	}
	for i, o := range ca.Assignment.Overrides {
		if o.Kind != "policyEffect" || !overrideSelects(o, m.ReferenceID) {
			continue
		}
		variant, err := m.Compiled.withEffect(o.Value)
		if err != nil {
			return fmt.Errorf("%w: assignment %q override %d: %v", ErrInvalid, ca.Assignment.Name, i, err)
		}
		locations := locationSelectors(o.Selectors)
		if len(locations) == 0 {
			m.Compiled, m.variants = variant, nil
			continue
		}
		m.variants = append(m.variants, effectVariant{locations: locations, compiled: variant})
	}
	ca.Members = append(ca.Members, m)
	return nil
}

// overrideSelects reports whether an override's reference ID selectors
// select a member.
func overrideSelects(o Override, referenceID string) bool {
	for _, s := range o.Selectors {
		if s.Kind == SelectorReferenceID && !selectorMatches(s, nil, referenceID) {
			return false
		}
	}
	return true
}

func locationSelectors(sels []Selector) []Selector {
	var out []Selector
	for _, s := range sels {
		if s.Kind == SelectorResourceLocation {
			out = append(out, s)
		}
	}
	return out
}

// withEffect is the definition with another effect, for an override.
func (c *CompiledDefinition) withEffect(effect string) (*CompiledDefinition, error) {
	e, err := canonicalEffect(effect)
	if err != nil {
		return nil, err
	}
	rule := *c.rule
	rule.effect = e
	switch e {
	case EffectAppend, EffectModify, EffectDenyAction:
		if e != c.rule.effect {
			return nil, fmt.Errorf("cannot override effect %s with %s: the details differ", c.rule.effect, e)
		}
	case EffectAuditIfNotExists, EffectDeployIfNotExists:
		d, ok := c.rule.details.(*existenceDetails)
		if !ok || (e == EffectDeployIfNotExists && !d.hasDeployment) {
			return nil, fmt.Errorf("cannot override effect %s with %s: the details differ", c.rule.effect, e)
		}
		copied := *d
		copied.effect = e
		rule.details = &copied
	case EffectManual:
		rule.details = &manualDetails{state: StateUnknown}
	default:
		rule.details = nil
	}
	return &CompiledDefinition{def: c.def, values: c.values, rule: &rule}, nil
}

// compiledFor is the member's definition for a resource, overrides applied
// (the last matching override wins).
func (m *Member) compiledFor(v *view) *CompiledDefinition {
	for i := len(m.variants) - 1; i >= 0; i-- {
		if selectorsMatch(m.variants[i].locations, v, m.ReferenceID) {
			return m.variants[i].compiled
		}
	}
	return m.Compiled
}

// Enforced reports whether the assignment's enforcement mode is Default.
func (ca *CompiledAssignment) Enforced() bool {
	return ca.Assignment.EnforcementMode != EnforcementDoNotEnforce
}

// ReferenceIDs lists the members' reference IDs ("" for a direct assignment).
func (ca *CompiledAssignment) ReferenceIDs() []string {
	out := make([]string, len(ca.Members))
	for i, m := range ca.Members {
		out[i] = m.ReferenceID
	}
	return out
}

// Covers reports whether a resource ID is inside the assignment's scope
// and outside all its notScopes (IDs compare ignoring case, on whole
// segments).
func (ca *CompiledAssignment) Covers(resourceID string) bool {
	return ca.coversKey(scopeKey(resourceID))
}

func (ca *CompiledAssignment) coversKey(key string) bool {
	if !scopeContains(ca.scope, key) {
		return false
	}
	for _, ns := range ca.notScopes {
		if scopeContains(ns, key) {
			return false
		}
	}
	return true
}

// selects applies the assignment's resource selectors: a resource must
// satisfy at least one of them (all when there are none).
func (ca *CompiledAssignment) selects(v *view) bool {
	if len(ca.Assignment.ResourceSelectors) == 0 {
		return true
	}
	for _, rs := range ca.Assignment.ResourceSelectors {
		if selectorsMatch(rs.Selectors, v, "") {
			return true
		}
	}
	return false
}

// policyInfo is what policy() returns for a member.
func (ca *CompiledAssignment) policyInfo(m *Member) PolicyInfo {
	info := PolicyInfo{AssignmentID: ca.Assignment.ID, DefinitionID: m.DefinitionID, DefinitionReferenceID: m.ReferenceID}
	if ca.SetDefinition != nil {
		info.SetDefinitionID = firstNonEmpty(ca.SetDefinition.ID, ca.SetDefinition.Name)
	}
	return info
}

// exemptionFor finds an active exemption of a resource from a member.
func (ca *CompiledAssignment) exemptionFor(exemptions exemptionSet, key string, m *Member, v *view, now time.Time) *Exemption {
	return exemptions.find(key, ca.idKey, m.ReferenceID, v, now)
}

func exemptionSelects(e *Exemption, v *view) bool {
	if len(e.ResourceSelectors) == 0 {
		return true
	}
	for _, rs := range e.ResourceSelectors {
		if selectorsMatch(rs.Selectors, v, "") {
			return true
		}
	}
	return false
}
