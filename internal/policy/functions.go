package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Runtime limits on function results, Azure's own.
const (
	// MaxStringLength bounds a string a function returns.
	MaxStringLength = 131072
	// MaxValueNodes bounds the elements and members of a value a function
	// builds.
	MaxValueNodes = 32768
)

// fnSpec is one template function.
type fnSpec struct {
	name     string // canonical spelling
	min, max int    // argument counts; max < 0 is unbounded
	// dynamic functions read the resource, the context or the clock, so
	// they are never folded into constants.
	dynamic bool
	call    func(st *evalState, args []any) (any, error)
	// compile replaces the generic compilation (parameters, field,
	// current, if).
	compile func(c *compiler, n *exprNode) (cexpr, error)
}

// functions maps lower-cased names to specs; filled by init.
var functions = map[string]*fnSpec{}

// functionNames are the canonical names, sorted, for suggestions.
var functionNames []string

func init() {
	for _, group := range [][]*fnSpec{policyFunctions(), logicFunctions(), numericFunctions(),
		stringFunctions(), collectionFunctions(), encodingFunctions()} {
		for _, f := range group {
			functions[strings.ToLower(f.name)] = f
			functionNames = append(functionNames, f.name)
		}
	}
	sort.Strings(functionNames)
}

// refusedFunctions are ARM functions Azure does not allow in a policy rule
// (they are allowed only inside a deployIfNotExists deployment template),
// with what to use instead.
var refusedFunctions = map[string]string{
	"copyindex": "", "datetimeadd": "use addDays(dateTime, days)", "datetimefromepoch": "",
	"datetimetoepoch": "", "deployment": "", "environment": "", "extensionresourceid": "use concat()",
	"lambda": "", "filter": "", "map": "", "reduce": "", "sort": "", "toobject": "", "groupby": "",
	"mapvalues": "", "listaccountsas": "", "listkeys": "", "listsecrets": "", "managementgroup": "",
	"managementgroupresourceid": "use concat()", "newguid": "", "pickzones": "", "providers": "",
	"reference": "", "references": "", "resourceid": "use concat() or field('id')",
	"subscriptionresourceid": "use concat()", "tenantresourceid": "use concat()", "tenant": "",
	"variables": "policy rules have no variables; use parameters()", "deployer": "",
}

// lookupFunction finds a function by name, ignoring case.
func lookupFunction(name string) (*fnSpec, error) {
	lower := strings.ToLower(name)
	if f, ok := functions[lower]; ok {
		return f, nil
	}
	if hint, ok := refusedFunctions[lower]; ok || strings.HasPrefix(lower, "list") {
		return nil, Problem{Message: fmt.Sprintf("function '%s' is not available in a policy rule (Azure refuses it there)", name), Hint: hint}
	}
	return nil, Problem{Message: fmt.Sprintf("unknown function '%s'", name), Hint: didYouMean(name, functionNames)}
}

func (f *fnSpec) checkCount(n int) error {
	switch {
	case f.min == f.max && n != f.min:
		return fmt.Errorf("function '%s' expects %s, got %d", f.name, plural(f.min, "argument"), n)
	case n < f.min:
		return fmt.Errorf("function '%s' expects at least %s, got %d", f.name, plural(f.min, "argument"), n)
	case f.max >= 0 && n > f.max:
		return fmt.Errorf("function '%s' expects at most %s, got %d", f.name, plural(f.max, "argument"), n)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// invoke calls the function and checks the size of its result.
func (f *fnSpec) invoke(st *evalState, args []any) (any, error) {
	v, err := f.call(st, args)
	if err != nil {
		return nil, err
	}
	if err := checkSize(f.name, v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkSize enforces the runtime limits on a function's result.
func checkSize(fn string, v any) error {
	switch v := v.(type) {
	case string:
		if len(v) > MaxStringLength {
			return fmt.Errorf("function '%s' returned a string of %d characters, more than the limit of %d", fn, len(v), MaxStringLength)
		}
	case []any, map[string]any:
		if n := countNodes(v, 0); n > MaxValueNodes {
			return fmt.Errorf("function '%s' returned a value of more than %d elements", fn, MaxValueNodes)
		}
		if depth(v, 0) > MaxValueDepth {
			return fmt.Errorf("function '%s' returned a value nested more than %d levels deep", fn, MaxValueDepth)
		}
	}
	return nil
}

// countNodes counts the elements and members of a value, stopping once
// past the limit.
func countNodes(v any, n int) int {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if n = countNodes(x, n+1); n > MaxValueNodes {
				return n
			}
		}
	case map[string]any:
		for _, x := range v {
			if n = countNodes(x, n+1); n > MaxValueNodes {
				return n
			}
		}
	}
	return n
}

// argError is an argument of the wrong type.
func argError(fn string, i int, want string, got any) error {
	return fmt.Errorf("function '%s' expects argument %d to be %s, got %s", fn, i+1, want, kindOf(got))
}

// fnErrorf is a failure of a function.
func fnErrorf(fn, format string, args ...any) error {
	return fmt.Errorf("function '%s': %s", fn, fmt.Sprintf(format, args...))
}

// argStr reads a string argument; null reads as "".
func argStr(fn string, args []any, i int) (string, error) {
	switch v := args[i].(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	}
	return "", argError(fn, i, "a string", args[i])
}

// argInt reads an integer argument.
func argInt(fn string, args []any, i int) (int64, error) {
	n, ok := toInt(args[i])
	if !ok {
		return 0, argError(fn, i, "an integer", args[i])
	}
	return n, nil
}

func argBool(fn string, args []any, i int) (bool, error) {
	b, ok := args[i].(bool)
	if !ok {
		return false, argError(fn, i, "a boolean", args[i])
	}
	return b, nil
}

// stringify is string(): strings as they are, numbers by lexeme, booleans
// as .NET prints them, null as "", arrays and objects as compact JSON.
func stringify(v any) string {
	if s, ok := scalarString(v); ok {
		return s
	}
	return jsonText(v)
}

func logicFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "if", min: 3, max: 3, compile: compileIf},
		{name: "and", min: 1, max: -1, call: boolFold("and", true)},
		{name: "or", min: 1, max: -1, call: boolFold("or", false)},
		{name: "not", min: 1, max: 1, call: func(_ *evalState, a []any) (any, error) {
			b, err := argBool("not", a, 0)
			return !b, err
		}},
		{name: "bool", min: 1, max: 1, call: fnBool},
		{name: "true", min: 0, max: 0, call: func(*evalState, []any) (any, error) { return true, nil }},
		{name: "false", min: 0, max: 0, call: func(*evalState, []any) (any, error) { return false, nil }},
		{name: "null", min: 0, max: 0, call: func(*evalState, []any) (any, error) { return nil, nil }},
		{name: "equals", min: 2, max: 2, call: func(_ *evalState, a []any) (any, error) { return exactEqual(a[0], a[1]), nil }},
		{name: "less", min: 2, max: 2, call: compareFn("less", func(c int) bool { return c < 0 })},
		{name: "lessOrEquals", min: 2, max: 2, call: compareFn("lessOrEquals", func(c int) bool { return c <= 0 })},
		{name: "greater", min: 2, max: 2, call: compareFn("greater", func(c int) bool { return c > 0 })},
		{name: "greaterOrEquals", min: 2, max: 2, call: compareFn("greaterOrEquals", func(c int) bool { return c >= 0 })},
		{name: "coalesce", min: 1, max: -1, call: fnCoalesce},
	}
}

// boolFold is and (every argument true) or or (some argument true); every
// argument is evaluated, as in ARM.
func boolFold(name string, all bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		result := all
		for i := range args {
			b, err := argBool(name, args, i)
			if err != nil {
				return nil, err
			}
			if b != all {
				result = !all
			}
		}
		return result, nil
	}
}

func fnBool(_ *evalState, args []any) (any, error) {
	switch v := args[0].(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case json.Number:
		n, ok := toInt(v)
		if ok {
			return n != 0, nil
		}
	}
	return nil, fnErrorf("bool", "cannot convert %s to a boolean", display(args[0]))
}

// compareFn orders two integers or two strings (ordinally, as ARM does).
func compareFn(name string, want func(int) bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		switch a := args[0].(type) {
		case json.Number:
			if b, ok := args[1].(json.Number); ok {
				return want(compareNumbers(a, b)), nil
			}
		case string:
			if b, ok := args[1].(string); ok {
				return want(strings.Compare(a, b)), nil
			}
		}
		return nil, fnErrorf(name, "cannot compare %s with %s", kindOf(args[0]), kindOf(args[1]))
	}
}

func fnCoalesce(_ *evalState, args []any) (any, error) {
	for _, a := range args {
		if a != nil {
			return a, nil
		}
	}
	return nil, nil
}
