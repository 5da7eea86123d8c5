package output

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"

	"github.com/jmespath/go-jmespath"
)

// QueryError reports a --query expression that cannot be parsed or evaluated.
type QueryError struct {
	Query  string
	Reason string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("invalid --query %q: %s", e.Query, e.Reason)
}

// applyQuery filters the ordered tree with a JMESPath expression.
//
// go-jmespath works on map[string]any, []any and float64, so the tree is
// converted to that form first. Maps are remembered by identity: a result
// that is (or contains) an object of the input is written back as the
// original ordered object, with its original numbers. Objects built by the
// query itself ({a: x, b: y}) take their key order from the expression.
func applyQuery(tree any, query string) (any, error) {
	jp, err := compileQuery(query)
	if err != nil {
		return nil, &QueryError{Query: query, Reason: err.Error()}
	}
	b := &bridge{origin: map[uintptr]*object{}}
	plain := b.toPlain(tree)
	res, err := search(jp, plain)
	if err != nil {
		return nil, &QueryError{Query: query, Reason: err.Error()}
	}
	b.orders = hashKeyOrders(query)
	out := b.fromPlain(res)
	runtime.KeepAlive(plain) // the identity table holds addresses of its maps
	return out, nil
}

func compileQuery(query string) (jp *jmespath.JMESPath, err error) {
	defer func() {
		if r := recover(); r != nil {
			jp, err = nil, fmt.Errorf("parser failure: %v", r)
		}
	}()
	return jmespath.Compile(query)
}

func search(jp *jmespath.JMESPath, data any) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("evaluation failure: %v", r)
		}
	}()
	return jp.Search(data)
}

// bridge converts between the ordered tree and go-jmespath's plain form.
type bridge struct {
	origin map[uintptr]*object // plain map address -> ordered original
	orders [][]string          // key orders of the query's multi-select hashes
}

func (b *bridge) toPlain(v any) any {
	switch t := v.(type) {
	case *object:
		m := make(map[string]any, len(t.keys))
		for _, k := range t.keys {
			m[k] = b.toPlain(t.vals[k])
		}
		b.origin[reflect.ValueOf(m).Pointer()] = t
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = b.toPlain(e)
		}
		return s
	case json.Number:
		return plainNumber(t)
	}
	return v
}

// plainNumber gives JMESPath a float64 when that loses nothing; an integer
// too large for a float64 stays a json.Number, so it is printed intact but
// cannot take part in numeric comparisons.
func plainNumber(n json.Number) any {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return n
	}
	if isIntegerText(string(n)) && strconv.FormatFloat(f, 'f', -1, 64) != string(n) {
		return n
	}
	return f
}

func isIntegerText(s string) bool {
	for _, r := range s {
		if r == '.' || r == 'e' || r == 'E' {
			return false
		}
	}
	return true
}

func (b *bridge) fromPlain(v any) any {
	switch t := v.(type) {
	case nil, bool, string, json.Number:
		return t
	case float64:
		return numberOf(t)
	case map[string]any:
		if o, ok := b.origin[reflect.ValueOf(t).Pointer()]; ok {
			return o
		}
		return b.newObject(t)
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = b.fromPlain(e)
		}
		return s
	}
	return foreign(v)
}

func (b *bridge) newObject(m map[string]any) *object {
	keys := b.keyOrder(m)
	o := newObject(len(keys))
	for _, k := range keys {
		o.set(k, b.fromPlain(m[k]))
	}
	return o
}

// keyOrder returns the keys of a map built by the query: in the order of the
// first multi-select hash with exactly these keys, otherwise sorted.
func (b *bridge) keyOrder(m map[string]any) []string {
	for _, order := range b.orders {
		if sameKeys(order, m) {
			return order
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sameKeys(order []string, m map[string]any) bool {
	if len(order) != len(m) {
		return false
	}
	for _, k := range order {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// numberOf formats a float64 as encoding/json does (integers without a
// fraction or exponent), so unchanged numbers print as they were marshalled.
func numberOf(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	return json.Number(raw)
}

// foreign converts any other value a JMESPath function may return.
func foreign(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	out, err := decodeOrdered(raw)
	if err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// hashKeyOrders lists the keys of every multi-select hash ({k1: e1, k2: e2})
// in the expression, in source order. go-jmespath builds those objects as Go
// maps, which lose the order; its AST keeps it in unexported fields, read
// here by reflection. If the AST ever changes shape, the result is empty and
// such objects fall back to sorted keys.
func hashKeyOrders(query string) (orders [][]string) {
	defer func() {
		if recover() != nil {
			orders = nil
		}
	}()
	ast, err := jmespath.NewParser().Parse(query)
	if err != nil {
		return nil
	}
	collectHashOrders(reflect.ValueOf(ast), &orders)
	return orders
}

func collectHashOrders(node reflect.Value, out *[][]string) {
	if node.Kind() != reflect.Struct {
		return
	}
	kind, children := node.FieldByName("nodeType"), node.FieldByName("children")
	if !kind.IsValid() || !kind.CanInt() || children.Kind() != reflect.Slice {
		return
	}
	if kind.Int() == int64(jmespath.ASTMultiSelectHash) {
		keys := make([]string, 0, children.Len())
		for i := range children.Len() {
			if k, ok := nodeStringValue(children.Index(i)); ok {
				keys = append(keys, k)
			}
		}
		*out = append(*out, keys)
	}
	for i := range children.Len() {
		collectHashOrders(children.Index(i), out)
	}
}

func nodeStringValue(node reflect.Value) (string, bool) {
	if node.Kind() != reflect.Struct {
		return "", false
	}
	v := node.FieldByName("value")
	if v.Kind() != reflect.Interface || v.IsNil() || v.Elem().Kind() != reflect.String {
		return "", false
	}
	return v.Elem().String(), true
}
