package output

import (
	"encoding/json"
	"fmt"
	"strings"
)

// palette holds the ANSI sequences jsonc wraps around each kind of token.
type palette struct {
	key, str, num, lit, reset string
}

var (
	plainPalette = palette{}
	ansiPalette  = palette{
		key:   "\x1b[94m", // bright blue
		str:   "\x1b[33m", // yellow
		num:   "\x1b[36m", // cyan
		lit:   "\x1b[35m", // magenta: true, false, null
		reset: "\x1b[0m",
	}
)

// formatJSON renders the tree as az does: two-space indent, ": " after keys,
// non-ASCII characters unescaped, and a final newline.
func formatJSON(tree any, p palette) string {
	var b strings.Builder
	writeJSON(&b, tree, p, "")
	b.WriteByte('\n')
	return b.String()
}

func writeJSON(b *strings.Builder, v any, p palette, indent string) {
	switch t := v.(type) {
	case *object:
		writeJSONObject(b, t, p, indent)
	case []any:
		writeJSONArray(b, t, p, indent)
	case string:
		paint(b, p.str, quoteJSON(t), p)
	case json.Number:
		paint(b, p.num, string(t), p)
	case bool:
		paint(b, p.lit, fmt.Sprint(t), p)
	default:
		paint(b, p.lit, "null", p)
	}
}

func writeJSONObject(b *strings.Builder, o *object, p palette, indent string) {
	if len(o.keys) == 0 {
		b.WriteString("{}")
		return
	}
	inner := indent + "  "
	b.WriteString("{\n")
	for i, k := range o.keys {
		b.WriteString(inner)
		paint(b, p.key, quoteJSON(k), p)
		b.WriteString(": ")
		writeJSON(b, o.vals[k], p, inner)
		if i < len(o.keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent + "}")
}

func writeJSONArray(b *strings.Builder, a []any, p palette, indent string) {
	if len(a) == 0 {
		b.WriteString("[]")
		return
	}
	inner := indent + "  "
	b.WriteString("[\n")
	for i, e := range a {
		b.WriteString(inner)
		writeJSON(b, e, p, inner)
		if i < len(a)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent + "]")
}

func paint(b *strings.Builder, color, text string, p palette) {
	if color == "" {
		b.WriteString(text)
		return
	}
	b.WriteString(color)
	b.WriteString(text)
	b.WriteString(p.reset)
}

// quoteJSON quotes a string the way Python's json.dumps(ensure_ascii=False)
// does: only the quote, the backslash and control characters are escaped.
func quoteJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
