package output

import (
	"encoding/json"
	"strconv"
	"strings"
)

// formatTSV renders the tree as az's tsv does. A result that is not a list
// is treated as a list of one. Each item is one line:
//   - an object: its values in key order, tab-separated;
//   - a list: its elements, tab-separated;
//   - a scalar: its plain value (strings unquoted, booleans "true"/"false").
//
// Inside a line, a nested object is an empty field and a nested list is its
// length, so that every line of a list has the same columns; booleans are
// "True"/"False" and null is "None", as Python's str() prints them.
func formatTSV(tree any) string {
	items, ok := tree.([]any)
	if !ok {
		items = []any{tree}
	}
	var b strings.Builder
	for _, item := range items {
		b.WriteString(tsvRow(item))
		b.WriteByte('\n')
	}
	return b.String()
}

func tsvRow(item any) string {
	switch t := item.(type) {
	case *object:
		fields := make([]string, len(t.keys))
		for i, k := range t.keys {
			fields[i] = tsvField(t.vals[k])
		}
		return strings.Join(fields, "\t")
	case []any:
		fields := make([]string, len(t))
		for i, e := range t {
			fields[i] = tsvField(e)
		}
		return strings.Join(fields, "\t")
	case bool:
		return strconv.FormatBool(t)
	}
	return tsvField(item)
}

func tsvField(v any) string {
	switch t := v.(type) {
	case *object:
		return ""
	case []any:
		return strconv.Itoa(len(t))
	}
	return pyStr(v)
}

// pyStr prints a scalar as Python's str() does, which is what az's tsv and
// table outputs show.
func pyStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	return ""
}
