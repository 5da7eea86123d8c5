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
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/store"
)

// Assignment is a role assignment as `az role assignment create/list`
// prints it; list fills principalName and roleDefinitionName.
type Assignment struct {
	Condition          *string `json:"condition"`
	ConditionVersion   *string `json:"conditionVersion"`
	CreatedBy          string  `json:"createdBy"`
	CreatedOn          string  `json:"createdOn"`
	Description        *string `json:"description"`
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	PrincipalID        string  `json:"principalId"`
	PrincipalName      string  `json:"principalName,omitempty"`
	PrincipalType      string  `json:"principalType"`
	ResourceGroup      string  `json:"resourceGroup,omitempty"`
	RoleDefinitionID   string  `json:"roleDefinitionId"`
	RoleDefinitionName string  `json:"roleDefinitionName,omitempty"`
	Scope              string  `json:"scope"`
	Type               string  `json:"type"`
}

// AssignmentRequest creates a role assignment.
type AssignmentRequest struct {
	// Assignee is the principal: an object ID, a user principal name, an
	// appId or clientId, a managed identity's ARM ID, or a display name.
	Assignee string
	// Role is a role name, GUID or role definition ID.
	Role string
	// Scope is where the role applies; "" is the tenant's subscription.
	Scope       string
	Description string
}

// assignmentPrincipalType is the principalType Azure gives an
// assignment: managed identities are service principals there.
func assignmentPrincipalType(p store.Principal) string {
	if p.Type == authz.TypeManagedIdentity {
		return authz.TypeServicePrincipal
	}
	return p.Type
}

// CreateAssignment assigns a role to a principal at a scope. The caller
// needs roleAssignments/write there; the scope must exist and lie within
// the role's AssignableScopes, and the principal must exist.
func (s *Service) CreateAssignment(ctx context.Context, p authz.Principal, req AssignmentRequest) (_ Assignment, err error) {
	scope, err := s.Scope(req.Scope)
	if err != nil {
		return Assignment{}, err
	}
	id := scope + roleAssignmentsMarker + uuid.NewString()
	defer s.record(ctx, p, RoleAssignmentWrite, id, &err)
	if err := s.Authz.Check(ctx, p, RoleAssignmentWrite, scope); err != nil {
		return Assignment{}, err
	}
	assignee, err := s.Directory.Resolve(ctx, req.Assignee)
	if err != nil {
		return Assignment{}, err
	}
	role, err := s.findRole(ctx, req.Role)
	if err != nil {
		return Assignment{}, err
	}
	a := s.newAssignment(p, id, scope, assignee, role.def, req.Description)
	body, err := json.Marshal(a)
	if err != nil {
		return Assignment{}, err
	}
	rec := store.RoleAssignmentRecord{ID: id, Scope: scope, RoleGUID: role.def.GUID, PrincipalID: assignee.ID,
		PrincipalType: a.PrincipalType, Body: body}
	_, err = s.Store.CreateRoleAssignment(ctx, rec, func(stored *store.RoleDefinitionRecord) error {
		return assignableHere(role, stored, scope)
	})
	if err != nil {
		return Assignment{}, s.explainCreate(err, assignee, role.def, scope)
	}
	return a, nil
}

func (s *Service) newAssignment(p authz.Principal, id, scope string, assignee store.Principal, role authz.RoleDefinition, description string) Assignment {
	a := Assignment{CreatedBy: p.ID, CreatedOn: time.Now().UTC().Format(time.RFC3339), ID: id, Name: id[strings.LastIndex(id, "/")+1:],
		PrincipalID: assignee.ID, PrincipalType: assignmentPrincipalType(assignee), ResourceGroup: groupOf(scope),
		RoleDefinitionID: s.roleID(role.GUID), Scope: scope, Type: RoleAssignmentType}
	if description != "" {
		a.Description = &description
	}
	return a
}

// assignableHere checks, inside the store's transaction, that the role
// still exists and may be assigned at scope (AssignableScopes are
// checked when assigning, never when evaluating, as in Azure).
func assignableHere(role foundRole, stored *store.RoleDefinitionRecord, scope string) error {
	def := role.def
	switch {
	case role.stored == nil:
		// A built-in role: assignable everywhere, never deleted.
	case stored == nil:
		return fmt.Errorf("RoleDefinitionDoesNotExist: role %q was deleted meanwhile: %w", def.RoleName, errRoleGone)
	default:
		fresh, err := decodeRole(*stored)
		if err != nil {
			return err
		}
		def = fresh
	}
	if !def.AssignableAt(scope) {
		return fmt.Errorf("InvalidScope: role %q may only be assigned within its AssignableScopes %v, not at %s; "+
			"add the scope to the role (kiln role definition update) or assign it lower: %w", def.RoleName, def.AssignableScopes, scope, errOutsideAssignable)
	}
	return nil
}

var (
	errOutsideAssignable = errors.New("scope outside the role's assignable scopes")
	errRoleGone          = fmt.Errorf("role definition gone: %w", store.ErrNotFound)
)

// explainCreate words the store's refusals of an assignment.
func (s *Service) explainCreate(err error, assignee store.Principal, role authz.RoleDefinition, scope string) error {
	switch {
	case errors.Is(err, errOutsideAssignable), errors.Is(err, errRoleGone):
		return err
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("RoleAssignmentExists: %s already holds role %q at %s: %w", assignee.DisplayName, role.RoleName, scope, store.ErrConflict)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("the assignment was refused because something it names does not exist (%v); check the principal and the scope (kiln group show, kiln resource show): %w", err, store.ErrNotFound)
	}
	return err
}

// AssignmentQuery filters ListAssignments, as az role assignment list's
// flags do.
type AssignmentQuery struct {
	Assignee string
	Role     string
	// Scope is where to look; "" is the tenant's subscription. Only
	// assignments exactly at it are listed, unless IncludeInherited adds
	// those above it.
	Scope            string
	IncludeInherited bool
	// IncludeGroups adds the assignments of the assignee's groups.
	IncludeGroups bool
	// All lists every assignment in the subscription the caller may read.
	All bool
}

// ListAssignments lists role assignments with their principal and role names.
func (s *Service) ListAssignments(ctx context.Context, p authz.Principal, q AssignmentQuery) ([]Assignment, error) {
	scope, err := s.Scope(q.Scope)
	if err != nil {
		return nil, err
	}
	if !q.All {
		if err := s.Authz.Check(ctx, p, RoleAssignmentRead, scope); err != nil {
			return nil, err
		}
	}
	snap, err := s.Authz.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	principals, err := s.assignees(ctx, snap, q)
	if err != nil {
		return nil, err
	}
	recs, err := s.Store.ListRoleAssignments(ctx, principals...)
	if err != nil {
		return nil, err
	}
	var roleGUID string
	if q.Role != "" {
		role, err := s.findRole(ctx, q.Role)
		if err != nil {
			return nil, err
		}
		roleGUID = role.def.GUID
	}
	out := []Assignment{}
	for _, r := range recs {
		if !selected(r, q, scope, roleGUID) || (q.All && !snap.Allows(p.ID, RoleAssignmentRead, r.Scope)) {
			continue
		}
		out = append(out, s.listView(ctx, snap, r))
	}
	return out, nil
}

// assignees lists the principal IDs a query is about (none: everyone).
func (s *Service) assignees(ctx context.Context, snap *authz.Snapshot, q AssignmentQuery) ([]string, error) {
	if q.Assignee == "" {
		return nil, nil
	}
	who, err := s.Directory.Resolve(ctx, q.Assignee)
	if err != nil {
		return nil, err
	}
	ids := []string{who.ID}
	if q.IncludeGroups {
		ids = append(ids, snap.GroupsOf(who.ID)...)
	}
	return ids, nil
}

// selected applies a query's scope and role filters to one assignment.
func selected(r store.RoleAssignmentRecord, q AssignmentQuery, scope, roleGUID string) bool {
	if roleGUID != "" && !strings.EqualFold(r.RoleGUID, roleGUID) {
		return false
	}
	switch {
	case q.All:
		return atOrBelow(r.Scope, scope)
	case q.IncludeInherited:
		return atOrBelow(scope, r.Scope)
	default:
		return store.Key(r.Scope) == store.Key(scope)
	}
}

// listView is an assignment with the names az list adds.
func (s *Service) listView(ctx context.Context, snap *authz.Snapshot, r store.RoleAssignmentRecord) Assignment {
	var a Assignment
	if err := json.Unmarshal(r.Body, &a); err != nil || a.ID == "" {
		a = Assignment{ID: r.ID, Name: r.ID[strings.LastIndex(r.ID, "/")+1:], PrincipalID: r.PrincipalID, PrincipalType: r.PrincipalType,
			RoleDefinitionID: s.roleID(r.RoleGUID), Scope: r.Scope, ResourceGroup: groupOf(r.Scope), Type: RoleAssignmentType}
	}
	if who, err := s.Store.GetPrincipal(ctx, r.PrincipalID); err == nil {
		a.PrincipalName = directory.Principal(who).Name
	}
	if role, ok := snap.Role(r.RoleGUID); ok {
		a.RoleDefinitionName = role.RoleName
	}
	return a
}

// AssignmentDeletion selects the assignments DeleteAssignments removes:
// by ID, or by assignee and/or role at one scope.
type AssignmentDeletion struct {
	IDs      []string
	Assignee string
	Role     string
	Scope    string
}

// DeleteAssignments deletes role assignments; each needs
// roleAssignments/delete at its scope, and a lock there refuses it.
func (s *Service) DeleteAssignments(ctx context.Context, p authz.Principal, d AssignmentDeletion) ([]Assignment, error) {
	targets, err := s.deletionTargets(ctx, p, d)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no role assignment matches; list them with kiln role assignment list --all: %w", store.ErrNotFound)
	}
	snap, err := s.Authz.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []Assignment
	for _, r := range targets {
		if err := s.deleteAssignment(ctx, p, r); err != nil {
			return out, err
		}
		out = append(out, s.listView(ctx, snap, r))
	}
	return out, nil
}

func (s *Service) deleteAssignment(ctx context.Context, p authz.Principal, r store.RoleAssignmentRecord) (err error) {
	defer s.record(ctx, p, RoleAssignmentDelete, r.ID, &err)
	if err := s.Authz.Check(ctx, p, RoleAssignmentDelete, r.Scope); err != nil {
		return err
	}
	return s.Store.DeleteRoleAssignment(ctx, r.ID)
}

// deletionTargets finds the assignments a deletion names.
func (s *Service) deletionTargets(ctx context.Context, p authz.Principal, d AssignmentDeletion) ([]store.RoleAssignmentRecord, error) {
	if len(d.IDs) > 0 {
		var out []store.RoleAssignmentRecord
		for _, id := range d.IDs {
			r, err := s.Store.GetRoleAssignment(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("RoleAssignmentNotFound: role assignment %s does not exist: %w", id, store.ErrNotFound)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	if d.Assignee == "" && d.Role == "" {
		return nil, fmt.Errorf("say which assignments to delete: --ids, or --assignee and/or --role (with --scope or --resource-group)")
	}
	scope, err := s.Scope(d.Scope)
	if err != nil {
		return nil, err
	}
	snap, err := s.Authz.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	principals, err := s.assignees(ctx, snap, AssignmentQuery{Assignee: d.Assignee})
	if err != nil {
		return nil, err
	}
	recs, err := s.Store.ListRoleAssignments(ctx, principals...)
	if err != nil {
		return nil, err
	}
	roleGUID := ""
	if d.Role != "" {
		role, err := s.findRole(ctx, d.Role)
		if err != nil {
			return nil, err
		}
		roleGUID = role.def.GUID
	}
	var out []store.RoleAssignmentRecord
	for _, r := range recs {
		if selected(r, AssignmentQuery{}, scope, roleGUID) {
			out = append(out, r)
		}
	}
	return out, nil
}
