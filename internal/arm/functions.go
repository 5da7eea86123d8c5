package arm

import (
	"fmt"
	"sort"
	"strings"
)

// fnSpec is one template function.
type fnSpec struct {
	name     string // canonical spelling, used in messages
	min, max int    // argument count bounds; max < 0 means unbounded
	lookup   bool   // returns existing data: do not charge its size
	call     func(c *callCtx) (any, error)
}

// callCtx is one call of a function with evaluated arguments.
type callCtx struct {
	e    *Evaluator
	fn   *fnSpec
	args []any
}

// functions maps lower-cased names to specs; it is filled by init to avoid
// an initialization cycle through the specs' bodies.
var functions map[string]*fnSpec

func init() {
	functions = map[string]*fnSpec{}
	for _, group := range [][]*fnSpec{scopeFunctions(), stringFunctions(), logicFunctions(), collectionFunctions(), numericFunctions()} {
		for _, f := range group {
			functions[strings.ToLower(f.name)] = f
		}
	}
}

// functionNames are the canonical names of every supported function.
func functionNames() []string {
	names := make([]string, 0, len(functions))
	for _, f := range functions {
		names = append(names, f.name)
	}
	sort.Strings(names)
	return names
}

// liveStateFunctions are ARM functions that read live Azure state or the
// clock; kiln cannot answer them deterministically.
var liveStateFunctions = map[string]bool{
	"reference": true, "references": true, "list": true, "listkeys": true, "listsecrets": true,
	"listaccountsas": true, "listservicesas": true, "utcnow": true, "newguid": true,
	"deployment": true, "environment": true, "managementgroup": true, "tenant": true,
	"pickzones": true, "providers": true, "deployer": true,
}

// unknownFunction explains why a name is not callable.
func unknownFunction(name string) error {
	lower := strings.ToLower(name)
	if liveStateFunctions[lower] || strings.HasPrefix(lower, "list") {
		return &evalError{
			msg:  fmt.Sprintf("function '%s' is not supported by kiln", name),
			hint: "it reads live Azure state; pass the value in as a parameter",
		}
	}
	err := newEvalError("unknown function '%s'", name)
	err.hint = didYouMean(name, functionNames(), "'")
	return err
}

// call evaluates a function call node.
func (e *Evaluator) call(n *callNode) (any, error) {
	spec, ok := functions[strings.ToLower(n.name)]
	if !ok {
		return nil, unknownFunction(n.name)
	}
	if err := spec.checkCount(len(n.args)); err != nil {
		return nil, err
	}
	if spec.name == "if" {
		return e.callIf(n)
	}
	args := make([]any, len(n.args))
	for i, a := range n.args {
		v, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := spec.call(&callCtx{e: e, fn: spec, args: args})
	if err != nil {
		return nil, err
	}
	if !spec.lookup {
		if err := e.charge(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// callIf evaluates only the branch that the condition selects.
func (e *Evaluator) callIf(n *callNode) (any, error) {
	cond, err := e.eval(n.args[0])
	if err != nil {
		return nil, err
	}
	b, ok := cond.(bool)
	if !ok {
		return nil, newEvalError("function 'if' expects argument 1 to be a bool, got %s", describeType(cond))
	}
	if b {
		return e.eval(n.args[1])
	}
	return e.eval(n.args[2])
}

func (f *fnSpec) checkCount(n int) error {
	switch {
	case f.min == f.max && n != f.min:
		return newEvalError("function '%s' expects %s, got %d", f.name, plural(f.min, "argument"), n)
	case n < f.min:
		return newEvalError("function '%s' expects at least %s, got %d", f.name, plural(f.min, "argument"), n)
	case f.max >= 0 && n > f.max:
		return newEvalError("function '%s' expects at most %s, got %d", f.name, plural(f.max, "argument"), n)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// typeErr is an argument of the wrong type.
func (c *callCtx) typeErr(i int, want string) error {
	return newEvalError("function '%s' expects argument %d to be %s, got %s", c.fn.name, i+1, want, describeType(c.args[i]))
}

// errorf is a failure of this function.
func (c *callCtx) errorf(format string, args ...any) error {
	return newEvalError("function '%s': %s", c.fn.name, fmt.Sprintf(format, args...))
}

func (c *callCtx) str(i int) (string, error) {
	s, ok := c.args[i].(string)
	if !ok {
		return "", c.typeErr(i, "a string")
	}
	return s, nil
}

func (c *callCtx) int(i int) (int64, error) {
	n, ok := c.args[i].(int64)
	if !ok {
		return 0, c.typeErr(i, "an int")
	}
	return n, nil
}

func (c *callCtx) bool(i int) (bool, error) {
	b, ok := c.args[i].(bool)
	if !ok {
		return false, c.typeErr(i, "a bool")
	}
	return b, nil
}

// strs returns every argument from i on as strings.
func (c *callCtx) strs(from int) ([]string, error) {
	out := make([]string, 0, len(c.args)-from)
	for i := from; i < len(c.args); i++ {
		s, err := c.str(i)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// checkLen fails when a string about to be built would be too large.
func (c *callCtx) checkLen(n int) error {
	if n > maxValueWeight {
		return c.errorf("the result would be longer than %d bytes", maxValueWeight)
	}
	return nil
}
