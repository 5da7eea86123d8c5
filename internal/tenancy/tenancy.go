// Package tenancy owns tenants, subscriptions and resource groups. A fresh
// data directory bootstraps one tenant, one subscription and an admin
// principal who is Owner at the subscription, so the single-user case needs
// no setup.
package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// ResourceGroupType is the ARM type of a resource group.
const ResourceGroupType = "Microsoft.Resources/resourceGroups"

// Defaults is what a fresh data directory bootstraps.
type Defaults struct {
	TenantID       string          `json:"tenantId"`
	SubscriptionID string          `json:"subscriptionId"`
	Subscription   string          `json:"subscriptionName"`
	Admin          authz.Principal `json:"admin"`
}

// DefaultSubscriptionID is the ID of the subscription a fresh data directory
// creates (KILN_SUBSCRIPTION_ID overrides it at bootstrap). It is the
// placeholder subscription of Azure's documentation, so example templates
// with full ARM IDs work unchanged on a fresh installation.
const DefaultSubscriptionID = "00000000-0000-0000-0000-000000000000"

// Bootstrap returns the installation's defaults, creating them on first use.
func Bootstrap(ctx context.Context, st store.Meta) (Defaults, error) {
	raw, err := st.GetMeta(ctx, "bootstrap")
	if err == nil {
		var d Defaults
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return d, fmt.Errorf("bootstrap record is damaged: %w", err)
		}
		return d, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return Defaults{}, err
	}
	tenant := uuid.NewString()
	sub := DefaultSubscriptionID
	if v := os.Getenv("KILN_SUBSCRIPTION_ID"); v != "" {
		if _, err := uuid.Parse(v); err != nil {
			return Defaults{}, fmt.Errorf("KILN_SUBSCRIPTION_ID %q is not a GUID", v)
		}
		sub = strings.ToLower(v)
	}
	d := Defaults{
		TenantID:       tenant,
		SubscriptionID: sub,
		Subscription:   "kiln-default",
		Admin:          authz.Principal{ID: uuid.NewString(), Name: "admin", Type: authz.TypeUser, TenantID: tenant},
	}
	b, _ := json.Marshal(d)
	return d, st.SetMeta(ctx, "bootstrap", string(b))
}

// SubscriptionScope is the ARM ID of the default subscription.
func (d Defaults) SubscriptionScope() string { return "/subscriptions/" + d.SubscriptionID }

// Group is a resource group as Azure returns it.
type Group struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	ManagedBy  string            `json:"managedBy,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties GroupProperties   `json:"properties"`
}

// GroupProperties holds the group's provisioning state.
type GroupProperties struct {
	ProvisioningState string `json:"provisioningState"`
}

// groupName is Azure's rule: letters and digits as .NET's Char.IsLetterOrDigit
// sees them (Unicode, not only ASCII), underscores, hyphens, periods and parentheses.
var groupName = regexp.MustCompile(`^[-\p{L}\p{Nd}_.()]{1,90}$`)

// ValidateGroupName applies Azure's resource group name rules.
func ValidateGroupName(name string) error {
	if !groupName.MatchString(name) || strings.HasSuffix(name, ".") {
		return fmt.Errorf("invalid resource group name %q: use 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period", name)
	}
	return nil
}

// Groups manages resource groups.
type Groups struct {
	Store    store.Resources
	Authz    authz.Checker
	Defaults Defaults
	// HasRegion validates locations.
	HasRegion func(string) bool
	// Regions lists valid locations for messages.
	Regions []string
	// Audit records mutating calls in the activity log; may be nil.
	Audit Recorder
}

// GroupID is the ARM ID of a group in the default subscription.
func (g *Groups) GroupID(name string) string {
	return g.Defaults.SubscriptionScope() + "/resourceGroups/" + name
}

// Create creates a group or updates its tags (az group create is idempotent).
func (g *Groups) Create(ctx context.Context, p authz.Principal, name, location string, tags map[string]string) (_ Group, err error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, err
	}
	defer g.record(ctx, p, "Microsoft.Resources/subscriptions/resourceGroups/write", g.GroupID(name), &err)
	if g.HasRegion != nil && !g.HasRegion(location) {
		return Group{}, fmt.Errorf("location %q is not a configured region; available: %s (regions are set in kiln.yaml)", location, strings.Join(g.Regions, ", "))
	}
	id := g.GroupID(name)
	if err := g.Authz.Check(ctx, p, "Microsoft.Resources/subscriptions/resourceGroups/write", id); err != nil {
		return Group{}, err
	}
	if existing, err := g.Get(ctx, p, name); err == nil {
		if !strings.EqualFold(existing.Location, location) {
			return Group{}, fmt.Errorf("InvalidResourceGroupLocation: resource group %q already exists in location %q; it cannot be moved to %q: %w", name, existing.Location, location, store.ErrConflict)
		}
		name = existing.Name
	}
	grp := Group{ID: g.GroupID(name), Name: name, Type: ResourceGroupType, Location: location, Tags: tags,
		Properties: GroupProperties{ProvisioningState: "Succeeded"}}
	body, _ := json.Marshal(grp)
	_, err = g.Store.PutResource(ctx, store.Resource{ID: grp.ID, Type: ResourceGroupType, Name: name,
		Subscription: g.Defaults.SubscriptionID, Parent: g.Defaults.SubscriptionScope(), Location: location, Body: body}, "")
	return grp, err
}

// Get reads a group.
func (g *Groups) Get(ctx context.Context, p authz.Principal, name string) (Group, error) {
	id := g.GroupID(name)
	if err := g.Authz.Check(ctx, p, "Microsoft.Resources/subscriptions/resourceGroups/read", id); err != nil {
		return Group{}, err
	}
	r, err := g.Store.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Group{}, fmt.Errorf("ResourceGroupNotFound: resource group '%s' could not be found; create it with: kiln group create -n %s -l <location>: %w", name, name, store.ErrNotFound)
	}
	if err != nil {
		return Group{}, err
	}
	var grp Group
	return grp, json.Unmarshal(r.Body, &grp)
}

// List lists the groups of the default subscription.
func (g *Groups) List(ctx context.Context, p authz.Principal) ([]Group, error) {
	if err := g.Authz.Check(ctx, p, "Microsoft.Resources/subscriptions/resourceGroups/read", g.Defaults.SubscriptionScope()); err != nil {
		return nil, err
	}
	rs, err := g.Store.ListResources(ctx, store.ListFilter{Type: ResourceGroupType, Subscription: g.Defaults.SubscriptionID})
	if err != nil {
		return nil, err
	}
	out := make([]Group, 0, len(rs))
	for _, r := range rs {
		var grp Group
		if err := json.Unmarshal(r.Body, &grp); err != nil {
			return nil, fmt.Errorf("resource group %s: %w", r.ID, err)
		}
		out = append(out, grp)
	}
	return out, nil
}

// Delete removes a group; it is refused while resources remain in it
// (callers delete them first, or use DeleteCascade).
func (g *Groups) Delete(ctx context.Context, p authz.Principal, name string) error {
	return g.DeleteCascade(ctx, p, name, nil)
}
