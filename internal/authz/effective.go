package authz

import (
	"cmp"
	"slices"
	"strings"
)

// EffectivePermissions is what a principal may do at a scope, and why:
// the answer to "az role assignment list --assignee P --include-inherited
// --include-groups" with the resulting actions worked out. Locks are not
// taken into account.
type EffectivePermissions struct {
	PrincipalID string
	Scope       string
	// Groups are the principal's groups, direct and transitive, in lower
	// case.
	Groups []string
	// Grants are the role assignments that apply at Scope, from the
	// highest scope down.
	Grants []Grant
	// Actions and DataActions are the actions kiln knows (KnownActions,
	// KnownDataActions) that the grants allow at Scope.
	Actions     []string
	DataActions []string
}

// Grant is one role assignment that applies to a principal at a scope.
type Grant struct {
	Assignment RoleAssignment
	RoleName   string
	// ViaGroup is the (lower-case) group the assignment names when it
	// reaches the principal through a group, "" when it names the
	// principal itself.
	ViaGroup string
	// Inherited is true when the assignment sits at a scope above the one
	// asked about.
	Inherited bool
}

// EffectivePermissions lists the principal's grants at scope and the
// known actions they allow. An invalid scope gives no grants.
func (s *Snapshot) EffectivePermissions(principalID, scope string) EffectivePermissions {
	out := EffectivePermissions{PrincipalID: principalID, Scope: scope}
	v := s.view(principalID)
	out.Groups = slices.Clone(v.groups)
	key, ok := scopeKey(scope)
	if !ok {
		return out
	}
	self := strings.ToLower(principalID)
	for k := range ancestorKeys(key) {
		for _, g := range v.grants[k] {
			out.Grants = append(out.Grants, newGrant(g, self, k != key))
		}
	}
	slices.SortStableFunc(out.Grants, func(a, b Grant) int {
		return cmp.Or(
			cmp.Compare(scopeDepth(a.Assignment.Scope), scopeDepth(b.Assignment.Scope)),
			cmp.Compare(strings.ToLower(a.Assignment.ID), strings.ToLower(b.Assignment.ID)))
	})
	out.Actions = allowedOf(knownActions, func(a string) bool { return s.Allows(principalID, a, scope) })
	out.DataActions = allowedOf(knownDataActions, func(a string) bool { return s.AllowsData(principalID, a, scope) })
	return out
}

func newGrant(a *boundAssignment, self string, inherited bool) Grant {
	via := strings.ToLower(a.PrincipalID)
	if via == self {
		via = ""
	}
	return Grant{Assignment: a.RoleAssignment, RoleName: a.role.def.RoleName, ViaGroup: via, Inherited: inherited}
}

func scopeDepth(scope string) int {
	k, _ := scopeKey(scope)
	return depth(k)
}

func allowedOf(actions []string, allowed func(string) bool) []string {
	var out []string
	for _, a := range actions {
		if allowed(a) {
			out = append(out, a)
		}
	}
	return out
}

// GroupsOf lists the groups a principal belongs to, directly or through
// other groups, in lower case.
func (s *Snapshot) GroupsOf(principalID string) []string {
	return slices.Clone(s.view(principalID).groups)
}

// Role finds a role, built-in or custom, by name (ignoring case) or GUID,
// as `--role` takes either.
func (s *Snapshot) Role(nameOrGUID string) (RoleDefinition, bool) {
	if r, ok := s.roles[strings.ToLower(nameOrGUID)]; ok {
		return r.def.clone(), true
	}
	for _, r := range s.roleOrder {
		if strings.EqualFold(r.def.RoleName, nameOrGUID) {
			return r.def.clone(), true
		}
	}
	return RoleDefinition{}, false
}

// Roles lists every role, built-in roles first.
func (s *Snapshot) Roles() []RoleDefinition {
	out := make([]RoleDefinition, len(s.roleOrder))
	for i, r := range s.roleOrder {
		out[i] = r.def.clone()
	}
	return out
}
