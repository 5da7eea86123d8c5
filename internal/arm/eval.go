package arm

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// Size limits keep hostile templates from exhausting memory: one value may
// weigh at most maxValueWeight (string bytes plus one per array element and
// object member), and one evaluation may create at most maxTotalWeight.
const (
	maxValueWeight = 4 << 20
	maxTotalWeight = 64 << 20
)

// DeploymentContext is where a deployment happens: what resourceGroup()
// and subscription() return and what resourceId() fills in.
type DeploymentContext struct {
	SubscriptionID string
	TenantID       string
	ResourceGroup  string
	Location       string // the resource group's location
	// SubscriptionName is subscription().displayName; it defaults to SubscriptionID.
	SubscriptionName string
}

// Evaluator evaluates ARM expressions against parameters, variables and a
// deployment context. Values are JSON-like: string, int64, bool, nil,
// []any and map[string]any (float64 only where a template has a literal
// fraction). An Evaluator is not safe for concurrent use.
type Evaluator struct {
	ctx    DeploymentContext
	params *table
	vars   *table
	errs   Errors // every error recorded, in order
	spent  int    // weight created so far
}

// errReported marks a failure whose Error was already recorded (a variable
// or parameter that failed where it is defined), so callers do not repeat it.
var errReported = errors.New("already reported")

// NewEvaluator returns an evaluator whose parameters() answers from params
// (final values, never evaluated) and whose variables() answers from
// variables (template values, evaluated on first use; cycles are errors).
// Lookups ignore case, as in ARM.
func NewEvaluator(ctx DeploymentContext, params, variables map[string]any) *Evaluator {
	e := &Evaluator{ctx: ctx}
	e.params = newTable("parameter", "parameters")
	for _, name := range sortedKeys(params) {
		e.params.add(name, &entry{raw: normalize(params[name]), literal: true})
	}
	e.vars = newTable("variable", "variables")
	for _, name := range sortedKeys(variables) {
		e.vars.add(name, &entry{raw: normalize(variables[name])})
	}
	return e
}

// Eval evaluates one JSON string value: an expression gives its result
// (of any type), "[[..." gives the literal "[...", anything else itself.
// path names the value in errors. The error, if any, is an Errors.
func (e *Evaluator) Eval(path, s string) (any, error) {
	start := len(e.errs)
	v, _ := e.evalString(path, s)
	return v, e.errs[start:].asError()
}

// EvalValue evaluates every string (object keys included) inside v,
// returning a new value. The error, if any, is an Errors listing each
// failing string by path.
func (e *Evaluator) EvalValue(path string, v any) (any, error) {
	start := len(e.errs)
	out, _ := e.evalValue(path, normalize(v))
	return out, e.errs[start:].asError()
}

// record appends an error unless it was already reported.
func (e *Evaluator) record(path string, err error) {
	if errors.Is(err, errReported) {
		return
	}
	var ee *evalError
	if errors.As(err, &ee) {
		e.errs = append(e.errs, Error{Path: path, Message: ee.msg, Hint: ee.hint})
		return
	}
	e.errs = append(e.errs, Error{Path: path, Message: err.Error()})
}

// evalValue walks v; ok is false when some string inside failed.
func (e *Evaluator) evalValue(path string, v any) (any, bool) {
	switch v := v.(type) {
	case string:
		return e.evalString(path, v)
	case []any:
		return e.evalArray(path, v)
	case map[string]any:
		return e.evalObject(path, v)
	}
	return v, true
}

func (e *Evaluator) evalArray(path string, arr []any) (any, bool) {
	out, ok := make([]any, len(arr)), true
	for i, x := range arr {
		var good bool
		out[i], good = e.evalValue(jsonpath.Index(path, i), x)
		ok = ok && good
	}
	return out, ok
}

func (e *Evaluator) evalObject(path string, obj map[string]any) (any, bool) {
	out, ok := make(map[string]any, len(obj)), true
	for _, k := range sortedKeys(obj) {
		key, good := e.evalKey(path, k)
		val, goodVal := e.evalValue(jsonpath.Key(path, key), obj[k])
		ok = ok && good && goodVal
		if _, dup := out[key]; dup && good {
			e.record(jsonpath.Key(path, key), fmt.Errorf("key %q is produced twice", key))
			ok = false
		}
		out[key] = val
	}
	return out, ok
}

// evalKey evaluates an object key, which must give a string.
func (e *Evaluator) evalKey(path, k string) (string, bool) {
	if !IsExpression(k) {
		return unescapeLiteral(k), true
	}
	v, ok := e.evalString(jsonpath.Key(path, k), k)
	if !ok {
		return k, false
	}
	s, isStr := v.(string)
	if !isStr {
		e.record(jsonpath.Key(path, k), newEvalError("an object key must evaluate to a string, got %s", describeType(v)))
		return k, false
	}
	return s, true
}

// evalString evaluates one string value and records any error at path.
func (e *Evaluator) evalString(path, s string) (any, bool) {
	if !IsExpression(s) {
		return unescapeLiteral(s), true
	}
	x, err := ParseExpression(s)
	if err != nil {
		e.record(path, err)
		return nil, false
	}
	v, err := e.eval(x.root)
	if err != nil {
		e.record(path, err)
		return nil, false
	}
	return v, true
}

// eval evaluates one node.
func (e *Evaluator) eval(n node) (any, error) {
	switch n := n.(type) {
	case *strNode:
		return n.val, nil
	case *intNode:
		return n.val, nil
	case *callNode:
		return e.call(n)
	case *propNode:
		x, err := e.eval(n.x)
		if err != nil {
			return nil, err
		}
		return property(x, n.name)
	case *indexNode:
		return e.index(n)
	}
	return nil, fmt.Errorf("internal error: unknown node %T", n)
}

func (e *Evaluator) index(n *indexNode) (any, error) {
	x, err := e.eval(n.x)
	if err != nil {
		return nil, err
	}
	idx, err := e.eval(n.index)
	if err != nil {
		return nil, err
	}
	switch i := idx.(type) {
	case string:
		return property(x, i)
	case int64:
		return element(x, i)
	}
	return nil, newEvalError("an index must be a string or an int, got %s", describeType(idx))
}

// property reads obj.name: exact key first, then ignoring case.
func property(x any, name string) (any, error) {
	obj, ok := x.(map[string]any)
	if !ok {
		return nil, newEvalError("cannot read property '%s' of %s", name, describeType(x))
	}
	if v, ok := obj[name]; ok {
		return v, nil
	}
	for _, k := range sortedKeys(obj) {
		if strings.EqualFold(k, name) {
			return obj[k], nil
		}
	}
	keys := sortedKeys(obj)
	return nil, &evalError{
		msg:  fmt.Sprintf("property '%s' does not exist", name),
		hint: "available properties: " + strings.Join(keys, ", "),
	}
}

// element reads arr[i].
func element(x any, i int64) (any, error) {
	arr, ok := x.([]any)
	if !ok {
		return nil, newEvalError("cannot index %s with an int", describeType(x))
	}
	if i < 0 || i >= int64(len(arr)) {
		return nil, newEvalError("index %d is out of range (the array has %d elements)", i, len(arr))
	}
	return arr[i], nil
}

// charge accounts for newly created data; it fails past the size limits.
func (e *Evaluator) charge(v any) error {
	w := weight(v, maxValueWeight+1)
	if w > maxValueWeight {
		return newEvalError("value is too large (more than %d bytes)", maxValueWeight)
	}
	e.spent += w
	if e.spent > maxTotalWeight {
		return newEvalError("evaluation creates more than %d bytes of data", maxTotalWeight)
	}
	return nil
}

// weight is the size of v (string bytes, plus one per element or member),
// counted no further than limit.
func weight(v any, limit int) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []any:
		w := len(v)
		for _, x := range v {
			if w > limit {
				break
			}
			w += weight(x, limit-w)
		}
		return w
	case map[string]any:
		w := len(v)
		for k, x := range v {
			if w > limit {
				break
			}
			w += len(k) + weight(x, limit-w)
		}
		return w
	}
	return 1
}

// evalError is an evaluation failure with an optional hint.
type evalError struct {
	msg, hint string
}

func (e *evalError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + " (" + e.hint + ")"
}

func newEvalError(format string, args ...any) *evalError {
	return &evalError{msg: fmt.Sprintf(format, args...)}
}

// typeName is the ARM name of a value's type.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case int64:
		return "int"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// describeType is typeName with an article, for messages.
func describeType(v any) string {
	switch t := typeName(v); t {
	case "null":
		return "null"
	case "int", "array", "object":
		return "an " + t
	default:
		return "a " + t
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// table holds parameters or variables, resolved lazily by name.
type table struct {
	kind    string // "parameter" or "variable"
	section string // JSON path of the section
	entries map[string]*entry
	names   []string // declaration order
}

// entry is one parameter or variable.
type entry struct {
	raw     any
	literal bool                   // raw is final: never evaluate it
	check   func(v any) *evalError // optional check of the evaluated value
	state   entryState
	val     any
}

type entryState int

const (
	pending entryState = iota
	busy
	done
	failed
)

func newTable(kind, section string) *table {
	return &table{kind: kind, section: section, entries: map[string]*entry{}}
}

func (t *table) add(name string, en *entry) {
	t.entries[name] = en
	t.names = append(t.names, name)
}

// find looks name up exactly, then ignoring case.
func (t *table) find(name string) (string, *entry, bool) {
	if en, ok := t.entries[name]; ok {
		return name, en, true
	}
	for _, n := range t.names {
		if strings.EqualFold(n, name) {
			return n, t.entries[n], true
		}
	}
	return "", nil, false
}

// get resolves name, evaluating it on first use.
func (e *Evaluator) get(t *table, name string) (any, error) {
	real, en, ok := t.find(name)
	if !ok {
		err := newEvalError("%s '%s' is not defined", t.kind, name)
		if h := didYouMean(name, t.names, "'"); h != "" {
			err.hint = h
		} else if len(t.names) == 0 {
			err.hint = fmt.Sprintf("the template declares no %ss", t.kind)
		}
		return nil, err
	}
	switch en.state {
	case done:
		return en.val, nil
	case failed:
		return nil, errReported
	case busy:
		return nil, newEvalError("%s '%s' refers to itself (circular reference)", t.kind, real)
	}
	return e.resolve(t, real, en)
}

// resolve evaluates a pending entry and records its errors at its own path.
func (e *Evaluator) resolve(t *table, name string, en *entry) (any, error) {
	en.state = busy
	path := jsonpath.Key(t.section, name)
	val, ok := en.raw, true
	if !en.literal {
		val, ok = e.evalValue(entryPath(t, name, path), en.raw)
	}
	if ok && en.check != nil {
		if err := en.check(val); err != nil {
			e.record(path, err)
			ok = false
		}
	}
	if ok {
		if err := e.charge(val); err != nil {
			e.record(path, err)
			ok = false
		}
	}
	if !ok {
		en.state = failed
		return nil, errReported
	}
	en.state, en.val = done, val
	return val, nil
}

// entryPath is where an entry's template value lives: a parameter's
// default is under "defaultValue".
func entryPath(t *table, name, path string) string {
	if t.kind == "parameter" {
		return jsonpath.Key(path, "defaultValue")
	}
	return path
}
