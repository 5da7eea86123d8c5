package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Values inside the engine are JSON-like: nil (JSON null), bool, string,
// json.Number (the number's lexeme survives, as Azure compares numbers as
// strings), []any and map[string]any. A path that does not exist is the
// missing sentinel, which is not null: see the reference, "missing vs null".

// missingValue is the type of the missing sentinel.
type missingValue struct{}

// missing is the value of a path that does not exist.
var missing any = missingValue{}

func isMissing(v any) bool {
	_, ok := v.(missingValue)
	return ok
}

// Limits on JSON inputs.
const (
	// MaxDocumentBytes bounds one policy document (definition, initiative,
	// assignment, alias file).
	MaxDocumentBytes = 8 << 20
	// MaxValueDepth bounds the nesting of arrays and objects in a value,
	// as Azure bounds object depth at runtime.
	MaxValueDepth = 128
)

// decodeJSON decodes one JSON document with numbers kept as json.Number.
func decodeJSON(data []byte) (any, error) {
	if len(data) > MaxDocumentBytes {
		return nil, Problem{Message: fmt.Sprintf("document is %d bytes, more than the limit of %d", len(data), MaxDocumentBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxProblem(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := lineCol(data, dec.InputOffset())
		return nil, Problem{Message: fmt.Sprintf("invalid JSON at line %d, column %d: more than one value in the document", line, col)}
	}
	if depth(v, 0) > MaxValueDepth {
		return nil, Problem{Message: fmt.Sprintf("document is nested more than %d levels deep", MaxValueDepth)}
	}
	return v, nil
}

// depth is the nesting depth of v, counting stops once it passes the limit.
func depth(v any, d int) int {
	if d > MaxValueDepth {
		return d
	}
	best := d
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			best = max(best, depth(x, d+1))
		}
	case map[string]any:
		for _, x := range v {
			best = max(best, depth(x, d+1))
		}
	}
	return best
}

// Normalize converts a Go value into the engine's JSON-like form: numbers
// of any Go type become json.Number, time.Time an RFC 3339 string, maps
// with string keys map[string]any, slices []any, and any other value
// goes through encoding/json. Services use it to build Resource.Body from
// their own types.
func Normalize(v any) (any, error) {
	return normalize(v, 0)
}

func normalize(v any, d int) (any, error) {
	if d > MaxValueDepth {
		return nil, fmt.Errorf("%w: value nested more than %d levels deep", ErrInvalid, MaxValueDepth)
	}
	switch v := v.(type) {
	case nil, bool, string, json.Number:
		return v, nil
	case missingValue:
		return nil, nil
	case map[string]any:
		return normalizeMap(v, d)
	case []any:
		return normalizeSlice(v, d)
	case map[string]string:
		out := make(map[string]any, len(v))
		for k, s := range v {
			out[k] = s
		}
		return out, nil
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, nil
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano), nil
	case json.RawMessage:
		return decodeJSON(v)
	}
	if n, ok := numberFromGo(v); ok {
		return n, nil
	}
	return normalizeViaJSON(v)
}

func normalizeMap(m map[string]any, d int) (any, error) {
	out := make(map[string]any, len(m))
	for k, x := range m {
		n, err := normalize(x, d+1)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

func normalizeSlice(s []any, d int) (any, error) {
	out := make([]any, len(s))
	for i, x := range s {
		n, err := normalize(x, d+1)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// numberFromGo converts Go's numeric types.
func numberFromGo(v any) (json.Number, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(rv.Int(), 10)), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return json.Number(strconv.FormatUint(rv.Uint(), 10)), true
	case reflect.Float32, reflect.Float64:
		return floatNumber(rv.Float()), true
	}
	return "", false
}

func normalizeViaJSON(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot represent %T as JSON: %v", ErrInvalid, v, err)
	}
	return decodeJSON(data)
}

// floatNumber formats a float as the shortest JSON number that reads back.
func floatNumber(f float64) json.Number {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return json.Number("0")
	}
	return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
}

func intNumber(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

// kindOf names a value's type as errors print it.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case missingValue:
		return "nothing (the property does not exist)"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// isScalar reports whether v is null, a boolean, a number or a string.
func isScalar(v any) bool {
	switch v.(type) {
	case nil, bool, string, json.Number:
		return true
	}
	return false
}

// scalarString is the string Azure compares a scalar as: strings as they
// are, numbers by their lexeme, booleans as .NET prints them, null as "".
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	case nil:
		return "", true
	}
	return "", false
}

// specialFolds are the case foldings that change a string's length.
var specialFolds = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "st", 'ﬆ': "st",
}

// fold maps s to a form in which strings that are equal ignoring case
// (Unicode full case folding, so "ß" equals "SS") are identical.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return foldUnicode(s)
		}
	}
	return strings.ToLower(s)
}

func foldUnicode(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if exp, ok := specialFolds[r]; ok {
			sb.WriteString(exp)
			continue
		}
		sb.WriteRune(foldRune(r))
	}
	return sb.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// equalFold compares strings ignoring case as Azure's
// InvariantCultureIgnoreCase does.
func equalFold(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if isASCII(a) && isASCII(b) {
		return false
	}
	return fold(a) == fold(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lookupKey finds a key in an object ignoring case, as Azure matches
// property names: an exact match first, then an ASCII case-insensitive one
// (lowest key first, so that the result does not depend on map order).
func lookupKey(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	found, best := false, ""
	for k := range m {
		if strings.EqualFold(k, key) && (!found || k < best) {
			found, best = true, k
		}
	}
	if !found {
		return nil, false
	}
	return m[best], true
}

// valuesEqual is Azure's equality: scalars compare as strings ignoring
// case; arrays element by element; objects key by key (keys ignoring
// case). A scalar never equals an array or an object.
func valuesEqual(a, b any) bool {
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		return ok && arraysEqual(a, b)
	case map[string]any:
		b, ok := b.(map[string]any)
		return ok && objectsEqual(a, b)
	case missingValue:
		return false
	}
	as, ok := scalarString(a)
	if !ok {
		return false
	}
	bs, ok := scalarString(b)
	return ok && equalFold(as, bs)
}

func arraysEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !valuesEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func objectsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := lookupKey(b, k)
		if !ok || !valuesEqual(v, w) {
			return false
		}
	}
	return true
}

// exactEqual is the ARM template function equals: case-sensitive strings,
// numbers by value, deep for arrays and objects.
func exactEqual(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		return ok && compareNumbers(a, b) == 0
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !exactEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := lookupKey(b, k)
			if !ok || !exactEqual(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

// numberValue parses a json.Number, as an int when it is one.
func numberValue(n json.Number) (i int64, f float64, isInt bool, ok bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, float64(i), true, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return 0, f, false, err == nil
}

// compareNumbers orders two numbers: -1, 0 or 1.
func compareNumbers(a, b json.Number) int {
	ai, af, aInt, _ := numberValue(a)
	bi, bf, bInt, _ := numberValue(b)
	if aInt && bInt {
		switch {
		case ai < bi:
			return -1
		case ai > bi:
			return 1
		}
		return 0
	}
	switch {
	case af < bf:
		return -1
	case af > bf:
		return 1
	}
	return 0
}

// toInt reads an integral number.
func toInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, f, isInt, ok := numberValue(n)
	if isInt {
		return i, true
	}
	if ok && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
		return int64(f), true
	}
	return 0, false
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// display renders a value for messages: strings quoted, others as JSON.
func display(v any) string {
	if isMissing(v) {
		return "(missing)"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const maxDisplay = 200
	if len(data) > maxDisplay {
		return string(data[:maxDisplay]) + "..."
	}
	return string(data)
}

// deepCopy copies arrays and objects so that a modification does not
// touch the caller's value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	}
	return v
}
