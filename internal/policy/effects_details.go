package policy

import (
	"fmt"
	"strings"
)

// AppendDetails are the fields an append effect adds to the request.
type AppendDetails struct {
	Entries []AppendEntry `json:"entries"`
}

// AppendEntry is one {field, value} of an append effect, value evaluated.
type AppendEntry struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// Modify operations.
const (
	OperationAdd          = "add"
	OperationAddOrReplace = "addOrReplace"
	OperationRemove       = "remove"
)

// ModifyDetails are a modify effect's operations whose condition held,
// values evaluated.
type ModifyDetails struct {
	RoleDefinitionIDs []string          `json:"roleDefinitionIds"`
	ConflictEffect    string            `json:"conflictEffect"` // audit, deny (default) or disabled
	Operations        []ModifyOperation `json:"operations"`
}

// ModifyOperation is one operation of a modify effect.
type ModifyOperation struct {
	Operation string `json:"operation"`
	Field     string `json:"field"`
	Value     any    `json:"value,omitempty"`
}

// ExistenceDetails say which related resources an auditIfNotExists or
// deployIfNotExists effect looks for; CheckExistence evaluates its
// existence condition against them.
type ExistenceDetails struct {
	Effect            string   `json:"effect"`
	Type              string   `json:"type"`
	Name              string   `json:"name,omitempty"`
	ResourceGroupName string   `json:"resourceGroupName,omitempty"`
	ExistenceScope    string   `json:"existenceScope"` // resourceGroup (default) or subscription
	EvaluationDelay   string   `json:"evaluationDelay,omitempty"`
	RoleDefinitionIDs []string `json:"roleDefinitionIds,omitempty"`
	DeploymentScope   string   `json:"deploymentScope,omitempty"`
	// Deployment is the deployIfNotExists deployment, its
	// properties.parameters values evaluated as policy expressions.
	Deployment            any  `json:"deployment,omitempty"`
	HasExistenceCondition bool `json:"hasExistenceCondition"`
}

// ManualDetails are a manual effect's default compliance state.
type ManualDetails struct {
	DefaultState string `json:"defaultState"`
}

// DenyActionDetails are the actions a denyAction effect blocks.
type DenyActionDetails struct {
	ActionNames []string `json:"actionNames"`
	// CascadeResourceGroup is deny (default) or allow: whether deleting
	// the resource group that holds the resource is blocked too.
	CascadeResourceGroup string `json:"cascadeResourceGroup"`
}

type appendEntry struct {
	field string
	value cexpr
}

type appendDetails struct{ entries []appendEntry }

func (c *compiler) appendDetails(path string, v any) compiledDetails {
	if !c.requireDetails(EffectAppend, path, v) {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		c.errs.add(path, "", "append details must be an array of {field, value}, got %s", kindOf(v))
		return nil
	}
	d := &appendDetails{}
	for i, x := range list {
		p := joinIndex(path, i)
		r, ok := readObject(&c.errs, p, x, []string{"field", "value"})
		if !ok {
			continue
		}
		fv, _ := r.value("field")
		_, name := c.fieldForDetails(r.path("field"), fv)
		raw, has := r.value("value")
		if !has {
			c.errs.add(r.path("value"), "", "missing value")
			continue
		}
		val, good := c.compileJSON(r.path("value"), raw)
		if good {
			d.entries = append(d.entries, appendEntry{field: name, value: val})
		}
	}
	return d
}

func (d *appendDetails) evaluate(st *evalState) (any, error) {
	out := AppendDetails{Entries: make([]AppendEntry, 0, len(d.entries))}
	for _, e := range d.entries {
		v, err := e.value.eval(st)
		if err != nil {
			return nil, fmt.Errorf("append value of %s: %w", e.field, err)
		}
		out.Entries = append(out.Entries, AppendEntry{Field: e.field, Value: v})
	}
	return out, nil
}

type modifyOp struct {
	operation string
	field     string
	ref       *fieldRef
	value     cexpr
	condition *cexpr
}

type modifyDetails struct {
	roles    []string
	conflict string
	ops      []modifyOp
}

var modifyKeys = []string{"roleDefinitionIds", "conflictEffect", "operations"}

func (c *compiler) modifyDetails(path string, v any) compiledDetails {
	if !c.requireDetails(EffectModify, path, v) {
		return nil
	}
	r, ok := readObject(&c.errs, path, v, modifyKeys)
	if !ok {
		return nil
	}
	d := &modifyDetails{roles: r.strList("roleDefinitionIds"), conflict: r.oneOf("conflictEffect", EffectAudit, EffectDeny, EffectDisabled)}
	if d.conflict == "" {
		d.conflict = EffectDeny
	}
	if !r.has("roleDefinitionIds") {
		c.errs.add(r.path("roleDefinitionIds"), "the role the remediation identity needs", "modify needs roleDefinitionIds")
	}
	ops, _ := r.value("operations")
	list, isList := ops.([]any)
	if !isList || len(list) == 0 {
		c.errs.add(r.path("operations"), "", "modify needs a non-empty array of operations")
		return nil
	}
	for i, x := range list {
		if op, ok := c.modifyOperation(joinIndex(r.path("operations"), i), x); ok {
			d.ops = append(d.ops, op)
		}
	}
	return d
}

func (c *compiler) modifyOperation(path string, v any) (modifyOp, bool) {
	r, ok := readObject(&c.errs, path, v, []string{"operation", "field", "value", "condition"})
	if !ok {
		return modifyOp{}, false
	}
	op := modifyOp{operation: r.oneOf("operation", OperationAdd, OperationAddOrReplace, OperationRemove)}
	if op.operation == "" {
		if !r.has("operation") {
			c.errs.add(r.path("operation"), "add, addOrReplace or remove", "missing operation")
		}
		return op, false
	}
	fv, _ := r.value("field")
	op.ref, op.field = c.fieldForDetails(r.path("field"), fv)
	if op.ref != nil && op.operation == OperationRemove && op.ref.kind != fieldTag && op.ref.kind != fieldTags && op.ref.kind != fieldAlias {
		c.errs.add(r.path("field"), "", "remove applies to tags and aliases only")
	}
	raw, hasValue := r.value("value")
	switch {
	case op.operation == OperationRemove && hasValue:
		c.errs.add(r.path("value"), "", "remove takes no value")
	case op.operation != OperationRemove && !hasValue:
		c.errs.add(r.path("value"), "", "%s needs a value", op.operation)
	case hasValue:
		op.value, hasValue = c.compileJSON(r.path("value"), raw)
	}
	if cond, ok := r.value("condition"); ok {
		s, isStr := cond.(string)
		if !isStr || !isExpression(s) {
			c.errs.add(r.path("condition"), "", "condition must be an expression such as \"[equals(...)]\"")
		} else if x, good := c.compileString(r.path("condition"), s); good {
			op.condition = &x
		}
	}
	return op, true
}

func (d *modifyDetails) evaluate(st *evalState) (any, error) {
	out := ModifyDetails{RoleDefinitionIDs: d.roles, ConflictEffect: d.conflict, Operations: []ModifyOperation{}}
	for _, op := range d.ops {
		if op.condition != nil {
			cv, err := op.condition.eval(st)
			if err != nil {
				return nil, fmt.Errorf("modify condition of %s: %w", op.field, err)
			}
			if b, ok := cv.(bool); !ok || !b {
				continue
			}
		}
		mo := ModifyOperation{Operation: op.operation, Field: op.field}
		if op.operation != OperationRemove {
			v, err := op.value.eval(st)
			if err != nil {
				return nil, fmt.Errorf("modify value of %s: %w", op.field, err)
			}
			mo.Value = v
		}
		out.Operations = append(out.Operations, mo)
	}
	return out, nil
}

type existenceDetails struct {
	effect        string
	typ           string
	name, rg      *cexpr
	scope         string
	delay         string
	roles         []string
	depScope      string
	deployment    cexpr
	hasDeployment bool
	condition     node
}

var existenceKeys = []string{"type", "name", "resourceGroupName", "existenceScope", "evaluationDelay",
	"existenceCondition", "roleDefinitionIds", "deploymentScope", "deployment"}

func (c *compiler) existenceDetails(effect, path string, v any) compiledDetails {
	if !c.requireDetails(effect, path, v) {
		return nil
	}
	r, ok := readObject(&c.errs, path, v, existenceKeys)
	if !ok {
		return nil
	}
	d := &existenceDetails{effect: effect, typ: r.required("type"),
		scope: r.oneOf("existenceScope", "resourceGroup", "subscription"), delay: r.str("evaluationDelay"),
		roles: r.strList("roleDefinitionIds"), depScope: r.oneOf("deploymentScope", "resourceGroup", "subscription")}
	if d.scope == "" {
		d.scope = "resourceGroup"
	}
	d.name = c.optionalExpr(r, "name")
	d.rg = c.optionalExpr(r, "resourceGroupName")
	if effect == EffectDeployIfNotExists {
		c.deploymentDetails(r, d)
	}
	if cond, ok := r.value("existenceCondition"); ok {
		d.condition = c.existenceCondition(r.path("existenceCondition"), cond)
	}
	return d
}

func (c *compiler) deploymentDetails(r *objReader, d *existenceDetails) {
	if !r.has("roleDefinitionIds") {
		c.errs.add(r.path("roleDefinitionIds"), "", "deployIfNotExists needs roleDefinitionIds")
	}
	dep, ok := r.value("deployment")
	if !ok {
		c.errs.add(r.path("deployment"), "", "deployIfNotExists needs a deployment")
		return
	}
	depObj, _ := dep.(map[string]any)
	props, _ := lookupKey(depObj, "properties")
	propsObj, _ := props.(map[string]any)
	params, hasParams := lookupKey(propsObj, "parameters")
	if depObj == nil || propsObj == nil {
		c.errs.add(r.path("deployment"), "", "deployment must be {\"properties\": {\"mode\", \"template\", \"parameters\"}}")
		return
	}
	d.hasDeployment = true
	d.deployment = constant(dep)
	if hasParams {
		x, good := c.compileJSON(joinKey(joinKey(r.path("deployment"), "properties"), "parameters"), params)
		if good && !x.static {
			d.deployment = deploymentWith(depObj, propsObj, x)
		} else if good {
			d.deployment = constant(withParameters(depObj, propsObj, x.val))
		}
	}
}

// deploymentWith evaluates the deployment's parameters at evaluation time.
func deploymentWith(dep, props map[string]any, params cexpr) cexpr {
	return cexpr{fn: func(st *evalState) (any, error) {
		v, err := params.eval(st)
		if err != nil {
			return nil, err
		}
		return withParameters(dep, props, v), nil
	}}
}

func withParameters(dep, props map[string]any, params any) map[string]any {
	newProps := make(map[string]any, len(props))
	for k, v := range props {
		newProps[k] = v
		if strings.EqualFold(k, "parameters") {
			newProps[k] = params
		}
	}
	out := make(map[string]any, len(dep))
	for k, v := range dep {
		out[k] = v
		if strings.EqualFold(k, "properties") {
			out[k] = newProps
		}
	}
	return out
}

// optionalExpr compiles an optional string field that may be an expression.
func (c *compiler) optionalExpr(r *objReader, name string) *cexpr {
	s := r.str(name)
	if s == "" {
		return nil
	}
	x, ok := c.compileString(r.path(name), s)
	if !ok {
		return nil
	}
	return &x
}

// existenceCondition compiles a constraint over the related resource, with
// its own limits and count scopes.
func (c *compiler) existenceCondition(path string, v any) node {
	saved, savedFacts, savedConds, savedLimit := c.scopes, c.facts, c.conditions, c.limit
	c.scopes, c.conditions, c.limit = nil, 0, MaxExistenceConditions
	n := c.constraint(path, v, 0)
	c.scopes, c.facts, c.conditions, c.limit = saved, savedFacts, savedConds, savedLimit
	return n
}

func (d *existenceDetails) evaluate(st *evalState) (any, error) {
	out := ExistenceDetails{Effect: d.effect, Type: d.typ, ExistenceScope: d.scope, EvaluationDelay: d.delay,
		RoleDefinitionIDs: d.roles, DeploymentScope: d.depScope, HasExistenceCondition: d.condition != nil}
	var err error
	if out.Name, err = evalString(st, d.name, "name"); err != nil {
		return nil, err
	}
	if out.ResourceGroupName, err = evalString(st, d.rg, "resourceGroupName"); err != nil {
		return nil, err
	}
	if d.hasDeployment {
		if out.Deployment, err = d.deployment.eval(st); err != nil {
			return nil, fmt.Errorf("deployment parameters: %w", err)
		}
	}
	return out, nil
}

func evalString(st *evalState, x *cexpr, what string) (string, error) {
	if x == nil {
		return "", nil
	}
	v, err := x.eval(st)
	if err != nil {
		return "", fmt.Errorf("details.%s: %w", what, err)
	}
	s, ok := scalarString(v)
	if !ok {
		return "", fmt.Errorf("details.%s must be a string, got %s", what, kindOf(v))
	}
	return s, nil
}

type manualDetails struct{ state string }

func (c *compiler) manualDetails(path string, v any) compiledDetails {
	d := &manualDetails{state: StateUnknown}
	if v == nil {
		return d
	}
	r, ok := readObject(&c.errs, path, v, []string{"defaultState"})
	if !ok {
		return d
	}
	if s := r.oneOf("defaultState", StateUnknown, StateCompliant, StateNonCompliant); s != "" {
		d.state = s
	}
	return d
}

func (d *manualDetails) evaluate(*evalState) (any, error) {
	return ManualDetails{DefaultState: d.state}, nil
}

type denyActionDetails struct {
	actions []string
	cascade string
}

func (c *compiler) denyActionDetails(path string, v any) compiledDetails {
	if !c.requireDetails(EffectDenyAction, path, v) {
		return nil
	}
	r, ok := readObject(&c.errs, path, v, []string{"actionNames", "cascadeBehaviors"})
	if !ok {
		return nil
	}
	d := &denyActionDetails{actions: r.strList("actionNames"), cascade: "deny"}
	if len(d.actions) == 0 {
		c.errs.add(r.path("actionNames"), "write [\"delete\"]", "denyAction needs actionNames")
	}
	for i, a := range d.actions {
		if !strings.EqualFold(a, "delete") {
			c.errs.add(joinIndex(r.path("actionNames"), i), "Azure supports only \"delete\"", "unknown action %q", a)
		}
	}
	if cb, ok := r.value("cascadeBehaviors"); ok {
		cr, ok := readObject(&c.errs, r.path("cascadeBehaviors"), cb, []string{"resourceGroup"})
		if ok {
			if s := cr.oneOf("resourceGroup", "deny", "allow"); s != "" {
				d.cascade = s
			}
		}
	}
	return d
}

func (d *denyActionDetails) evaluate(*evalState) (any, error) {
	return DenyActionDetails{ActionNames: d.actions, CascadeResourceGroup: d.cascade}, nil
}
