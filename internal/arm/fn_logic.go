package arm

import (
	"strconv"
	"strings"
)

// logicFunctions are conversions, comparisons and boolean logic.
func logicFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "if", min: 3, max: 3, lookup: true}, // evaluated lazily by callIf
		{name: "equals", min: 2, max: 2, call: fnEquals},
		{name: "not", min: 1, max: 1, call: fnNot},
		{name: "and", min: 2, max: -1, call: boolFold(true)},
		{name: "or", min: 2, max: -1, call: boolFold(false)},
		{name: "bool", min: 1, max: 1, call: fnBool},
		{name: "int", min: 1, max: 1, call: fnInt},
		{name: "true", min: 0, max: 0, call: constant(true)},
		{name: "false", min: 0, max: 0, call: constant(false)},
		{name: "null", min: 0, max: 0, call: constant(nil)},
		{name: "coalesce", min: 1, max: -1, lookup: true, call: fnCoalesce},
		{name: "greater", min: 2, max: 2, call: compare(func(c int) bool { return c > 0 })},
		{name: "greaterOrEquals", min: 2, max: 2, call: compare(func(c int) bool { return c >= 0 })},
		{name: "less", min: 2, max: 2, call: compare(func(c int) bool { return c < 0 })},
		{name: "lessOrEquals", min: 2, max: 2, call: compare(func(c int) bool { return c <= 0 })},
	}
}

func constant(v any) func(*callCtx) (any, error) {
	return func(*callCtx) (any, error) { return v, nil }
}

func fnEquals(c *callCtx) (any, error) {
	return equalValues(c.args[0], c.args[1]), nil
}

func fnNot(c *callCtx) (any, error) {
	b, err := c.bool(0)
	return !b, err
}

// boolFold is and (all true) when all is true, or (any true) otherwise.
func boolFold(all bool) func(*callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		result := all
		for i := range c.args {
			b, err := c.bool(i)
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

func fnBool(c *callCtx) (any, error) {
	switch v := c.args[0].(type) {
	case bool:
		return v, nil
	case int64:
		return v != 0, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, c.errorf("cannot convert %q to a bool (expected 'true' or 'false')", v)
	}
	return nil, c.typeErr(0, "a string, an int or a bool")
}

func fnInt(c *callCtx) (any, error) {
	switch v := c.args[0].(type) {
	case int64:
		return v, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, c.errorf("cannot convert %q to an int", v)
		}
		return n, nil
	}
	return nil, c.typeErr(0, "a string or an int")
}

func fnCoalesce(c *callCtx) (any, error) {
	for _, a := range c.args {
		if a != nil {
			return a, nil
		}
	}
	return nil, nil
}

// compare orders two ints or two strings (ordinal) and tests the result.
func compare(test func(int) bool) func(*callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		switch a := c.args[0].(type) {
		case int64:
			b, err := c.int(1)
			if err != nil {
				return nil, err
			}
			return test(cmpInt(a, b)), nil
		case string:
			b, err := c.str(1)
			if err != nil {
				return nil, err
			}
			return test(strings.Compare(a, b)), nil
		}
		return nil, c.typeErr(0, "an int or a string")
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
