package policy

import (
	"fmt"
	"strings"
)

// factsRoot starts an alias path that reads Resource.Facts (what kiln
// knows about a resource) instead of the resource's JSON.
const factsRoot = "$kiln."

// pathSeg is one step of a resource path: an object key, optionally
// followed by [*] (every element of the array under that key).
type pathSeg struct {
	key      string
	wildcard bool
}

// fieldPath is a parsed resource path such as
// "properties.securityRules[*].properties.direction".
type fieldPath struct {
	text      string
	facts     bool // resolves against Resource.Facts
	segs      []pathSeg
	wildcards int
}

// parsePath parses an alias path. Keys are separated by dots; "[*]" after a
// key selects every element of the array; "['k']" or "[k]" is a key that
// may contain dots.
func parsePath(text string) (*fieldPath, error) {
	p := &fieldPath{text: text}
	rest := text
	if strings.HasPrefix(rest, factsRoot) {
		p.facts, rest = true, rest[len(factsRoot):]
	}
	if rest == "" {
		return nil, fmt.Errorf("empty path")
	}
	for rest != "" {
		seg, tail, err := nextSegment(rest)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", text, err)
		}
		p.segs = append(p.segs, seg)
		if seg.wildcard {
			p.wildcards++
		}
		rest = tail
	}
	return p, nil
}

// nextSegment reads one key (with its [*] or [key] suffixes) from s.
func nextSegment(s string) (pathSeg, string, error) {
	if strings.HasPrefix(s, "[") {
		return bracketKey(s)
	}
	end := strings.IndexAny(s, ".[")
	if end < 0 {
		return pathSeg{key: s}, "", nil
	}
	seg := pathSeg{key: s[:end]}
	if seg.key == "" {
		return seg, "", fmt.Errorf("empty key")
	}
	rest := s[end:]
	if strings.HasPrefix(rest, "[*]") {
		seg.wildcard, rest = true, rest[3:]
	}
	rest, err := trimDot(rest)
	return seg, rest, err
}

// bracketKey reads "['k']", "[k]" or "[*]"-less bracketed keys.
func bracketKey(s string) (pathSeg, string, error) {
	end := strings.Index(s, "]")
	if end < 0 {
		return pathSeg{}, "", fmt.Errorf("unclosed '['")
	}
	key := s[1:end]
	if len(key) >= 2 && key[0] == '\'' && key[len(key)-1] == '\'' {
		key = strings.ReplaceAll(key[1:len(key)-1], "''", "'")
	}
	if key == "" || key == "*" {
		return pathSeg{}, "", fmt.Errorf("[%s] must follow a key", key)
	}
	seg := pathSeg{key: key}
	rest := s[end+1:]
	if strings.HasPrefix(rest, "[*]") {
		seg.wildcard, rest = true, rest[3:]
	}
	rest, err := trimDot(rest)
	return seg, rest, err
}

// trimDot consumes the "." between two keys.
func trimDot(rest string) (string, error) {
	switch {
	case rest == "":
		return "", nil
	case rest[0] == '.':
		if len(rest) == 1 {
			return "", fmt.Errorf("path ends with '.'")
		}
		return rest[1:], nil
	case rest[0] == '[':
		return rest, nil
	}
	return "", fmt.Errorf("unexpected %q", rest[0])
}

// hasPrefix reports whether q starts with the whole of p, keys ignoring case.
func (p *fieldPath) hasPrefix(q *fieldPath) bool {
	if p.facts != q.facts || len(q.segs) > len(p.segs) {
		return false
	}
	for i, s := range q.segs {
		if s.wildcard != p.segs[i].wildcard || !strings.EqualFold(s.key, p.segs[i].key) {
			return false
		}
	}
	return true
}

// single reads a path without wildcards from root, or the part of a path
// from segment from on.
func (p *fieldPath) single(root any, from int) any {
	v := root
	for _, s := range p.segs[from:] {
		obj, ok := v.(map[string]any)
		if !ok {
			return missing
		}
		if v, ok = lookupKey(obj, s.key); !ok {
			return missing
		}
		if s.wildcard {
			return missing // callers use collect for wildcard paths
		}
	}
	return v
}

// collect selects the values of a path with wildcards from root, starting
// at segment from. ok is false when an array the path goes through is
// missing, null or not an array (the implicit allOf is then false).
// keepMissing keeps a missing leaf as the missing value; otherwise it is
// left out, as field() and count do.
func (p *fieldPath) collect(root any, from int, keepMissing bool) (out []any, ok bool) {
	ok = true
	p.walk(root, from, keepMissing, &out, &ok)
	return out, ok
}

func (p *fieldPath) walk(v any, i int, keepMissing bool, out *[]any, ok *bool) {
	for ; i < len(p.segs); i++ {
		s := p.segs[i]
		obj, isObj := v.(map[string]any)
		if !isObj {
			p.leaf(missing, i, keepMissing, out, ok)
			return
		}
		next, found := lookupKey(obj, s.key)
		if !found {
			p.leaf(missing, i, keepMissing, out, ok)
			return
		}
		if !s.wildcard {
			v = next
			continue
		}
		arr, isArr := next.([]any)
		if !isArr {
			*ok = false
			return
		}
		for _, elem := range arr {
			p.walk(elem, i+1, keepMissing, out, ok)
		}
		return
	}
	*out = append(*out, v)
}

// leaf records a value that ended early at segment i: a missing array
// makes ok false, a missing plain property is a missing leaf.
func (p *fieldPath) leaf(v any, i int, keepMissing bool, out *[]any, ok *bool) {
	for _, s := range p.segs[i:] {
		if s.wildcard {
			*ok = false
			return
		}
	}
	if keepMissing {
		*out = append(*out, v)
	}
}
