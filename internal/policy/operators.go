package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// matcher tests a left-hand value against a prepared operator value; the
// value may be missing.
type matcher func(l any) (bool, error)

// operatorSpec is one condition operator. The not- operators share their
// positive operator's matcher and negate its result.
type operatorSpec struct {
	name    string // canonical spelling
	negate  bool
	rhs     rhsKind
	prepare func(r any) (matcher, error)
}

// rhsKind is what an operator expects as its value, for authoring checks.
type rhsKind uint8

const (
	rhsScalar  rhsKind = iota // equals, like, match, contains, containsKey, ordering
	rhsArray                  // in, notIn
	rhsBoolean                // exists
)

// operators maps lower-cased operator names to their specs.
var operators = map[string]*operatorSpec{}

// operatorNames are the canonical names, for suggestions.
var operatorNames []string

func init() {
	pairs := []struct {
		pos, neg string
		rhs      rhsKind
		prepare  func(r any) (matcher, error)
	}{
		{"equals", "notEquals", rhsScalar, prepareEquals},
		{"like", "notLike", rhsScalar, prepareLike},
		{"match", "notMatch", rhsScalar, prepareMatch(false)},
		{"matchInsensitively", "notMatchInsensitively", rhsScalar, prepareMatch(true)},
		{"contains", "notContains", rhsScalar, prepareContains},
		{"in", "notIn", rhsArray, prepareIn},
		{"containsKey", "notContainsKey", rhsScalar, prepareContainsKey},
	}
	for _, p := range pairs {
		addOperator(&operatorSpec{name: p.pos, rhs: p.rhs, prepare: p.prepare})
		addOperator(&operatorSpec{name: p.neg, negate: true, rhs: p.rhs, prepare: p.prepare})
	}
	addOperator(&operatorSpec{name: "less", rhs: rhsScalar, prepare: prepareOrder("less", func(c int) bool { return c < 0 })})
	addOperator(&operatorSpec{name: "lessOrEquals", rhs: rhsScalar, prepare: prepareOrder("lessOrEquals", func(c int) bool { return c <= 0 })})
	addOperator(&operatorSpec{name: "greater", rhs: rhsScalar, prepare: prepareOrder("greater", func(c int) bool { return c > 0 })})
	addOperator(&operatorSpec{name: "greaterOrEquals", rhs: rhsScalar, prepare: prepareOrder("greaterOrEquals", func(c int) bool { return c >= 0 })})
	addOperator(&operatorSpec{name: "exists", rhs: rhsBoolean, prepare: prepareExists})
}

func addOperator(op *operatorSpec) {
	operators[strings.ToLower(op.name)] = op
	operatorNames = append(operatorNames, op.name)
}

// errNullValue is the evaluation error of an operator value that is null.
func errNullValue() error {
	return fmt.Errorf("the operator's value evaluated to null, which fails the evaluation (guard it, for example with coalesce or if)")
}

// prepareEquals: a case-insensitive comparison of scalars as strings;
// arrays and objects compare element by element.
func prepareEquals(r any) (matcher, error) {
	if r == nil {
		return nil, errNullValue()
	}
	rs, scalar := scalarString(r)
	if !scalar {
		return func(l any) (bool, error) { return valuesEqual(l, r), nil }, nil
	}
	return func(l any) (bool, error) {
		ls, ok := scalarString(l)
		return ok && equalFold(ls, rs), nil
	}, nil
}

// prepareLike: a case-insensitive glob anchored at both ends, "*" any run
// of characters and "?" one character.
func prepareLike(r any) (matcher, error) {
	rs, err := scalarOperand("like", r)
	if err != nil {
		return nil, err
	}
	pattern := []rune(fold(rs))
	return func(l any) (bool, error) {
		ls, ok := scalarString(l)
		return ok && globMatch(pattern, []rune(fold(ls))), nil
	}, nil
}

// globMatch matches s against a pattern of "*" and "?" wildcards with one
// backtracking point, in linear time for any number of stars.
func globMatch(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// prepareMatch: "#" one ASCII digit, "?" one letter, "." any character,
// anything else itself; the whole string, case-sensitive unless insensitive.
func prepareMatch(insensitive bool) func(r any) (matcher, error) {
	return func(r any) (matcher, error) {
		rs, err := scalarOperand("match", r)
		if err != nil {
			return nil, err
		}
		pattern := []rune(rs)
		return func(l any) (bool, error) {
			ls, ok := scalarString(l)
			return ok && patternMatch(pattern, ls, insensitive), nil
		}, nil
	}
}

func patternMatch(p []rune, s string, insensitive bool) bool {
	if utf8.RuneCountInString(s) != len(p) {
		return false
	}
	i := 0
	for _, c := range s {
		if !patternRune(p[i], c, insensitive) {
			return false
		}
		i++
	}
	return true
}

func patternRune(p, c rune, insensitive bool) bool {
	switch p {
	case '#':
		return c >= '0' && c <= '9'
	case '?':
		return unicode.IsLetter(c)
	case '.':
		return true
	}
	if insensitive {
		return foldRune(p) == foldRune(c)
	}
	return p == c
}

// prepareContains: a case-insensitive substring of a string (numbers and
// booleans as strings), an element of an array (by equals), a key of an
// object.
func prepareContains(r any) (matcher, error) {
	rs, err := scalarOperand("contains", r)
	if err != nil {
		return nil, err
	}
	needle := fold(rs)
	elem, _ := prepareEquals(r)
	return func(l any) (bool, error) {
		switch l := l.(type) {
		case missingValue:
			return false, nil
		case []any:
			for _, e := range l {
				if ok, _ := elem(e); ok {
					return true, nil
				}
			}
			return false, nil
		case map[string]any:
			_, ok := lookupKey(l, rs)
			return ok, nil
		}
		ls, _ := scalarString(l)
		return containsFold(ls, needle), nil
	}, nil
}

// containsFold reports whether s contains needle (already folded),
// ignoring case; ASCII strings are compared without allocating.
func containsFold(s, needle string) bool {
	if !isASCII(s) || !isASCII(needle) {
		return strings.Contains(fold(s), needle)
	}
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		if asciiEqualLower(s[i:i+n], needle) {
			return true
		}
	}
	return false
}

// asciiEqualLower compares an ASCII string with a lower-case one.
func asciiEqualLower(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// prepareIn: some non-null element of the array equals the value; a
// missing value is in the array only when the array holds null.
func prepareIn(r any) (matcher, error) {
	if r == nil {
		return nil, errNullValue()
	}
	list, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("the value of 'in' and 'notIn' must be an array, got %s", kindOf(r))
	}
	set, others, hasNull := foldSet(list)
	return func(l any) (bool, error) {
		switch l.(type) {
		case missingValue:
			return hasNull, nil
		case nil:
			return false, nil
		}
		if ls, ok := scalarString(l); ok && set[fold(ls)] {
			return true, nil
		}
		for _, e := range others {
			if valuesEqual(l, e) {
				return true, nil
			}
		}
		return false, nil
	}, nil
}

// foldSet indexes the scalar elements of a list by folded string.
func foldSet(list []any) (set map[string]bool, others []any, hasNull bool) {
	set = make(map[string]bool, len(list))
	for _, e := range list {
		switch e.(type) {
		case nil:
			hasNull = true
		case []any, map[string]any:
			others = append(others, e)
		default:
			s, _ := scalarString(e)
			set[fold(s)] = true
		}
	}
	return set, others, hasNull
}

// prepareContainsKey: the value is an object with the key, ignoring case.
func prepareContainsKey(r any) (matcher, error) {
	key, err := scalarOperand("containsKey", r)
	if err != nil {
		return nil, err
	}
	return func(l any) (bool, error) {
		obj, ok := l.(map[string]any)
		if !ok {
			return false, nil
		}
		_, found := lookupKey(obj, key)
		return found, nil
	}, nil
}

// prepareOrder: numbers compare as numbers, strings ignoring case (as
// times when both are RFC 3339 dates); any other pairing fails the
// evaluation. A missing or null value is false.
func prepareOrder(name string, want func(int) bool) func(r any) (matcher, error) {
	return func(r any) (matcher, error) {
		switch r.(type) {
		case nil:
			return nil, errNullValue()
		case json.Number, string:
		default:
			return nil, fmt.Errorf("'%s' compares numbers or strings, and its value is %s", name, kindOf(r))
		}
		return func(l any) (bool, error) {
			if l == nil || isMissing(l) {
				return false, nil
			}
			c, err := order(l, r)
			if err != nil {
				return false, fmt.Errorf("'%s': %w", name, err)
			}
			return want(c), nil
		}, nil
	}
}

// order compares two values for the ordering operators.
func order(l, r any) (int, error) {
	switch l := l.(type) {
	case json.Number:
		if rn, ok := r.(json.Number); ok {
			return compareNumbers(l, rn), nil
		}
	case string:
		if rs, ok := r.(string); ok {
			return compareStrings(l, rs), nil
		}
	}
	return 0, fmt.Errorf("cannot compare %s with %s", kindOf(l), kindOf(r))
}

// compareStrings orders dates as times, other strings ignoring case.
func compareStrings(a, b string) int {
	if ta, err := time.Parse(time.RFC3339Nano, a); err == nil {
		if tb, err := time.Parse(time.RFC3339Nano, b); err == nil {
			return ta.Compare(tb)
		}
	}
	return strings.Compare(fold(a), fold(b))
}

// prepareExists: true or false, also as a string in any case.
func prepareExists(r any) (matcher, error) {
	want, err := existsValue(r)
	if err != nil {
		return nil, err
	}
	return func(l any) (bool, error) {
		present := l != nil && !isMissing(l)
		return present == want, nil
	}, nil
}

func existsValue(r any) (bool, error) {
	switch r := r.(type) {
	case bool:
		return r, nil
	case string:
		switch strings.ToLower(r) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("the value of 'exists' must be true or false, got %s", display(r))
}

// scalarOperand reads an operator value that must be a scalar.
func scalarOperand(op string, r any) (string, error) {
	if r == nil {
		return "", errNullValue()
	}
	s, ok := scalarString(r)
	if !ok {
		return "", fmt.Errorf("the value of '%s' must be a string, got %s", op, kindOf(r))
	}
	return s, nil
}
