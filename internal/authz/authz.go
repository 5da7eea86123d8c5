// Package authz holds principals and the authorization check every mutating
// and reading service call makes: an Azure-style action (for example
// Microsoft.VirtualMachineImages/imageTemplates/run/action) at a scope (an
// ARM ID). The bootstrapped admin is Owner of the default subscription.
package authz

import (
	"context"
	"fmt"
	"strings"
)

// Principal types, as Azure names them.
const (
	TypeUser             = "User"
	TypeServicePrincipal = "ServicePrincipal"
	TypeManagedIdentity  = "ManagedIdentity"
	TypeGroup            = "Group"
)

// Principal is the acting identity of a call.
type Principal struct {
	ID       string `json:"id"`   // object (principal) ID, a GUID
	Name     string `json:"name"` // user principal name or display name
	Type     string `json:"type"`
	TenantID string `json:"tenantId"`
}

// String names the principal as Azure's errors do.
func (p Principal) String() string {
	if p.Name != "" {
		return fmt.Sprintf("%s (%s)", p.Name, p.ID)
	}
	return p.ID
}

// Checker decides whether a principal may perform an action at a scope.
type Checker interface {
	Check(ctx context.Context, p Principal, action, scope string) error
}

// AuthorizationFailedError is Azure's AuthorizationFailed.
type AuthorizationFailedError struct {
	Principal Principal
	Action    string
	Scope     string
}

func (e *AuthorizationFailedError) Error() string {
	return fmt.Sprintf("AuthorizationFailed: the client %s does not have authorization to perform action '%s' over scope '%s' or the scope is invalid; ask an Owner to assign a role that grants it (kiln role assignment create --assignee %s --role ... --scope %s)",
		e.Principal, e.Action, e.Scope, e.Principal.ID, e.Scope)
}

// OwnerOf grants every action to the listed principals under their subscription
// scopes and denies everyone else. It is the checker of a fresh installation:
// the bootstrapped admin is Owner at the subscription.
type OwnerOf struct {
	// Owners maps principal IDs to the scopes they own.
	Owners map[string][]string
}

var _ Checker = OwnerOf{}

// Check implements Checker.
func (o OwnerOf) Check(_ context.Context, p Principal, action, scope string) error {
	for _, s := range o.Owners[p.ID] {
		if scopeContains(s, scope) {
			return nil
		}
	}
	return &AuthorizationFailedError{Principal: p, Action: action, Scope: scope}
}

// scopeContains reports whether scope is parent or equal to target, case-insensitively,
// on whole path segments.
func scopeContains(scope, target string) bool {
	s := strings.ToLower(strings.TrimRight(scope, "/"))
	t := strings.ToLower(strings.TrimRight(target, "/"))
	return s == "" || s == t || strings.HasPrefix(t, s+"/")
}
