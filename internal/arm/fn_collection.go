package arm

import (
	"math"
	"strings"
	"unicode/utf8"
)

// collectionFunctions work on arrays, objects, and strings as sequences.
func collectionFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "concat", min: 1, max: -1, call: fnConcat},
		{name: "union", min: 1, max: -1, call: fnUnion},
		{name: "createArray", min: 0, max: -1, call: fnCreateArray},
		{name: "createObject", min: 0, max: -1, call: fnCreateObject},
		{name: "contains", min: 2, max: 2, call: fnContains},
		{name: "empty", min: 1, max: 1, call: fnEmpty},
		{name: "length", min: 1, max: 1, call: fnLength},
		{name: "first", min: 1, max: 1, lookup: true, call: fnFirst},
		{name: "last", min: 1, max: 1, lookup: true, call: fnLast},
		{name: "skip", min: 2, max: 2, call: sliceFn(func(n, k int) (int, int) { return k, n })},
		{name: "take", min: 2, max: 2, call: sliceFn(func(n, k int) (int, int) { return 0, k })},
		{name: "join", min: 2, max: 2, call: fnJoin},
		{name: "range", min: 2, max: 2, call: fnRange},
	}
}

// fnConcat joins arrays into an array, or strings (and ints and bools,
// printed) into a string.
func fnConcat(c *callCtx) (any, error) {
	if _, ok := c.args[0].([]any); ok {
		return c.concatArrays()
	}
	return c.concatStrings()
}

func (c *callCtx) concatArrays() (any, error) {
	out := []any{}
	for i, a := range c.args {
		arr, ok := a.([]any)
		if !ok {
			return nil, c.typeErr(i, "an array like argument 1")
		}
		out = append(out, arr...)
	}
	return out, nil
}

func (c *callCtx) concatStrings() (any, error) {
	parts := make([]string, len(c.args))
	total := 0
	for i, a := range c.args {
		switch a.(type) {
		case string, int64, bool:
			parts[i] = display(a)
			total += len(parts[i])
		default:
			return nil, c.typeErr(i, "a string, an int or a bool like argument 1")
		}
	}
	if err := c.checkLen(total); err != nil {
		return nil, err
	}
	return strings.Join(parts, ""), nil
}

// fnUnion merges objects (later keys win, nested objects merge) or joins
// arrays without duplicates, keeping first occurrences in order.
func fnUnion(c *callCtx) (any, error) {
	if _, ok := c.args[0].([]any); ok {
		return c.unionArrays()
	}
	out := map[string]any{}
	for i, a := range c.args {
		obj, ok := a.(map[string]any)
		if !ok {
			return nil, c.typeErr(i, "an object or an array like argument 1")
		}
		out = mergeObjects(out, obj)
	}
	return out, nil
}

func mergeObjects(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		prev, okPrev := out[k].(map[string]any)
		next, okNext := v.(map[string]any)
		if okPrev && okNext {
			out[k] = mergeObjects(prev, next)
			continue
		}
		out[k] = v
	}
	return out
}

func (c *callCtx) unionArrays() (any, error) {
	out, seen := []any{}, map[string]bool{}
	for i, a := range c.args {
		arr, ok := a.([]any)
		if !ok {
			return nil, c.typeErr(i, "an array like argument 1")
		}
		for _, x := range arr {
			key := toJSON(x)
			if !seen[key] {
				seen[key] = true
				out = append(out, x)
			}
		}
	}
	return out, nil
}

func fnCreateArray(c *callCtx) (any, error) {
	return append([]any{}, c.args...), nil
}

func fnCreateObject(c *callCtx) (any, error) {
	if len(c.args)%2 != 0 {
		return nil, c.errorf("expects key, value pairs, got %d arguments", len(c.args))
	}
	out := make(map[string]any, len(c.args)/2)
	for i := 0; i < len(c.args); i += 2 {
		k, err := c.str(i)
		if err != nil {
			return nil, err
		}
		out[k] = c.args[i+1]
	}
	return out, nil
}

// fnContains tests a substring (case-sensitive), an array element, or an
// object key (case-insensitive).
func fnContains(c *callCtx) (any, error) {
	switch v := c.args[0].(type) {
	case string:
		s, ok := c.args[1].(string)
		if !ok {
			return nil, c.typeErr(1, "a string")
		}
		return strings.Contains(v, s), nil
	case []any:
		for _, x := range v {
			if equalValues(x, c.args[1]) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		k, err := c.str(1)
		if err != nil {
			return nil, err
		}
		_, err = property(v, k)
		return err == nil, nil
	}
	return nil, c.typeErr(0, "a string, an array or an object")
}

func fnEmpty(c *callCtx) (any, error) {
	if c.args[0] == nil {
		return true, nil
	}
	n, err := c.size(0)
	return n == 0, err
}

func fnLength(c *callCtx) (any, error) {
	n, err := c.size(0)
	return int64(n), err
}

// size is the character count of a string or the length of an array or object.
func (c *callCtx) size(i int) (int, error) {
	switch v := c.args[i].(type) {
	case string:
		return utf8.RuneCountInString(v), nil
	case []any:
		return len(v), nil
	case map[string]any:
		return len(v), nil
	}
	return 0, c.typeErr(i, "a string, an array or an object")
}

func fnFirst(c *callCtx) (any, error) {
	return c.end(func(n int) int { return 0 })
}

func fnLast(c *callCtx) (any, error) {
	return c.end(func(n int) int { return n - 1 })
}

// end picks one element of an array or one character of a string; it is
// null for an empty array and "" for an empty string.
func (c *callCtx) end(pick func(n int) int) (any, error) {
	switch v := c.args[0].(type) {
	case []any:
		if len(v) == 0 {
			return nil, nil
		}
		return v[pick(len(v))], nil
	case string:
		r := []rune(v)
		if len(r) == 0 {
			return "", nil
		}
		return string(r[pick(len(r))]), nil
	}
	return nil, c.typeErr(0, "an array or a string")
}

// sliceFn implements skip and take: bounds maps (length, count) to [from, to).
func sliceFn(bounds func(n, k int) (int, int)) func(*callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		k64, err := c.int(1)
		if err != nil {
			return nil, err
		}
		clamp := func(n int) (int, int) {
			k := int(max(0, min(k64, int64(n))))
			return bounds(n, k)
		}
		switch v := c.args[0].(type) {
		case []any:
			from, to := clamp(len(v))
			return append([]any{}, v[from:to]...), nil
		case string:
			r := []rune(v)
			from, to := clamp(len(r))
			return string(r[from:to]), nil
		}
		return nil, c.typeErr(0, "an array or a string")
	}
}

func fnJoin(c *callCtx) (any, error) {
	arr, ok := c.args[0].([]any)
	if !ok {
		return nil, c.typeErr(0, "an array")
	}
	sep, err := c.str(1)
	if err != nil {
		return nil, err
	}
	parts, total := make([]string, len(arr)), len(sep)*len(arr)
	for i, x := range arr {
		switch x.(type) {
		case string, int64, bool:
			parts[i] = display(x)
			total += len(parts[i])
		default:
			return nil, c.errorf("element %d is %s; only strings, ints and bools can be joined", i, describeType(x))
		}
	}
	if err := c.checkLen(total); err != nil {
		return nil, err
	}
	return strings.Join(parts, sep), nil
}

// fnRange is range(start, count): count consecutive ints (count <= 10000).
func fnRange(c *callCtx) (any, error) {
	start, err := c.int(0)
	if err != nil {
		return nil, err
	}
	count, err := c.int(1)
	if err != nil {
		return nil, err
	}
	if count < 0 || count > 10000 {
		return nil, c.errorf("count %d is not between 0 and 10000", count)
	}
	if start > math.MaxInt32-count || start < math.MinInt32 {
		return nil, c.errorf("start %d plus count %d is outside the 32-bit range", start, count)
	}
	out := make([]any, count)
	for i := range out {
		out[i] = start + int64(i)
	}
	return out, nil
}
