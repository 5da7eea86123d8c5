package authz

import (
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// RoleAssignment grants a role to a principal at a scope
// (Microsoft.Authorization/roleAssignments).
type RoleAssignment struct {
	ID    string `json:"id"`    // resource ID, {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}
	Scope string `json:"scope"` // "/", a management group, subscription, group or resource
	// RoleDefinitionID is the role's GUID or resource ID, at any scope
	// (".../providers/Microsoft.Authorization/roleDefinitions/{guid}").
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"` // User, Group, ServicePrincipal, ...; may be empty
}

// Membership puts a member (a user, a service principal, a managed
// identity or another group) in a group. Membership is transitive: a
// member of a group inside a group belongs to both.
type Membership struct {
	GroupID  string `json:"groupId"`
	MemberID string `json:"memberId"`
}

// State is everything authorization decisions read in a tenant.
type State struct {
	// Roles are the custom roles. The built-in roles (BuiltInRoles) are
	// always there and must not be repeated.
	Roles       []RoleDefinition
	Assignments []RoleAssignment
	Memberships []Membership
	Locks       []Lock
}

// principal types accepted in assignments: Azure's, plus kiln's
// ManagedIdentity (Azure files managed identities as ServicePrincipal).
var principalTypes = []string{TypeUser, TypeGroup, TypeServicePrincipal, TypeManagedIdentity, "ForeignGroup", "Device"}

// addRoles compiles the built-in roles and the custom ones, checking
// GUIDs and names for uniqueness.
func (s *Snapshot) addRoles(custom []RoleDefinition, problems *problemList) {
	all := append(BuiltInRoles(), custom...)
	builtins := len(all) - len(custom)
	for _, c := range roleNameClashes(all) {
		problems.add(jsonpath.Key(jsonpath.Index("roles", c.later-builtins), "roleName"), "choose another name",
			"role name %q is already taken by role %q (%s)", all[c.later].RoleName, all[c.first].RoleName, all[c.first].GUID)
	}
	for i, def := range all {
		path := jsonpath.Index("roles", i-builtins)
		cr, ok := compileRole(def.clone(), path, problems)
		if !ok {
			continue
		}
		key := strings.ToLower(def.GUID)
		if prev, taken := s.roles[key]; taken {
			problems.add(jsonpath.Key(path, "name"), "", "role GUID %s is already taken by role %q", def.GUID, prev.def.RoleName)
			continue
		}
		s.roles[key] = cr
		s.roleOrder = append(s.roleOrder, cr)
	}
}

// compileRole compiles the patterns of one role.
func compileRole(def RoleDefinition, path string, problems *problemList) (*compiledRole, bool) {
	ok := true
	if strings.TrimSpace(def.RoleName) == "" {
		problems.add(jsonpath.Key(path, "roleName"), "", "the role name is required")
		ok = false
	}
	if !isGUID(def.GUID) {
		problems.add(jsonpath.Key(path, "name"), "give the role a GUID name", "role %q has no valid GUID (%q)", def.RoleName, def.GUID)
		ok = false
	}
	cr := &compiledRole{def: def}
	for j, p := range def.Permissions {
		pp := jsonpath.Index(jsonpath.Key(path, "permissions"), j)
		cr.perms = append(cr.perms, compiledPermission{
			actions:        compileList(p.Actions, jsonpath.Key(pp, "actions"), problems, &ok),
			notActions:     compileList(p.NotActions, jsonpath.Key(pp, "notActions"), problems, &ok),
			dataActions:    compileList(p.DataActions, jsonpath.Key(pp, "dataActions"), problems, &ok),
			notDataActions: compileList(p.NotDataActions, jsonpath.Key(pp, "notDataActions"), problems, &ok),
		})
	}
	return cr, ok
}

func compileList(patterns []string, path string, problems *problemList, ok *bool) []ActionPattern {
	out := make([]ActionPattern, 0, len(patterns))
	for i, text := range patterns {
		p, err := CompileActionPattern(text)
		if err != nil {
			problems.add(jsonpath.Index(path, i), "", "%v", err)
			*ok = false
			continue
		}
		out = append(out, p)
	}
	return out
}

// boundAssignment is a valid role assignment with its role resolved and
// its scope normalized.
type boundAssignment struct {
	RoleAssignment
	role     *compiledRole
	scopeKey string
}

// addAssignments checks each assignment and indexes it by principal.
func (s *Snapshot) addAssignments(list []RoleAssignment, problems *problemList) {
	s.assignments = make([]boundAssignment, len(list))
	for i, a := range list {
		path := jsonpath.Index("assignments", i)
		ok := true
		if a.PrincipalID == "" {
			problems.add(jsonpath.Key(path, "principalId"), "", "the principal ID is required")
			ok = false
		}
		if a.PrincipalType != "" && !containsFold(principalTypes, a.PrincipalType) {
			problems.add(jsonpath.Key(path, "principalType"), didYouMean(a.PrincipalType, principalTypes), "unknown principal type %q", a.PrincipalType)
			ok = false
		}
		if err := checkScope(a.Scope); err != nil {
			problems.add(jsonpath.Key(path, "scope"), "", "%v", err)
			ok = false
		}
		guid, err := roleGUIDOf(a.RoleDefinitionID)
		switch {
		case err != nil:
			problems.add(jsonpath.Key(path, "roleDefinitionId"), "", "%v", err)
			ok = false
		case s.roles[guid] == nil:
			problems.add(jsonpath.Key(path, "roleDefinitionId"), "", "no role definition has GUID %s", guid)
			ok = false
		}
		if ok {
			key, _ := scopeKey(a.Scope)
			s.assignments[i] = boundAssignment{RoleAssignment: a, role: s.roles[guid], scopeKey: key}
			principal := strings.ToLower(a.PrincipalID)
			s.bySubject[principal] = append(s.bySubject[principal], i)
		}
	}
}

// addMemberships records each member's direct groups.
func (s *Snapshot) addMemberships(list []Membership, problems *problemList) {
	for i, m := range list {
		if m.GroupID == "" || m.MemberID == "" {
			problems.add(jsonpath.Index("memberships", i), "", "a membership needs a group ID and a member ID")
			continue
		}
		member := strings.ToLower(m.MemberID)
		s.groupsOf[member] = append(s.groupsOf[member], strings.ToLower(m.GroupID))
	}
}
