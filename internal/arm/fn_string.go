package arm

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// stringFunctions work on strings. Positions and lengths count characters
// (Unicode code points).
func stringFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "format", min: 1, max: -1, call: fnFormat},
		{name: "toLower", min: 1, max: 1, call: strFn(strings.ToLower)},
		{name: "toUpper", min: 1, max: 1, call: strFn(strings.ToUpper)},
		{name: "trim", min: 1, max: 1, call: strFn(strings.TrimSpace)},
		{name: "string", min: 1, max: 1, call: fnString},
		{name: "replace", min: 3, max: 3, call: fnReplace},
		{name: "split", min: 2, max: 2, call: fnSplit},
		{name: "substring", min: 2, max: 3, call: fnSubstring},
		{name: "startsWith", min: 2, max: 2, call: foldPredicate(strings.HasPrefix)},
		{name: "endsWith", min: 2, max: 2, call: foldPredicate(strings.HasSuffix)},
		{name: "indexOf", min: 2, max: 2, call: fnIndexOf},
		{name: "lastIndexOf", min: 2, max: 2, call: fnLastIndexOf},
		{name: "padLeft", min: 2, max: 3, call: fnPadLeft},
		{name: "uniqueString", min: 1, max: -1, call: fnUniqueString},
		{name: "guid", min: 1, max: -1, call: fnGUID},
		{name: "base64", min: 1, max: 1, call: fnBase64},
		{name: "base64ToString", min: 1, max: 1, call: fnBase64ToString},
		{name: "json", min: 1, max: 1, call: fnJSON},
	}
}

// strFn lifts a string-to-string function.
func strFn(f func(string) string) func(c *callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		s, err := c.str(0)
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

// foldPredicate lifts a case-insensitive string predicate (ARM's
// startsWith and endsWith ignore case).
func foldPredicate(f func(s, t string) bool) func(c *callCtx) (any, error) {
	return func(c *callCtx) (any, error) {
		s, t, err := c.twoStrings()
		if err != nil {
			return nil, err
		}
		return f(strings.ToLower(s), strings.ToLower(t)), nil
	}
}

func (c *callCtx) twoStrings() (string, string, error) {
	a, err := c.str(0)
	if err != nil {
		return "", "", err
	}
	b, err := c.str(1)
	return a, b, err
}

func fnString(c *callCtx) (any, error) {
	return display(c.args[0]), nil
}

func fnReplace(c *callCtx) (any, error) {
	ss, err := c.strs(0)
	if err != nil {
		return nil, err
	}
	s, old, repl := ss[0], ss[1], ss[2]
	if old == "" {
		return nil, c.errorf("the string to replace must not be empty")
	}
	if err := c.checkLen(len(s) + strings.Count(s, old)*(len(repl)-len(old))); err != nil {
		return nil, err
	}
	return strings.ReplaceAll(s, old, repl), nil
}

func fnSplit(c *callCtx) (any, error) {
	s, err := c.str(0)
	if err != nil {
		return nil, err
	}
	delims, err := c.delimiters(1)
	if err != nil {
		return nil, err
	}
	return splitAny(s, delims), nil
}

// delimiters reads a string or an array of strings, none empty.
func (c *callCtx) delimiters(i int) ([]string, error) {
	var out []string
	switch v := c.args[i].(type) {
	case string:
		out = []string{v}
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, c.typeErr(i, "a string or an array of strings")
			}
			out = append(out, s)
		}
	default:
		return nil, c.typeErr(i, "a string or an array of strings")
	}
	for _, d := range out {
		if d == "" {
			return nil, c.errorf("a delimiter must not be empty")
		}
	}
	return out, nil
}

// splitAny splits s at every occurrence of any delimiter (the first listed
// wins where several match).
func splitAny(s string, delims []string) []any {
	out, start := []any{}, 0
	for i := 0; i < len(s); {
		d := matchAt(s, i, delims)
		if d == "" {
			i++
			continue
		}
		out = append(out, s[start:i])
		i += len(d)
		start = i
	}
	return append(out, s[start:])
}

func matchAt(s string, i int, delims []string) string {
	for _, d := range delims {
		if strings.HasPrefix(s[i:], d) {
			return d
		}
	}
	return ""
}

func fnSubstring(c *callCtx) (any, error) {
	s, err := c.str(0)
	if err != nil {
		return nil, err
	}
	runes := []rune(s)
	start, err := c.int(1)
	if err != nil {
		return nil, err
	}
	length := int64(len(runes)) - start
	if len(c.args) == 3 {
		if length, err = c.int(2); err != nil {
			return nil, err
		}
	}
	switch {
	case start < 0 || start > int64(len(runes)):
		return nil, c.errorf("start index %d is outside the string (length %d)", start, len(runes))
	case length < 0 || start+length > int64(len(runes)):
		return nil, c.errorf("start %d plus length %d is beyond the end of the string (length %d)", start, length, len(runes))
	}
	return string(runes[start : start+length]), nil
}

func fnIndexOf(c *callCtx) (any, error) {
	return c.runeIndex(strings.Index)
}

func fnLastIndexOf(c *callCtx) (any, error) {
	return c.runeIndex(strings.LastIndex)
}

// runeIndex finds a substring ignoring case and returns its character
// position, or -1.
func (c *callCtx) runeIndex(find func(s, sub string) int) (any, error) {
	s, sub, err := c.twoStrings()
	if err != nil {
		return nil, err
	}
	s, sub = strings.ToLower(s), strings.ToLower(sub)
	i := find(s, sub)
	if i < 0 {
		return int64(-1), nil
	}
	return int64(utf8.RuneCountInString(s[:i])), nil
}

func fnPadLeft(c *callCtx) (any, error) {
	var s string
	switch v := c.args[0].(type) {
	case string:
		s = v
	case int64:
		s = strconv.FormatInt(v, 10)
	default:
		return nil, c.typeErr(0, "a string or an int")
	}
	total, err := c.int(1)
	if err != nil {
		return nil, err
	}
	pad, err := c.padChar()
	if err != nil {
		return nil, err
	}
	if err := c.checkLen(int(min(total, maxValueWeight+1)) * utf8.RuneLen(pad)); err != nil {
		return nil, err
	}
	missing := int(total) - utf8.RuneCountInString(s)
	if missing <= 0 {
		return s, nil
	}
	return strings.Repeat(string(pad), missing) + s, nil
}

func (c *callCtx) padChar() (rune, error) {
	if len(c.args) < 3 {
		return ' ', nil
	}
	p, err := c.str(2)
	if err != nil {
		return 0, err
	}
	if utf8.RuneCountInString(p) != 1 {
		return 0, c.errorf("the padding character must be exactly one character, got %q", p)
	}
	r, _ := utf8.DecodeRuneInString(p)
	return r, nil
}

// fnFormat implements .NET composite formatting: {index[,alignment][:format]},
// with {{ and }} for literal braces. Formats: D[n], X[n], x[n], N[n] for ints.
func fnFormat(c *callCtx) (any, error) {
	f, err := c.str(0)
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	for i := 0; i < len(f); i++ {
		if sb.Len() > maxValueWeight {
			return nil, c.checkLen(sb.Len())
		}
		switch {
		case strings.HasPrefix(f[i:], "{{"), strings.HasPrefix(f[i:], "}}"):
			sb.WriteByte(f[i])
			i++
		case f[i] == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return nil, c.errorf("format string has a '{' at position %d without a closing '}'", i)
			}
			s, err := c.formatItem(f[i+1:i+end], c.args[1:])
			if err != nil {
				return nil, err
			}
			sb.WriteString(s)
			i += end
		case f[i] == '}':
			return nil, c.errorf("format string has a '}' at position %d without an opening '{' (write '}}' for a literal brace)", i)
		default:
			sb.WriteByte(f[i])
		}
	}
	return sb.String(), nil
}

// formatItem formats one "{index[,alignment][:format]}" item (braces removed).
func (c *callCtx) formatItem(item string, vals []any) (string, error) {
	spec, verb, _ := strings.Cut(item, ":")
	idxText, alignText, hasAlign := strings.Cut(spec, ",")
	idx, err := strconv.Atoi(strings.TrimSpace(idxText))
	if err != nil || idx < 0 {
		return "", c.errorf("format item {%s} does not start with an argument index", item)
	}
	if idx >= len(vals) {
		return "", c.errorf("format item {%s} refers to argument %d, but %s given", item, idx, plural(len(vals), "value"))
	}
	s, err := c.formatValue(vals[idx], verb)
	if err != nil {
		return "", err
	}
	if !hasAlign {
		return s, nil
	}
	return c.align(s, alignText)
}

// align pads s to |width|: on the left for a positive width, the right for a negative one.
func (c *callCtx) align(s, widthText string) (string, error) {
	w, err := strconv.Atoi(strings.TrimSpace(widthText))
	if err != nil || w > 10000 || w < -10000 {
		return "", c.errorf("format alignment %q is not an integer between -10000 and 10000", widthText)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case w > n:
		return strings.Repeat(" ", w-n) + s, nil
	case -w > n:
		return s + strings.Repeat(" ", -w-n), nil
	}
	return s, nil
}

// formatValue applies a .NET numeric format specifier to an int.
func (c *callCtx) formatValue(v any, verb string) (string, error) {
	if verb == "" {
		return display(v), nil
	}
	n, ok := v.(int64)
	if !ok {
		return "", c.errorf("format specifier %q needs an int, got %s", verb, describeType(v))
	}
	prec, err := strconv.Atoi(verb[1:])
	if verb[1:] == "" {
		prec, err = -1, nil
	}
	if err != nil || prec > 99 || !strings.ContainsRune("DdXxNn", rune(verb[0])) {
		return "", c.errorf("unsupported format specifier %q (supported: D, X, x, N, each with an optional precision 0-99)", verb)
	}
	return formatInt(n, verb[0], prec), nil
}

// formatInt formats n; verb is one of D, X, N in either case.
func formatInt(n int64, verb byte, prec int) string {
	switch verb {
	case 'D', 'd':
		s := strconv.FormatInt(absInt(n), 10)
		return sign(n) + zeroPad(s, prec)
	case 'X', 'x':
		s := strconv.FormatUint(uint64(n), 16)
		if verb == 'X' {
			s = strings.ToUpper(s)
		}
		return zeroPad(s, prec)
	case 'N', 'n':
		if prec < 0 {
			prec = 2
		}
		s := sign(n) + groupThousands(strconv.FormatInt(absInt(n), 10))
		if prec > 0 {
			s += "." + strings.Repeat("0", prec)
		}
		return s
	}
	return strconv.FormatInt(n, 10)
}

func absInt(n int64) int64 {
	if n < 0 {
		return -n // math.MinInt64 stays negative; FormatInt then prints its digits with a sign we add
	}
	return n
}

func sign(n int64) string {
	if n < 0 {
		return "-"
	}
	return ""
}

func zeroPad(s string, width int) string {
	s = strings.TrimPrefix(s, "-")
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

func groupThousands(s string) string {
	s = strings.TrimPrefix(s, "-")
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// base32Alphabet is the lower-case alphabet uniqueString uses.
const base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

// fnUniqueString is a deterministic 13-character base32 hash of its
// arguments, the shape ARM's uniqueString has. It is SHA-256 based, so
// its values differ from Azure's.
func fnUniqueString(c *callCtx) (any, error) {
	ss, err := c.strs(0)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(strings.Join(ss, "-")))
	h := binary.BigEndian.Uint64(sum[:8])
	out := make([]byte, 13)
	for i := range out {
		shift := 64 - 5*(i+1)
		var idx uint64
		if shift >= 0 {
			idx = h >> uint(shift)
		} else {
			idx = h << uint(-shift)
		}
		out[i] = base32Alphabet[idx&31]
	}
	return string(out), nil
}

// guidNamespace is kiln's name-based UUID namespace for guid().
var guidNamespace = [16]byte{0x6b, 0x69, 0x6c, 0x6e, 0x2d, 0x61, 0x72, 0x6d, 0x2d, 0x67, 0x75, 0x69, 0x64, 0x2d, 0x76, 0x35}

// fnGUID is a deterministic name-based (version 5, SHA-1) UUID of its
// arguments joined by "-". Like ARM's guid, the same arguments always give
// the same value; the values differ from Azure's.
func fnGUID(c *callCtx) (any, error) {
	ss, err := c.strs(0)
	if err != nil {
		return nil, err
	}
	h := sha1.New()
	h.Write(guidNamespace[:])
	h.Write([]byte(strings.Join(ss, "-")))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

func fnBase64(c *callCtx) (any, error) {
	s, err := c.str(0)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64ToString(c *callCtx) (any, error) {
	s, err := c.str(0)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, c.errorf("invalid base64: %v", err)
	}
	return string(b), nil
}

func fnJSON(c *callCtx) (any, error) {
	s, err := c.str(0)
	if err != nil {
		return nil, err
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, c.errorf("invalid JSON: %v", err)
	}
	return v, nil
}
