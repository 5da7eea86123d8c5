package policy

import (
	"fmt"
)

// MaxValueCountIterations bounds the iterations of one value count, nested
// value counts multiplying, as Azure does.
const MaxValueCountIterations = 100

// binding is a count's current element while its where is evaluated.
type binding struct {
	elem any
	path *fieldPath // field count: the counted path; nil for a value count
}

// binding returns the innermost field-count binding whose counted path is
// a prefix of p.
func (st *evalState) binding(p *fieldPath) *binding {
	for i := len(st.scopes) - 1; i >= 0; i-- {
		b := &st.scopes[i]
		if b.path != nil && p.hasPrefix(b.path) {
			return b
		}
	}
	return nil
}

// valueProduct is the product of the lengths of the value counts being
// iterated, 1 outside any.
func (st *evalState) valueProduct() int {
	return max(st.iterations, 1)
}

// countOperand is "count": {field|value, name?, where?}.
type countOperand struct {
	field *fieldRef // field count
	value cexpr     // value count
	where node      // nil counts every element
}

func (o *countOperand) kind() string { return "count" }

func (o *countOperand) read(st *evalState) (fieldValue, error) {
	var n int
	var err error
	if o.field != nil {
		n, err = o.countField(st)
	} else {
		n, err = o.countValue(st)
	}
	if err != nil {
		return fieldValue{single: missing}, err
	}
	return fieldValue{single: intNumber(int64(n))}, nil
}

// countField counts the elements of a [*] alias; a missing array counts 0.
func (o *countOperand) countField(st *evalState) (int, error) {
	p := st.res.aliasPath(o.field.alias, st.apiVersion())
	if p == nil {
		return 0, nil
	}
	elems := o.field.read(st, st.res, false).asArray()
	if o.where == nil {
		return len(elems), nil
	}
	return o.countWhere(st, elems, p)
}

// countValue counts the elements of an array value.
func (o *countOperand) countValue(st *evalState) (int, error) {
	v, err := o.value.eval(st)
	if err != nil {
		return 0, err
	}
	elems, ok := v.([]any)
	if !ok {
		return 0, fmt.Errorf("count.value must be an array, got %s", kindOf(v))
	}
	if o.where == nil {
		return len(elems), nil
	}
	product := st.valueProduct() * len(elems)
	if product > MaxValueCountIterations {
		return 0, fmt.Errorf("value count iterates %d times, more than the limit of %d (nested counts multiply)", product, MaxValueCountIterations)
	}
	saved := st.iterations
	st.iterations = product
	defer func() { st.iterations = saved }()
	return o.countWhere(st, elems, nil)
}

// countWhere evaluates where once per element, untraced.
func (o *countOperand) countWhere(st *evalState, elems []any, counted *fieldPath) (int, error) {
	saved := st.trace
	st.trace = nil
	defer func() { st.trace = saved }()
	n := 0
	for _, e := range elems {
		st.scopes = append(st.scopes, binding{elem: e, path: counted})
		ok, err := o.where.eval(st)
		st.scopes = st.scopes[:len(st.scopes)-1]
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
