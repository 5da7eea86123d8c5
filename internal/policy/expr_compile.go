package policy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MaxFunctions bounds the function calls in one definition, as Azure does.
const MaxFunctions = 2048

// evalFn computes a value during evaluation.
type evalFn func(st *evalState) (any, error)

// cexpr is a compiled JSON value or expression: a constant when static,
// else a function of the evaluation state.
type cexpr struct {
	static bool
	val    any
	fn     evalFn
	// param is set when the expression is exactly parameters('x') before
	// values are bound, so that authoring checks know its declared type.
	param *ParameterDefinition
}

func constant(v any) cexpr { return cexpr{static: true, val: v} }

func (c cexpr) eval(st *evalState) (any, error) {
	if c.static {
		return c.val, nil
	}
	return c.fn(st)
}

// errUnbound is what an expression over parameters returns before values
// are bound; it is never evaluated.
func errUnbound(*evalState) (any, error) {
	return nil, fmt.Errorf("parameters are not bound")
}

// compileString compiles one JSON string: an expression, a "[[" literal or
// a plain string.
func (c *compiler) compileString(path, s string) (cexpr, bool) {
	if !isExpression(s) {
		return constant(unescapeLiteral(s)), true
	}
	n, err := parseExpression(s)
	if err != nil {
		c.errs.add(path, "", "%v", err)
		return cexpr{}, false
	}
	x, err := c.expr(n)
	if err != nil {
		c.errs.addErr(path, fmt.Errorf("in %s: %w", shorten(s), err))
		return cexpr{}, false
	}
	return x, true
}

// compileJSON compiles a JSON value whose strings may be expressions.
func (c *compiler) compileJSON(path string, v any) (cexpr, bool) {
	switch v := v.(type) {
	case string:
		return c.compileString(path, v)
	case []any:
		return c.compileArray(path, v)
	case map[string]any:
		return c.compileObject(path, v)
	}
	return constant(v), true
}

func (c *compiler) compileArray(path string, arr []any) (cexpr, bool) {
	parts, static, ok := make([]cexpr, len(arr)), true, true
	for i, x := range arr {
		var good bool
		parts[i], good = c.compileJSON(joinIndex(path, i), x)
		ok = ok && good
		static = static && parts[i].static
	}
	if !ok || static {
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p.val
		}
		return constant(out), ok
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		out := make([]any, len(parts))
		for i, p := range parts {
			v, err := p.eval(st)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}}, true
}

func (c *compiler) compileObject(path string, obj map[string]any) (cexpr, bool) {
	keys := sortedKeys(obj)
	parts, static, ok := make([]cexpr, len(keys)), true, true
	for i, k := range keys {
		var good bool
		parts[i], good = c.compileJSON(joinKey(path, k), obj[k])
		ok = ok && good
		static = static && parts[i].static
	}
	if !ok || static {
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[k] = parts[i].val
		}
		return constant(out), ok
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			v, err := parts[i].eval(st)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}}, true
}

// expr compiles an expression node.
func (c *compiler) expr(n *exprNode) (cexpr, error) {
	switch n.kind {
	case exprLiteral:
		return constant(n.val), nil
	case exprProperty:
		return c.access(n, func(v any, _ any) (any, error) { return propertyOf(v, n.name) }, nil)
	case exprIndex:
		idx, err := c.expr(n.args[1])
		if err != nil {
			return cexpr{}, err
		}
		return c.access(n, indexOf, &idx)
	}
	return c.call(n)
}

// access compiles a property access or an index.
func (c *compiler) access(n *exprNode, get func(v, idx any) (any, error), idx *cexpr) (cexpr, error) {
	target, err := c.expr(n.args[0])
	if err != nil {
		return cexpr{}, err
	}
	if target.static && (idx == nil || idx.static) {
		var iv any
		if idx != nil {
			iv = idx.val
		}
		v, err := get(target.val, iv)
		switch {
		case err != nil && c.lazy > 0:
			return cexpr{fn: func(*evalState) (any, error) { return nil, err }}, nil
		case err != nil:
			return cexpr{}, err
		}
		return constant(v), nil
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		v, err := target.eval(st)
		if err != nil {
			return nil, err
		}
		var iv any
		if idx != nil {
			if iv, err = idx.eval(st); err != nil {
				return nil, err
			}
		}
		return get(v, iv)
	}}, nil
}

// propertyOf is v.name: a property of an object, ignoring case.
func propertyOf(v any, name string) (any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("cannot read property '%s' of %s", name, kindOf(v))
	}
	x, ok := lookupKey(obj, name)
	if !ok {
		return nil, fmt.Errorf("the object has no property '%s'", name)
	}
	return x, nil
}

// indexOf is v[idx]: an array element or an object property.
func indexOf(v, idx any) (any, error) {
	switch v := v.(type) {
	case []any:
		i, ok := toInt(idx)
		if !ok {
			return nil, fmt.Errorf("an array index must be an integer, got %s", kindOf(idx))
		}
		if i < 0 || i >= int64(len(v)) {
			return nil, fmt.Errorf("index %d is out of range for an array of %d elements", i, len(v))
		}
		return v[i], nil
	case map[string]any:
		k, ok := idx.(string)
		if !ok {
			return nil, fmt.Errorf("an object key must be a string, got %s", kindOf(idx))
		}
		return propertyOf(v, k)
	}
	return nil, fmt.Errorf("cannot index %s", kindOf(v))
}

// call compiles a function call.
func (c *compiler) call(n *exprNode) (cexpr, error) {
	spec, err := lookupFunction(n.name)
	if err != nil {
		return cexpr{}, err
	}
	if err := spec.checkCount(len(n.args)); err != nil {
		return cexpr{}, err
	}
	if c.functions++; c.functions > MaxFunctions {
		return cexpr{}, fmt.Errorf("the definition calls more than %d functions", MaxFunctions)
	}
	if spec.compile != nil {
		return spec.compile(c, n)
	}
	args := make([]cexpr, len(n.args))
	static := !spec.dynamic
	for i, a := range n.args {
		if args[i], err = c.expr(a); err != nil {
			return cexpr{}, err
		}
		static = static && args[i].static
	}
	if static {
		return c.fold(spec, args)
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		vals := make([]any, len(args))
		for i, a := range args {
			v, err := a.eval(st)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		return spec.invoke(st, vals)
	}}, nil
}

// fold calls a function of constants once, at compile time. Inside an
// if() branch a failure waits for evaluation, since the branch may not
// be taken.
func (c *compiler) fold(spec *fnSpec, args []cexpr) (cexpr, error) {
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.val
	}
	v, err := spec.invoke(nil, vals)
	switch {
	case err != nil && c.lazy > 0:
		return cexpr{fn: func(*evalState) (any, error) { return nil, err }}, nil
	case err != nil:
		return cexpr{}, err
	}
	return constant(v), nil
}

// staticString compiles an argument that must be known before evaluation
// (a parameter name, a field name). ok is false, with no error, when it
// depends on parameters that are not bound yet.
func (c *compiler) staticString(fn string, n *exprNode) (s string, ok bool, err error) {
	x, err := c.expr(n)
	if err != nil {
		return "", false, err
	}
	if !x.static {
		if !c.bound {
			return "", false, nil
		}
		return "", false, fmt.Errorf("function '%s' needs a name known before evaluation (literals and parameters only)", fn)
	}
	s, isStr := x.val.(string)
	if !isStr {
		return "", false, fmt.Errorf("function '%s' expects a string, got %s", fn, kindOf(x.val))
	}
	return s, true, nil
}

// compileParameters is parameters('name').
func compileParameters(c *compiler, n *exprNode) (cexpr, error) {
	name, ok, err := c.staticString("parameters", n.args[0])
	if err != nil || !ok {
		return cexpr{fn: errUnbound}, err
	}
	p, found := c.param(name)
	if !found {
		return cexpr{}, Problem{Message: fmt.Sprintf("parameter '%s' is used but not defined", name), Hint: didYouMean(name, c.paramNames())}
	}
	if !c.bound {
		return cexpr{fn: errUnbound, param: p}, nil
	}
	return constant(c.values[strings.ToLower(p.Name)]), nil
}

// compileField is field('name'): the value of a field or alias on the
// evaluated resource (the if-resource inside an existence condition).
func compileField(c *compiler, n *exprNode) (cexpr, error) {
	name, ok, err := c.staticString("field", n.args[0])
	if err != nil || !ok {
		return cexpr{fn: errUnbound}, err
	}
	ref, err := parseFieldRef(name, c.aliases)
	if err != nil {
		return cexpr{}, err
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		res := st.res
		if st.ifRes != nil {
			res = st.ifRes
		}
		v := ref.read(st, res, false)
		if v.arrayish {
			return v.asArray(), nil
		}
		if isMissing(v.single) {
			return nil, nil
		}
		return v.single, nil
	}}, nil
}

// compileIf evaluates only the branch its condition selects.
func compileIf(c *compiler, n *exprNode) (cexpr, error) {
	parts := make([]cexpr, 3)
	for i := range parts {
		if i == 1 {
			c.lazy++ // a branch fails only if it is taken
			defer func() { c.lazy-- }()
		}
		var err error
		if parts[i], err = c.expr(n.args[i]); err != nil {
			return cexpr{}, err
		}
	}
	choose := func(cond any) (cexpr, error) {
		b, ok := cond.(bool)
		if !ok {
			return cexpr{}, fmt.Errorf("function 'if' expects argument 1 to be a boolean, got %s", kindOf(cond))
		}
		if b {
			return parts[1], nil
		}
		return parts[2], nil
	}
	if parts[0].static {
		return choose(parts[0].val)
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		cond, err := parts[0].eval(st)
		if err != nil {
			return nil, err
		}
		branch, err := choose(cond)
		if err != nil {
			return nil, err
		}
		return branch.eval(st)
	}}, nil
}

// compileCurrent is current() and current('name'): the element a count's
// where is evaluated for.
func compileCurrent(c *compiler, n *exprNode) (cexpr, error) {
	if len(c.scopes) == 0 {
		return cexpr{}, fmt.Errorf("current() is only valid inside the where of a count")
	}
	if len(n.args) == 0 {
		if len(c.scopes) > 1 {
			return cexpr{}, fmt.Errorf("current() without a name is only valid in a count that is not nested; name the count and write current('<name>')")
		}
		return currentElement(0), nil
	}
	name, ok, err := c.staticString("current", n.args[0])
	if err != nil || !ok {
		return cexpr{fn: errUnbound}, err
	}
	return c.currentNamed(name)
}

func currentElement(idx int) cexpr {
	return cexpr{fn: func(st *evalState) (any, error) {
		if idx >= len(st.scopes) {
			return nil, fmt.Errorf("current() outside its count")
		}
		return st.scopes[idx].elem, nil
	}}
}

// currentNamed resolves current('name') to a value count by name or to a
// field count whose alias the name is (or is a property of).
func (c *compiler) currentNamed(name string) (cexpr, error) {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		s := c.scopes[i]
		if s.field == nil && strings.EqualFold(s.name, name) {
			return currentElement(i), nil
		}
		if s.field != nil && aliasUnder(name, s.field.alias.name) {
			return c.currentAlias(i, name)
		}
	}
	return cexpr{}, Problem{Message: fmt.Sprintf("current('%s') names no enclosing count", name), Hint: didYouMean(name, c.scopeNames())}
}

// aliasUnder reports whether name is the counted alias or one of its
// properties ("...rules[*]" and "...rules[*].direction").
func aliasUnder(name, counted string) bool {
	return strings.EqualFold(name, counted) ||
		len(name) > len(counted) && strings.EqualFold(name[:len(counted)], counted) && name[len(counted)] == '.'
}

func (c *compiler) currentAlias(idx int, name string) (cexpr, error) {
	ref, err := parseFieldRef(name, c.aliases)
	if err != nil {
		return cexpr{}, err
	}
	return cexpr{fn: func(st *evalState) (any, error) {
		if idx >= len(st.scopes) {
			return nil, fmt.Errorf("current('%s') outside its count", name)
		}
		b := st.scopes[idx]
		p := st.res.aliasPath(ref.alias, st.apiVersion())
		if p == nil || b.path == nil || !p.hasPrefix(b.path) {
			return nil, nil
		}
		if hasWildcardFrom(p, len(b.path.segs)) {
			elems, _ := p.collect(b.elem, len(b.path.segs), false)
			return elems, nil
		}
		v := p.single(b.elem, len(b.path.segs))
		if isMissing(v) {
			return nil, nil
		}
		return v, nil
	}}, nil
}

// scopeNames lists the names current() accepts here.
func (c *compiler) scopeNames() []string {
	var out []string
	for _, s := range c.scopes {
		if s.field != nil {
			out = append(out, s.field.alias.name)
		} else {
			out = append(out, s.name)
		}
	}
	return out
}

// jsonText renders a value as compact JSON without HTML escaping.
func jsonText(v any) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
