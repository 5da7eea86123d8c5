package rbac

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
)

// Role is a role definition as `az role definition list` prints it; the
// same JSON goes back into `kiln role definition update`.
type Role struct {
	AssignableScopes []string           `json:"assignableScopes"`
	CreatedOn        string             `json:"createdOn,omitempty"`
	Description      string             `json:"description"`
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	Permissions      []authz.Permission `json:"permissions"`
	RoleName         string             `json:"roleName"`
	RoleType         string             `json:"roleType"`
	Type             string             `json:"type"`
	UpdatedOn        string             `json:"updatedOn,omitempty"`
}

// roleID is the subscription-level resource ID of a role, as az prints it.
func (s *Service) roleID(guid string) string {
	return s.Defaults.SubscriptionScope() + "/providers/" + authz.RoleDefinitionType + "/" + guid
}

func (s *Service) roleView(def authz.RoleDefinition, created, updated time.Time) Role {
	r := Role{AssignableScopes: nonNil(def.AssignableScopes), Description: def.Description, ID: s.roleID(def.GUID), Name: def.GUID,
		RoleName: def.RoleName, RoleType: def.RoleType, Type: authz.RoleDefinitionType}
	for _, p := range def.Permissions {
		r.Permissions = append(r.Permissions, authz.Permission{Actions: nonNil(p.Actions), NotActions: nonNil(p.NotActions),
			DataActions: nonNil(p.DataActions), NotDataActions: nonNil(p.NotDataActions)})
	}
	if r.Permissions == nil {
		r.Permissions = []authz.Permission{}
	}
	if !created.IsZero() {
		r.CreatedOn, r.UpdatedOn = created.UTC().Format(time.RFC3339), updated.UTC().Format(time.RFC3339)
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// foundRole is a role found by reference: a built-in one (stored nil) or
// a stored custom one.
type foundRole struct {
	def    authz.RoleDefinition
	stored *store.RoleDefinitionRecord
}

// findRole finds a role by name (ignoring case), GUID or role definition ID.
func (s *Service) findRole(ctx context.Context, ref string) (foundRole, error) {
	ref = strings.TrimSpace(ref)
	key := ref
	if guid, ok := guidOf(ref); ok {
		key = guid
	}
	if def, ok := authz.BuiltInRole(key); ok {
		return foundRole{def: def}, nil
	}
	customs, err := s.Store.ListRoleDefinitions(ctx)
	if err != nil {
		return foundRole{}, err
	}
	for i, r := range customs {
		if strings.EqualFold(r.GUID, key) || strings.EqualFold(strings.TrimSpace(r.RoleName), key) {
			def, err := decodeRole(r)
			return foundRole{def: def, stored: &customs[i]}, err
		}
	}
	return foundRole{}, fmt.Errorf("RoleDefinitionDoesNotExist: no role definition is named %q; list them with kiln role definition list: %w", ref, store.ErrNotFound)
}

// guidOf reads the GUID of a role reference that is a GUID or a role
// definition ID.
func guidOf(ref string) (string, bool) {
	const marker = "/providers/" + authz.RoleDefinitionType + "/"
	if i := strings.LastIndex(strings.ToLower(ref), strings.ToLower(marker)); i >= 0 {
		ref = ref[i+len(marker):]
	}
	if _, err := uuid.Parse(ref); err != nil || len(ref) != 36 {
		return "", false
	}
	return strings.ToLower(ref), true
}

// parseCustomRole parses a role definition file for create or update:
// any of Azure's shapes, made custom whatever it says (as az does), with
// assignable scopes in the tenant's subscription.
func (s *Service) parseCustomRole(data []byte) (authz.RoleDefinition, []authz.Problem, error) {
	def, warnings, err := authz.ParseRoleDefinition(data)
	if err != nil {
		return def, warnings, fmt.Errorf("invalid role definition:\n%w", err)
	}
	def.RoleType, def.RoleName = authz.RoleTypeCustom, strings.TrimSpace(def.RoleName)
	if len(def.AssignableScopes) == 0 {
		return def, warnings, fmt.Errorf("AssignableScopes: a custom role needs at least one assignable scope, such as %s", s.Defaults.SubscriptionScope())
	}
	for i, sc := range def.AssignableScopes {
		norm, err := s.Scope(sc)
		if err != nil {
			return def, warnings, fmt.Errorf("AssignableScopes[%d]: %w", i, err)
		}
		def.AssignableScopes[i] = norm
	}
	if def.GUID != "" {
		def.GUID = strings.ToLower(def.GUID)
	}
	return def, warnings, nil
}

// checkBuiltInClash refuses a custom role that takes a built-in role's name or GUID.
func checkBuiltInClash(def authz.RoleDefinition) error {
	for _, b := range authz.BuiltInRoles() {
		if strings.EqualFold(b.RoleName, def.RoleName) {
			return fmt.Errorf("RoleDefinitionWithSameNameExists: %q is the name of a built-in role; choose another name: %w", def.RoleName, store.ErrConflict)
		}
		if strings.EqualFold(b.GUID, def.GUID) {
			return fmt.Errorf("role definition GUID %s is the built-in role %q; remove the Id or choose another: %w", def.GUID, b.RoleName, store.ErrConflict)
		}
	}
	return nil
}

// checkScopes checks an action at every scope: Azure asks for
// roleDefinitions/write (or delete) wherever the role can be assigned.
func (s *Service) checkScopes(ctx context.Context, p authz.Principal, action string, scopes ...[]string) error {
	for _, list := range scopes {
		for _, sc := range list {
			if err := s.Authz.Check(ctx, p, action, sc); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateRole creates a custom role from Azure's role JSON (the az CLI
// file, the ARM resource or az's list output). Valid action patterns
// that match nothing kiln knows come back as warnings.
func (s *Service) CreateRole(ctx context.Context, p authz.Principal, data []byte) (_ Role, _ []authz.Problem, err error) {
	def, warnings, err := s.parseCustomRole(data)
	if def.GUID == "" {
		def.GUID = uuid.NewString()
	}
	defer s.record(ctx, p, RoleDefinitionWrite, s.roleID(def.GUID), &err)
	if err != nil {
		return Role{}, warnings, err
	}
	if err := checkBuiltInClash(def); err != nil {
		return Role{}, warnings, err
	}
	if err := s.checkScopes(ctx, p, RoleDefinitionWrite, def.AssignableScopes); err != nil {
		return Role{}, warnings, err
	}
	def.ID = s.roleID(def.GUID)
	body, err := json.Marshal(def)
	if err != nil {
		return Role{}, warnings, err
	}
	rec, err := s.Store.CreateRoleDefinition(ctx, store.RoleDefinitionRecord{GUID: def.GUID, RoleName: def.RoleName, Body: body})
	if errors.Is(err, store.ErrConflict) {
		return Role{}, warnings, fmt.Errorf("RoleDefinitionWithSameNameExists: a role named %q (or with GUID %s) already exists in the tenant: %w", def.RoleName, def.GUID, store.ErrConflict)
	}
	if err != nil {
		return Role{}, warnings, err
	}
	return s.roleView(def, rec.CreatedAt, rec.UpdatedAt), warnings, nil
}

// UpdateRole replaces a custom role, found by the GUID ("name", "Id") the
// JSON holds, else by its role name. Its assignable scopes may not leave
// any existing assignment outside them.
func (s *Service) UpdateRole(ctx context.Context, p authz.Principal, data []byte) (_ Role, _ []authz.Problem, err error) {
	def, warnings, err := s.parseCustomRole(data)
	if err != nil {
		return Role{}, warnings, err
	}
	ref := def.GUID
	if ref == "" {
		ref = def.RoleName
	}
	old, err := s.findRole(ctx, ref)
	if err != nil {
		return Role{}, warnings, err
	}
	def.GUID = strings.ToLower(old.def.GUID)
	defer s.record(ctx, p, RoleDefinitionWrite, s.roleID(def.GUID), &err)
	if old.stored == nil {
		return Role{}, warnings, fmt.Errorf("%q is a built-in role, which cannot be changed; create a custom role instead: %w", old.def.RoleName, store.ErrConflict)
	}
	if err := checkBuiltInClash(def); err != nil {
		return Role{}, warnings, err
	}
	if err := s.checkScopes(ctx, p, RoleDefinitionWrite, old.def.AssignableScopes, def.AssignableScopes); err != nil {
		return Role{}, warnings, err
	}
	def.ID = s.roleID(def.GUID)
	body, err := json.Marshal(def)
	if err != nil {
		return Role{}, warnings, err
	}
	rec, err := s.Store.UpdateRoleDefinition(ctx, store.RoleDefinitionRecord{GUID: def.GUID, RoleName: def.RoleName, Body: body},
		func(assigned []store.RoleAssignmentRecord) error { return stillAssignable(def, assigned) })
	if err != nil {
		return Role{}, warnings, err
	}
	return s.roleView(def, rec.CreatedAt, rec.UpdatedAt), warnings, nil
}

// stillAssignable refuses new assignable scopes that leave an assignment out.
func stillAssignable(def authz.RoleDefinition, assigned []store.RoleAssignmentRecord) error {
	for _, a := range assigned {
		if !def.AssignableAt(a.Scope) {
			return fmt.Errorf("the role is assigned at %s (assignment %s), which the new AssignableScopes %v leave out; delete that assignment first: %w",
				a.Scope, a.ID, def.AssignableScopes, store.ErrConflict)
		}
	}
	return nil
}

// DeleteRole deletes a custom role nobody is assigned.
func (s *Service) DeleteRole(ctx context.Context, p authz.Principal, ref string) (err error) {
	found, err := s.findRole(ctx, ref)
	if err != nil {
		return err
	}
	defer s.record(ctx, p, RoleDefinitionDelete, s.roleID(found.def.GUID), &err)
	if found.stored == nil {
		return fmt.Errorf("%q is a built-in role, which cannot be deleted: %w", found.def.RoleName, store.ErrConflict)
	}
	if err := s.checkScopes(ctx, p, RoleDefinitionDelete, found.def.AssignableScopes); err != nil {
		return err
	}
	if err := s.Store.DeleteRoleDefinition(ctx, found.def.GUID); err != nil {
		return fmt.Errorf("delete role %q: %w", found.def.RoleName, err)
	}
	return nil
}

// GetRole returns one role, built-in or custom, by name, GUID or ID.
func (s *Service) GetRole(ctx context.Context, p authz.Principal, ref string) (Role, error) {
	if err := s.Authz.Check(ctx, p, RoleDefinitionRead, s.Defaults.SubscriptionScope()); err != nil {
		return Role{}, err
	}
	found, err := s.findRole(ctx, ref)
	if err != nil {
		return Role{}, err
	}
	if found.stored != nil {
		return s.roleView(found.def, found.stored.CreatedAt, found.stored.UpdatedAt), nil
	}
	return s.roleView(found.def, time.Time{}, time.Time{}), nil
}

// RoleQuery filters ListRoles.
type RoleQuery struct {
	CustomOnly bool
	Name       string // role name or GUID, ignoring case
	Scope      string // only roles assignable at this scope
}

// ListRoles lists the built-in roles, then the custom ones by name.
func (s *Service) ListRoles(ctx context.Context, p authz.Principal, q RoleQuery) ([]Role, error) {
	if err := s.Authz.Check(ctx, p, RoleDefinitionRead, s.Defaults.SubscriptionScope()); err != nil {
		return nil, err
	}
	var out []Role
	if !q.CustomOnly {
		for _, def := range authz.BuiltInRoles() {
			if roleMatches(def, q) {
				out = append(out, s.roleView(def, time.Time{}, time.Time{}))
			}
		}
	}
	customs, err := s.Store.ListRoleDefinitions(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range customs {
		def, err := decodeRole(r)
		if err != nil {
			return nil, err
		}
		if roleMatches(def, q) {
			out = append(out, s.roleView(def, r.CreatedAt, r.UpdatedAt))
		}
	}
	return out, nil
}

func roleMatches(def authz.RoleDefinition, q RoleQuery) bool {
	if q.Name != "" && !strings.EqualFold(def.RoleName, q.Name) && !strings.EqualFold(def.GUID, q.Name) {
		return false
	}
	return q.Scope == "" || def.AssignableAt(q.Scope)
}
