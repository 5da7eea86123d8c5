package authz

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// GUIDs of the built-in roles. The Azure ones are Azure's own, so that
// role assignments written for Azure work unchanged; the Kiln ones are
// kiln's and exist in no Azure tenant.
const (
	OwnerRoleGUID                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	ContributorRoleGUID             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	ReaderRoleGUID                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	UserAccessAdministratorRoleGUID = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RBACAdministratorRoleGUID       = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
	ManagedIdentityOperatorRoleGUID = "f1a07417-d97a-45cb-824c-7a7467783830"
	StorageBlobDataReaderRoleGUID   = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"

	// KilnImageTemplateIdentityRoleGUID is kiln's role for an image
	// template's identity: Image Builder's documented least privilege for
	// distributing to managed images and galleries.
	KilnImageTemplateIdentityRoleGUID = "66130563-3770-4e81-b1ff-e7190c53d3b4"
	// KilnImageTemplateOperatorRoleGUID is kiln's role for people who
	// create and run image templates.
	KilnImageTemplateOperatorRoleGUID = "80070ccd-4b21-4237-824d-c76218a5f2c0"
)

// builtinRolesJSON holds the built-in roles as data, in Azure's REST
// shape, so that they go through the same decoder as everyone's roles and
// can be compared with Azure's published definitions. Azure adds
// NotActions to Contributor over time; update the file, not the code.
//
//go:embed builtin_roles.json
var builtinRolesJSON []byte

var builtinRoles = sync.OnceValues(func() ([]RoleDefinition, error) {
	return parseRoleList(builtinRolesJSON)
})

// parseRoleList reads a JSON array of role definitions, each in any shape
// ParseRoleDefinition accepts; warnings are dropped.
func parseRoleList(data []byte) ([]RoleDefinition, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("built-in roles: %w", err)
	}
	roles := make([]RoleDefinition, 0, len(items))
	for i, raw := range items {
		def, _, err := ParseRoleDefinition(raw)
		if err != nil {
			return nil, fmt.Errorf("built-in role [%d]: %w", i, err)
		}
		roles = append(roles, def)
	}
	return roles, nil
}

// BuiltInRoles returns the roles every kiln tenant has: Azure's Owner,
// Contributor, Reader, User Access Administrator, Role Based Access
// Control Administrator, Managed Identity Operator and Storage Blob Data
// Reader, with their Azure GUIDs, and kiln's own image builder roles.
// The slice and the definitions are fresh copies.
func BuiltInRoles() []RoleDefinition {
	roles, err := builtinRoles()
	if err != nil {
		return nil // the embedded file is tested to decode; see builtinRolesErr
	}
	out := make([]RoleDefinition, len(roles))
	for i, r := range roles {
		out[i] = r.clone()
	}
	return out
}

// builtinRolesErr reports a broken embedded file to NewSnapshot.
func builtinRolesErr() error {
	_, err := builtinRoles()
	return err
}

// BuiltInRole finds a built-in role by name (ignoring case) or GUID.
func BuiltInRole(nameOrGUID string) (RoleDefinition, bool) {
	for _, r := range BuiltInRoles() {
		if strings.EqualFold(r.RoleName, nameOrGUID) || strings.EqualFold(r.GUID, nameOrGUID) {
			return r, true
		}
	}
	return RoleDefinition{}, false
}

// clone copies a definition deeply, so that callers cannot change a
// snapshot's or the built-ins' data through shared slices.
func (r RoleDefinition) clone() RoleDefinition {
	r.AssignableScopes = slices.Clone(r.AssignableScopes)
	perms := make([]Permission, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = Permission{
			Actions:        slices.Clone(p.Actions),
			NotActions:     slices.Clone(p.NotActions),
			DataActions:    slices.Clone(p.DataActions),
			NotDataActions: slices.Clone(p.NotDataActions),
		}
	}
	r.Permissions = perms
	return r
}
