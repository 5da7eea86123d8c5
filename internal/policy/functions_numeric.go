package policy

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

func numericFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "add", min: 2, max: 2, call: arith("add", func(a, b int64) (int64, bool) {
			s := a + b
			return s, (s > a) == (b > 0)
		})},
		{name: "sub", min: 2, max: 2, call: arith("sub", func(a, b int64) (int64, bool) {
			s := a - b
			return s, (s < a) == (b > 0)
		})},
		{name: "mul", min: 2, max: 2, call: arith("mul", func(a, b int64) (int64, bool) {
			if a == 0 || b == 0 {
				return 0, true
			}
			p := a * b
			return p, p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
		})},
		{name: "div", min: 2, max: 2, call: divMod("div", func(a, b int64) int64 { return a / b })},
		{name: "mod", min: 2, max: 2, call: divMod("mod", func(a, b int64) int64 { return a % b })},
		{name: "int", min: 1, max: 1, call: fnInt},
		{name: "float", min: 1, max: 1, call: fnFloat},
		{name: "min", min: 1, max: -1, call: extreme("min", func(a, b json.Number) bool { return compareNumbers(a, b) < 0 })},
		{name: "max", min: 1, max: -1, call: extreme("max", func(a, b json.Number) bool { return compareNumbers(a, b) > 0 })},
	}
}

// arith applies an integer operation; ok is false on overflow.
func arith(name string, op func(a, b int64) (int64, bool)) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		a, err := argInt(name, args, 0)
		if err != nil {
			return nil, err
		}
		b, err := argInt(name, args, 1)
		if err != nil {
			return nil, err
		}
		r, ok := op(a, b)
		if !ok {
			return nil, fnErrorf(name, "the result overflows a 64-bit integer")
		}
		return intNumber(r), nil
	}
}

func divMod(name string, op func(a, b int64) int64) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		a, err := argInt(name, args, 0)
		if err != nil {
			return nil, err
		}
		b, err := argInt(name, args, 1)
		if err != nil {
			return nil, err
		}
		if b == 0 {
			return nil, fnErrorf(name, "division by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return nil, fnErrorf(name, "the result overflows a 64-bit integer")
		}
		return intNumber(op(a, b)), nil
	}
}

func fnInt(_ *evalState, args []any) (any, error) {
	switch v := args[0].(type) {
	case json.Number:
		if n, ok := toInt(v); ok {
			return intNumber(n), nil
		}
		_, f, _, ok := numberValue(v)
		if ok && math.Abs(f) < 1<<62 {
			return intNumber(int64(f)), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return intNumber(n), nil
		}
	}
	return nil, fnErrorf("int", "cannot convert %s to an integer", display(args[0]))
}

func fnFloat(_ *evalState, args []any) (any, error) {
	switch v := args[0].(type) {
	case json.Number:
		return v, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return floatNumber(f), nil
		}
	}
	return nil, fnErrorf("float", "cannot convert %s to a number", display(args[0]))
}

// extreme is min or max over integer arguments or one array of them.
func extreme(name string, better func(a, b json.Number) bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		list := args
		if len(args) == 1 {
			if arr, ok := args[0].([]any); ok {
				list = arr
			}
		}
		if len(list) == 0 {
			return nil, fnErrorf(name, "needs at least one number")
		}
		var best json.Number
		for i, x := range list {
			n, ok := x.(json.Number)
			if !ok {
				return nil, argError(name, i, "a number", x)
			}
			if i == 0 || better(n, best) {
				best = n
			}
		}
		return best, nil
	}
}
