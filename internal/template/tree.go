package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// The generic tree both JSON and YAML decode into: *object, []any, string,
// json.Number, bool and nil. Objects keep their key order so that errors
// come out in document order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

// set adds a key; it reports false if the key was already there.
func (o *object) set(k string, v any) bool {
	if _, dup := o.vals[k]; dup {
		return false
	}
	o.keys = append(o.keys, k)
	o.vals[k] = v
	return true
}

// maxTreeDepth bounds nesting; templates are a handful of levels deep.
const maxTreeDepth = 200

// maxYAMLNodes bounds the nodes an aliased YAML document may expand to.
const maxYAMLNodes = 100000

// decodeTree decodes JSON (when the first non-space byte is "{") or YAML.
// Duplicate keys are errors in both.
func decodeTree(data []byte) (any, Errors) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, Errors{{Message: "the document is empty"}}
	}
	if trimmed[0] == '{' {
		return decodeJSONTree(data)
	}
	return decodeYAMLTree(data)
}

// jsonTree builds a tree from a token stream.
type jsonTree struct {
	data []byte
	dec  *json.Decoder
	errs errs
}

func decodeJSONTree(data []byte) (any, Errors) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t := &jsonTree{data: data, dec: dec}
	v, err := t.value("", 0)
	if err == nil {
		err = t.end()
	}
	if err != nil {
		return nil, Errors{t.syntaxError(err)}
	}
	return v, t.errs.list
}

// end checks that nothing follows the top-level value.
func (t *jsonTree) end() error {
	if _, err := t.dec.Token(); err != io.EOF {
		if err != nil {
			return err
		}
		return errTrailing
	}
	return nil
}

var (
	errTrailing = errors.New("unexpected data after the top-level value")
	errTooDeep  = fmt.Errorf("the document is nested deeper than %d levels", maxTreeDepth)
)

func (t *jsonTree) value(path string, depth int) (any, error) {
	if depth > maxTreeDepth {
		return nil, errTooDeep
	}
	tok, err := t.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		return t.object(path, depth)
	case json.Delim('['):
		return t.array(path, depth)
	}
	return tok, nil
}

func (t *jsonTree) object(path string, depth int) (any, error) {
	obj := newObject()
	for t.dec.More() {
		tok, err := t.dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		v, err := t.value(jsonpath.Key(path, key), depth+1)
		if err != nil {
			return nil, err
		}
		if !obj.set(key, v) {
			t.errs.add(jsonpath.Key(path, key), "", "duplicate key %q", key)
		}
	}
	_, err := t.dec.Token() // '}'
	return obj, err
}

func (t *jsonTree) array(path string, depth int) (any, error) {
	arr := []any{}
	for t.dec.More() {
		v, err := t.value(jsonpath.Index(path, len(arr)), depth+1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	_, err := t.dec.Token() // ']'
	return arr, err
}

// syntaxError locates a JSON decoding error by line and column. The
// token stream's offsets are not always exact, so the document is scanned
// again with json.Unmarshal, whose syntax errors count the offending byte.
func (t *jsonTree) syntaxError(err error) FieldError {
	off := t.dec.InputOffset()
	if !errors.Is(err, errTooDeep) {
		var v any
		var syn *json.SyntaxError
		if uerr := json.Unmarshal(t.data, &v); errors.As(uerr, &syn) {
			err, off = uerr, syn.Offset-1
			if strings.HasPrefix(syn.Error(), "unexpected end") {
				err, off = errors.New("unexpected end of input"), int64(len(t.data))
			}
		}
	}
	line, col := jsonpath.LineCol(t.data, off)
	return FieldError{Message: "invalid JSON: " + err.Error(), Line: line, Column: col}
}

// yamlTree converts yaml.v3 nodes.
type yamlTree struct {
	errs  errs
	nodes int
}

func decodeYAMLTree(data []byte) (v any, list Errors) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take the process down
			v, list = nil, Errors{{Message: fmt.Sprintf("invalid YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, Errors{yamlError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, Errors{{Message: "invalid YAML: a template is a single document; found a second one (\"---\")"}}
	}
	t := &yamlTree{}
	v, err := t.node(&doc, "", 0)
	if err != nil {
		return nil, Errors{*err}
	}
	return v, t.errs.list
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error into a FieldError with a line.
func yamlError(err error) FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return FieldError{Message: "invalid YAML: " + m[2], Line: line}
	}
	return FieldError{Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (t *yamlTree) node(n *yaml.Node, path string, depth int) (any, *FieldError) {
	t.nodes++
	switch {
	case depth > maxTreeDepth:
		return nil, &FieldError{Message: errTooDeep.Error(), Line: n.Line, Column: n.Column}
	case t.nodes > maxYAMLNodes:
		return nil, &FieldError{Message: fmt.Sprintf("the document expands to more than %d values (through aliases)", maxYAMLNodes), Line: n.Line, Column: n.Column}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, &FieldError{Message: "the document is empty"}
		}
		return t.node(n.Content[0], path, depth)
	case yaml.MappingNode:
		return t.mapping(n, path, depth)
	case yaml.SequenceNode:
		return t.sequence(n, path, depth)
	case yaml.AliasNode:
		return t.node(n.Alias, path, depth+1)
	}
	return t.scalar(n)
}

func (t *yamlTree) mapping(n *yaml.Node, path string, depth int) (any, *FieldError) {
	obj := newObject()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &FieldError{Message: "invalid YAML: mapping keys must be plain strings", Line: k.Line, Column: k.Column}
		}
		if k.ShortTag() == "!!merge" {
			return nil, &FieldError{Message: "invalid YAML: merge keys (<<) are not supported; write the fields out", Line: k.Line, Column: k.Column}
		}
		val, err := t.node(v, jsonpath.Key(path, k.Value), depth+1)
		if err != nil {
			return nil, err
		}
		if !obj.set(k.Value, val) {
			t.errs.add(jsonpath.Key(path, k.Value), "", "duplicate key %q (line %d)", k.Value, k.Line)
		}
	}
	return obj, nil
}

func (t *yamlTree) sequence(n *yaml.Node, path string, depth int) (any, *FieldError) {
	arr := make([]any, 0, len(n.Content))
	for i, c := range n.Content {
		v, err := t.node(c, jsonpath.Index(path, i), depth+1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	return arr, nil
}

// scalar converts a scalar by its resolved tag.
func (t *yamlTree) scalar(n *yaml.Node) (any, *FieldError) {
	bad := func(what string) *FieldError {
		return &FieldError{Message: fmt.Sprintf("invalid YAML: %s %q", what, n.Value), Line: n.Line, Column: n.Column}
	}
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if n.Decode(&b) != nil {
			return nil, bad("invalid boolean")
		}
		return b, nil
	case "!!int", "!!float":
		num, ok := yamlNumber(n)
		if !ok {
			return nil, bad("unsupported number")
		}
		return num, nil
	}
	return nil, bad("unsupported tag " + n.ShortTag() + " on")
}

// yamlNumber keeps the literal when it is valid JSON ("1.0" stays "1.0"
// for messages), else gives the decimal value (0x10 becomes 16).
func yamlNumber(n *yaml.Node) (json.Number, bool) {
	if json.Valid([]byte(n.Value)) {
		return json.Number(n.Value), true
	}
	var i int64
	if n.Decode(&i) == nil {
		return json.Number(strconv.FormatInt(i, 10)), true
	}
	var f float64
	if n.Decode(&f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
}
