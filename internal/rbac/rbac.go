// Package rbac keeps a tenant's Azure role-based access control: custom
// role definitions (Microsoft.Authorization/roleDefinitions, at the
// tenant's subscription), role assignments
// (Microsoft.Authorization/roleAssignments, at the subscription, a
// resource group or a resource) and management locks
// (Microsoft.Authorization/locks), as `az role` and `az lock` manage
// them. Changing them is itself authorized: roleDefinitions/write at
// every assignable scope of a role, roleAssignments/write or /delete at
// an assignment's scope, locks/write or /delete at a lock's scope.
//
// Source feeds the stored state to the authorization engine (package
// authz): an authz.Cache over it is the Checker every service uses, and it
// sees the changes of any kiln process through the store's access
// generation.
//
// The invariants hold in the store's transactions, so concurrent
// callers cannot break them: role names are unique in the tenant
// (built-in names included), an assignment names an existing principal
// and an existing role assignable at its scope, a role still assigned
// cannot be deleted, and locks and assignments sit only at scopes that
// exist.
package rbac

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/arm"
	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// RoleAssignmentType is the ARM type of role assignments.
const RoleAssignmentType = "Microsoft.Authorization/roleAssignments"

// roleAssignmentsMarker sits between an assignment's scope and its GUID.
const roleAssignmentsMarker = "/providers/" + RoleAssignmentType + "/"

// Actions that guard access control changes.
const (
	RoleDefinitionRead   = authz.RoleDefinitionType + "/read"
	RoleDefinitionWrite  = authz.RoleDefinitionType + "/write"
	RoleDefinitionDelete = authz.RoleDefinitionType + "/delete"
	RoleAssignmentRead   = RoleAssignmentType + "/read"
	RoleAssignmentWrite  = RoleAssignmentType + "/write"
	RoleAssignmentDelete = RoleAssignmentType + "/delete"
	LockRead             = authz.LockType + "/read"
	LockWrite            = authz.LockType + "/write"
	LockDelete           = authz.LockType + "/delete"
)

// Recorder receives every mutating call for the activity log.
type Recorder interface {
	Record(ctx context.Context, caller authz.Principal, action, scope string, err error)
}

// Store is what access control is kept in.
type Store interface {
	store.Access
	store.Directory
	store.Resources
}

// Snapshotter is the authorization cache: a Checker that also hands out
// its current snapshot (for role lookups and group expansion).
type Snapshotter interface {
	authz.Checker
	Snapshot(ctx context.Context) (*authz.Snapshot, error)
}

// Service manages role definitions, role assignments and locks.
type Service struct {
	Store     Store
	Authz     Snapshotter
	Defaults  tenancy.Defaults
	Directory *directory.Service
	Audit     Recorder
}

func (s *Service) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if s.Audit != nil {
		s.Audit.Record(ctx, p, action, scope, *err)
	}
}

// Scope checks a scope given by a user and returns it without a trailing
// "/": "" is the tenant's subscription; anything else must be an ARM ID
// in that subscription (kiln has no management groups, and assigns
// nothing at the tenant root).
func (s *Service) Scope(scope string) (string, error) {
	sub := s.Defaults.SubscriptionScope()
	if scope == "" {
		return sub, nil
	}
	if strings.Trim(scope, "/") == "" {
		return "", fmt.Errorf("kiln has no tenant root or management group scopes; use the subscription %s or a scope below it", sub)
	}
	id, err := arm.ParseID(strings.TrimRight(scope, "/"))
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(id.Subscription(), s.Defaults.SubscriptionID) {
		return "", fmt.Errorf("scope %s is outside this tenant's subscription %s", scope, sub)
	}
	return strings.TrimRight(scope, "/"), nil
}

// GroupScope is the scope of a resource group of the tenant's subscription.
func (s *Service) GroupScope(group string) string {
	return s.Defaults.SubscriptionScope() + "/resourceGroups/" + group
}

// groupOf returns the resource group part of a scope, or "".
func groupOf(scope string) string {
	id, err := arm.ParseID(scope)
	if err != nil {
		return ""
	}
	return id.ResourceGroup()
}

// atOrBelow reports whether scope is parent or lies below it, ignoring case.
func atOrBelow(scope, parent string) bool {
	s, p := store.Key(scope), store.Key(parent)
	return s == p || strings.HasPrefix(s, p+"/")
}
