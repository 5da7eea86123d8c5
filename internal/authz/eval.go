package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Snapshot is an immutable, precompiled view of a tenant's roles, role
// assignments, group memberships and locks, which answers authorization
// questions with a few map lookups. Build a new one when anything changes
// (Cache does that). It is safe for concurrent use.
//
// Effective permission follows Azure: a principal may perform an action
// at a scope when some role assigned to it, directly or through any of its
// groups (transitively), at that scope or any scope above it, grants the
// action in one of its permission blocks without excluding it in the same
// block's NotActions. Grants add up; NotActions of one role never take
// away what another role grants. Control-plane actions are matched against
// Actions/NotActions only and data actions against DataActions/
// NotDataActions only, so Owner ("*") has no data access.
//
// Management-group ancestry is not modelled: an assignment at a
// management group scope covers only IDs under that group's own ID.
// Deny assignments and conditions are not modelled either.
type Snapshot struct {
	roles       map[string]*compiledRole // by lower-case GUID
	roleOrder   []*compiledRole          // built-ins, then custom roles, as given
	assignments []boundAssignment        // as given; invalid ones are left zero
	bySubject   map[string][]int         // lower-case principal ID to assignment indexes
	groupsOf    map[string][]string      // lower-case member ID to its direct groups
	locks       *LockSet

	views sync.Map // lower-case principal ID to *principalView, built on first use
}

var _ Checker = (*Snapshot)(nil)

// compiledRole is a role with its patterns compiled.
type compiledRole struct {
	def   RoleDefinition
	perms []compiledPermission
}

type compiledPermission struct {
	actions, notActions, dataActions, notDataActions []ActionPattern
}

// NewSnapshot validates and compiles a tenant's state. Every problem is
// reported at once, as Problems, with paths such as
// "assignments[3].roleDefinitionId".
func NewSnapshot(st State) (*Snapshot, error) {
	if err := builtinRolesErr(); err != nil {
		return nil, err
	}
	s := &Snapshot{roles: map[string]*compiledRole{}, bySubject: map[string][]int{}, groupsOf: map[string][]string{}}
	var problems problemList
	s.addRoles(st.Roles, &problems)
	s.addAssignments(st.Assignments, &problems)
	s.addMemberships(st.Memberships, &problems)
	locks, err := NewLockSet(st.Locks)
	var lockProblems Problems
	if errors.As(err, &lockProblems) {
		problems.list = append(problems.list, lockProblems...)
	}
	s.locks = locks
	if err := problems.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Check implements Checker: RBAC first (*AuthorizationFailedError), then
// locks (*ScopeLockedError), as Azure Resource Manager does. An action
// that is empty or holds a wildcard is an error wrapping ErrInvalidAction.
func (s *Snapshot) Check(_ context.Context, p Principal, action, scope string) error {
	if !concreteAction(action) {
		return fmt.Errorf("check %q at %q: %w", action, scope, ErrInvalidAction)
	}
	key, ok := scopeKey(scope)
	act := lowerASCII(action)
	if !ok || !s.allows(p.ID, act, key, controlPlane) {
		return &AuthorizationFailedError{Principal: p, Action: action, Scope: scope}
	}
	if blocking := s.locks.blocking(act, key); len(blocking) > 0 {
		return &ScopeLockedError{Action: action, Scope: scope, Locks: blocking}
	}
	return nil
}

// DataCheck is Check for a data action (such as
// Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read),
// which only DataActions grant. Locks do not apply to the data plane.
func (s *Snapshot) DataCheck(_ context.Context, p Principal, dataAction, scope string) error {
	if !concreteAction(dataAction) {
		return fmt.Errorf("check %q at %q: %w", dataAction, scope, ErrInvalidAction)
	}
	if !s.AllowsData(p.ID, dataAction, scope) {
		return &AuthorizationFailedError{Principal: p, Action: dataAction, Scope: scope}
	}
	return nil
}

// Allows reports whether RBAC lets the principal perform a control-plane
// action at scope. Locks are not consulted; Check does that.
func (s *Snapshot) Allows(principalID, action, scope string) bool {
	return s.allowsIn(principalID, action, scope, controlPlane)
}

// AllowsData reports whether RBAC lets the principal perform a data action
// at scope.
func (s *Snapshot) AllowsData(principalID, dataAction, scope string) bool {
	return s.allowsIn(principalID, dataAction, scope, dataPlane)
}

// Locks returns the snapshot's locks.
func (s *Snapshot) Locks() *LockSet { return s.locks }

func (s *Snapshot) allowsIn(principalID, action, scope string, pl plane) bool {
	key, ok := scopeKey(scope)
	return ok && concreteAction(action) && s.allows(principalID, lowerASCII(action), key, pl)
}

// allows walks the scopes from the root down to the one with the given
// key, looking for a grant of the lower-cased action.
func (s *Snapshot) allows(principalID, action, key string, pl plane) bool {
	v := s.view(principalID)
	if len(v.grants) == 0 {
		return false
	}
	for k := range ancestorKeys(key) {
		if !v.mayHoldKeyOfLength(len(k)) {
			continue
		}
		for _, a := range v.grants[k] {
			if a.role.allows(action, pl) {
				return true
			}
		}
	}
	return false
}

// allows reports whether some permission block of the role grants the
// lower-cased action and its own Not list does not take it away.
func (r *compiledRole) allows(action string, pl plane) bool {
	for i := range r.perms {
		p := &r.perms[i]
		grants, excludes := p.actions, p.notActions
		if pl == dataPlane {
			grants, excludes = p.dataActions, p.notDataActions
		}
		if anyMatches(grants, action) && !anyMatches(excludes, action) {
			return true
		}
	}
	return false
}

func anyMatches(patterns []ActionPattern, action string) bool {
	for _, p := range patterns {
		if p.matchesLower(action) {
			return true
		}
	}
	return false
}
