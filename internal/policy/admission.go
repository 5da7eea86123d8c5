package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Request is a create, update or delete that admission decides.
type Request struct {
	// Resource is the resource with the request payload as Body (for a
	// delete, the stored resource).
	Resource Resource
	// Operation is OperationWrite (the default) or OperationDelete.
	Operation  string
	APIVersion string
	// Now is the request's time (zero: the current time).
	Now           time.Time
	Identity      map[string]any
	ResourceGroup map[string]any
	Subscription  map[string]any
}

// Outcome is what one member of one assignment did to a request: every
// evaluation whose if held, that failed, or that an exemption skipped.
type Outcome struct {
	AssignmentID          string `json:"assignmentId"`
	AssignmentName        string `json:"assignmentName"`
	DefinitionID          string `json:"definitionId"`
	DefinitionReferenceID string `json:"definitionReferenceId,omitempty"`
	SetDefinitionID       string `json:"setDefinitionId,omitempty"`
	Effect                string `json:"effect"`
	// Enforced is false under DoNotEnforce: the outcome is recorded but
	// nothing is denied or changed.
	Enforced    bool   `json:"enforced"`
	Exempt      bool   `json:"exempt,omitempty"`
	ExemptionID string `json:"exemptionId,omitempty"`
	// Applied is true when an append or modify changed the body.
	Applied bool   `json:"applied,omitempty"`
	Message string `json:"message,omitempty"`
	Result  Result `json:"result"`
}

// Decision is admission's answer for one request.
type Decision struct {
	Allowed bool
	// Err is a *DisallowedError when the request is refused.
	Err error
	// Body is the payload after append and modify effects; the caller
	// stores it instead of the request's.
	Body map[string]any
	// Modified reports whether Body differs from the request.
	Modified bool
	// Outcomes are in evaluation order (Azure's effect order).
	Outcomes []Outcome
}

// DisallowedError is Azure's RequestDisallowedByPolicy.
type DisallowedError struct {
	ResourceID string
	Denials    []Denial
}

// Denial is one assignment and definition that refused a request.
type Denial struct {
	AssignmentID          string
	AssignmentName        string
	AssignmentDisplayName string
	DefinitionID          string
	DefinitionName        string
	DefinitionDisplayName string
	DefinitionReferenceID string
	SetDefinitionID       string
	Effect                string   // deny, denyAction, or append/modify for a conflict
	Message               string   // the assignment's non-compliance message
	Reasons               []string // the conditions that decided
	Err                   error    // an evaluation failure or a conflict
}

// Code is Azure's error code.
func (e *DisallowedError) Code() string { return "RequestDisallowedByPolicy" }

func (e *DisallowedError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "RequestDisallowedByPolicy: resource '%s' was disallowed by policy.", lastSegment(e.ResourceID))
	for _, d := range e.Denials {
		sb.WriteString(" " + d.String())
	}
	return sb.String()
}

// String describes one denial: which assignment, which definition, why.
func (d Denial) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Policy assignment '%s' (%s), definition '%s' (%s)", firstNonEmpty(d.AssignmentDisplayName, d.AssignmentName),
		d.AssignmentID, firstNonEmpty(d.DefinitionDisplayName, d.DefinitionName), d.DefinitionID)
	if d.DefinitionReferenceID != "" {
		fmt.Fprintf(&sb, ", reference '%s'", d.DefinitionReferenceID)
	}
	if d.Message != "" {
		fmt.Fprintf(&sb, ": %s", d.Message)
	}
	switch {
	case d.Err != nil:
		fmt.Fprintf(&sb, "; %v", d.Err)
	case len(d.Reasons) > 0:
		fmt.Fprintf(&sb, "; because %s", strings.Join(d.Reasons, " and "))
	}
	return sb.String() + "."
}

func lastSegment(id string) string {
	id = strings.TrimRight(id, "/")
	return id[strings.LastIndexByte(id, '/')+1:]
}

// target is one member of one assignment in force for a request.
type target struct {
	a         *CompiledAssignment
	m         *Member
	def       *CompiledDefinition
	exemption *Exemption
}

// Admit decides a request against the assignments in force: those whose
// scope covers the resource (minus notScopes and resource selectors), each
// member minus active exemptions. Append and modify run first and change
// the body the later effects see; any enforced deny (or a failed
// evaluation, or an append or modify conflict that denies) refuses the
// request. DoNotEnforce assignments are evaluated and reported only.
func Admit(req Request, assignments []*CompiledAssignment, exemptions []*Exemption) Decision {
	body, _ := deepCopy(req.Resource.Body).(map[string]any)
	if body == nil {
		body = map[string]any{}
	}
	res := Resource{ID: req.Resource.ID, Body: body, Facts: req.Resource.Facts}
	ctx := EvalContext{Context: ContextRequest, Operation: req.Operation, APIVersion: req.APIVersion, Now: req.Now,
		Identity: req.Identity, ResourceGroup: req.ResourceGroup, Subscription: req.Subscription}
	if ctx.Now.IsZero() {
		ctx.Now = time.Now().UTC()
	}
	d := Decision{Allowed: true, Body: body}
	var denials []Denial
	for _, t := range targetsFor(&res, assignments, prepareExemptions(exemptions), &ctx) {
		out, denial := admitOne(&res, t, &ctx, &d)
		if out != nil {
			d.Outcomes = append(d.Outcomes, *out)
		}
		if denial != nil {
			denials = append(denials, *denial)
		}
	}
	if len(denials) > 0 {
		d.Allowed, d.Err = false, &DisallowedError{ResourceID: req.Resource.ID, Denials: denials}
	}
	return d
}

// targetsFor lists the members in force for a resource, in Azure's effect
// order (stable within one order).
func targetsFor(res *Resource, assignments []*CompiledAssignment, exemptions exemptionSet, ctx *EvalContext) []target {
	v := newView(res)
	key := scopeKey(res.ID)
	var out []target
	for _, a := range assignments {
		if !a.coversKey(key) || !a.selects(v) {
			continue
		}
		for _, m := range a.Members {
			out = append(out, target{a: a, m: m, def: m.compiledFor(v), exemption: a.exemptionFor(exemptions, key, m, v, ctx.now())})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return EffectOrder(out[i].def.Effect()) < EffectOrder(out[j].def.Effect())
	})
	return out
}

// admitOne evaluates one member against the body as modified so far.
func admitOne(res *Resource, t target, ctx *EvalContext, d *Decision) (*Outcome, *Denial) {
	out := &Outcome{AssignmentID: t.a.Assignment.ID, AssignmentName: t.a.Assignment.Name, DefinitionID: t.m.DefinitionID,
		DefinitionReferenceID: t.m.ReferenceID, Enforced: t.a.Enforced(), Message: t.m.Message}
	out.SetDefinitionID = t.a.policyInfo(t.m).SetDefinitionID
	if t.exemption != nil {
		out.Exempt, out.ExemptionID, out.Enforced = true, t.exemption.ID, false
		out.Effect = t.def.Effect()
		return out, nil
	}
	ectx := *ctx
	ectx.Policy = t.a.policyInfo(t.m)
	r := t.def.Evaluate(*res, ectx)
	out.Effect, out.Result = r.Effect, r
	if r.Effect == "" {
		return nil, nil
	}
	if !out.Enforced {
		return out, nil
	}
	switch {
	case r.Err != nil, r.Effect == EffectDeny, r.Effect == EffectDenyAction:
		return out, t.denial(r, r.Err)
	case r.Effect == EffectAppend || r.Effect == EffectModify:
		return out, applyEffect(res, t, r, ctx, d, out)
	}
	return out, nil
}

// applyEffect applies an append or modify to the body; a conflict denies
// (append always, modify per its conflictEffect).
func applyEffect(res *Resource, t target, r Result, ctx *EvalContext, d *Decision, out *Outcome) *Denial {
	trial, _ := deepCopy(res.Body).(map[string]any)
	v := newView(&Resource{ID: res.ID, Body: trial, Facts: res.Facts})
	var err error
	conflict := EffectDeny
	switch details := r.Details.(type) {
	case AppendDetails:
		err = applyAppend(trial, v, details, t.def.def.aliases, ctx.APIVersion)
	case ModifyDetails:
		conflict = details.ConflictEffect
		err = applyModify(trial, v, details, t.def.def.aliases, ctx.APIVersion)
	}
	if err != nil {
		out.Result.Err = err
		if conflict == EffectDeny {
			return t.denial(r, err)
		}
		out.Effect = conflict // audit records the conflict; disabled ignores it
		return nil
	}
	for k := range res.Body {
		delete(res.Body, k)
	}
	for k, x := range trial {
		res.Body[k] = x
	}
	out.Applied, d.Modified = true, true
	return nil
}

func (t target) denial(r Result, err error) *Denial {
	def := t.def.def
	return &Denial{AssignmentID: t.a.Assignment.ID, AssignmentName: t.a.Assignment.Name,
		AssignmentDisplayName: t.a.Assignment.DisplayName, DefinitionID: t.m.DefinitionID, DefinitionName: def.Name,
		DefinitionDisplayName: def.DisplayName, DefinitionReferenceID: t.m.ReferenceID,
		SetDefinitionID: t.a.policyInfo(t.m).SetDefinitionID, Effect: r.Effect, Message: t.m.Message,
		Reasons: r.Reasons(), Err: err}
}

// IsDisallowed reports whether err is a policy refusal.
func IsDisallowed(err error) bool {
	var d *DisallowedError
	return errors.As(err, &d)
}
