package policy

import (
	"fmt"
	"sort"
	"strings"
)

// Aliases maps alias names ("Microsoft.Compute/imageId") to resource paths
// per resource type and API version, as Azure's resource providers publish
// them. An Aliases is immutable once built and safe for concurrent use.
type Aliases struct {
	byName map[string]*alias            // lower-cased name
	names  []string                     // canonical names, sorted
	types  map[string]*ResourceTypeInfo // lower-cased type
}

// ResourceTypeInfo is what the alias table knows about a resource type.
type ResourceTypeInfo struct {
	Type string
	// APIVersions are the type's API versions, newest first; the first is
	// what requestContext().apiVersion returns during compliance scans.
	APIVersions []string
	// TagsAndLocation is true when the type supports tags and location
	// (what mode Indexed evaluates); Known is false when the table does
	// not say.
	TagsAndLocation bool
	Known           bool
}

// alias is one alias name with its path for every type that has it.
// Namespace-level aliases (one slash, "Microsoft.Compute/imageId") map to
// different paths for different types.
type alias struct {
	name   string
	byType map[string]*aliasTarget
}

// aliasTarget is an alias's path for one resource type.
type aliasTarget struct {
	defaultPath *fieldPath
	versioned   []versionedPath
	modifiable  bool
}

type versionedPath struct {
	apiVersions []string
	path        *fieldPath
}

// newAliases returns an empty table.
func newAliases() *Aliases {
	return &Aliases{byName: map[string]*alias{}, types: map[string]*ResourceTypeInfo{}}
}

// clone copies the table so that a load does not change its base.
func (a *Aliases) clone() *Aliases {
	out := newAliases()
	for k, v := range a.byName {
		byType := make(map[string]*aliasTarget, len(v.byType))
		for t, target := range v.byType {
			byType[t] = target
		}
		out.byName[k] = &alias{name: v.name, byType: byType}
	}
	for k, v := range a.types {
		info := *v
		out.types[k] = &info
	}
	return out
}

// add records an alias's target for a type, replacing an earlier one.
func (a *Aliases) add(name, typ string, target *aliasTarget) {
	key := strings.ToLower(name)
	al, ok := a.byName[key]
	if !ok {
		al = &alias{name: name, byType: map[string]*aliasTarget{}}
		a.byName[key] = al
	}
	al.byType[strings.ToLower(typ)] = target
}

// addType records (or updates) a resource type.
func (a *Aliases) addType(info ResourceTypeInfo) {
	key := strings.ToLower(info.Type)
	if old, ok := a.types[key]; ok && !info.Known {
		info.TagsAndLocation, info.Known = old.TagsAndLocation, old.Known
	}
	if old, ok := a.types[key]; ok && len(info.APIVersions) == 0 {
		info.APIVersions = old.APIVersions
	}
	a.types[key] = &info
}

// finish sorts the names for suggestions.
func (a *Aliases) finish() *Aliases {
	a.names = a.names[:0]
	for _, al := range a.byName {
		a.names = append(a.names, al.name)
	}
	sort.Strings(a.names)
	return a
}

// Names lists every alias name, sorted.
func (a *Aliases) Names() []string {
	return append([]string(nil), a.names...)
}

// Type returns what the table knows about a resource type.
func (a *Aliases) Type(resourceType string) (ResourceTypeInfo, bool) {
	info, ok := a.types[strings.ToLower(resourceType)]
	if !ok {
		return ResourceTypeInfo{}, false
	}
	return *info, true
}

// Path returns the resource path an alias reads for a resource type at an
// API version ("" for the default path), and false when the alias does not
// exist for that type. Paths that read kiln's facts start with "$kiln.".
func (a *Aliases) Path(name, resourceType, apiVersion string) (string, bool) {
	al, ok := a.byName[strings.ToLower(name)]
	if !ok {
		return "", false
	}
	target, ok := al.byType[strings.ToLower(resourceType)]
	if !ok {
		return "", false
	}
	return target.path(apiVersion).text, true
}

// lookup finds an alias by name, ignoring case.
func (a *Aliases) lookup(name string) (*alias, bool) {
	al, ok := a.byName[strings.ToLower(name)]
	return al, ok
}

// path picks the path for an API version: the one listing it, else the
// default.
func (t *aliasTarget) path(apiVersion string) *fieldPath {
	if apiVersion != "" {
		for _, v := range t.versioned {
			for _, av := range v.apiVersions {
				if strings.EqualFold(av, apiVersion) {
					return v.path
				}
			}
		}
	}
	return t.defaultPath
}

// unknownAlias is the error for a name that is neither a field nor an alias.
func (a *Aliases) unknownAlias(name string) Problem {
	hint := didYouMean(name, append(builtinFieldNames(), a.names...))
	if hint == "" && strings.Count(name, "/") >= 1 {
		hint = "load the provider's aliases with --aliases (the JSON of `az provider show --namespace <ns> --expand resourceTypes/aliases`)"
	}
	return Problem{Message: fmt.Sprintf("unknown field or alias %q", name), Hint: hint}
}
