package arm

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// normalize converts a Go value into the evaluator's value model: string,
// int64, bool, nil, float64 (non-integral numbers only), []any and
// map[string]any. Numbers from encoding/json (json.Number, float64) and Go
// integer kinds become int64 when integral; other types go through
// encoding/json.
func normalize(v any) any {
	switch v := v.(type) {
	case nil, string, bool, int64:
		return v
	case RawValue:
		return string(v)
	case json.Number:
		return normalizeNumber(v.String())
	case float64:
		return normalizeFloat(v)
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = normalize(x)
		}
		return out
	}
	return normalizeReflect(v)
}

// normalizeReflect handles any other Go value through encoding/json.
func normalizeReflect(v any) any {
	rv := reflect.ValueOf(v)
	if rv.CanInt() {
		return rv.Int()
	}
	if rv.CanUint() && rv.Uint() <= math.MaxInt64 {
		return int64(rv.Uint())
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	out, err := decodeJSON(data)
	if err != nil {
		return nil
	}
	return out
}

func normalizeNumber(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return normalizeFloat(f)
}

func normalizeFloat(f float64) any {
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f)
	}
	return f
}

// decodeJSON decodes one JSON document into the value model.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, &trailingDataError{offset: dec.InputOffset()}
	}
	return normalize(v), nil
}

// equalValues is ARM equality: deep, case-sensitive for strings and keys.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case []any:
		bb, ok := b.([]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], bb[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bb, ok := b.(map[string]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for k, x := range a {
			y, ok := bb[k]
			if !ok || !equalValues(x, y) {
				return false
			}
		}
		return true
	}
	return a == b
}

// toJSON is the compact JSON text of a value.
func toJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// display is how string() and format() print a value: strings as they
// are, True/False, "" for null, JSON for arrays and objects.
func display(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return toJSON(v)
}
