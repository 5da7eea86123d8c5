package policy

import (
	"fmt"
	"strings"
)

// Effects, spelled as Result.Effect reports them.
const (
	EffectDisabled          = "disabled"
	EffectAppend            = "append"
	EffectModify            = "modify"
	EffectDeny              = "deny"
	EffectAudit             = "audit"
	EffectManual            = "manual"
	EffectAuditIfNotExists  = "auditIfNotExists"
	EffectDeployIfNotExists = "deployIfNotExists"
	EffectDenyAction        = "denyAction"
)

var effectNames = []string{EffectDisabled, EffectAppend, EffectModify, EffectDeny, EffectAudit, EffectManual,
	EffectAuditIfNotExists, EffectDeployIfNotExists, EffectDenyAction}

// outOfScopeEffects are resource-provider-mode effects kiln does not have.
var outOfScopeEffects = []string{"mutate", "addToNetworkGroup", "EnforceOPAConstraint", "EnforceRegoPolicy"}

// EffectOrder is where an effect runs in one request, as Azure orders
// them: disabled, then append and modify (which may change the request),
// deny, audit, manual, auditIfNotExists and deployIfNotExists, denyAction.
// Unknown effects order last.
func EffectOrder(effect string) int {
	switch canonicalKey(effect, effectNames) {
	case EffectDisabled:
		return 0
	case EffectAppend, EffectModify:
		return 1
	case EffectDeny:
		return 2
	case EffectAudit:
		return 3
	case EffectManual:
		return 4
	case EffectAuditIfNotExists, EffectDeployIfNotExists:
		return 5
	case EffectDenyAction:
		return 6
	}
	return 7
}

// canonicalEffect spells an effect canonically, or returns an error with
// the nearest name.
func canonicalEffect(s string) (string, error) {
	if e := canonicalKey(s, effectNames); e != "" {
		return e, nil
	}
	if canonicalKey(s, outOfScopeEffects) != "" {
		return "", Problem{Message: fmt.Sprintf("effect %q belongs to a resource provider mode, which kiln does not have", s)}
	}
	return "", Problem{Message: fmt.Sprintf("unknown effect %q", s), Hint: didYouMean(s, effectNames)}
}

// compiledRule is a compiled policyRule.
type compiledRule struct {
	root          node
	applicability node
	facts         ruleFacts
	effect        string
	details       compiledDetails
	size          int // conditions in the if, to size traces
}

// rule compiles {"if", "then"}.
func (c *compiler) rule(path string, rule map[string]any) *compiledRule {
	r := &compiledRule{}
	ifKey, thenKey := ruleKey(rule, "if"), ruleKey(rule, "then")
	if ifKey == "" || thenKey == "" {
		return r
	}
	r.root = c.constraint(joinKey(path, ifKey), rule[ifKey], 0)
	r.facts, r.size = c.facts, c.conditions
	thenPath := joinKey(path, thenKey)
	then, ok := readObject(&c.errs, thenPath, rule[thenKey], thenKeys)
	if !ok {
		return r
	}
	r.effect = c.effectOf(then)
	c.effect = r.effect
	details, _ := then.value("details")
	for _, e := range c.detailEffects(r.effect) {
		r.details = c.details(e, then.path("details"), details)
	}
	if r.root != nil {
		r.applicability = applicabilityTree(r.root, r.facts, false)
	}
	return r
}

func ruleKey(rule map[string]any, name string) string {
	for k := range rule {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// effectOf reads then.effect: a literal effect or an expression (usually
// [parameters('effect')]) whose possible values are checked.
func (c *compiler) effectOf(then *objReader) string {
	path := then.path("effect")
	s := then.required("effect")
	if s == "" {
		return ""
	}
	x, ok := c.compileString(path, s)
	if !ok {
		return ""
	}
	if !x.static {
		if x.param != nil {
			c.effectParam = x.param
			c.checkEffectParameter(path, x.param)
		}
		if c.bound {
			c.errs.add(path, "", "the effect must be known before evaluation (a literal or a parameter)")
		}
		return ""
	}
	name, isStr := x.val.(string)
	if !isStr {
		c.errs.add(path, "", "the effect must be a string, got %s", kindOf(x.val))
		return ""
	}
	e, err := canonicalEffect(name)
	if err != nil {
		c.errs.addErr(path, err)
	}
	return e
}

// checkEffectParameter checks that a parameter used as the effect can
// only hold effects.
func (c *compiler) checkEffectParameter(path string, p *ParameterDefinition) {
	candidates := append([]any{}, p.AllowedValues...)
	if p.HasDefault {
		candidates = append(candidates, p.DefaultValue)
	}
	for _, v := range candidates {
		s, _ := v.(string)
		if _, err := canonicalEffect(s); err != nil {
			c.errs.add(path, "", "parameter '%s' may hold %s, which is not an effect", p.Name, display(v))
		}
	}
}

// detailEffects are the effects whose details must be checked: the
// effect itself, or before binding the richest effect its parameter may
// hold (deployIfNotExists details also satisfy auditIfNotExists).
func (c *compiler) detailEffects(effect string) []string {
	if effect != "" {
		return []string{effect}
	}
	if c.effectParam == nil {
		return nil
	}
	candidates := map[string]bool{}
	for _, v := range append(append([]any{}, c.effectParam.AllowedValues...), c.effectParam.DefaultValue) {
		s, _ := v.(string)
		if e, err := canonicalEffect(s); err == nil {
			candidates[e] = true
		}
	}
	for _, e := range []string{EffectDeployIfNotExists, EffectModify, EffectAppend, EffectAuditIfNotExists, EffectManual, EffectDenyAction} {
		if candidates[e] {
			return []string{e}
		}
	}
	return nil
}

// details compiles then.details for an effect.
func (c *compiler) details(effect, path string, v any) compiledDetails {
	switch effect {
	case EffectAppend:
		return c.appendDetails(path, v)
	case EffectModify:
		return c.modifyDetails(path, v)
	case EffectAuditIfNotExists, EffectDeployIfNotExists:
		return c.existenceDetails(effect, path, v)
	case EffectManual:
		return c.manualDetails(path, v)
	case EffectDenyAction:
		return c.denyActionDetails(path, v)
	}
	return nil
}

// compiledDetails computes Result.Details once the if is true.
type compiledDetails interface {
	evaluate(st *evalState) (any, error)
}

// requireDetails reports missing details for effects that need them.
func (c *compiler) requireDetails(effect, path string, v any) bool {
	if v == nil {
		c.errs.add(path, "", "effect %s needs details", effect)
		return false
	}
	return true
}

// fieldForDetails resolves the field of an append or modify operation.
func (c *compiler) fieldForDetails(path string, v any) (*fieldRef, string) {
	s, ok := v.(string)
	if !ok {
		c.errs.add(path, "", "expected a field name, got %s", kindOf(v))
		return nil, ""
	}
	x, good := c.compileString(path, s)
	if !good {
		return nil, ""
	}
	if !x.static {
		if c.bound {
			c.errs.add(path, "", "the field name must be known before evaluation")
		}
		return nil, s
	}
	name, _ := x.val.(string)
	ref, err := parseFieldRef(name, c.aliases)
	if err != nil {
		c.errs.addErr(path, err)
		return nil, name
	}
	return ref, name
}
