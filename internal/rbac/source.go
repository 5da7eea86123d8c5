package rbac

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// Source is the store as an authz.Source: its access generation moves on
// every change of roles, assignments, memberships, principals or locks,
// in any process, so an authz.Cache over it is never stale.
type Source struct {
	Store store.Access
}

var _ authz.Source = Source{}

// Generation implements authz.Source.
func (s Source) Generation(ctx context.Context) (uint64, error) {
	return s.Store.AccessGeneration(ctx)
}

// State implements authz.Source.
func (s Source) State(ctx context.Context) (authz.State, error) {
	st, err := s.Store.AccessState(ctx)
	if err != nil {
		return authz.State{}, err
	}
	out := authz.State{
		Roles:       make([]authz.RoleDefinition, 0, len(st.Roles)),
		Assignments: make([]authz.RoleAssignment, 0, len(st.Assignments)),
		Memberships: make([]authz.Membership, 0, len(st.Memberships)),
		Locks:       make([]authz.Lock, 0, len(st.Locks)),
	}
	for _, r := range st.Roles {
		def, err := decodeRole(r)
		if err != nil {
			return authz.State{}, err
		}
		out.Roles = append(out.Roles, def)
	}
	for _, a := range st.Assignments {
		out.Assignments = append(out.Assignments, authz.RoleAssignment{ID: a.ID, Scope: a.Scope, RoleDefinitionID: a.RoleGUID,
			PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType})
	}
	for _, m := range st.Memberships {
		out.Memberships = append(out.Memberships, authz.Membership{GroupID: m.GroupID, MemberID: m.MemberID})
	}
	for _, l := range st.Locks {
		out.Locks = append(out.Locks, authz.Lock{Name: l.Name, Scope: l.Scope, Level: authz.LockLevel(l.Level), Notes: l.Notes})
	}
	return out, nil
}

// decodeRole reads a stored custom role.
func decodeRole(r store.RoleDefinitionRecord) (authz.RoleDefinition, error) {
	var def authz.RoleDefinition
	if err := json.Unmarshal(r.Body, &def); err != nil {
		return def, fmt.Errorf("stored role definition %s (%s) is damaged: %w", r.GUID, r.RoleName, err)
	}
	def.GUID, def.RoleType = r.GUID, authz.RoleTypeCustom
	return def, nil
}
