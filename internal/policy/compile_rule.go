package policy

import (
	"fmt"
	"strings"
)

// Limits on rules, Azure's where it has one.
const (
	// MaxConditions bounds the conditions in one constraint (the if, an
	// existence condition), as Azure bounds the if at 4096.
	MaxConditions = 4096
	// MaxExistenceConditions bounds an existenceCondition, as Azure does.
	MaxExistenceConditions = 128
	// MaxRuleDepth bounds the nesting of allOf, anyOf, not and count.
	MaxRuleDepth = 64
	// MaxFieldCountsPerArray and MaxValueCounts are Azure's count limits.
	MaxFieldCountsPerArray = 5
	MaxValueCounts         = 10
)

// compiler turns a definition's JSON into nodes. Before parameter values
// are bound (bound false) it only checks the definition: expressions over
// parameters are not folded and names built from them are not resolved.
type compiler struct {
	aliases *Aliases
	params  map[string]*ParameterDefinition // lower-cased names
	values  map[string]any                  // lower-cased names, when bound
	bound   bool
	errs    problemList

	scopes      []countScope
	conditions  int
	limit       int // of conditions in the constraint being compiled
	lazy        int // inside if() branches: constant errors wait for evaluation
	functions   int
	fieldCounts map[string]int
	valueCounts int
	// facts records the kinds of field conditions met, for applicability.
	facts ruleFacts
	// effect is the rule's effect once read; effectParam the parameter it
	// comes from, if any.
	effect      string
	effectParam *ParameterDefinition
}

// countScope is an enclosing count while its where is compiled.
type countScope struct {
	name  string    // value count
	field *fieldRef // field count
}

// ruleFacts summarizes which fields a constraint tests.
type ruleFacts struct {
	typ, name, kind, other, location bool
}

func newCompiler(aliases *Aliases, params map[string]*ParameterDefinition, values map[string]any) *compiler {
	return &compiler{
		aliases: aliases, params: params, values: values, bound: values != nil,
		fieldCounts: map[string]int{}, limit: MaxConditions,
	}
}

func (c *compiler) param(name string) (*ParameterDefinition, bool) {
	p, ok := c.params[strings.ToLower(name)]
	return p, ok
}

func (c *compiler) paramNames() []string {
	out := make([]string, 0, len(c.params))
	for _, p := range c.params {
		out = append(out, p.Name)
	}
	return out
}

// Keys of a constraint, by role.
var (
	logicalKeys = []string{"allOf", "anyOf", "not"}
	lhsKeys     = []string{"field", "value", "count"}
	countKeys   = []string{"field", "value", "name", "where"}
)

// canonicalKey matches key against names ignoring case.
func canonicalKey(key string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return n
		}
	}
	return ""
}

// constraintKeys are every key a constraint may have, for suggestions.
func constraintKeys() []string {
	out := append(append([]string{}, logicalKeys...), lhsKeys...)
	return append(out, operatorNames...)
}

// constraint compiles {allOf|anyOf|not|condition}; nil when it is invalid.
func (c *compiler) constraint(path string, v any, depth int) node {
	obj, ok := v.(map[string]any)
	if !ok {
		c.errs.add(path, "", "expected a condition (a JSON object), got %s", kindOf(v))
		return nil
	}
	if depth > MaxRuleDepth {
		c.errs.add(path, "simplify the rule", "conditions are nested more than %d levels deep", MaxRuleDepth)
		return nil
	}
	if c.conditions++; c.conditions > c.limit {
		if c.conditions == c.limit+1 {
			c.errs.add(path, "split the policy", "more than %d conditions", c.limit)
		}
		return nil
	}
	for _, k := range sortedKeys(obj) {
		if name := canonicalKey(k, logicalKeys); name != "" {
			if len(obj) != 1 {
				c.errs.add(path, "wrap the other keys in their own condition", "%q must be the only key of its object", k)
				return nil
			}
			return c.logical(joinKey(path, k), name, obj[k], depth)
		}
	}
	return c.condition(path, obj, depth)
}

// logical compiles allOf, anyOf (non-empty arrays) and not.
func (c *compiler) logical(path, name string, v any, depth int) node {
	if name == "not" {
		kid := c.constraint(path, v, depth+1)
		if kid == nil {
			return nil
		}
		return &notNode{path: path, kid: kid}
	}
	list, ok := v.([]any)
	if !ok {
		c.errs.add(path, "", "%s expects an array of conditions, got %s", name, kindOf(v))
		return nil
	}
	if len(list) == 0 {
		c.errs.add(path, "remove it or add a condition", "%s is empty", name)
		return nil
	}
	kids := make([]node, 0, len(list))
	for i, x := range list {
		if k := c.constraint(joinIndex(path, i), x, depth+1); k != nil {
			kids = append(kids, k)
		}
	}
	if len(kids) != len(list) {
		return nil
	}
	if name == "allOf" {
		return &allOfNode{path: path, kids: kids}
	}
	return &anyOfNode{path: path, kids: kids}
}

// conditionParts are the keys of a leaf condition, as written.
type conditionParts struct {
	lhsKey, lhsName string
	opKey           string
	op              *operatorSpec
}

// splitCondition finds the one left-hand key and the one operator.
func (c *compiler) splitCondition(path string, obj map[string]any) (conditionParts, bool) {
	var parts conditionParts
	ok := true
	for _, k := range sortedKeys(obj) {
		switch {
		case canonicalKey(k, lhsKeys) != "":
			if parts.lhsKey != "" {
				c.errs.add(joinKey(path, k), "a condition has exactly one of field, value and count", "%q and %q in one condition", parts.lhsKey, k)
				ok = false
			}
			parts.lhsKey, parts.lhsName = k, canonicalKey(k, lhsKeys)
		case operators[strings.ToLower(k)] != nil:
			if parts.op != nil {
				c.errs.add(joinKey(path, k), "split it into two conditions inside allOf", "%q and %q in one condition", parts.opKey, k)
				ok = false
			}
			parts.opKey, parts.op = k, operators[strings.ToLower(k)]
		default:
			c.errs.add(joinKey(path, k), unknownKeyHint(k), "unknown key %q in a condition", k)
			ok = false
		}
	}
	if !ok {
		return parts, false
	}
	if parts.lhsKey == "" {
		c.errs.add(path, "add \"field\", \"value\" or \"count\"", "the condition has no field, value or count")
		return parts, false
	}
	if parts.op == nil {
		c.errs.add(path, "add an operator such as \"equals\"", "the condition has no operator")
		return parts, false
	}
	return parts, true
}

func unknownKeyHint(k string) string {
	switch strings.ToLower(k) {
	case "source":
		return `the legacy "source": "action" form is no longer supported by Azure`
	case "where", "name":
		return fmt.Sprintf("%q belongs inside \"count\"", k)
	}
	return didYouMean(k, constraintKeys())
}

// condition compiles a leaf condition.
func (c *compiler) condition(path string, obj map[string]any, depth int) node {
	parts, ok := c.splitCondition(path, obj)
	if !ok {
		return nil
	}
	lhsPath := joinKey(path, parts.lhsKey)
	n := &condNode{path: path, op: parts.op, text: conditionText(obj, parts)}
	switch parts.lhsName {
	case "field":
		n.lhs = c.fieldOperand(lhsPath, obj[parts.lhsKey])
	case "value":
		c.facts.other = true
		if x, good := c.compileJSON(lhsPath, obj[parts.lhsKey]); good {
			n.lhs = &valueOperand{expr: x}
		}
	case "count":
		c.facts.other = true
		n.lhs = c.countOperand(lhsPath, obj[parts.lhsKey], depth)
	}
	opPath := joinKey(path, parts.opKey)
	rhs, good := c.compileJSON(opPath, obj[parts.opKey])
	if n.lhs == nil || !good {
		return nil
	}
	return c.operatorValue(n, opPath, rhs)
}

// operatorValue checks the operator's value and, when it is constant,
// prepares the matcher once.
func (c *compiler) operatorValue(n *condNode, opPath string, rhs cexpr) node {
	if fo, isField := n.lhs.(*fieldOperand); isField && fo.ref.kind == fieldLocation {
		fo.normalize, n.rhsNorm = normalizeLocation, normalizeLocation
	}
	n.rhs = rhs
	if !c.checkOperatorValue(opPath, n.op, rhs) {
		return nil
	}
	if !rhs.static {
		return n
	}
	r := rhs.val
	if n.rhsNorm != nil {
		r = n.rhsNorm(r)
	}
	m, err := n.op.prepare(r)
	if err != nil {
		c.errs.add(opPath, "", "%v", err)
		return nil
	}
	n.rhs.val, n.prepared = r, m
	return n
}

// conditionText is the condition as written, with a count's where elided.
func conditionText(obj map[string]any, parts conditionParts) string {
	lhs := obj[parts.lhsKey]
	if m, ok := lhs.(map[string]any); ok && parts.lhsName == "count" {
		short := make(map[string]any, len(m))
		for k, v := range m {
			if strings.EqualFold(k, "where") {
				v = "..."
			}
			short[k] = v
		}
		lhs = short
	}
	return "{" + jsonText(parts.lhsKey) + ":" + jsonText(lhs) + "," + jsonText(parts.opKey) + ":" + jsonText(obj[parts.opKey]) + "}"
}

// checkOperatorValue catches operator values of the wrong type before
// evaluation: null, an array where a single value belongs (an Array
// parameter with equals), a single value for in, a non-boolean exists.
func (c *compiler) checkOperatorValue(path string, op *operatorSpec, rhs cexpr) bool {
	if rhs.param != nil {
		return c.checkParamOperand(path, op, rhs.param)
	}
	if !rhs.static {
		return true
	}
	switch {
	case rhs.val == nil:
		c.errs.add(path, "", "the value of '%s' is null", op.name)
	case op.rhs == rhsArray && !isArray(rhs.val):
		c.errs.add(path, "write the value as a list: [...]", "the value of '%s' must be an array, got %s", op.name, kindOf(rhs.val))
	case op.rhs == rhsScalar && !isScalar(rhs.val):
		c.errs.add(path, scalarHint(op), "the value of '%s' must be a single value, got %s", op.name, kindOf(rhs.val))
	case op.rhs == rhsBoolean:
		if _, err := existsValue(rhs.val); err != nil {
			c.errs.add(path, "", "%v", err)
			return false
		}
		return true
	default:
		return true
	}
	return false
}

func scalarHint(op *operatorSpec) string {
	if op.name == "equals" || op.name == "notEquals" {
		return "to test membership in a list use \"in\" or \"notIn\""
	}
	return ""
}

// checkParamOperand checks a parameters('x') operator value by the
// parameter's declared type, as Azure does when a definition is authored.
func (c *compiler) checkParamOperand(path string, op *operatorSpec, p *ParameterDefinition) bool {
	switch {
	case op.rhs == rhsArray && p.Type != TypeArray:
		c.errs.add(path, "declare the parameter as \"type\": \"Array\"", "'%s' needs an array, but parameter '%s' is of type '%s'", op.name, p.Name, p.Type)
	case op.rhs == rhsScalar && (p.Type == TypeArray || p.Type == TypeObject):
		c.errs.add(path, scalarHint(op), "parameter '%s' is of type '%s', expected type is 'String'", p.Name, p.Type)
	default:
		return true
	}
	return false
}

func isArray(v any) bool {
	_, ok := v.([]any)
	return ok
}

// fieldOperand compiles "field": a name, or an expression that yields one
// (resolved once parameters are bound).
func (c *compiler) fieldOperand(path string, v any) operand {
	s, ok := v.(string)
	if !ok {
		c.errs.add(path, "", "field expects a string, got %s", kindOf(v))
		return nil
	}
	x, good := c.compileString(path, s)
	if !good {
		return nil
	}
	if !x.static {
		if c.bound {
			c.errs.add(path, "", "the field name must be known before evaluation (literals and parameters only)")
			return nil
		}
		c.facts.other = true
		return &fieldOperand{ref: &fieldRef{text: s, kind: fieldAlias, alias: &alias{name: s}}}
	}
	name, isStr := x.val.(string)
	if !isStr {
		c.errs.add(path, "", "field expects a string, got %s", kindOf(x.val))
		return nil
	}
	ref, err := parseFieldRef(name, c.aliases)
	if err != nil {
		c.errs.addErr(path, err)
		return nil
	}
	c.noteField(ref)
	return &fieldOperand{ref: ref}
}

// noteField records the kind of field a condition tests.
func (c *compiler) noteField(ref *fieldRef) {
	switch ref.kind {
	case fieldType:
		c.facts.typ = true
	case fieldName:
		c.facts.name = true
	case fieldKindName:
		c.facts.kind = true
	case fieldLocation:
		c.facts.location, c.facts.other = true, true
	default:
		c.facts.other = true
	}
}

// normalizeLocation lower-cases and removes spaces, so that "East US 2"
// equals "eastus2", in values and in arrays of values.
func normalizeLocation(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ToLower(strings.Join(strings.Fields(v), ""))
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalizeLocation(x)
		}
		return out
	}
	return v
}

// countOperand compiles {"field"|"value", "name"?, "where"?}.
func (c *compiler) countOperand(path string, v any, depth int) operand {
	obj, ok := v.(map[string]any)
	if !ok {
		c.errs.add(path, "", "count expects an object, got %s", kindOf(v))
		return nil
	}
	keys := map[string]string{}
	for _, k := range sortedKeys(obj) {
		name := canonicalKey(k, countKeys)
		if name == "" {
			c.errs.add(joinKey(path, k), didYouMean(k, countKeys), "unknown key %q in count", k)
			return nil
		}
		keys[name] = k
	}
	_, hasField := keys["field"]
	_, hasValue := keys["value"]
	switch {
	case hasField == hasValue:
		c.errs.add(path, "", "count needs exactly one of \"field\" and \"value\"")
		return nil
	case hasField:
		return c.fieldCount(path, obj, keys, depth)
	}
	return c.valueCount(path, obj, keys, depth)
}

func (c *compiler) fieldCount(path string, obj map[string]any, keys map[string]string, depth int) operand {
	if k, ok := keys["name"]; ok {
		c.errs.add(joinKey(path, k), "name a value count only", "a field count has no name")
		return nil
	}
	fpath := joinKey(path, keys["field"])
	fo := c.fieldOperand(fpath, obj[keys["field"]])
	if fo == nil {
		return nil
	}
	ref := fo.(*fieldOperand).ref
	switch {
	case ref.kind == fieldAlias && ref.alias.byType == nil:
		// a name built from parameters: checked once they are bound
		return c.countWhere(path, obj, keys, &countOperand{field: ref}, countScope{field: ref}, depth)
	case ref.kind != fieldAlias:
		c.errs.add(fpath, "count an array alias such as \"...[*]\"", "count.field must be an alias with [*], got %q", ref.text)
		return nil
	case !ref.isWildcard():
		c.errs.add(fpath, fmt.Sprintf("write %q", ref.text+"[*]"), "count.field must be an alias with [*], got %q", ref.text)
		return nil
	}
	if c.fieldCounts[strings.ToLower(ref.alias.name)]++; c.fieldCounts[strings.ToLower(ref.alias.name)] > MaxFieldCountsPerArray {
		c.errs.add(fpath, "", "more than %d field counts of %q", MaxFieldCountsPerArray, ref.alias.name)
		return nil
	}
	op := &countOperand{field: ref}
	return c.countWhere(path, obj, keys, op, countScope{field: ref}, depth)
}

func (c *compiler) valueCount(path string, obj map[string]any, keys map[string]string, depth int) operand {
	if c.valueCounts++; c.valueCounts > MaxValueCounts {
		c.errs.add(path, "", "more than %d value counts in one rule", MaxValueCounts)
		return nil
	}
	vpath := joinKey(path, keys["value"])
	x, ok := c.compileJSON(vpath, obj[keys["value"]])
	if !ok {
		return nil
	}
	if x.static && !isArray(x.val) {
		c.errs.add(vpath, "", "count.value must be an array, got %s", kindOf(x.val))
		return nil
	}
	if x.param != nil && x.param.Type != TypeArray {
		c.errs.add(vpath, "", "count.value must be an array, but parameter '%s' is of type '%s'", x.param.Name, x.param.Type)
		return nil
	}
	name, ok := c.countName(path, obj, keys)
	if !ok {
		return nil
	}
	op := &countOperand{value: x}
	return c.countWhere(path, obj, keys, op, countScope{name: name}, depth)
}

// countName reads a value count's name: alphanumeric, required when the
// count is nested, "default" otherwise.
func (c *compiler) countName(path string, obj map[string]any, keys map[string]string) (string, bool) {
	k, ok := keys["name"]
	if !ok {
		if len(c.scopes) > 0 {
			c.errs.add(path, "add \"name\"", "a count nested in another count needs a name")
			return "", false
		}
		return "default", true
	}
	name, isStr := obj[k].(string)
	if !isStr || name == "" || !isAlphanumeric(name) {
		c.errs.add(joinKey(path, k), "", "count.name must be a non-empty alphanumeric string, got %s", display(obj[k]))
		return "", false
	}
	for _, s := range c.scopes {
		if s.field == nil && strings.EqualFold(s.name, name) {
			c.errs.add(joinKey(path, k), "", "count name %q is already used by an enclosing count", name)
			return "", false
		}
	}
	return name, true
}

func isAlphanumeric(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// countWhere compiles the where of a count with the count in scope.
func (c *compiler) countWhere(path string, obj map[string]any, keys map[string]string, op *countOperand, scope countScope, depth int) operand {
	k, ok := keys["where"]
	if !ok {
		return op
	}
	saved := c.facts
	c.scopes = append(c.scopes, scope)
	op.where = c.constraint(joinKey(path, k), obj[k], depth+1)
	c.scopes = c.scopes[:len(c.scopes)-1]
	c.facts = saved
	c.facts.other = true
	if op.where == nil {
		return nil
	}
	return op
}
