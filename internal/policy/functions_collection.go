package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxRange bounds range()'s count, as ARM does.
const MaxRange = 10000

func collectionFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "contains", min: 2, max: 2, call: fnContains},
		{name: "empty", min: 1, max: 1, call: fnEmpty},
		{name: "length", min: 1, max: 1, call: fnLength},
		{name: "first", min: 1, max: 1, call: endElement("first", true)},
		{name: "last", min: 1, max: 1, call: endElement("last", false)},
		{name: "skip", min: 2, max: 2, call: slicer("skip", func(n, k int) (int, int) { return k, n })},
		{name: "take", min: 2, max: 2, call: slicer("take", func(n, k int) (int, int) { return 0, k })},
		{name: "indexOf", min: 2, max: 2, call: findIndex("indexOf", false)},
		{name: "lastIndexOf", min: 2, max: 2, call: findIndex("lastIndexOf", true)},
		{name: "union", min: 1, max: -1, call: fnUnion},
		{name: "intersection", min: 1, max: -1, call: fnIntersection},
		{name: "array", min: 1, max: 1, call: fnArray},
		{name: "createArray", min: 0, max: -1, call: func(_ *evalState, a []any) (any, error) { return append([]any{}, a...), nil }},
		{name: "createObject", min: 0, max: -1, call: fnCreateObject},
		{name: "range", min: 2, max: 2, call: fnRange},
		{name: "items", min: 1, max: 1, call: fnItems},
		{name: "tryGet", min: 2, max: -1, call: fnTryGet},
		{name: "indexFromEnd", min: 2, max: 2, call: fromEnd("indexFromEnd", false)},
		{name: "tryIndexFromEnd", min: 2, max: 2, call: fromEnd("tryIndexFromEnd", true)},
		{name: "json", min: 1, max: 1, call: fnJSON},
	}
}

// fnContains is ARM's contains: a case-sensitive substring, an element of
// an array, a key of an object (ignoring case).
func fnContains(_ *evalState, args []any) (any, error) {
	switch v := args[0].(type) {
	case string:
		s, ok := scalarString(args[1])
		if !ok {
			return nil, argError("contains", 1, "a string", args[1])
		}
		return strings.Contains(v, s), nil
	case []any:
		for _, x := range v {
			if exactEqual(x, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		k, ok := args[1].(string)
		if !ok {
			return nil, argError("contains", 1, "a string", args[1])
		}
		_, found := lookupKey(v, k)
		return found, nil
	case nil:
		return false, nil
	}
	return nil, argError("contains", 0, "a string, an array or an object", args[0])
}

// fnEmpty: null, "", [] and {} are empty.
func fnEmpty(_ *evalState, args []any) (any, error) {
	switch v := args[0].(type) {
	case nil:
		return true, nil
	case string:
		return v == "", nil
	case []any:
		return len(v) == 0, nil
	case map[string]any:
		return len(v) == 0, nil
	}
	return false, nil
}

// fnLength counts characters, elements or members; null has length 0.
func fnLength(_ *evalState, args []any) (any, error) {
	switch v := args[0].(type) {
	case nil:
		return intNumber(0), nil
	case string:
		return intNumber(int64(utf8.RuneCountInString(v))), nil
	case []any:
		return intNumber(int64(len(v))), nil
	case map[string]any:
		return intNumber(int64(len(v))), nil
	}
	return nil, argError("length", 0, "a string, an array or an object", args[0])
}

// endElement is first or last: of a string its first or last character
// ("" when empty), of an array its element (null when empty).
func endElement(name string, first bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			r := []rune(v)
			if len(r) == 0 {
				return "", nil
			}
			if first {
				return string(r[0]), nil
			}
			return string(r[len(r)-1]), nil
		case []any:
			if len(v) == 0 {
				return nil, nil
			}
			if first {
				return v[0], nil
			}
			return v[len(v)-1], nil
		}
		return nil, argError(name, 0, "a string or an array", args[0])
	}
}

// slicer is skip or take on a string or an array; the count is clamped.
func slicer(name string, bounds func(n, k int) (int, int)) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		k64, err := argInt(name, args, 1)
		if err != nil {
			return nil, err
		}
		switch v := args[0].(type) {
		case string:
			r := []rune(v)
			from, to := bounds(len(r), clampCount(k64, len(r)))
			return string(r[from:to]), nil
		case []any:
			from, to := bounds(len(v), clampCount(k64, len(v)))
			return append([]any{}, v[from:to]...), nil
		case nil:
			return []any{}, nil
		}
		return nil, argError(name, 0, "a string or an array", args[0])
	}
}

func clampCount(k int64, n int) int {
	return int(min(max(k, 0), int64(n)))
}

// findIndex is indexOf or lastIndexOf: of a substring ignoring case, or of
// an array element; -1 when absent.
func findIndex(name string, last bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		switch v := args[0].(type) {
		case string:
			t, err := argStr(name, args, 1)
			if err != nil {
				return nil, err
			}
			return intNumber(int64(runeIndex(fold(v), fold(t), last))), nil
		case []any:
			for i := range v {
				j := i
				if last {
					j = len(v) - 1 - i
				}
				if exactEqual(v[j], args[1]) {
					return intNumber(int64(j)), nil
				}
			}
			return intNumber(-1), nil
		}
		return nil, argError(name, 0, "a string or an array", args[0])
	}
}

// runeIndex is strings.Index (or LastIndex) counted in characters.
func runeIndex(s, t string, last bool) int {
	i := strings.Index(s, t)
	if last {
		i = strings.LastIndex(s, t)
	}
	if i < 0 {
		return -1
	}
	return utf8.RuneCountInString(s[:i])
}

// fnUnion merges arrays (without duplicates, in order) or objects (later
// values win; nested objects merge).
func fnUnion(_ *evalState, args []any) (any, error) {
	if _, isObj := args[0].(map[string]any); isObj {
		out := map[string]any{}
		for i, a := range args {
			obj, ok := a.(map[string]any)
			if !ok {
				return nil, argError("union", i, "an object", a)
			}
			mergeInto(out, obj)
		}
		return out, nil
	}
	out, seen := []any{}, newExactSet()
	for i, a := range args {
		arr, ok := a.([]any)
		if !ok {
			return nil, argError("union", i, "an array", a)
		}
		for _, x := range arr {
			if seen.add(x) {
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// exactSet is a set of values under exactEqual: scalars hashed, arrays
// and objects compared one by one.
type exactSet struct {
	scalars map[string]bool
	others  []any
}

func newExactSet() *exactSet { return &exactSet{scalars: map[string]bool{}} }

// exactKey is a scalar's set key: its type and value, numbers by value.
func exactKey(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "n", true
	case bool:
		return fmt.Sprint("b", v), true
	case string:
		return "s" + v, true
	case json.Number:
		if i, ok := toInt(v); ok {
			return "i" + strconv.FormatInt(i, 10), true
		}
		return "f" + string(v), true
	}
	return "", false
}

// add inserts v and reports whether it was new.
func (s *exactSet) add(v any) bool {
	if s.has(v) {
		return false
	}
	if k, ok := exactKey(v); ok {
		s.scalars[k] = true
	} else {
		s.others = append(s.others, v)
	}
	return true
}

func (s *exactSet) has(v any) bool {
	if k, ok := exactKey(v); ok {
		return s.scalars[k]
	}
	return containsExact(s.others, v)
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sub, ok := v.(map[string]any); ok {
			if old, ok := dst[k].(map[string]any); ok {
				merged := map[string]any{}
				mergeInto(merged, old)
				mergeInto(merged, sub)
				dst[k] = merged
				continue
			}
		}
		dst[k] = v
	}
}

func containsExact(list []any, x any) bool {
	for _, y := range list {
		if exactEqual(x, y) {
			return true
		}
	}
	return false
}

// fnIntersection keeps the elements (or same-valued members) common to
// every argument.
func fnIntersection(_ *evalState, args []any) (any, error) {
	if first, isObj := args[0].(map[string]any); isObj {
		out := map[string]any{}
		for k, v := range first {
			if inEveryObject(args[1:], k, v) {
				out[k] = v
			}
		}
		for i, a := range args {
			if _, ok := a.(map[string]any); !ok {
				return nil, argError("intersection", i, "an object", a)
			}
		}
		return out, nil
	}
	sets := make([]*exactSet, len(args))
	for i, a := range args {
		arr, ok := a.([]any)
		if !ok {
			return nil, argError("intersection", i, "an array", a)
		}
		sets[i] = newExactSet()
		for _, x := range arr {
			sets[i].add(x)
		}
	}
	out, seen := []any{}, newExactSet()
	for _, x := range args[0].([]any) {
		if inEverySet(sets[1:], x) && seen.add(x) {
			out = append(out, x)
		}
	}
	return out, nil
}

func inEveryObject(objs []any, k string, v any) bool {
	for _, o := range objs {
		obj, _ := o.(map[string]any)
		w, ok := obj[k]
		if !ok || !exactEqual(v, w) {
			return false
		}
	}
	return true
}

func inEverySet(sets []*exactSet, x any) bool {
	for _, s := range sets {
		if !s.has(x) {
			return false
		}
	}
	return true
}

func fnArray(_ *evalState, args []any) (any, error) {
	if arr, ok := args[0].([]any); ok {
		return arr, nil
	}
	return []any{args[0]}, nil
}

func fnCreateObject(_ *evalState, args []any) (any, error) {
	if len(args)%2 != 0 {
		return nil, fnErrorf("createObject", "expects key and value pairs, got %d arguments", len(args))
	}
	out := make(map[string]any, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		k, ok := args[i].(string)
		if !ok {
			return nil, argError("createObject", i, "a string key", args[i])
		}
		out[k] = args[i+1]
	}
	return out, nil
}

func fnRange(_ *evalState, args []any) (any, error) {
	start, err := argInt("range", args, 0)
	if err != nil {
		return nil, err
	}
	count, err := argInt("range", args, 1)
	if err != nil {
		return nil, err
	}
	if count < 0 || count > MaxRange {
		return nil, fnErrorf("range", "the count must be between 0 and %d, got %d", MaxRange, count)
	}
	if start > 1<<31-1-count {
		return nil, fnErrorf("range", "start plus count must not exceed 2147483647")
	}
	out := make([]any, count)
	for i := range out {
		out[i] = intNumber(start + int64(i))
	}
	return out, nil
}

// fnItems turns an object into [{key, value}], sorted by key.
func fnItems(_ *evalState, args []any) (any, error) {
	obj, ok := args[0].(map[string]any)
	if !ok {
		return nil, argError("items", 0, "an object", args[0])
	}
	out := make([]any, 0, len(obj))
	for _, k := range sortedKeys(obj) {
		out = append(out, map[string]any{"key": k, "value": obj[k]})
	}
	return out, nil
}

// fnTryGet walks keys (object properties, array indexes) and returns null
// where one is absent.
func fnTryGet(_ *evalState, args []any) (any, error) {
	v := args[0]
	for _, key := range args[1:] {
		switch c := v.(type) {
		case map[string]any:
			k, ok := key.(string)
			if !ok {
				return nil, nil
			}
			if v, ok = lookupKey(c, k); !ok {
				return nil, nil
			}
		case []any:
			i, ok := toInt(key)
			if !ok || i < 0 || i >= int64(len(c)) {
				return nil, nil
			}
			v = c[i]
		default:
			return nil, nil
		}
	}
	return v, nil
}

// fromEnd is indexFromEnd (1 is the last element) and its try form, which
// returns null instead of failing.
func fromEnd(name string, try bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		arr, ok := args[0].([]any)
		i, isInt := toInt(args[1])
		if ok && isInt && i >= 1 && i <= int64(len(arr)) {
			return arr[int64(len(arr))-i], nil
		}
		if try {
			return nil, nil
		}
		if !ok {
			return nil, argError(name, 0, "an array", args[0])
		}
		return nil, fnErrorf(name, "index %s is out of range for an array of %d elements", display(args[1]), len(arr))
	}
}

// fnJSON parses a JSON string.
func fnJSON(_ *evalState, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, argError("json", 0, "a string", args[0])
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fnErrorf("json", "invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, fnErrorf("json", "invalid JSON: more than one value")
	}
	if depth(v, 0) > MaxValueDepth {
		return nil, fnErrorf("json", "the value is nested more than %d levels deep", MaxValueDepth)
	}
	return v, nil
}
