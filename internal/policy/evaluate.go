package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Evaluation contexts: a create or update request (aliases read the
// request payload at the request's API version) or a compliance scan of a
// stored resource (aliases read the stored resource at the newest API
// version).
const (
	ContextRequest = "request"
	ContextStored  = "stored"
)

// Operations of a request: writes meet every effect but denyAction,
// deletes only denyAction.
const (
	OperationWrite  = "write"
	OperationDelete = "delete"
)

// EvalContext is everything an evaluation reads besides the resource.
type EvalContext struct {
	// Context is ContextRequest (the default) or ContextStored.
	Context string
	// Operation is OperationWrite (the default) or OperationDelete.
	Operation string
	// APIVersion is the request's API version; it selects alias paths and
	// is requestContext().apiVersion.
	APIVersion string
	// Now is what utcNow() returns; the zero time means the current time.
	Now time.Time
	// ResourceGroup and Subscription are what resourceGroup() and
	// subscription() return; when nil they are derived from the resource ID.
	ResourceGroup map[string]any
	Subscription  map[string]any
	// Identity is requestContext().identity at request time.
	Identity map[string]any
	// Policy is what policy() returns; assignments fill it in.
	Policy PolicyInfo
	// NoTrace skips recording the trace (compliance scans).
	NoTrace bool
}

// PolicyInfo identifies the assignment and definition being evaluated.
type PolicyInfo struct {
	AssignmentID          string
	DefinitionID          string
	SetDefinitionID       string
	DefinitionReferenceID string
}

func (c *EvalContext) now() time.Time {
	if c.Now.IsZero() {
		return time.Now().UTC()
	}
	return c.Now.UTC()
}

func (c *EvalContext) stored() bool { return strings.EqualFold(c.Context, ContextStored) }

func (c *EvalContext) deleting() bool { return strings.EqualFold(c.Operation, OperationDelete) }

// Result is the outcome of evaluating one definition against one resource.
type Result struct {
	// Effect is the effect that applies: "" when the if is false or the
	// definition does not apply to the resource; "deny" when the
	// evaluation failed (Err says why), as Azure treats a failed
	// evaluation as an implicit deny.
	Effect string `json:"effect"`
	// Details are the effect's evaluated details: AppendDetails,
	// ModifyDetails, ExistenceDetails, ManualDetails, DenyActionDetails,
	// or nil.
	Details any `json:"details,omitempty"`
	// Applicable is whether the definition applies to the resource at all
	// (its mode, and the type, name and kind conditions of its if); a
	// resource it does not apply to gets no compliance state.
	Applicable bool `json:"applicable"`
	// Trace lists the conditions evaluated, with the values seen.
	Trace []TraceStep `json:"trace,omitempty"`
	Err   error       `json:"-"`
}

// Reasons describes the conditions that decided the result, one a line.
func (r Result) Reasons() []string { return reasons(r.Trace) }

// ErrEvaluation is wrapped by every evaluation failure (a function error,
// a null operator value, a type mismatch in an ordering), which Azure
// treats as an implicit deny.
var ErrEvaluation = errors.New("policy evaluation failed")

// evaluationError wraps an evaluation failure.
func evaluationError(err error) error {
	return fmt.Errorf("%w: %w", ErrEvaluation, err)
}

// CompiledDefinition is a definition with its parameter values bound, ready
// to evaluate. It is immutable and safe for concurrent use.
type CompiledDefinition struct {
	def    *Definition
	values map[string]any
	rule   *compiledRule
}

func newCompiledDefinition(d *Definition, values map[string]any, r *compiledRule) *CompiledDefinition {
	return &CompiledDefinition{def: d, values: values, rule: r}
}

// Definition is the definition this was compiled from.
func (c *CompiledDefinition) Definition() *Definition { return c.def }

// Effect is the effect, parameters resolved.
func (c *CompiledDefinition) Effect() string { return c.rule.effect }

// Parameters are the bound parameter values (defaults included), by
// lower-cased name.
func (c *CompiledDefinition) Parameters() map[string]any { return c.values }

// evalState is one evaluation in progress.
type evalState struct {
	res        *view // what field conditions read
	ifRes      *view // what field() reads: the if-resource (differs in existence conditions)
	ctx        *EvalContext
	aliases    *Aliases
	scopes     []binding
	trace      *tracer
	iterations int
}

func newState(v *view, ctx *EvalContext, aliases *Aliases, traceSize int) *evalState {
	st := &evalState{res: v, ctx: ctx, aliases: aliases}
	if !ctx.NoTrace {
		st.trace = &tracer{steps: make([]TraceStep, 0, min(traceSize, 64))}
	}
	return st
}

// apiVersion selects alias paths: the request's, or the newest (the
// default path) during a scan.
func (st *evalState) apiVersion() string {
	if st.ctx == nil || st.ctx.stored() {
		return ""
	}
	return st.ctx.APIVersion
}

// requestAPIVersion is requestContext().apiVersion.
func (st *evalState) requestAPIVersion() string {
	if !st.ctx.stored() && st.ctx.APIVersion != "" {
		return st.ctx.APIVersion
	}
	if info, ok := st.aliases.types[st.ifResource().typLower]; ok && len(info.APIVersions) > 0 {
		return info.APIVersions[0]
	}
	return st.ctx.APIVersion
}

// ifResource is the resource the policy is about.
func (st *evalState) ifResource() *view {
	if st.ifRes != nil {
		return st.ifRes
	}
	return st.res
}

func (st *evalState) steps() []TraceStep {
	if st.trace == nil {
		return nil
	}
	return st.trace.steps
}

// Evaluate evaluates the definition against a resource: whether it applies,
// whether its if holds, and if so its effect and details. It never
// panics; an evaluation failure is an implicit deny with Err set.
func (c *CompiledDefinition) Evaluate(res Resource, ctx EvalContext) Result {
	return c.evaluate(newView(&res), &ctx)
}

func (c *CompiledDefinition) evaluate(v *view, ctx *EvalContext) Result {
	effect := c.rule.effect
	if effect == EffectDisabled || ctx.deleting() != (effect == EffectDenyAction) || (ctx.stored() && effect == EffectDenyAction) {
		return Result{}
	}
	if !modeApplies(c.def.Mode, v, c.def.aliases) {
		return Result{}
	}
	st := newState(v, ctx, c.def.aliases, c.rule.size)
	ok, err := c.rule.root.eval(st)
	out := Result{Applicable: true, Trace: st.steps()}
	switch {
	case err != nil:
		out.Effect, out.Err = EffectDeny, evaluationError(err)
		return out
	case !ok:
		out.Applicable = c.applicable(st)
		return out
	case v.typLower == lowerSubscription && c.rule.facts.location:
		return Result{Trace: out.Trace}
	}
	if c.rule.details != nil {
		if out.Details, err = c.rule.details.evaluate(st); err != nil {
			out.Effect, out.Details, out.Err = EffectDeny, nil, evaluationError(err)
			return out
		}
	}
	out.Effect = effect
	return out
}

// applicable decides whether a resource whose if is false counts: for
// auditIfNotExists and deployIfNotExists only when the if is true; else by
// the type, name and kind conditions.
func (c *CompiledDefinition) applicable(st *evalState) bool {
	switch {
	case c.rule.effect == EffectAuditIfNotExists || c.rule.effect == EffectDeployIfNotExists:
		return false
	case st.res.typLower == lowerSubscription && c.rule.facts.location:
		return false
	case c.rule.applicability == nil:
		return true
	}
	st.trace, st.scopes, st.iterations = nil, st.scopes[:0], 0
	ok, err := c.rule.applicability.eval(st)
	return ok || err != nil
}

// CheckExistence evaluates an auditIfNotExists or deployIfNotExists
// definition's existence condition against the related resources found
// for ifRes (per Result.Details, an ExistenceDetails): true when one of
// them satisfies it, or when there is any and the definition has no
// existence condition. field() inside the condition reads ifRes.
func (c *CompiledDefinition) CheckExistence(ifRes Resource, related []Resource, ctx EvalContext) (bool, error) {
	d, ok := c.rule.details.(*existenceDetails)
	if !ok {
		return false, fmt.Errorf("%w: effect %s has no existence check", ErrInvalid, c.rule.effect)
	}
	if d.condition == nil {
		return len(related) > 0, nil
	}
	ctx.NoTrace = true
	ifView := newView(&ifRes)
	for i := range related {
		st := newState(newView(&related[i]), &ctx, c.def.aliases, 0)
		st.ifRes = ifView
		ok, err := d.condition.eval(st)
		if err != nil {
			return false, evaluationError(err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}
