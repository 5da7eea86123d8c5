package policy

import (
	"strings"
)

// fieldKind tells the built-in fields and aliases apart.
type fieldKind uint8

const (
	fieldType fieldKind = iota
	fieldName
	fieldFullName
	fieldKindName // the resource's "kind"
	fieldLocation
	fieldID
	fieldIdentityType
	fieldTags
	fieldTag
	fieldAlias
)

// builtinFields maps the lower-cased built-in field names to their kinds.
var builtinFields = map[string]fieldKind{
	"type": fieldType, "name": fieldName, "fullname": fieldFullName, "kind": fieldKindName,
	"location": fieldLocation, "id": fieldID, "identity.type": fieldIdentityType, "tags": fieldTags,
}

func builtinFieldNames() []string {
	return []string{"type", "name", "fullName", "kind", "location", "id", "identity.type", "tags", "tags['<name>']"}
}

// fieldRef is a parsed "field" value: a built-in field, a tag or an alias.
type fieldRef struct {
	text  string
	kind  fieldKind
	tag   string // fieldTag
	alias *alias // fieldAlias
}

// parseFieldRef resolves a field name against the built-in fields and the
// alias table.
func parseFieldRef(name string, aliases *Aliases) (*fieldRef, error) {
	lower := strings.ToLower(name)
	if k, ok := builtinFields[lower]; ok {
		return &fieldRef{text: name, kind: k}, nil
	}
	if tag, ok, err := parseTagField(name); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return &fieldRef{text: name, kind: fieldTag, tag: tag}, nil
	}
	if al, ok := aliases.lookup(name); ok {
		return &fieldRef{text: name, kind: fieldAlias, alias: al}, nil
	}
	return nil, aliases.unknownAlias(name)
}

// parseTagField reads tags.<name>, tags[<name>] and tags['<name>'] (with
// a quote inside the name written twice).
func parseTagField(name string) (tag string, ok bool, err error) {
	if len(name) < 5 || !strings.EqualFold(name[:4], "tags") {
		return "", false, nil
	}
	rest := name[4:]
	switch {
	case rest[0] == '.':
		tag = rest[1:]
	case rest[0] == '[' && strings.HasSuffix(rest, "]"):
		tag = rest[1 : len(rest)-1]
		if len(tag) >= 2 && tag[0] == '\'' && tag[len(tag)-1] == '\'' {
			tag = strings.ReplaceAll(tag[1:len(tag)-1], "''", "'")
		}
	default:
		return "", false, nil
	}
	if tag == "" {
		return "", true, Problem{Message: "empty tag name in " + quote(name), Hint: "write tags['<name>']"}
	}
	return tag, true, nil
}

func quote(s string) string { return "'" + s + "'" }

// isWildcard reports whether the field is an alias whose name selects
// array elements ([*]).
func (f *fieldRef) isWildcard() bool {
	return f.kind == fieldAlias && strings.Contains(f.alias.name, "[*]")
}

// fieldValue is what a field reads: one value, or for a path through [*]
// the selected elements.
type fieldValue struct {
	single   any
	elems    []any
	many     bool // elems holds the values selected through [*]
	ok       bool // many: false when an array on the path is missing
	arrayish bool // the alias path has [*] (field() then returns an array)
}

// asArray is what field() returns for a [*] path: the selected values, or
// inside a count's where the one bound value.
func (v fieldValue) asArray() []any {
	if v.many {
		if v.elems == nil {
			return []any{}
		}
		return v.elems
	}
	if isMissing(v.single) {
		return []any{}
	}
	return []any{v.single}
}

// read resolves the field against the state's resource and count bindings.
func (f *fieldRef) read(st *evalState, res *view, keepMissing bool) fieldValue {
	switch f.kind {
	case fieldType:
		return one(nonEmpty(res.typ))
	case fieldName:
		return one(nonEmpty(res.name()))
	case fieldFullName:
		return one(nonEmpty(res.fullName()))
	case fieldKindName:
		return one(res.prop("kind"))
	case fieldLocation:
		return one(res.prop("location"))
	case fieldID:
		return one(nonEmpty(res.id()))
	case fieldIdentityType:
		return one(res.identityType())
	case fieldTags:
		return one(res.prop("tags"))
	case fieldTag:
		return one(res.tag(f.tag))
	}
	return f.readAlias(st, res, keepMissing)
}

func one(v any) fieldValue { return fieldValue{single: v} }

func nonEmpty(s string) any {
	if s == "" {
		return missing
	}
	return s
}

// readAlias resolves an alias path for the resource's type, starting from
// the innermost count binding whose counted path is a prefix of it.
func (f *fieldRef) readAlias(st *evalState, res *view, keepMissing bool) fieldValue {
	p := res.aliasPath(f.alias, st.apiVersion())
	if p == nil {
		if f.isWildcard() {
			return fieldValue{many: true, ok: false, arrayish: true}
		}
		return one(missing)
	}
	root, from := res.root(p), 0
	if res == st.res {
		if b := st.binding(p); b != nil {
			root, from = b.elem, len(b.path.segs)
		}
	}
	if !hasWildcardFrom(p, from) {
		return fieldValue{single: p.single(root, from), arrayish: p.wildcards > 0}
	}
	elems, ok := p.collect(root, from, keepMissing)
	return fieldValue{many: true, elems: elems, ok: ok, arrayish: true}
}

func hasWildcardFrom(p *fieldPath, from int) bool {
	for _, s := range p.segs[from:] {
		if s.wildcard {
			return true
		}
	}
	return false
}
