// Package directory is the tenant's directory, the Entra ID side of
// Azure: users, service principals and groups (with nested, transitive
// membership) as `az ad` manages them, the user-assigned managed
// identities (Microsoft.ManagedIdentity/userAssignedIdentities) as
// `az identity` does, and API tokens of principals.
//
// Azure guards its directory with Entra roles, which kiln does not have.
// Creating a principal, changing a group's members or minting a token for
// someone else decides who holds which role, so kiln checks these calls
// as role assignment changes: the caller needs
// Microsoft.Authorization/roleAssignments/write (to create or add) or
// /delete (to delete or remove) at the tenant's subscription, which
// Owner, User Access Administrator and Role Based Access Control
// Administrator have and Contributor has not. Reading the directory needs
// nothing, as every member of an Entra tenant can read it by default. The
// activity log records these calls under the Microsoft.Directory
// operation they perform.
package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// Actions that guard directory changes (see the package comment).
const (
	GuardCreate = "Microsoft.Authorization/roleAssignments/write"
	GuardDelete = "Microsoft.Authorization/roleAssignments/delete"
)

// Recorder receives every mutating call for the activity log.
type Recorder interface {
	Record(ctx context.Context, caller authz.Principal, action, scope string, err error)
}

// Store is what the directory keeps its objects in.
type Store interface {
	store.Directory
	store.Resources
	store.Credentials
}

// Service manages users, service principals and groups.
type Service struct {
	Store    Store
	Authz    authz.Checker
	Defaults tenancy.Defaults
	Audit    Recorder
}

func (s *Service) subscription() string { return s.Defaults.SubscriptionScope() }

// entity is the ID under which the activity log records a directory object.
func (s *Service) entity(kind, id string) string {
	return s.subscription() + "/providers/Microsoft.Directory/" + kind + "/" + id
}

func (s *Service) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if s.Audit != nil {
		s.Audit.Record(ctx, p, action, scope, *err)
	}
}

// guard checks a directory change (see the package comment).
func (s *Service) guard(ctx context.Context, p authz.Principal, action string) error {
	return s.Authz.Check(ctx, p, action, s.subscription())
}

// User is a user as `az ad user create/show` prints it.
type User struct {
	ODataType         string   `json:"@odata.type"`
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              *string  `json:"mail"`
	BusinessPhones    []string `json:"businessPhones"`
	AccountEnabled    bool     `json:"accountEnabled"`
	CreatedDateTime   string   `json:"createdDateTime"`
}

// ServicePrincipal is a service principal as `az ad sp show` prints it;
// managed identities are service principals of type ManagedIdentity.
type ServicePrincipal struct {
	ODataType              string   `json:"@odata.type"`
	ID                     string   `json:"id"`
	AppID                  string   `json:"appId"`
	DisplayName            string   `json:"displayName"`
	ServicePrincipalType   string   `json:"servicePrincipalType"`
	AppOwnerOrganizationID string   `json:"appOwnerOrganizationId"`
	ServicePrincipalNames  []string `json:"servicePrincipalNames"`
	AlternativeNames       []string `json:"alternativeNames"`
	AccountEnabled         bool     `json:"accountEnabled"`
	CreatedDateTime        string   `json:"createdDateTime"`
}

// Group is a security group as `az ad group create/show` prints it.
type Group struct {
	ODataType       string  `json:"@odata.type"`
	ID              string  `json:"id"`
	DisplayName     string  `json:"displayName"`
	MailNickname    string  `json:"mailNickname"`
	Description     *string `json:"description"`
	MailEnabled     bool    `json:"mailEnabled"`
	SecurityEnabled bool    `json:"securityEnabled"`
	CreatedDateTime string  `json:"createdDateTime"`
}

// OData types of directory objects.
const (
	odataUser             = "#microsoft.graph.user"
	odataServicePrincipal = "#microsoft.graph.servicePrincipal"
	odataGroup            = "#microsoft.graph.group"
)

func nowString() string { return time.Now().UTC().Format(time.RFC3339) }

// CreateUser creates a user. kiln users sign in with API tokens (kiln
// token create), not passwords.
func (s *Service) CreateUser(ctx context.Context, p authz.Principal, displayName, upn string) (_ User, err error) {
	u := User{ODataType: odataUser, ID: uuid.NewString(), DisplayName: strings.TrimSpace(displayName),
		UserPrincipalName: strings.TrimSpace(upn), BusinessPhones: []string{}, AccountEnabled: true, CreatedDateTime: nowString()}
	defer s.record(ctx, p, "Microsoft.Directory/users/write", s.entity("users", u.ID), &err)
	if u.DisplayName == "" || u.UserPrincipalName == "" {
		return User{}, fmt.Errorf("a user needs a display name (--display-name) and a user principal name (--user-principal-name)")
	}
	if strings.ContainsAny(u.UserPrincipalName, " /") || !strings.Contains(u.UserPrincipalName, "@") {
		return User{}, fmt.Errorf("user principal name %q must look like name@domain and hold no spaces or slashes", u.UserPrincipalName)
	}
	if err := s.guard(ctx, p, GuardCreate); err != nil {
		return User{}, err
	}
	err = s.create(ctx, store.Principal{ID: u.ID, TenantID: s.Defaults.TenantID, Type: authz.TypeUser,
		DisplayName: u.DisplayName, SignInName: u.UserPrincipalName}, u)
	return u, err
}

// CreateServicePrincipal creates a service principal with a fresh appId.
// kiln has no app registrations; the principal stands alone.
func (s *Service) CreateServicePrincipal(ctx context.Context, p authz.Principal, displayName string) (_ ServicePrincipal, err error) {
	appID := uuid.NewString()
	sp := ServicePrincipal{ODataType: odataServicePrincipal, ID: uuid.NewString(), AppID: appID, DisplayName: strings.TrimSpace(displayName),
		ServicePrincipalType: "Application", AppOwnerOrganizationID: s.Defaults.TenantID, ServicePrincipalNames: []string{appID},
		AlternativeNames: []string{}, AccountEnabled: true, CreatedDateTime: nowString()}
	defer s.record(ctx, p, "Microsoft.Directory/servicePrincipals/write", s.entity("servicePrincipals", sp.ID), &err)
	if sp.DisplayName == "" {
		return ServicePrincipal{}, fmt.Errorf("a service principal needs a display name (--display-name)")
	}
	if err := s.guard(ctx, p, GuardCreate); err != nil {
		return ServicePrincipal{}, err
	}
	err = s.create(ctx, store.Principal{ID: sp.ID, TenantID: s.Defaults.TenantID, Type: authz.TypeServicePrincipal,
		DisplayName: sp.DisplayName, SignInName: appID}, sp)
	return sp, err
}

// CreateGroup creates a security group.
func (s *Service) CreateGroup(ctx context.Context, p authz.Principal, displayName, mailNickname, description string) (_ Group, err error) {
	g := Group{ODataType: odataGroup, ID: uuid.NewString(), DisplayName: strings.TrimSpace(displayName),
		MailNickname: strings.TrimSpace(mailNickname), SecurityEnabled: true, CreatedDateTime: nowString()}
	if description != "" {
		g.Description = &description
	}
	defer s.record(ctx, p, "Microsoft.Directory/groups/write", s.entity("groups", g.ID), &err)
	if g.DisplayName == "" || g.MailNickname == "" {
		return Group{}, fmt.Errorf("a group needs a display name (--display-name) and a mail nickname (--mail-nickname)")
	}
	if err := s.guard(ctx, p, GuardCreate); err != nil {
		return Group{}, err
	}
	err = s.create(ctx, store.Principal{ID: g.ID, TenantID: s.Defaults.TenantID, Type: authz.TypeGroup, DisplayName: g.DisplayName}, g)
	return g, err
}

func (s *Service) create(ctx context.Context, p store.Principal, view any) error {
	body, err := json.Marshal(view)
	if err != nil {
		return err
	}
	p.Body = body
	if _, err := s.Store.CreatePrincipal(ctx, p); err != nil {
		if errors.Is(err, store.ErrConflict) && p.SignInName != "" {
			return fmt.Errorf("a %s named %q already exists in the tenant: %w", p.Type, p.SignInName, store.ErrConflict)
		}
		return err
	}
	return nil
}

// Resolve finds the one principal a reference names: its object ID, a
// user principal name, an appId or clientId, a managed identity's ARM ID,
// or a display name, in that order of preference. Two principals
// matching equally well are an error that lists them.
func (s *Service) Resolve(ctx context.Context, ref string) (store.Principal, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.Principal{}, fmt.Errorf("no principal given")
	}
	found, err := s.Store.FindPrincipals(ctx, ref)
	if err != nil {
		return store.Principal{}, err
	}
	best := bestMatches(found, ref)
	switch len(best) {
	case 0:
		return store.Principal{}, fmt.Errorf("PrincipalNotFound: no user, service principal, managed identity or group in the tenant is named %q; "+
			"list them with kiln ad user list, kiln ad sp list, kiln identity list or kiln ad group list: %w", ref, store.ErrNotFound)
	case 1:
		return best[0], nil
	}
	names := make([]string, len(best))
	for i, p := range best {
		names[i] = fmt.Sprintf("%s %s (%s)", p.Type, p.DisplayName, p.ID)
	}
	return store.Principal{}, fmt.Errorf("%q names %d principals: %s; use an object ID: %w", ref, len(best), strings.Join(names, ", "), store.ErrConflict)
}

// bestMatches keeps the principals that match ref in the most specific way.
func bestMatches(found []store.Principal, ref string) []store.Principal {
	rank := func(p store.Principal) int {
		switch {
		case strings.EqualFold(p.ID, ref):
			return 0
		case p.SignInName != "" && strings.EqualFold(p.SignInName, ref):
			return 1
		case p.ResourceID != "" && strings.EqualFold(strings.TrimRight(p.ResourceID, "/"), strings.TrimRight(ref, "/")):
			return 2
		case strings.EqualFold(p.DisplayName, ref):
			return 3
		}
		return 4
	}
	best, bestRank := []store.Principal(nil), 4
	for _, p := range found {
		switch r := rank(p); {
		case r < bestRank:
			best, bestRank = []store.Principal{p}, r
		case r == bestRank && r < 4:
			best = append(best, p)
		}
	}
	return best
}

// Principal turns a stored principal into the acting identity of calls.
func Principal(p store.Principal) authz.Principal {
	name := p.DisplayName
	if p.Type == authz.TypeUser && p.SignInName != "" {
		name = p.SignInName
	}
	return authz.Principal{ID: p.ID, Name: name, Type: p.Type, TenantID: p.TenantID}
}

// Get returns a principal's directory object (User, ServicePrincipal or
// Group shape) by reference.
func (s *Service) Get(ctx context.Context, ref, wantType string) (json.RawMessage, error) {
	p, err := s.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if wantType != "" && !typeMatches(p.Type, wantType) {
		return nil, fmt.Errorf("%q is a %s, not a %s: %w", ref, p.Type, wantType, store.ErrNotFound)
	}
	return p.Body, nil
}

// typeMatches treats managed identities as service principals, as Entra does.
func typeMatches(have, want string) bool {
	return have == want || (want == authz.TypeServicePrincipal && have == authz.TypeManagedIdentity)
}

// List returns the directory objects of a type.
func (s *Service) List(ctx context.Context, typ string) ([]json.RawMessage, error) {
	ps, err := s.Store.ListPrincipals(ctx, "")
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	for _, p := range ps {
		if typeMatches(p.Type, typ) {
			out = append(out, p.Body)
		}
	}
	return out, nil
}

// Delete deletes a user, service principal or group, with its
// memberships, role assignments and tokens (Azure leaves orphaned
// assignments behind; kiln does not). Managed identities are deleted
// with `kiln identity delete`.
func (s *Service) Delete(ctx context.Context, p authz.Principal, ref, wantType string) (err error) {
	target, err := s.Resolve(ctx, ref)
	if err != nil {
		return err
	}
	kind := map[string]string{authz.TypeUser: "users", authz.TypeGroup: "groups"}[target.Type]
	if kind == "" {
		kind = "servicePrincipals"
	}
	defer s.record(ctx, p, "Microsoft.Directory/"+kind+"/delete", s.entity(kind, target.ID), &err)
	if wantType != "" && !typeMatches(target.Type, wantType) {
		return fmt.Errorf("%q is a %s, not a %s: %w", ref, target.Type, wantType, store.ErrNotFound)
	}
	if strings.EqualFold(target.ID, s.Defaults.Admin.ID) {
		return fmt.Errorf("the bootstrapped admin %s cannot be deleted: %w", target.ID, store.ErrConflict)
	}
	if err := s.guard(ctx, p, GuardDelete); err != nil {
		return err
	}
	return s.Store.DeletePrincipal(ctx, target.ID)
}
