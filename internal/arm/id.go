package arm

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidID is wrapped by every error ParseID returns.
var ErrInvalidID = errors.New("invalid resource ID")

// IDShape is the shape of a resource ID, shown in parse errors.
const IDShape = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{type}/{name}"

// Keywords of an ID, in their canonical spelling. They match case-insensitively.
const (
	kwSubscriptions  = "subscriptions"
	kwResourceGroups = "resourceGroups"
	kwProviders      = "providers"
)

// ResourcesNamespace is the namespace of subscriptions and resource groups.
const ResourcesNamespace = "Microsoft.Resources"

// ID is a parsed Azure Resource Manager resource ID. It is one of: the
// tenant root ("/"), a subscription, a resource group, or a resource
// (tenant-, subscription- or group-level, with optional child types, and
// optionally an extension resource of another resource:
// ".../providers/A.B/x/y/providers/Microsoft.Authorization/locks/l").
//
// Names keep their case; keywords are canonicalized by String. Compare IDs
// with EqualIDs or Key, never with ==.
type ID struct {
	valid  bool
	sub    string
	rg     string
	blocks []providerBlock
}

// providerBlock is one "/providers/{namespace}/{type}/{name}[/{type}/{name}...]" run.
type providerBlock struct {
	namespace string
	types     []string
	names     []string
}

// IDError is a resource ID that does not parse.
type IDError struct {
	ID     string // the input
	Reason string // what is wrong
}

func (e *IDError) Error() string {
	return fmt.Sprintf("invalid resource ID %q: %s; expected %s", e.ID, e.Reason, IDShape)
}

// Unwrap makes errors.Is(err, ErrInvalidID) true.
func (e *IDError) Unwrap() error { return ErrInvalidID }

// ParseID parses an ARM resource ID. Keywords (subscriptions,
// resourceGroups, providers) match case-insensitively.
func ParseID(s string) (ID, error) {
	fail := func(format string, args ...any) (ID, error) {
		return ID{}, &IDError{ID: s, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == "":
		return fail("it is empty")
	case s == "/":
		return TenantRootID(), nil
	case !strings.HasPrefix(s, "/"):
		return fail("it must start with \"/\"")
	case strings.HasSuffix(s, "/"):
		return fail("it must not end with \"/\"")
	}
	segs := strings.Split(s[1:], "/")
	for i, seg := range segs {
		if seg == "" {
			return fail("segment %d is empty (\"//\")", i+1)
		}
	}
	id, reason := parseSegments(segs)
	if reason != "" {
		return fail("%s", reason)
	}
	return id, nil
}

// parseSegments parses the "/"-separated segments; a non-empty reason is an error.
func parseSegments(segs []string) (ID, string) {
	id := ID{valid: true}
	i := 0
	if strings.EqualFold(segs[0], kwSubscriptions) {
		if len(segs) < 2 {
			return ID{}, "\"subscriptions\" is not followed by a subscription ID"
		}
		id.sub, i = segs[1], 2
		if i < len(segs) && strings.EqualFold(segs[i], kwResourceGroups) {
			if i+1 >= len(segs) {
				return ID{}, "\"resourceGroups\" is not followed by a resource group name"
			}
			id.rg, i = segs[i+1], i+2
		}
	}
	for i < len(segs) {
		b, next, reason := parseBlock(segs, i, id.sub != "" || len(id.blocks) > 0)
		if reason != "" {
			return ID{}, reason
		}
		id.blocks = append(id.blocks, b)
		i = next
	}
	return id, ""
}

// parseBlock parses "providers/{ns}/{type}/{name}..." starting at segs[i].
func parseBlock(segs []string, i int, scoped bool) (providerBlock, int, string) {
	if !strings.EqualFold(segs[i], kwProviders) {
		want := `"subscriptions" or "providers"`
		if scoped {
			want = `"providers"`
		}
		return providerBlock{}, 0, fmt.Sprintf("unexpected segment %q; expected %s", segs[i], want)
	}
	if i+1 >= len(segs) {
		return providerBlock{}, 0, "\"providers\" is not followed by a resource provider namespace"
	}
	b := providerBlock{namespace: segs[i+1]}
	j := i + 2
	for j < len(segs) && !strings.EqualFold(segs[j], kwProviders) {
		if j+1 >= len(segs) {
			return providerBlock{}, 0, fmt.Sprintf("resource type %q is not followed by a name", segs[j])
		}
		b.types = append(b.types, segs[j])
		b.names = append(b.names, segs[j+1])
		j += 2
	}
	if len(b.types) == 0 {
		return providerBlock{}, 0, fmt.Sprintf("namespace %q is not followed by a resource type and name", b.namespace)
	}
	return b, j, ""
}

// TenantRootID is the root scope "/".
func TenantRootID() ID { return ID{valid: true} }

// SubscriptionID is "/subscriptions/{sub}". An empty name or one containing
// "/" gives the zero ID.
func SubscriptionID(sub string) ID {
	if !validName(sub) {
		return ID{}
	}
	return ID{valid: true, sub: sub}
}

// ResourceGroupID is "/subscriptions/{sub}/resourceGroups/{rg}". An empty
// name or one containing "/" gives the zero ID.
func ResourceGroupID(sub, rg string) ID {
	if !validName(sub) || !validName(rg) {
		return ID{}
	}
	return ID{valid: true, sub: sub, rg: rg}
}

// ResourceID builds the ID of a resource of type typ (e.g.
// "Microsoft.Compute/galleries/images") with one name per type level. An
// empty rg gives a subscription-level resource, an empty sub and rg a
// tenant-level one.
func ResourceID(sub, rg, typ string, names ...string) (ID, error) {
	b, err := newBlock(typ, names)
	if err != nil {
		return ID{}, err
	}
	if sub == "" && rg != "" {
		return ID{}, fmt.Errorf("%w: resource group %q needs a subscription", ErrInvalidID, rg)
	}
	for _, n := range []string{sub, rg} {
		if n != "" && !validName(n) {
			return ID{}, fmt.Errorf("%w: name %q must not contain \"/\"", ErrInvalidID, n)
		}
	}
	return ID{valid: true, sub: sub, rg: rg, blocks: []providerBlock{b}}, nil
}

// newBlock checks a fully-qualified type against its names.
func newBlock(typ string, names []string) (providerBlock, error) {
	parts := strings.Split(typ, "/")
	if len(parts) < 2 || !allValid(parts) {
		return providerBlock{}, fmt.Errorf("%w: resource type %q is not of the form {namespace}/{type}[/{childType}...]", ErrInvalidID, typ)
	}
	if len(parts)-1 != len(names) {
		return providerBlock{}, fmt.Errorf("%w: resource type %q needs %d name(s), got %d", ErrInvalidID, typ, len(parts)-1, len(names))
	}
	if !allValid(names) {
		return providerBlock{}, fmt.Errorf("%w: resource names %q must be non-empty and must not contain \"/\"", ErrInvalidID, names)
	}
	return providerBlock{namespace: parts[0], types: parts[1:], names: append([]string(nil), names...)}, nil
}

func validName(s string) bool { return s != "" && !strings.Contains(s, "/") }

func allValid(ss []string) bool {
	for _, s := range ss {
		if !validName(s) {
			return false
		}
	}
	return true
}

// String is the canonical form: keywords spelled subscriptions,
// resourceGroups, providers; names as given. The zero ID gives "".
func (id ID) String() string {
	if !id.valid {
		return ""
	}
	var sb strings.Builder
	if id.sub != "" {
		sb.WriteString("/" + kwSubscriptions + "/" + id.sub)
	}
	if id.rg != "" {
		sb.WriteString("/" + kwResourceGroups + "/" + id.rg)
	}
	for _, b := range id.blocks {
		sb.WriteString("/" + kwProviders + "/" + b.namespace)
		for i := range b.types {
			sb.WriteString("/" + b.types[i] + "/" + b.names[i])
		}
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

// Key is the lower-cased canonical form, for map keys and comparisons.
func (id ID) Key() string { return strings.ToLower(id.String()) }

// IsZero reports whether id is the zero value (not a parsed ID).
func (id ID) IsZero() bool { return !id.valid }

// IsRoot reports whether id is the tenant root "/".
func (id ID) IsRoot() bool { return id.valid && id.sub == "" && len(id.blocks) == 0 }

// IsSubscription reports whether id is "/subscriptions/{sub}".
func (id ID) IsSubscription() bool { return id.sub != "" && id.rg == "" && len(id.blocks) == 0 }

// IsResourceGroup reports whether id is ".../resourceGroups/{rg}".
func (id ID) IsResourceGroup() bool { return id.rg != "" && len(id.blocks) == 0 }

// Subscription is the subscription ID, or "" at tenant level.
func (id ID) Subscription() string { return id.sub }

// ResourceGroup is the resource group name, or "" above group level.
func (id ID) ResourceGroup() string { return id.rg }

// last is the innermost provider block; ok is false for root, subscription
// and resource group IDs.
func (id ID) last() (providerBlock, bool) {
	if len(id.blocks) == 0 {
		return providerBlock{}, false
	}
	return id.blocks[len(id.blocks)-1], true
}

// Provider is the resource provider namespace ("Microsoft.Compute"), and
// "Microsoft.Resources" for subscriptions, resource groups and the root.
func (id ID) Provider() string {
	if b, ok := id.last(); ok {
		return b.namespace
	}
	if !id.valid {
		return ""
	}
	return ResourcesNamespace
}

// ResourceType is the fully-qualified type, e.g.
// "Microsoft.Compute/galleries/images/versions". For an extension resource
// it is the extension's type. Resource groups are
// "Microsoft.Resources/resourceGroups", subscriptions
// "Microsoft.Resources/subscriptions", the root "Microsoft.Resources/tenants".
func (id ID) ResourceType() string {
	if b, ok := id.last(); ok {
		return b.namespace + "/" + strings.Join(b.types, "/")
	}
	switch {
	case !id.valid:
		return ""
	case id.rg != "":
		return ResourcesNamespace + "/resourceGroups"
	case id.sub != "":
		return ResourcesNamespace + "/subscriptions"
	}
	return ResourcesNamespace + "/tenants"
}

// Name is the last name of the ID: the resource's own name (for
// ".../images/def/versions/1.0.0" it is "1.0.0"), the group or subscription
// name, or "" for the root.
func (id ID) Name() string {
	if b, ok := id.last(); ok {
		return b.names[len(b.names)-1]
	}
	if id.rg != "" {
		return id.rg
	}
	return id.sub
}

// Names are all names of the innermost resource, outermost first (for a
// gallery image version: gallery, image, version).
func (id ID) Names() []string {
	if b, ok := id.last(); ok {
		return append([]string(nil), b.names...)
	}
	return nil
}

// Parent is the enclosing scope: a child resource's parent resource, a
// top-level resource's group (or subscription, or root), an extension
// resource's extended resource, a group's subscription, a subscription's
// root. The root's parent is the root; the zero ID's parent is zero.
func (id ID) Parent() ID {
	switch {
	case !id.valid:
		return ID{}
	case len(id.blocks) > 0:
		return id.popName()
	case id.rg != "":
		return ID{valid: true, sub: id.sub}
	}
	return TenantRootID()
}

// popName removes the last type/name pair (and its block when it empties).
func (id ID) popName() ID {
	out := ID{valid: true, sub: id.sub, rg: id.rg, blocks: cloneBlocks(id.blocks)}
	n := len(out.blocks) - 1
	b := &out.blocks[n]
	b.types, b.names = b.types[:len(b.types)-1], b.names[:len(b.names)-1]
	if len(b.types) == 0 {
		out.blocks = out.blocks[:n]
	}
	return out
}

// Child is the ID of a child resource of id: childType is the child type
// segment (e.g. "versions"), not fully qualified. It returns the zero ID when
// id is not a resource or the arguments are empty or contain "/".
func (id ID) Child(childType, name string) ID {
	if len(id.blocks) == 0 || !validName(childType) || !validName(name) {
		return ID{}
	}
	out := ID{valid: true, sub: id.sub, rg: id.rg, blocks: cloneBlocks(id.blocks)}
	b := &out.blocks[len(out.blocks)-1]
	b.types = append(b.types, childType)
	b.names = append(b.names, name)
	return out
}

func cloneBlocks(bs []providerBlock) []providerBlock {
	out := make([]providerBlock, len(bs))
	for i, b := range bs {
		out[i] = providerBlock{
			namespace: b.namespace,
			types:     append([]string(nil), b.types...),
			names:     append([]string(nil), b.names...),
		}
	}
	return out
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseID.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// EqualIDs reports whether a and b name the same scope, ignoring case as
// Azure does. Zero IDs are equal to nothing.
func EqualIDs(a, b ID) bool {
	return a.valid && b.valid && a.Key() == b.Key()
}

// IsUnder reports whether id is scope itself or lies below it, comparing
// whole segments case-insensitively: ".../resourceGroups/rg1" is not under
// ".../resourceGroups/rg". Everything is under the root.
func IsUnder(id, scope ID) bool {
	if !id.valid || !scope.valid {
		return false
	}
	if scope.IsRoot() {
		return true
	}
	k, s := id.Key(), scope.Key()
	return k == s || strings.HasPrefix(k, s+"/")
}
