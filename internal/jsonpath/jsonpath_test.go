package jsonpath

import "testing"

func TestKeyAndIndex(t *testing.T) {
	for _, tc := range []struct{ path, key, want string }{
		{"", "properties", "properties"},
		{"properties", "customize", "properties.customize"},
		{"tags", "cost center", `tags["cost center"]`},
		{"parameters", "$schema", "parameters.$schema"},
		{"x", "a-b", "x.a-b"},
		{"x", "1st", `x["1st"]`},
		{"x", "", `x[""]`},
		{"x", `say "hi"`, `x["say \"hi\""]`},
	} {
		if got := Key(tc.path, tc.key); got != tc.want {
			t.Errorf("Key(%q, %q) = %s, want %s", tc.path, tc.key, got, tc.want)
		}
	}
	if got := Index(Key("properties", "customize"), 2); got != "properties.customize[2]" {
		t.Errorf("Index = %s", got)
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n  \"b\"\n}")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{
		{0, 1, 1}, {1, 1, 2}, {2, 2, 1}, {6, 2, 5}, {-5, 1, 1}, {1000, 4, 2},
	} {
		if l, c := LineCol(data, tc.off); l != tc.line || c != tc.col {
			t.Errorf("LineCol(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}
