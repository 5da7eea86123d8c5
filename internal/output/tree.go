package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// object is a JSON object that remembers the order of its keys, so that
// output follows the order of the Go struct fields that produced it.
type object struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *object {
	return &object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// set adds or replaces a member; a replaced member keeps its first position,
// and the last value wins, as with encoding/json.
func (o *object) set(k string, v any) {
	if _, dup := o.vals[k]; !dup {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// normalize turns any marshallable value into a generic, ordered JSON tree made
// of nil, bool, string, json.Number, []any and *object.
func normalize(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("output: cannot encode result: %w", err)
	}
	return decodeOrdered(raw)
}

// decodeOrdered decodes one JSON document into an ordered tree, keeping
// numbers as json.Number so that large integers survive.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, fmt.Errorf("output: cannot decode result: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("output: cannot decode result: trailing data")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return decodeObject(dec)
		case '[':
			return decodeArray(dec)
		}
		return nil, fmt.Errorf("unexpected %q", t)
	default:
		return t, nil // nil, bool, string or json.Number
	}
}

func decodeObject(dec *json.Decoder) (any, error) {
	obj := newObject(8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %T, not a string", tok)
		}
		val, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		obj.set(key, val)
	}
	_, err := dec.Token() // the closing '}'
	return obj, err
}

func decodeArray(dec *json.Decoder) (any, error) {
	arr := []any{}
	for dec.More() {
		val, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		arr = append(arr, val)
	}
	_, err := dec.Token() // the closing ']'
	return arr, err
}

// isScalar reports whether v is neither an object nor an array.
func isScalar(v any) bool {
	switch v.(type) {
	case *object, []any:
		return false
	}
	return true
}
