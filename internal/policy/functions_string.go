package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

func stringFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "concat", min: 1, max: -1, call: fnConcat},
		{name: "toLower", min: 1, max: 1, call: strMap("toLower", strings.ToLower)},
		{name: "toUpper", min: 1, max: 1, call: strMap("toUpper", strings.ToUpper)},
		{name: "trim", min: 1, max: 1, call: strMap("trim", strings.TrimSpace)},
		{name: "string", min: 1, max: 1, call: func(_ *evalState, a []any) (any, error) { return stringify(a[0]), nil }},
		{name: "substring", min: 2, max: 3, call: fnSubstring},
		{name: "replace", min: 3, max: 3, call: fnReplace},
		{name: "split", min: 2, max: 2, call: fnSplit},
		{name: "startsWith", min: 2, max: 2, call: foldPredicate("startsWith", strings.HasPrefix)},
		{name: "endsWith", min: 2, max: 2, call: foldPredicate("endsWith", strings.HasSuffix)},
		{name: "padLeft", min: 2, max: 3, call: fnPadLeft},
		{name: "format", min: 1, max: -1, call: fnFormat},
		{name: "join", min: 2, max: 2, call: fnJoin},
	}
}

// strMap applies a string function; null reads as "".
func strMap(name string, f func(string) string) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		s, err := argStr(name, args, 0)
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

// fnConcat joins strings (scalars as strings, null as "") or arrays.
func fnConcat(_ *evalState, args []any) (any, error) {
	if _, isArr := args[0].([]any); isArr {
		return concatArrays(args)
	}
	var sb strings.Builder
	for i, a := range args {
		s, ok := scalarString(a)
		if !ok {
			return nil, argError("concat", i, "a string (or every argument an array)", a)
		}
		if sb.Len()+len(s) > MaxStringLength {
			return nil, fnErrorf("concat", "the result would be longer than %d characters", MaxStringLength)
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

func concatArrays(args []any) (any, error) {
	var out []any
	for i, a := range args {
		switch v := a.(type) {
		case []any:
			if len(out)+len(v) > MaxValueNodes {
				return nil, fnErrorf("concat", "the result would have more than %d elements", MaxValueNodes)
			}
			out = append(out, v...)
		case nil:
		default:
			return nil, argError("concat", i, "an array", a)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// runeSlice works on strings by character, as ARM does.
func fnSubstring(_ *evalState, args []any) (any, error) {
	s, err := argStr("substring", args, 0)
	if err != nil {
		return nil, err
	}
	runes := []rune(s)
	start, err := argInt("substring", args, 1)
	if err != nil {
		return nil, err
	}
	length := int64(len(runes)) - start
	if len(args) == 3 {
		if length, err = argInt("substring", args, 2); err != nil {
			return nil, err
		}
	}
	if start < 0 || start > int64(len(runes)) {
		return nil, fnErrorf("substring", "the start index %d is out of range for a string of %d characters", start, len(runes))
	}
	if length < 0 || start+length > int64(len(runes)) {
		return nil, fnErrorf("substring", "the length %d from index %d is out of range for a string of %d characters", length, start, len(runes))
	}
	return string(runes[start : start+length]), nil
}

func fnReplace(_ *evalState, args []any) (any, error) {
	parts := make([]string, 3)
	for i := range parts {
		s, err := argStr("replace", args, i)
		if err != nil {
			return nil, err
		}
		parts[i] = s
	}
	if parts[1] == "" {
		return nil, fnErrorf("replace", "the string to replace is empty")
	}
	if n := strings.Count(parts[0], parts[1]); n > 0 && len(parts[0])+n*(len(parts[2])-len(parts[1])) > MaxStringLength {
		return nil, fnErrorf("replace", "the result would be longer than %d characters", MaxStringLength)
	}
	return strings.ReplaceAll(parts[0], parts[1], parts[2]), nil
}

// fnSplit splits on a delimiter or on any of an array of delimiters.
func fnSplit(_ *evalState, args []any) (any, error) {
	s, err := argStr("split", args, 0)
	if err != nil {
		return nil, err
	}
	var delims []string
	switch d := args[1].(type) {
	case string:
		delims = []string{d}
	case []any:
		for _, x := range d {
			ds, ok := x.(string)
			if !ok {
				return nil, argError("split", 1, "a string or an array of strings", args[1])
			}
			delims = append(delims, ds)
		}
	default:
		return nil, argError("split", 1, "a string or an array of strings", args[1])
	}
	return splitAny(s, delims), nil
}

// splitAny splits s at every occurrence of any non-empty delimiter.
func splitAny(s string, delims []string) []any {
	out := []any{}
	start := 0
	for i := 0; i < len(s); {
		matched := 0
		for _, d := range delims {
			if d != "" && strings.HasPrefix(s[i:], d) {
				matched = len(d)
				break
			}
		}
		if matched == 0 {
			i++
			continue
		}
		out = append(out, s[start:i])
		i += matched
		start = i
	}
	return append(out, s[start:])
}

// foldPredicate compares two strings ignoring case.
func foldPredicate(name string, f func(s, t string) bool) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		s, err := argStr(name, args, 0)
		if err != nil {
			return nil, err
		}
		t, err := argStr(name, args, 1)
		if err != nil {
			return nil, err
		}
		return f(fold(s), fold(t)), nil
	}
}

func fnPadLeft(_ *evalState, args []any) (any, error) {
	s, ok := scalarString(args[0])
	if !ok || args[0] == nil {
		return nil, argError("padLeft", 0, "a string or an integer", args[0])
	}
	total, err := argInt("padLeft", args, 1)
	if err != nil {
		return nil, err
	}
	if total > MaxStringLength {
		return nil, fnErrorf("padLeft", "the total length %d is more than the limit of %d", total, MaxStringLength)
	}
	pad := " "
	if len(args) == 3 {
		if pad, err = argStr("padLeft", args, 2); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(pad) != 1 {
			return nil, fnErrorf("padLeft", "the padding must be one character, got %q", pad)
		}
	}
	n := int(total) - utf8.RuneCountInString(s)
	if n <= 0 {
		return s, nil
	}
	return strings.Repeat(pad, n) + s, nil
}

func fnJoin(_ *evalState, args []any) (any, error) {
	arr, ok := args[0].([]any)
	if !ok {
		return nil, argError("join", 0, "an array", args[0])
	}
	sep, err := argStr("join", args, 1)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(arr))
	size := 0
	for i, x := range arr {
		s, ok := scalarString(x)
		if !ok {
			return nil, fnErrorf("join", "element %d is %s, not a string", i, kindOf(x))
		}
		parts[i] = s
		if size += len(s) + len(sep); size > MaxStringLength {
			return nil, fnErrorf("join", "the result would be longer than %d characters", MaxStringLength)
		}
	}
	return strings.Join(parts, sep), nil
}

// fnFormat is .NET composite formatting: "{0}", "{1:N2}", "{{" and "}}".
func fnFormat(_ *evalState, args []any) (any, error) {
	f, err := argStr("format", args, 0)
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{', c == '}' && i+1 < len(f) && f[i+1] == '}':
			sb.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return nil, fnErrorf("format", "unclosed '{' at position %d", i+1)
			}
			s, err := formatItem(f[i+1:i+end], args[1:])
			if err != nil {
				return nil, err
			}
			sb.WriteString(s)
			i += end
		case c == '}':
			return nil, fnErrorf("format", "unexpected '}' at position %d (write '}}')", i+1)
		default:
			sb.WriteByte(c)
		}
		if sb.Len() > MaxStringLength {
			return nil, fnErrorf("format", "the result would be longer than %d characters", MaxStringLength)
		}
	}
	return sb.String(), nil
}

// formatItem renders one "{index[,align][:format]}" item.
func formatItem(item string, args []any) (string, error) {
	spec := ""
	if i := strings.IndexByte(item, ':'); i >= 0 {
		item, spec = item[:i], item[i+1:]
	}
	if i := strings.IndexByte(item, ','); i >= 0 {
		item = item[:i] // alignment is ignored
	}
	idx, ok := toInt(json.Number(strings.TrimSpace(item)))
	if !ok || idx < 0 || idx >= int64(len(args)) {
		return "", fnErrorf("format", "item {%s} does not name one of the %d arguments", item, len(args))
	}
	return formatValue(args[idx], spec)
}

// formatValue applies the numeric format strings policies use (N, D, X);
// others print the value as string() does.
func formatValue(v any, spec string) (string, error) {
	n, isNum := v.(json.Number)
	if spec == "" || !isNum {
		return stringify(v), nil
	}
	prec := 0
	if len(spec) > 1 {
		p, ok := toInt(json.Number(spec[1:]))
		if !ok || p < 0 || p > 30 {
			return "", fnErrorf("format", "unsupported format %q", spec)
		}
		prec = int(p)
	}
	_, f, _, _ := numberValue(n)
	switch spec[0] {
	case 'N', 'n':
		return groupThousands(fmt.Sprintf("%.*f", prec, f)), nil
	case 'F', 'f':
		return fmt.Sprintf("%.*f", prec, f), nil
	case 'D', 'd':
		return fmt.Sprintf("%0*d", prec, int64(f)), nil
	case 'X':
		return fmt.Sprintf("%0*X", prec, int64(f)), nil
	case 'x':
		return fmt.Sprintf("%0*x", prec, int64(f)), nil
	}
	return "", fnErrorf("format", "unsupported format %q", spec)
}

// groupThousands inserts "," between groups of three digits.
func groupThousands(s string) string {
	sign, intPart, frac := "", s, ""
	if strings.HasPrefix(intPart, "-") {
		sign, intPart = "-", intPart[1:]
	}
	if i := strings.IndexByte(intPart, '.'); i >= 0 {
		intPart, frac = intPart[:i], intPart[i:]
	}
	var sb strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(c)
	}
	return sign + sb.String() + frac
}
