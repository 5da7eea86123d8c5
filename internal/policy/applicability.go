package policy

import "strings"

// applicabilityTree is the if with every condition that does not decide
// applicability replaced by a constant that cannot make the resource
// inapplicable: true, or false under an odd number of nots. Which
// conditions decide follows Azure: with no type condition, none (every
// resource is applicable); with type conditions and nothing else but name
// or kind, only the type conditions; with other conditions too, type, name
// and kind conditions.
func applicabilityTree(n node, facts ruleFacts, underNot bool) node {
	switch n := n.(type) {
	case *allOfNode:
		return &allOfNode{path: n.path, kids: applicabilityKids(n.kids, facts, underNot)}
	case *anyOfNode:
		return &anyOfNode{path: n.path, kids: applicabilityKids(n.kids, facts, underNot)}
	case *notNode:
		return &notNode{path: n.path, kid: applicabilityTree(n.kid, facts, !underNot)}
	case *condNode:
		if decidesApplicability(n, facts) {
			return n
		}
	}
	return constNode(!underNot)
}

func applicabilityKids(kids []node, facts ruleFacts, underNot bool) []node {
	out := make([]node, len(kids))
	for i, k := range kids {
		out[i] = applicabilityTree(k, facts, underNot)
	}
	return out
}

func decidesApplicability(n *condNode, facts ruleFacts) bool {
	fo, ok := n.lhs.(*fieldOperand)
	if !ok || !facts.typ {
		return false
	}
	switch fo.ref.kind {
	case fieldType:
		return true
	case fieldName, fieldKindName:
		return facts.other
	}
	return false
}

// modeApplies reports whether a definition's mode evaluates a resource
// type: Microsoft.Resources types never, except resource groups and
// subscriptions under mode All; under Indexed only types with tags and
// location (from the alias table; for a type it does not know, whether the
// resource has a location).
func modeApplies(mode string, v *view, aliases *Aliases) bool {
	t := v.typLower
	if strings.HasPrefix(t, "microsoft.resources/") {
		return mode == ModeAll && (t == lowerResourceGroup || t == lowerSubscription)
	}
	if mode == ModeAll {
		return true
	}
	if info, ok := aliases.types[t]; ok && info.Known {
		return info.TagsAndLocation
	}
	loc := v.prop("location")
	return loc != nil && !isMissing(loc)
}
