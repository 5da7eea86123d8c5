package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Limits on template expressions, Azure's own [D PR "Policy rule limits"].
const (
	// MaxExpressionDepth bounds the nesting of calls, property accesses and
	// indexes in one expression.
	MaxExpressionDepth = 64
	// MaxExpressionLength bounds one expression string.
	MaxExpressionLength = 81920
	// MaxFunctionArgs bounds the arguments of one call.
	MaxFunctionArgs = 128
)

// isExpression reports whether a JSON string is a template expression:
// "[...]" but not "[[...", which escapes a literal "[".
func isExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && s[1] != '['
}

// unescapeLiteral turns "[[..." into "[...".
func unescapeLiteral(s string) string {
	if strings.HasPrefix(s, "[[") {
		return s[1:]
	}
	return s
}

// exprKind tells the kinds of expression node apart.
type exprKind uint8

const (
	exprLiteral  exprKind = iota // val
	exprCall                     // name(args...)
	exprProperty                 // args[0].name
	exprIndex                    // args[0][args[1]]
)

// exprNode is one node of a parsed expression.
type exprNode struct {
	kind exprKind
	pos  int // 1-based position in the expression string
	val  any // literal: string or json.Number
	name string
	args []*exprNode
}

// exprSyntaxError is an expression that does not parse.
type exprSyntaxError struct {
	expr string
	pos  int
	msg  string
}

func (e *exprSyntaxError) Error() string {
	return fmt.Sprintf("syntax error at position %d in %q: %s", e.pos, shorten(e.expr), e.msg)
}

func shorten(s string) string {
	const maxShown = 120
	if len(s) > maxShown {
		return s[:maxShown] + "..."
	}
	return s
}

// exprParser is a recursive-descent parser over one expression string;
// depth bounds its recursion.
type exprParser struct {
	src   string
	pos   int // byte offset into src
	depth int
}

// parseExpression parses a string for which isExpression is true.
func parseExpression(s string) (*exprNode, error) {
	if len(s) > MaxExpressionLength {
		return nil, &exprSyntaxError{expr: s, pos: 1, msg: fmt.Sprintf("expression is %d characters, more than the limit of %d", len(s), MaxExpressionLength)}
	}
	p := &exprParser{src: s[:len(s)-1], pos: 1}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q after the expression", p.src[p.pos])
	}
	return n, nil
}

func (p *exprParser) errorf(format string, args ...any) error {
	return &exprSyntaxError{expr: p.src + "]", pos: p.pos + 1, msg: fmt.Sprintf(format, args...)}
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

// expr parses a primary followed by any number of ".name" and "[index]".
func (p *exprParser) expr() (*exprNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxExpressionDepth {
		return nil, p.errorf("expression is nested more than %d levels deep", MaxExpressionDepth)
	}
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	return p.accessors(n)
}

func (p *exprParser) accessors(n *exprNode) (*exprNode, error) {
	for levels := 0; ; levels++ {
		if levels+p.depth > MaxExpressionDepth {
			return nil, p.errorf("expression is nested more than %d levels deep", MaxExpressionDepth)
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return n, nil
		}
		switch p.src[p.pos] {
		case '.':
			p.pos++
			p.skipSpace()
			start := p.pos
			name := p.ident()
			if name == "" {
				return nil, p.errorf("expected a property name after '.'")
			}
			n = &exprNode{kind: exprProperty, pos: start + 1, name: name, args: []*exprNode{n}}
		case '[':
			start := p.pos
			p.pos++
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(']'); err != nil {
				return nil, err
			}
			n = &exprNode{kind: exprIndex, pos: start + 1, args: []*exprNode{n, idx}}
		default:
			return n, nil
		}
	}
}

func (p *exprParser) expect(c byte) error {
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != c {
		return p.errorf("expected %q", c)
	}
	p.pos++
	return nil
}

func (p *exprParser) primary() (*exprNode, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of expression")
	}
	c := p.src[p.pos]
	switch {
	case c == '\'':
		return p.stringLiteral()
	case c == '-' || isDigit(c):
		return p.numberLiteral()
	case isIdentStart(c):
		return p.call()
	}
	return nil, p.errorf("unexpected %q", c)
}

func (p *exprParser) stringLiteral() (*exprNode, error) {
	start := p.pos
	p.pos++
	var sb strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		p.pos++
		if c != '\'' {
			sb.WriteByte(c)
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '\'' {
			sb.WriteByte('\'')
			p.pos++
			continue
		}
		return &exprNode{kind: exprLiteral, pos: start + 1, val: sb.String()}, nil
	}
	p.pos = start
	return nil, p.errorf("unterminated string (write '' for a quote inside one)")
}

func (p *exprParser) numberLiteral() (*exprNode, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == digits {
		return nil, p.errorf("expected digits after '-'")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' && p.pos+1 < len(p.src) && isDigit(p.src[p.pos+1]) {
		return nil, p.errorf("numbers in expressions are integers; write json('%s...') for a fraction", p.src[start:p.pos])
	}
	lit := p.src[start:p.pos]
	if _, err := strconv.ParseInt(lit, 10, 64); err != nil {
		p.pos = start
		return nil, p.errorf("number %s is out of range", lit)
	}
	return &exprNode{kind: exprLiteral, pos: start + 1, val: json.Number(lit)}, nil
}

func (p *exprParser) call() (*exprNode, error) {
	start := p.pos
	name := p.ident()
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		p.pos = start
		hint := ""
		switch strings.ToLower(name) {
		case "true", "false", "null":
			hint = fmt.Sprintf(" (write %s())", name)
		}
		return nil, p.errorf("expected a function call, got the name %q%s", name, hint)
	}
	p.pos++
	n := &exprNode{kind: exprCall, pos: start + 1, name: name}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return n, nil
	}
	for {
		if len(n.args) >= MaxFunctionArgs {
			return nil, p.errorf("function '%s' has more than %d arguments", name, MaxFunctionArgs)
		}
		arg, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, arg)
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if err := p.expect(')'); err != nil {
			return nil, p.errorf("expected ',' or ')' in the arguments of '%s'", name)
		}
		return n, nil
	}
}

func (p *exprParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) && (isIdentStart(p.src[p.pos]) || isDigit(p.src[p.pos])) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
}
