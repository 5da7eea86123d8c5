package arm

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxExpressionDepth bounds the nesting of calls, property accesses and
// indexes in one expression: "[f(g(x().a))]" has 4 levels. Deeper
// expressions are rejected (the parser stops early, so its own recursion
// is bounded too).
const MaxExpressionDepth = 64

// IsExpression reports whether a JSON string value is an ARM expression:
// it starts with "[" and ends with "]", and does not start with "[[" (which
// escapes a literal "[").
func IsExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && s[1] != '['
}

// unescapeLiteral turns "[[..." into "[...", the literal form of a string
// that would otherwise be an expression.
func unescapeLiteral(s string) string {
	if strings.HasPrefix(s, "[[") {
		return s[1:]
	}
	return s
}

// Expression is a parsed ARM expression.
type Expression struct {
	root node
}

// String prints the expression back in canonical form ("[f('a', 1)]").
func (x *Expression) String() string { return "[" + x.root.String() + "]" }

// SyntaxError is an expression that does not parse.
type SyntaxError struct {
	Expr string // the whole string, brackets included
	Pos  int    // 1-based character position in Expr
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("syntax error at position %d in %q: %s", e.Pos, e.Expr, e.Msg)
}

// node is an expression tree node.
type node interface {
	String() string
}

type (
	strNode  struct{ val string }
	intNode  struct{ val int64 }
	callNode struct {
		name string
		args []node
	}
	propNode struct {
		x    node
		name string
	}
	indexNode struct {
		x     node
		index node
	}
)

func (n *strNode) String() string {
	return "'" + strings.ReplaceAll(n.val, "'", "''") + "'"
}
func (n *intNode) String() string { return strconv.FormatInt(n.val, 10) }
func (n *callNode) String() string {
	args := make([]string, len(n.args))
	for i, a := range n.args {
		args[i] = a.String()
	}
	return n.name + "(" + strings.Join(args, ", ") + ")"
}
func (n *propNode) String() string  { return n.x.String() + "." + n.name }
func (n *indexNode) String() string { return n.x.String() + "[" + n.index.String() + "]" }

// ParseExpression parses a string for which IsExpression is true.
func ParseExpression(s string) (*Expression, error) {
	if !IsExpression(s) {
		return nil, &SyntaxError{Expr: s, Pos: 1, Msg: `an expression starts with "[" and ends with "]"`}
	}
	p := &parser{src: s, pos: 1, end: len(s) - 1}
	root, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < p.end {
		return nil, p.errorf("unexpected %s after the end of the expression", p.describe())
	}
	if height(root) > MaxExpressionDepth {
		return nil, &SyntaxError{Expr: s, Pos: 1, Msg: fmt.Sprintf("expression is nested deeper than %d levels", MaxExpressionDepth)}
	}
	return &Expression{root: root}, nil
}

// height is the number of levels of an expression tree: calls, property
// accesses and indexes each add one.
func height(n node) int {
	switch n := n.(type) {
	case *callNode:
		h := 0
		for _, a := range n.args {
			h = max(h, height(a))
		}
		return h + 1
	case *propNode:
		return height(n.x) + 1
	case *indexNode:
		return max(height(n.x), height(n.index)) + 1
	}
	return 0
}

// parser is a recursive-descent parser over src[pos:end].
type parser struct {
	src      string
	pos, end int
}

func (p *parser) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Expr: p.src, Pos: p.pos + 1, Msg: fmt.Sprintf(format, args...)}
}

// describe names the character at pos for error messages.
func (p *parser) describe() string {
	if p.pos >= p.end {
		return "end of expression"
	}
	return strconv.QuoteRune(rune(p.src[p.pos]))
}

func (p *parser) skipSpace() {
	for p.pos < p.end && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos >= p.end {
		return 0
	}
	return p.src[p.pos]
}

// parseExpr parses a primary followed by property accesses and indexes.
func (p *parser) parseExpr(depth int) (node, error) {
	if depth >= MaxExpressionDepth {
		return nil, p.errorf("expression is nested deeper than %d levels", MaxExpressionDepth)
	}
	p.skipSpace()
	x, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	return p.parsePostfix(x, depth)
}

func (p *parser) parsePostfix(x node, depth int) (node, error) {
	for {
		p.skipSpace()
		switch p.peek() {
		case '.':
			depth++
			if depth >= MaxExpressionDepth {
				return nil, p.errorf("expression is nested deeper than %d levels", MaxExpressionDepth)
			}
			p.pos++
			p.skipSpace()
			name := p.ident()
			if name == "" {
				return nil, p.errorf("expected a property name after \".\", found %s", p.describe())
			}
			x = &propNode{x: x, name: name}
		case '[':
			depth++
			p.pos++
			idx, err := p.parseExpr(depth)
			if err != nil {
				return nil, err
			}
			if err := p.expect(']'); err != nil {
				return nil, err
			}
			x = &indexNode{x: x, index: idx}
		default:
			return x, nil
		}
	}
}

func (p *parser) expect(c byte) error {
	p.skipSpace()
	if p.peek() != c {
		return p.errorf("expected %q, found %s", c, p.describe())
	}
	p.pos++
	return nil
}

func (p *parser) parsePrimary(depth int) (node, error) {
	c := p.peek()
	switch {
	case c == '\'':
		return p.parseString()
	case c == '-' || isDigit(c):
		return p.parseInt()
	case isIdentStart(c):
		return p.parseCall(depth)
	}
	return nil, p.errorf("expected a function call, a 'string' or a number, found %s", p.describe())
}

func (p *parser) parseString() (node, error) {
	at := p.pos
	p.pos++
	var sb strings.Builder
	for p.pos < p.end {
		c := p.src[p.pos]
		p.pos++
		if c != '\'' {
			sb.WriteByte(c)
			continue
		}
		if p.peek() == '\'' {
			sb.WriteByte('\'')
			p.pos++
			continue
		}
		return &strNode{val: sb.String()}, nil
	}
	p.pos = at
	return nil, p.errorf("unterminated string (a quote inside a string is written '')")
}

func (p *parser) parseInt() (node, error) {
	at := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < p.end && isDigit(p.src[p.pos]) {
		p.pos++
	}
	text := p.src[at:p.pos]
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		p.pos = at
		if text == "-" {
			return nil, p.errorf("expected digits after \"-\"")
		}
		return nil, p.errorf("integer %s is out of range", text)
	}
	if p.pos < p.end && (isIdentStart(p.src[p.pos]) || p.src[p.pos] == '.' && p.pos+1 < p.end && isDigit(p.src[p.pos+1])) {
		return nil, p.errorf("only integers are supported, found %s", p.describe())
	}
	return &intNode{val: v}, nil
}

func (p *parser) parseCall(depth int) (node, error) {
	name := p.ident()
	p.skipSpace()
	if p.peek() == '.' {
		return nil, p.errorf("user-defined functions (%s.name()) are not supported", name)
	}
	if p.peek() != '(' {
		return nil, p.errorf("expected \"(\" after function name %q, found %s", name, p.describe())
	}
	p.pos++
	args, err := p.parseArgs(depth + 1)
	if err != nil {
		return nil, err
	}
	return &callNode{name: name, args: args}, nil
}

// parseArgs parses "a, b, c)" after the opening parenthesis.
func (p *parser) parseArgs(depth int) ([]node, error) {
	var args []node
	p.skipSpace()
	if p.peek() == ')' {
		p.pos++
		return args, nil
	}
	for {
		a, err := p.parseExpr(depth)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return args, nil
		default:
			return nil, p.errorf("expected \",\" or \")\", found %s", p.describe())
		}
	}
}

func (p *parser) ident() string {
	start := p.pos
	if p.pos < p.end && isIdentStart(p.src[p.pos]) {
		p.pos++
		for p.pos < p.end && (isIdentStart(p.src[p.pos]) || isDigit(p.src[p.pos])) {
			p.pos++
		}
	}
	return p.src[start:p.pos]
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
