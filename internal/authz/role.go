package authz

import (
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// Role types, as Azure names them.
const (
	RoleTypeBuiltIn = "BuiltInRole"
	RoleTypeCustom  = "CustomRole"
)

// RoleDefinitionType is the ARM resource type of role definitions.
const RoleDefinitionType = "Microsoft.Authorization/roleDefinitions"

// RoleDefinition is an Azure role definition
// (Microsoft.Authorization/roleDefinitions). Its JSON form is the one
// `az role definition list` prints; ParseRoleDefinition reads that and the
// other two shapes Azure uses.
type RoleDefinition struct {
	// GUID is what Azure calls the definition's "name": a GUID, unique
	// in the tenant. It is empty for an az CLI file without "Id"; whoever
	// stores the definition assigns one.
	GUID string `json:"name"`
	// ID is the definition's resource ID
	// (".../providers/Microsoft.Authorization/roleDefinitions/{GUID}") when
	// the input held one, else "".
	ID               string       `json:"id,omitempty"`
	RoleName         string       `json:"roleName"`
	RoleType         string       `json:"roleType"` // RoleTypeBuiltIn or RoleTypeCustom
	Description      string       `json:"description"`
	Permissions      []Permission `json:"permissions"`
	AssignableScopes []string     `json:"assignableScopes"`
}

// Permission is one permission block of a role. NotActions subtract from
// the Actions of the same block only, and NotDataActions from its
// DataActions: they are not denies.
type Permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// IsCustom reports whether the role is a custom role.
func (r RoleDefinition) IsCustom() bool { return r.RoleType != RoleTypeBuiltIn }

// AssignableAt reports whether the role may be assigned at scope: scope is
// one of its AssignableScopes or lies below one. Azure checks this when an
// assignment is created, not when access is evaluated, and so does kiln:
// Snapshot does not look at it.
func (r RoleDefinition) AssignableAt(scope string) bool {
	target, ok := scopeKey(scope)
	if !ok {
		return false
	}
	for _, s := range r.AssignableScopes {
		k, ok := scopeKey(s)
		if ok && (k == target || k == "" || isUnderKey(target, k)) {
			return true
		}
	}
	return false
}

// RoleDefinitionID is the tenant-level resource ID of the role definition
// with the given GUID.
func RoleDefinitionID(guid string) string {
	return "/providers/" + RoleDefinitionType + "/" + guid
}

// CheckUniqueRoleNames reports, as Problems, the roles whose names are
// taken by an earlier role of the list, comparing names without regard to
// case. Role names are unique in a tenant, built-in roles included.
func CheckUniqueRoleNames(roles []RoleDefinition) error {
	var problems problemList
	for _, c := range roleNameClashes(roles) {
		problems.add(jsonpath.Index("roles", c.later), "choose another name",
			"role name %q is already taken by roles[%d] (%q)", roles[c.later].RoleName, c.first, roles[c.first].RoleName)
	}
	return problems.err()
}

// nameClash is a role whose name an earlier role of the list has.
type nameClash struct{ first, later int }

func roleNameClashes(roles []RoleDefinition) []nameClash {
	var out []nameClash
	first := map[string]int{}
	for i, r := range roles {
		key := strings.ToLower(strings.TrimSpace(r.RoleName))
		if j, taken := first[key]; taken {
			out = append(out, nameClash{first: j, later: i})
			continue
		}
		first[key] = i
	}
	return out
}

// isGUID reports whether s has the form 8-4-4-4-12 of hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// roleGUIDOf reads the GUID out of a role definition reference: a bare
// GUID, or a resource ID ending in
// "/providers/Microsoft.Authorization/roleDefinitions/{GUID}" at any scope.
func roleGUIDOf(ref string) (string, error) {
	if isGUID(ref) {
		return strings.ToLower(ref), nil
	}
	const marker = "/providers/" + RoleDefinitionType + "/"
	i := strings.LastIndex(strings.ToLower(ref), strings.ToLower(marker))
	if i >= 0 && isGUID(ref[i+len(marker):]) {
		return strings.ToLower(ref[i+len(marker):]), nil
	}
	return "", fmt.Errorf("%q is neither a role definition GUID nor a role definition ID (…%s{GUID})", ref, marker)
}
