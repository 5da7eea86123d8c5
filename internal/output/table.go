package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tableSkipKeys are never shown as columns, as in az.
var tableSkipKeys = map[string]bool{"id": true, "type": true, "etag": true}

// errNoColumns mirrors az's "Table output unavailable" error.
var errNoColumns = errors.New("table output unavailable: the result has no scalar fields to show; use --query to select some")

// cells is one table row: column name -> text, with the columns in order.
type cells struct {
	cols []string
	text map[string]string
}

func (c *cells) set(col, text string) {
	if _, dup := c.text[col]; !dup {
		c.cols = append(c.cols, col)
	}
	c.text[col] = text
}

// formatTable renders the tree as az's table does. A result that is not a
// list is a list of one; each item is a row:
//   - an object: its non-null scalar fields except id, type and etag, under
//     the key with its first letter capitalized (nested values are left out);
//   - a list: its elements as Column1, Column2, ...;
//   - a scalar: one Result column.
//
// The columns are the union of the rows' columns in order of appearance; a
// row without a column shows an empty cell. Layout is tabulate's "simple":
// header, dashes, rows, columns two spaces apart, each at least two wider
// than its header, everything left-aligned, trailing blanks trimmed.
func formatTable(tree any) (string, error) {
	items, ok := tree.([]any)
	if !ok {
		items = []any{tree}
	}
	if len(items) == 0 {
		return "\n", nil
	}
	rows := make([]*cells, len(items))
	for i, item := range items {
		rows[i] = tableRow(item)
	}
	headers := unionColumns(rows)
	if len(headers) == 0 {
		return "", errNoColumns
	}
	return layoutTable(headers, rows), nil
}

func tableRow(item any) *cells {
	row := &cells{text: map[string]string{}}
	switch t := item.(type) {
	case *object:
		for _, k := range t.keys {
			v := t.vals[k]
			if tableSkipKeys[k] || v == nil || !isScalar(v) {
				continue
			}
			row.set(capitalize(k), tableCell(v))
		}
	case []any:
		for i, e := range t {
			row.set(fmt.Sprintf("Column%d", i+1), tableCell(e))
		}
	default:
		row.set("Result", tableCell(t))
	}
	return row
}

// tableCell prints a value as tabulate does: str() for scalars, empty for null.
func tableCell(v any) string {
	switch v.(type) {
	case nil:
		return ""
	case *object, []any:
		return compactJSON(v)
	}
	return pyStr(v)
}

func compactJSON(v any) string {
	b := &bridge{origin: map[uintptr]*object{}}
	raw, err := json.Marshal(b.toPlain(v))
	if err != nil {
		return ""
	}
	return string(raw)
}

func capitalize(k string) string {
	r, size := utf8.DecodeRuneInString(k)
	if size == 0 {
		return k
	}
	return string(unicode.ToUpper(r)) + k[size:]
}

func unionColumns(rows []*cells) []string {
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		for _, c := range r.cols {
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
		}
	}
	return cols
}

func layoutTable(headers []string, rows []*cells) string {
	widths := columnWidths(headers, rows)
	var b strings.Builder
	writeTableLine(&b, headers, widths)
	dashes := make([]string, len(widths))
	for i, w := range widths {
		dashes[i] = strings.Repeat("-", w)
	}
	writeTableLine(&b, dashes, widths)
	for _, r := range rows {
		line := make([]string, len(headers))
		for i, h := range headers {
			line[i] = r.text[h]
		}
		writeTableLine(&b, line, widths)
	}
	return b.String()
}

func columnWidths(headers []string, rows []*cells) []int {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = textWidth(h) + 2
		for _, r := range rows {
			widths[i] = max(widths[i], textWidth(r.text[h]))
		}
	}
	return widths
}

// writeTableLine writes one row, spreading multi-line cells over several lines.
func writeTableLine(b *strings.Builder, row []string, widths []int) {
	split := make([][]string, len(row))
	height := 1
	for i, c := range row {
		split[i] = strings.Split(c, "\n")
		height = max(height, len(split[i]))
	}
	for l := range height {
		parts := make([]string, len(row))
		for i := range row {
			part := ""
			if l < len(split[i]) {
				part = split[i][l]
			}
			parts[i] = part + strings.Repeat(" ", max(0, widths[i]-utf8.RuneCountInString(part)))
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " \t"))
		b.WriteByte('\n')
	}
}

// textWidth is the width of the widest line of s, in runes.
func textWidth(s string) int {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, utf8.RuneCountInString(line))
	}
	return w
}
