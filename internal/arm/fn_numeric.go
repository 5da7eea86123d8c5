package arm

import "math"

// numericFunctions are 64-bit integer arithmetic; overflow and division by
// zero are errors.
func numericFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "add", min: 2, max: 2, call: arith(addInt)},
		{name: "sub", min: 2, max: 2, call: arith(subInt)},
		{name: "mul", min: 2, max: 2, call: arith(mulInt)},
		{name: "div", min: 2, max: 2, call: arith(divInt)},
		{name: "mod", min: 2, max: 2, call: arith(modInt)},
		{name: "min", min: 1, max: -1, call: extreme(func(a, b int64) bool { return a < b })},
		{name: "max", min: 1, max: -1, call: extreme(func(a, b int64) bool { return a > b })},
	}
}

// arith lifts a binary operation that reports failure as a message.
func arith(op func(a, b int64) (int64, string)) func(*callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		a, err := c.int(0)
		if err != nil {
			return nil, err
		}
		b, err := c.int(1)
		if err != nil {
			return nil, err
		}
		r, problem := op(a, b)
		if problem != "" {
			return nil, c.errorf("%s", problem)
		}
		return r, nil
	}
}

const overflow = "integer overflow"

func addInt(a, b int64) (int64, string) {
	if b > 0 && a > math.MaxInt64-b || b < 0 && a < math.MinInt64-b {
		return 0, overflow
	}
	return a + b, ""
}

func subInt(a, b int64) (int64, string) {
	if b < 0 && a > math.MaxInt64+b || b > 0 && a < math.MinInt64+b {
		return 0, overflow
	}
	return a - b, ""
}

func mulInt(a, b int64) (int64, string) {
	if a == 0 || b == 0 {
		return 0, ""
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, overflow
	}
	return r, ""
}

func divInt(a, b int64) (int64, string) {
	switch {
	case b == 0:
		return 0, "division by zero"
	case a == math.MinInt64 && b == -1:
		return 0, overflow
	}
	return a / b, ""
}

func modInt(a, b int64) (int64, string) {
	if b == 0 {
		return 0, "division by zero"
	}
	if b == -1 {
		return 0, ""
	}
	return a % b, ""
}

// extreme is min or max over ints and arrays of ints.
func extreme(better func(a, b int64) bool) func(*callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		var best int64
		found := false
		for i, a := range c.args {
			vals, ok := intsOf(a)
			if !ok {
				return nil, c.typeErr(i, "an int or an array of ints")
			}
			for _, v := range vals {
				if !found || better(v, best) {
					best, found = v, true
				}
			}
		}
		if !found {
			return nil, c.errorf("needs at least one int")
		}
		return best, nil
	}
}

func intsOf(v any) ([]int64, bool) {
	switch v := v.(type) {
	case int64:
		return []int64{v}, true
	case []any:
		out := make([]int64, len(v))
		for i, x := range v {
			n, ok := x.(int64)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	return nil, false
}
