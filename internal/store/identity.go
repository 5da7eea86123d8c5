package store

import (
	"context"
	"encoding/json"
	"time"
)

// PrincipalTypeGroup is the principal type whose principals have members.
const PrincipalTypeGroup = "Group"

// Principal is a directory object: a user, a service principal, a managed
// identity or a group. The domain packages own Body's shape (what Graph or
// az returns); the other fields are what the store indexes.
type Principal struct {
	ID          string // object (principal) ID, a GUID
	TenantID    string //
	Type        string // User, ServicePrincipal, ManagedIdentity, Group
	DisplayName string //
	// SignInName is the name a principal is known by besides its ID: a
	// user's userPrincipalName, a service principal's appId, a managed
	// identity's clientId; "" for groups. It is unique among principals
	// of one type, ignoring case.
	SignInName string
	// ResourceID is a managed identity's ARM ID
	// (Microsoft.ManagedIdentity/userAssignedIdentities), "" for others.
	ResourceID string
	Body       json.RawMessage
	CreatedAt  time.Time
}

// Membership puts a member in a group.
type Membership struct {
	GroupID  string
	MemberID string
}

// Directory stores principals and group memberships. Deleting a principal
// deletes its memberships, its role assignments and its API tokens with it.
type Directory interface {
	// CreatePrincipal inserts p; ErrConflict when its ID, or its sign-in
	// name among principals of its type, is taken.
	CreatePrincipal(ctx context.Context, p Principal) (Principal, error)
	// CreateManagedIdentity inserts a managed identity's resource and its
	// principal in one transaction.
	CreateManagedIdentity(ctx context.Context, r Resource, p Principal) (Resource, Principal, error)
	// DeleteManagedIdentity deletes a managed identity's resource and its
	// principal (with the principal's memberships, assignments and tokens)
	// in one transaction; ErrNotFound when the resource is absent.
	DeleteManagedIdentity(ctx context.Context, resourceID string) error
	GetPrincipal(ctx context.Context, id string) (Principal, error)
	// PrincipalByResource finds a managed identity's principal by the
	// identity's ARM ID.
	PrincipalByResource(ctx context.Context, resourceID string) (Principal, error)
	// FindPrincipals lists the principals whose ID, sign-in name, resource
	// ID or display name equals ref, ignoring case, ordered by ID.
	FindPrincipals(ctx context.Context, ref string) ([]Principal, error)
	// ListPrincipals lists principals of a type ("" for all), ordered by
	// display name then ID.
	ListPrincipals(ctx context.Context, typ string) ([]Principal, error)
	// DeletePrincipal deletes a principal that is not a managed identity
	// (ErrConflict: delete the identity's resource instead).
	DeletePrincipal(ctx context.Context, id string) error
	// AddMember puts a principal in a group. Both must exist (ErrNotFound),
	// the group must be a group and must not end up inside itself, and the
	// member must not be in it already (ErrConflict).
	AddMember(ctx context.Context, groupID, memberID string) error
	// RemoveMember takes a member out of a group; ErrNotFound when it is
	// not a direct member.
	RemoveMember(ctx context.Context, groupID, memberID string) error
	// ListMembers lists a group's direct members, ordered as ListPrincipals.
	ListMembers(ctx context.Context, groupID string) ([]Principal, error)
}

// RoleDefinitionRecord is a stored custom role definition. Body is the
// definition's JSON, owned by the RBAC service.
type RoleDefinitionRecord struct {
	GUID      string
	RoleName  string // unique in the tenant, ignoring case
	Body      json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RoleAssignmentRecord is a stored role assignment.
type RoleAssignmentRecord struct {
	ID            string // {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}
	Scope         string
	RoleGUID      string // the role definition's GUID
	PrincipalID   string
	PrincipalType string
	Body          json.RawMessage
	CreatedAt     time.Time
}

// LockRecord is a stored management lock.
type LockRecord struct {
	ID        string // {scope}/providers/Microsoft.Authorization/locks/{name}
	Scope     string
	Name      string
	Level     string
	Notes     string
	CreatedAt time.Time
}

// AccessState is everything authorization decisions read, as of one
// generation.
type AccessState struct {
	Generation  uint64
	Roles       []RoleDefinitionRecord
	Assignments []RoleAssignmentRecord
	Memberships []Membership
	Locks       []LockRecord
}

// Access stores custom roles, role assignments and locks. Every change to
// them, to group memberships or to the set of principals moves the access
// generation, in the same transaction, so that a cached authorization
// snapshot of any process knows it is stale.
//
// Role assignments and locks may only be placed at a subscription scope
// ("/subscriptions/{id}") or at a stored resource (ErrNotFound otherwise).
type Access interface {
	// AccessGeneration returns the current access generation; it is
	// cheap enough to be called on every authorization check.
	AccessGeneration(ctx context.Context) (uint64, error)
	// AccessState reads the whole state in one transaction.
	AccessState(ctx context.Context) (AccessState, error)

	// CreateRoleDefinition inserts d; ErrConflict when its GUID or its
	// name is taken.
	CreateRoleDefinition(ctx context.Context, d RoleDefinitionRecord) (RoleDefinitionRecord, error)
	// UpdateRoleDefinition replaces a stored definition (ErrNotFound),
	// keeping its creation time. check sees the role's assignments inside
	// the transaction and may refuse the update.
	UpdateRoleDefinition(ctx context.Context, d RoleDefinitionRecord, check func([]RoleAssignmentRecord) error) (RoleDefinitionRecord, error)
	GetRoleDefinition(ctx context.Context, guid string) (RoleDefinitionRecord, error)
	ListRoleDefinitions(ctx context.Context) ([]RoleDefinitionRecord, error)
	// DeleteRoleDefinition deletes a definition; ErrConflict while any
	// assignment uses it.
	DeleteRoleDefinition(ctx context.Context, guid string) error

	// CreateRoleAssignment inserts a. Inside the transaction it checks that
	// the principal exists (ErrNotFound) and calls checkRole with the
	// stored custom role of that GUID, or nil when there is none (a
	// built-in role, or a missing one: checkRole decides). An assignment
	// of the same role to the same principal at the same scope is
	// ErrConflict.
	CreateRoleAssignment(ctx context.Context, a RoleAssignmentRecord, checkRole func(*RoleDefinitionRecord) error) (RoleAssignmentRecord, error)
	GetRoleAssignment(ctx context.Context, id string) (RoleAssignmentRecord, error)
	// ListRoleAssignments lists the assignments of the given principals,
	// or all when none is given, ordered by ID.
	ListRoleAssignments(ctx context.Context, principalIDs ...string) ([]RoleAssignmentRecord, error)
	DeleteRoleAssignment(ctx context.Context, id string) error

	// CreateLock inserts l; ErrConflict when a lock of that name exists
	// at that scope.
	CreateLock(ctx context.Context, l LockRecord) (LockRecord, error)
	GetLock(ctx context.Context, id string) (LockRecord, error)
	// ListLocks lists every lock, ordered by ID.
	ListLocks(ctx context.Context) ([]LockRecord, error)
	DeleteLock(ctx context.Context, id string) error

	// DeleteAccessUnder deletes the role assignments and locks at or
	// below scope (what a deleted resource group takes with it) and
	// reports how many went.
	DeleteAccessUnder(ctx context.Context, scope string) (int, error)

	// BootstrapAccess makes the bootstrapped admin a principal and gives it
	// its initial assignments, once per database: it reports false, and
	// changes nothing, when the database was bootstrapped before (so a
	// later change by an Owner is never undone).
	BootstrapAccess(ctx context.Context, admin Principal, assignments []RoleAssignmentRecord) (bool, error)
}

// Token is an API token of a principal. Only a hash of its secret is
// kept.
type Token struct {
	ID          string
	PrincipalID string
	Name        string
	Hash        string // hex SHA-256 of the secret
	CreatedBy   string // principal ID of its creator
	CreatedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   time.Time // zero while valid
}

// Credentials stores API tokens.
type Credentials interface {
	// CreateToken inserts t; ErrNotFound when its principal does not
	// exist, ErrConflict when its ID or hash is taken.
	CreateToken(ctx context.Context, t Token) (Token, error)
	GetToken(ctx context.Context, id string) (Token, error)
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// ListTokens lists a principal's tokens ("" for all), newest first.
	ListTokens(ctx context.Context, principalID string) ([]Token, error)
	// RevokeToken marks a token revoked at the given time; revoking a
	// revoked token keeps the first time.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
}

// ActivityEvent is one entry of the activity log: a mutating call, who
// made it, on what, and how it ended.
type ActivityEvent struct {
	Seq           int64 // assigned by the store, increasing
	EventID       string
	CorrelationID string
	Time          time.Time
	CallerID      string
	Caller        string
	Operation     string // the action, e.g. Microsoft.Compute/images/write
	Scope         string // the resource or scope acted on
	Subscription  string
	ResourceGroup string
	Status        string // Succeeded or Failed
	SubStatus     string // an HTTP status name: OK, Forbidden, Conflict, NotFound, BadRequest, ...
	Message       string // the error of a failed call
}

// ActivityFilter selects activity events; zero fields match everything.
type ActivityFilter struct {
	Subscription  string
	ResourceGroup string
	Scope         string // the event's scope, exactly (ignoring case)
	Caller        string // caller name or ID, ignoring case
	CorrelationID string
	Status        string
	Since, Until  time.Time
	Limit         int
}

// ActivityLog is the append-only activity log: there is no way to change
// or remove an event through this interface, and the SQLite backend
// refuses it in the database as well.
type ActivityLog interface {
	AppendActivity(ctx context.Context, e ActivityEvent) (ActivityEvent, error)
	// ListActivity lists matching events, newest first.
	ListActivity(ctx context.Context, f ActivityFilter) ([]ActivityEvent, error)
}
