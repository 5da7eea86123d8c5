package policy

import (
	"sort"
	"strings"
)

// LoadAliases reads resource provider aliases in Azure's format and returns
// base (BuiltinAliases when nil) extended with them; base is not changed.
// data is what `az provider show --namespace X --expand
// resourceTypes/aliases` prints (one provider), a JSON array of providers
// (`az provider list --expand ...`), or the REST form {"value": [...]}.
// Keys Azure adds that kiln does not use are ignored; known keys of the
// wrong type are errors with their JSON path.
func LoadAliases(data []byte, base *Aliases) (*Aliases, error) {
	if base == nil {
		base = BuiltinAliases()
	}
	var errs problemList
	doc, err := decodeJSON(data)
	if err != nil {
		errs.addErr("", err)
		return nil, errs.err()
	}
	out := base.clone()
	for _, p := range providerList(doc, "", &errs) {
		loadProvider(out, p.path, p.obj, &errs)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out.finish(), nil
}

// located is an object found at a JSON path.
type located struct {
	path string
	obj  map[string]any
}

// providerList finds the provider objects in a document, in order.
func providerList(doc any, path string, errs *problemList) []located {
	var out []located
	switch v := doc.(type) {
	case []any:
		for i, p := range v {
			if obj, ok := p.(map[string]any); ok {
				out = append(out, located{joinIndex(path, i), obj})
				continue
			}
			errs.add(joinIndex(path, i), "", "expected a provider object, got %s", kindOf(p))
		}
	case map[string]any:
		if list, ok := lookupKey(v, "value"); ok && path == "" {
			if arr, isArr := list.([]any); isArr {
				return providerList(arr, "value", errs)
			}
		}
		out = append(out, located{path, v})
	default:
		errs.add("", "", "expected a provider object or an array of them, got %s", kindOf(doc))
	}
	return out
}

func loadProvider(a *Aliases, path string, provider map[string]any, errs *problemList) {
	ns := optString(provider, "namespace", path, errs)
	if ns == "" {
		errs.add(joinKey(path, "namespace"), "", "missing provider namespace")
		return
	}
	types, ok := lookupKey(provider, "resourceTypes")
	list, isList := types.([]any)
	if !ok || !isList {
		errs.add(joinKey(path, "resourceTypes"), "use --expand resourceTypes/aliases", "expected an array of resource types, got %s", kindOf(orMissing(types, ok)))
		return
	}
	for i, rt := range list {
		p := joinIndex(joinKey(path, "resourceTypes"), i)
		obj, ok := rt.(map[string]any)
		if !ok {
			errs.add(p, "", "expected a resource type object, got %s", kindOf(rt))
			continue
		}
		loadResourceType(a, ns, p, obj, errs)
	}
}

func orMissing(v any, ok bool) any {
	if !ok {
		return missing
	}
	return v
}

func loadResourceType(a *Aliases, ns, path string, rt map[string]any, errs *problemList) {
	name := optString(rt, "resourceType", path, errs)
	if name == "" {
		errs.add(joinKey(path, "resourceType"), "", "missing resource type name")
		return
	}
	typ := ns + "/" + name
	info := ResourceTypeInfo{Type: typ, APIVersions: sortVersions(optStrings(rt, "apiVersions", path, errs))}
	if caps := optString(rt, "capabilities", path, errs); caps != "" {
		lower := strings.ToLower(caps)
		info.Known = true
		info.TagsAndLocation = strings.Contains(lower, "supportstags") && strings.Contains(lower, "supportslocation")
	}
	a.addType(info)
	aliases, ok := lookupKey(rt, "aliases")
	if !ok || aliases == nil {
		return
	}
	list, isList := aliases.([]any)
	if !isList {
		errs.add(joinKey(path, "aliases"), "", "expected an array of aliases, got %s", kindOf(aliases))
		return
	}
	for i, al := range list {
		p := joinIndex(joinKey(path, "aliases"), i)
		obj, ok := al.(map[string]any)
		if !ok {
			errs.add(p, "", "expected an alias object, got %s", kindOf(al))
			continue
		}
		loadAlias(a, typ, p, obj, errs)
	}
}

func loadAlias(a *Aliases, typ, path string, obj map[string]any, errs *problemList) {
	name := optString(obj, "name", path, errs)
	if name == "" {
		errs.add(joinKey(path, "name"), "", "missing alias name")
		return
	}
	target := &aliasTarget{}
	if meta, ok := lookupKey(obj, "defaultMetadata"); ok {
		if m, isObj := meta.(map[string]any); isObj {
			attrs, _ := lookupKey(m, "attributes")
			s, _ := attrs.(string)
			target.modifiable = strings.Contains(strings.ToLower(s), "modifiable")
		}
	}
	loadAliasPaths(target, path, obj, errs)
	if dp := optString(obj, "defaultPath", path, errs); dp != "" {
		p, err := parsePath(dp)
		if err != nil {
			errs.add(joinKey(path, "defaultPath"), "", "%v", err)
			return
		}
		target.defaultPath = p
	}
	if target.defaultPath == nil && len(target.versioned) > 0 {
		target.defaultPath = newestPath(target.versioned)
	}
	if target.defaultPath == nil {
		return // an alias with no path cannot be read; leave it out
	}
	a.add(name, typ, target)
}

func loadAliasPaths(target *aliasTarget, path string, obj map[string]any, errs *problemList) {
	paths, ok := lookupKey(obj, "paths")
	if !ok || paths == nil {
		return
	}
	list, isList := paths.([]any)
	if !isList {
		errs.add(joinKey(path, "paths"), "", "expected an array, got %s", kindOf(paths))
		return
	}
	for i, entry := range list {
		p := joinIndex(joinKey(path, "paths"), i)
		m, isObj := entry.(map[string]any)
		if !isObj {
			errs.add(p, "", "expected an object, got %s", kindOf(entry))
			continue
		}
		text := optString(m, "path", p, errs)
		fp, err := parsePath(text)
		if err != nil {
			errs.add(joinKey(p, "path"), "", "%v", err)
			continue
		}
		target.versioned = append(target.versioned, versionedPath{apiVersions: optStrings(m, "apiVersions", p, errs), path: fp})
	}
}

// newestPath is the path of the newest API version listed.
func newestPath(vs []versionedPath) *fieldPath {
	best, bestVersion := vs[0].path, ""
	for _, v := range vs {
		for _, av := range v.apiVersions {
			if av > bestVersion {
				best, bestVersion = v.path, av
			}
		}
	}
	return best
}

// sortVersions orders API versions newest first (they sort as strings:
// "2024-03-01" > "2023-07-01", a "-preview" suffix after its date).
func sortVersions(vs []string) []string {
	sort.Slice(vs, func(i, j int) bool {
		pi, pj := strings.Contains(vs[i], "preview"), strings.Contains(vs[j], "preview")
		if pi != pj {
			return !pi
		}
		return vs[i] > vs[j]
	})
	return vs
}

func optString(obj map[string]any, key, path string, errs *problemList) string {
	v, ok := lookupKey(obj, key)
	if !ok || v == nil {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		errs.add(joinKey(path, key), "", "expected a string, got %s", kindOf(v))
	}
	return s
}

func optStrings(obj map[string]any, key, path string, errs *problemList) []string {
	v, ok := lookupKey(obj, key)
	if !ok || v == nil {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		errs.add(joinKey(path, key), "", "expected an array of strings, got %s", kindOf(v))
		return nil
	}
	out := make([]string, 0, len(list))
	for i, x := range list {
		s, isStr := x.(string)
		if !isStr {
			errs.add(joinIndex(joinKey(path, key), i), "", "expected a string, got %s", kindOf(x))
			continue
		}
		out = append(out, s)
	}
	return out
}
