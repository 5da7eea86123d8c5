package arm

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeGoValues(t *testing.T) {
	type point struct {
		X int    `json:"x"`
		Y string `json:"y"`
	}
	in := map[string]any{
		"int": 1, "int32": int32(2), "uint": uint8(3), "float": 4.0, "fraction": 4.5, "number": json.Number("6"),
		"bignumber": json.Number("1e3"), "strings": []string{"a"}, "map": map[string]string{"k": "v"},
		"struct": point{X: 1, Y: "y"}, "raw": RawValue("r"), "nil": nil,
	}
	want := map[string]any{
		"int": int64(1), "int32": int64(2), "uint": int64(3), "float": int64(4), "fraction": 4.5, "number": int64(6),
		"bignumber": int64(1000), "strings": []any{"a"}, "map": map[string]any{"k": "v"},
		"struct": map[string]any{"x": int64(1), "y": "y"}, "raw": "r", "nil": nil,
	}
	if diff := cmp.Diff(want, normalize(in)); diff != "" {
		t.Errorf("normalize (-want +got):\n%s", diff)
	}
}

func TestEqualValues(t *testing.T) {
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		a, b any
		want bool
	}{
		{"a", "a", true},
		{"a", "A", false},
		{int64(1), int64(1), true},
		{int64(1), "1", false},
		{nil, nil, true},
		{nil, []any{}, false},
		{[]any{int64(1), "x"}, []any{int64(1), "x"}, true},
		{[]any{int64(1)}, []any{int64(1), int64(2)}, false},
		{[]any{int64(1)}, obj("a", int64(1)), false},
		{obj("a", []any{true}), obj("a", []any{true}), true},
		{obj("a", int64(1)), obj("A", int64(1)), false},
		{obj("a", int64(1)), obj("a", int64(1), "b", int64(2)), false},
		{obj("a", int64(1)), []any{}, false},
	}
	for _, tc := range cases {
		if got := equalValues(tc.a, tc.b); got != tc.want {
			t.Errorf("equalValues(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRawValueMarshalsAsString(t *testing.T) {
	data, err := json.Marshal(map[string]any{"v": RawValue("3")})
	if err != nil || string(data) != `{"v":"3"}` {
		t.Errorf("got %s, %v", data, err)
	}
}
