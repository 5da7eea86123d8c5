package policy

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kiln-dev/kiln/internal/arm"
)

// Resource is what a policy is evaluated against.
type Resource struct {
	// ID is the resource's ARM ID. At request time it comes from the
	// request URL; name, fullName and (when Body has no "type") type are
	// derived from it.
	ID string
	// Body is the resource as ARM JSON: the request payload at request
	// time, the stored resource during a compliance scan ("type", "name",
	// "location", "kind", "tags", "identity", "sku", "properties", ...).
	// Values must be JSON-like (see Normalize).
	Body map[string]any
	// Facts is what kiln knows about the resource that is not in its JSON;
	// kiln's Kiln.* aliases read it (see ImageVersionFacts). A request
	// cannot set it.
	Facts map[string]any
}

// ParseResource reads an ARM-shaped resource from JSON; its "id" becomes
// Resource.ID.
func ParseResource(data []byte) (Resource, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		var errs problemList
		errs.addErr("", err)
		return Resource{}, errs.err()
	}
	body, ok := doc.(map[string]any)
	if !ok {
		return Resource{}, Problems{{Message: fmt.Sprintf("a resource must be a JSON object, got %s", kindOf(doc))}}
	}
	r := Resource{Body: body}
	if id, ok := lookupKey(body, "id"); ok {
		if s, isStr := id.(string); isStr {
			r.ID = s
		}
	}
	return r, nil
}

// ImageVersionFacts are what kiln knows about the gallery image version a
// virtual machine was created from; Facts turns them into Resource.Facts
// for the Kiln.Compute/virtualMachines/imageVersion.* aliases. A VM that is
// not on a gallery version has no such facts, and the aliases are missing.
type ImageVersionFacts struct {
	ID            string     // the version's ID
	IsLatest      bool       // it is what "latest" resolves to in its definition
	IsRevoked     bool       // revoked (or its revocation has taken effect)
	IsEndOfLife   bool       // its end-of-life date has passed
	EndOfLifeDate *time.Time // nil when it has none
	// TattooVerified is whether the VM's tattoo verified against the
	// gallery; nil when it was not checked (the alias is then missing).
	TattooVerified *bool
}

// Facts is the Resource.Facts document of these facts.
func (f ImageVersionFacts) Facts() map[string]any {
	v := map[string]any{
		"id": f.ID, "isLatest": f.IsLatest, "isRevoked": f.IsRevoked, "isEndOfLife": f.IsEndOfLife,
	}
	if f.EndOfLifeDate != nil {
		v["endOfLifeDate"] = f.EndOfLifeDate.UTC().Format(time.RFC3339Nano)
	}
	if f.TattooVerified != nil {
		v["tattooVerified"] = *f.TattooVerified
	}
	return map[string]any{"imageVersion": v}
}

// view is a resource prepared for evaluation: its type and lower-cased
// type computed once, name and fullName derived on first use.
type view struct {
	res      *Resource
	typ      string
	typLower string
	idText   string
	names    []string // from the ID, outermost first; nil until parsed
	parsed   bool
}

func newView(r *Resource) *view {
	v := &view{res: r, idText: r.ID}
	if v.idText == "" {
		if s, ok := v.prop("id").(string); ok {
			v.idText = s
		}
	}
	if s, ok := v.prop("type").(string); ok && s != "" {
		v.typ = s
	} else {
		v.typ = v.typeFromID()
	}
	v.typLower = lowerType(v.typ)
	return v
}

// lowerTypes caches lower-cased resource types: a few distinct strings
// lower-cased on every evaluation otherwise.
var lowerTypes sync.Map

func lowerType(t string) string {
	if l, ok := lowerTypes.Load(t); ok {
		return l.(string)
	}
	l := strings.ToLower(t)
	if len(t) <= 256 {
		lowerTypes.Store(t, l)
	}
	return l
}

// prop reads a top-level property of the body, ignoring case.
func (v *view) prop(key string) any {
	if v.res.Body == nil {
		return missing
	}
	x, ok := lookupKey(v.res.Body, key)
	if !ok {
		return missing
	}
	return x
}

func (v *view) id() string { return v.idText }

// parseID fills names and the ID's type once.
func (v *view) parseID() (arm.ID, bool) {
	if v.idText == "" {
		return arm.ID{}, false
	}
	id, err := arm.ParseID(v.idText)
	if err != nil {
		return arm.ID{}, false
	}
	if !v.parsed {
		v.parsed = true
		v.names = id.Names()
		if len(v.names) == 0 && id.Name() != "" {
			v.names = []string{id.Name()}
		}
	}
	return id, true
}

// typeFromID is the resource type an ID names, spelled as Azure Policy
// sees it (resource groups are Microsoft.Resources/subscriptions/resourceGroups).
func (v *view) typeFromID() string {
	id, ok := v.parseID()
	switch {
	case !ok:
		return ""
	case id.IsResourceGroup():
		return TypeResourceGroup
	case id.IsSubscription():
		return TypeSubscription
	}
	return id.ResourceType()
}

// name is the last segment of the resource's name.
func (v *view) name() string {
	if v.idText != "" {
		return v.idText[strings.LastIndexByte(strings.TrimRight(v.idText, "/"), '/')+1:]
	}
	s, _ := v.prop("name").(string)
	return s[strings.LastIndexByte(s, '/')+1:]
}

// fullName is the names of the resource and its parents joined by "/"
// ("gallery/image/1.0.0").
func (v *view) fullName() string {
	if _, ok := v.parseID(); ok && len(v.names) > 0 {
		return strings.Join(v.names, "/")
	}
	s, _ := v.prop("name").(string)
	return s
}

func (v *view) tag(name string) any {
	tags, ok := v.prop("tags").(map[string]any)
	if !ok {
		return missing
	}
	x, ok := lookupKey(tags, name)
	if !ok {
		return missing
	}
	return x
}

func (v *view) identityType() any {
	identity, ok := v.prop("identity").(map[string]any)
	if !ok {
		return missing
	}
	x, ok := lookupKey(identity, "type")
	if !ok {
		return missing
	}
	return x
}

// aliasPath is the alias's path for this resource's type, nil when the
// alias does not exist for it.
func (v *view) aliasPath(al *alias, apiVersion string) *fieldPath {
	t, ok := al.byType[v.typLower]
	if !ok {
		return nil
	}
	return t.path(apiVersion)
}

// root is where a path starts: the facts for kiln's aliases, else the body.
func (v *view) root(p *fieldPath) any {
	if p.facts {
		if v.res.Facts == nil {
			return missing
		}
		return v.res.Facts
	}
	if v.res.Body == nil {
		return missing
	}
	return v.res.Body
}

// resourceGroupOf reads the subscription and resource group names of an
// ID, "" where it has none.
func resourceGroupOf(id string) (sub, rg string) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+1 < len(parts); i += 2 {
		switch strings.ToLower(parts[i]) {
		case "subscriptions":
			sub = parts[i+1]
		case "resourcegroups":
			rg = parts[i+1]
		case "providers":
			return sub, rg
		}
	}
	return sub, rg
}
