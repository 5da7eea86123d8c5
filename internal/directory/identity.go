package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// IdentityType is the ARM type of user-assigned managed identities.
const IdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities"

// Actions on identities.
const (
	IdentityRead   = IdentityType + "/read"
	IdentityWrite  = IdentityType + "/write"
	IdentityDelete = IdentityType + "/delete"
	// IdentityAssign lets a caller attach the identity to something that
	// then acts as it, such as an image template.
	IdentityAssign = IdentityType + "/assign/action"
)

// Identity is a user-assigned managed identity as `az identity create`
// and `az identity show` print it: the identity's properties at the top
// level, and under "properties" as the ARM resource holds them.
type Identity struct {
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	Type          string             `json:"type"`
	Location      string             `json:"location"`
	ResourceGroup string             `json:"resourceGroup"`
	Tags          map[string]string  `json:"tags"`
	PrincipalID   string             `json:"principalId"`
	ClientID      string             `json:"clientId"`
	TenantID      string             `json:"tenantId"`
	Properties    IdentityProperties `json:"properties"`
}

// IdentityProperties are the identity's ARM properties.
type IdentityProperties struct {
	TenantID    string `json:"tenantId"`
	PrincipalID string `json:"principalId"`
	ClientID    string `json:"clientId"`
}

// identityName is Azure's rule: 3 to 128 letters, digits, hyphens and
// underscores, starting with a letter or digit.
var identityName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`)

// Identities manages user-assigned managed identities. Each has a
// principal in the directory, which role assignments name and image
// templates act as.
type Identities struct {
	Store    Store
	Authz    authz.Checker
	Defaults tenancy.Defaults
	Audit    Recorder
}

// ID is the ARM ID of an identity in the tenant's subscription.
func (s *Identities) ID(group, name string) string {
	return s.Defaults.SubscriptionScope() + "/resourceGroups/" + group + "/providers/" + IdentityType + "/" + name
}

func (s *Identities) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if s.Audit != nil {
		s.Audit.Record(ctx, p, action, scope, *err)
	}
}

// Create creates an identity, or updates the tags of an existing one
// (az identity create is a PUT). The location defaults to the group's.
func (s *Identities) Create(ctx context.Context, p authz.Principal, group, name, location string, tags map[string]string) (_ Identity, err error) {
	id := s.ID(group, name)
	defer s.record(ctx, p, IdentityWrite, id, &err)
	if !identityName.MatchString(name) {
		return Identity{}, fmt.Errorf("invalid identity name %q: use 3-128 letters, digits, hyphens and underscores, starting with a letter or digit", name)
	}
	if err := s.Authz.Check(ctx, p, IdentityWrite, id); err != nil {
		return Identity{}, err
	}
	grp, err := s.Store.GetResource(ctx, s.Defaults.SubscriptionScope()+"/resourceGroups/"+group)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, fmt.Errorf("ResourceGroupNotFound: resource group '%s' could not be found; create it with: kiln group create -n %s -l <location>: %w", group, group, store.ErrNotFound)
	}
	if err != nil {
		return Identity{}, err
	}
	if location == "" {
		location = grp.Location
	}
	if existing, err := s.load(ctx, id); err == nil {
		return s.retag(ctx, existing, location, tags)
	}
	return s.insert(ctx, grp.Name, name, location, tags)
}

// insert stores a new identity and its principal in one transaction.
func (s *Identities) insert(ctx context.Context, group, name, location string, tags map[string]string) (Identity, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	principalID, clientID := uuid.NewString(), uuid.NewString()
	ident := Identity{ID: s.ID(group, name), Name: name, Type: IdentityType, Location: location, ResourceGroup: group, Tags: tags,
		PrincipalID: principalID, ClientID: clientID, TenantID: s.Defaults.TenantID,
		Properties: IdentityProperties{TenantID: s.Defaults.TenantID, PrincipalID: principalID, ClientID: clientID}}
	body, err := json.Marshal(ident)
	if err != nil {
		return Identity{}, err
	}
	sp := ServicePrincipal{ODataType: odataServicePrincipal, ID: principalID, AppID: clientID, DisplayName: name,
		ServicePrincipalType: "ManagedIdentity", AppOwnerOrganizationID: s.Defaults.TenantID, ServicePrincipalNames: []string{clientID, ident.ID},
		AlternativeNames: []string{"isExplicit=True", ident.ID}, AccountEnabled: true, CreatedDateTime: nowString()}
	spBody, err := json.Marshal(sp)
	if err != nil {
		return Identity{}, err
	}
	_, _, err = s.Store.CreateManagedIdentity(ctx,
		store.Resource{ID: ident.ID, Type: IdentityType, Name: name, Subscription: s.Defaults.SubscriptionID, ResourceGroup: group,
			Parent: s.Defaults.SubscriptionScope() + "/resourceGroups/" + group, Location: location, Body: body},
		store.Principal{ID: principalID, TenantID: s.Defaults.TenantID, Type: authz.TypeManagedIdentity, DisplayName: name,
			SignInName: clientID, Body: spBody})
	return ident, err
}

// retag updates the tags of an existing identity; its IDs never change.
func (s *Identities) retag(ctx context.Context, ident Identity, location string, tags map[string]string) (Identity, error) {
	if !strings.EqualFold(ident.Location, location) {
		return Identity{}, fmt.Errorf("identity %s already exists in location %q; it cannot be moved to %q: %w", ident.Name, ident.Location, location, store.ErrConflict)
	}
	if tags == nil {
		return ident, nil
	}
	ident.Tags = maps.Clone(tags)
	body, err := json.Marshal(ident)
	if err != nil {
		return Identity{}, err
	}
	r, err := s.Store.GetResource(ctx, ident.ID)
	if err != nil {
		return Identity{}, err
	}
	r.Body = body
	_, err = s.Store.PutResource(ctx, r, r.ETag)
	return ident, err
}

func (s *Identities) load(ctx context.Context, id string) (Identity, error) {
	r, err := s.Store.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, fmt.Errorf("ResourceNotFound: the managed identity %s was not found; create it with kiln identity create: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Identity{}, err
	}
	var ident Identity
	if err := json.Unmarshal(r.Body, &ident); err != nil {
		return Identity{}, fmt.Errorf("identity %s: %w", id, err)
	}
	return ident, nil
}

// Get reads an identity.
func (s *Identities) Get(ctx context.Context, p authz.Principal, group, name string) (Identity, error) {
	return s.GetByID(ctx, p, s.ID(group, name))
}

// GetByID reads an identity by its ARM ID.
func (s *Identities) GetByID(ctx context.Context, p authz.Principal, id string) (Identity, error) {
	if err := s.Authz.Check(ctx, p, IdentityRead, id); err != nil {
		return Identity{}, err
	}
	return s.load(ctx, id)
}

// List lists the identities of a group, or of the subscription when group is "".
func (s *Identities) List(ctx context.Context, p authz.Principal, group string) ([]Identity, error) {
	scope := s.Defaults.SubscriptionScope()
	if group != "" {
		scope += "/resourceGroups/" + group
	}
	if err := s.Authz.Check(ctx, p, IdentityRead, scope); err != nil {
		return nil, err
	}
	rs, err := s.Store.ListResources(ctx, store.ListFilter{Type: IdentityType, Subscription: s.Defaults.SubscriptionID, ResourceGroup: group})
	if err != nil {
		return nil, err
	}
	out := make([]Identity, 0, len(rs))
	for _, r := range rs {
		var ident Identity
		if err := json.Unmarshal(r.Body, &ident); err != nil {
			return nil, fmt.Errorf("identity %s: %w", r.ID, err)
		}
		out = append(out, ident)
	}
	return out, nil
}

// Delete deletes an identity and its principal, with the principal's
// role assignments, memberships and tokens.
func (s *Identities) Delete(ctx context.Context, p authz.Principal, group, name string) error {
	return s.DeleteByID(ctx, p, s.ID(group, name))
}

// DeleteByID is Delete by ARM ID.
func (s *Identities) DeleteByID(ctx context.Context, p authz.Principal, id string) (err error) {
	defer s.record(ctx, p, IdentityDelete, id, &err)
	if err := s.Authz.Check(ctx, p, IdentityDelete, id); err != nil {
		return err
	}
	if _, err := s.load(ctx, id); err != nil {
		return err
	}
	return s.Store.DeleteManagedIdentity(ctx, id)
}

// Exists reports whether an identity exists; template validation uses it.
func (s *Identities) Exists(id string) bool {
	_, err := s.Store.PrincipalByResource(context.Background(), id)
	return err == nil
}

// PrincipalOf returns the principal of an identity, by the identity's
// ARM ID: what a build acts as.
func (s *Identities) PrincipalOf(ctx context.Context, id string) (authz.Principal, error) {
	p, err := s.Store.PrincipalByResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return authz.Principal{}, fmt.Errorf("the managed identity %s does not exist; create it with kiln identity create: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return authz.Principal{}, err
	}
	return Principal(p), nil
}
