package policy

import (
	"fmt"
)

// node is one compiled constraint.
type node interface {
	eval(st *evalState) (bool, error)
}

type allOfNode struct {
	path string
	kids []node
}

func (n *allOfNode) eval(st *evalState) (bool, error) {
	mark := st.trace.open(n.path, "allOf", "")
	first := st.trace.size()
	for _, k := range n.kids {
		start := st.trace.size()
		ok, err := k.eval(st)
		if err != nil || !ok {
			st.trace.undecide(first, start)
			st.trace.close(mark, false, err)
			return false, err
		}
	}
	st.trace.close(mark, true, nil)
	return true, nil
}

type anyOfNode struct {
	path string
	kids []node
}

func (n *anyOfNode) eval(st *evalState) (bool, error) {
	mark := st.trace.open(n.path, "anyOf", "")
	first := st.trace.size()
	for _, k := range n.kids {
		start := st.trace.size()
		ok, err := k.eval(st)
		if err != nil || ok {
			st.trace.undecide(first, start)
			st.trace.close(mark, ok, err)
			return ok, err
		}
	}
	st.trace.close(mark, false, nil)
	return false, nil
}

type notNode struct {
	path string
	kid  node
}

func (n *notNode) eval(st *evalState) (bool, error) {
	mark := st.trace.open(n.path, "not", "")
	ok, err := n.kid.eval(st)
	if err != nil {
		st.trace.close(mark, false, err)
		return false, err
	}
	st.trace.close(mark, !ok, nil)
	return !ok, nil
}

// constNode is a condition replaced by a constant (applicability).
type constNode bool

func (n constNode) eval(*evalState) (bool, error) { return bool(n), nil }

// operand is the left-hand side of a condition.
type operand interface {
	read(st *evalState) (fieldValue, error)
	kind() string // field, value or count
}

// fieldOperand is "field": <name>.
type fieldOperand struct {
	ref       *fieldRef
	normalize func(any) any // location normalization, nil otherwise
}

func (o *fieldOperand) kind() string { return "field" }

func (o *fieldOperand) read(st *evalState) (fieldValue, error) {
	v := o.ref.read(st, st.res, true)
	if o.normalize != nil {
		v.single = o.normalize(v.single)
		for i, e := range v.elems {
			v.elems[i] = o.normalize(e)
		}
	}
	return v, nil
}

// valueOperand is "value": <json or expression>.
type valueOperand struct {
	expr cexpr
}

func (o *valueOperand) kind() string { return "value" }

func (o *valueOperand) read(st *evalState) (fieldValue, error) {
	v, err := o.expr.eval(st)
	return fieldValue{single: v}, err
}

// condNode is a leaf condition: an operand, an operator and its value.
type condNode struct {
	path     string
	text     string // the condition as written, for traces
	lhs      operand
	op       *operatorSpec
	rhs      cexpr
	prepared matcher       // when the operator's value is constant
	rhsNorm  func(any) any // normalization of the operator's value (location)
}

func (n *condNode) eval(st *evalState) (bool, error) {
	mark := st.trace.open(n.path, n.lhs.kind(), n.text)
	ok, left, right, err := n.test(st)
	st.trace.values(mark, left, right)
	if err != nil {
		err = fmt.Errorf("%s: %w", n.path, err)
	}
	st.trace.close(mark, ok, err)
	return ok, err
}

// test evaluates the condition; left and right are the values it compared.
func (n *condNode) test(st *evalState) (ok bool, left, right any, err error) {
	lv, err := n.lhs.read(st)
	left = lv.single
	if lv.many {
		left = lv.elems
	}
	if err != nil {
		return false, left, nil, err
	}
	m, right, err := n.matcher(st)
	if err != nil {
		return false, left, right, err
	}
	if !lv.many {
		ok, err = n.apply(m, lv.single)
		return ok, left, right, err
	}
	if !lv.ok {
		return false, left, right, nil // a missing array: the implicit allOf is false
	}
	for _, e := range lv.elems {
		if ok, err = n.apply(m, e); err != nil || !ok {
			return false, left, right, err
		}
	}
	return true, left, right, nil
}

func (n *condNode) matcher(st *evalState) (matcher, any, error) {
	if n.prepared != nil {
		return n.prepared, n.rhs.val, nil
	}
	r, err := n.rhs.eval(st)
	if err != nil {
		return nil, r, err
	}
	if n.rhsNorm != nil {
		r = n.rhsNorm(r)
	}
	m, err := n.op.prepare(r)
	return m, r, err
}

// apply runs the matcher, negated for the not- operators (including when
// the value is missing: notEquals on a missing field is true).
func (n *condNode) apply(m matcher, v any) (bool, error) {
	ok, err := m(v)
	if err != nil {
		return false, err
	}
	return ok != n.op.negate, nil
}
