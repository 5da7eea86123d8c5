package authz_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kiln-dev/kiln/internal/authz"
)

const galleryPublisherGUID = "c3000000-0000-0000-0000-000000000001"

func TestParseRoleDefinitionShapes(t *testing.T) {
	aibFile, err := os.ReadFile("testdata/aib-role.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		input        string
		want         authz.RoleDefinition
		wantWarnings []string
	}{
		{
			name:  "az CLI file, verbatim from Image Builder's guide",
			input: string(aibFile),
			want: authz.RoleDefinition{
				RoleName:         "Azure Image Builder Service Image Creation Role",
				RoleType:         authz.RoleTypeCustom,
				Description:      "Image Builder access to create resources for the image build, you should delete or split out as appropriate",
				Permissions:      []authz.Permission{{Actions: []string{galleryRead, defRead, versionRead, versionWrite, imageWrite, imageRead, imageDelete}}},
				AssignableScopes: []string{rgA},
			},
		},
		{
			name: "az CLI file with the keys az rewrites to lower camel case, and an Id",
			input: `{"name": "Blob Reader", "id": "` + galleryPublisherGUID + `", "isCustom": true,
				"actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read"],
				"dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
				"assignableScopes": ["` + sub1 + `"]}`,
			want: authz.RoleDefinition{
				GUID: galleryPublisherGUID, RoleName: "Blob Reader", RoleType: authz.RoleTypeCustom,
				Permissions: []authz.Permission{{
					Actions:     []string{"Microsoft.Storage/storageAccounts/blobServices/containers/read"},
					DataActions: []string{blobRead},
				}},
				AssignableScopes: []string{sub1},
			},
		},
		{
			name: "PowerShell's form of a built-in role: IsCustom false",
			input: `{"Name": "Contributor", "Id": "b24988ac-6180-42a0-ab88-20f7382dd24c", "IsCustom": false,
				"Description": "Lets you manage everything except access to resources.",
				"Actions": ["*"],
				"NotActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"],
				"DataActions": [], "NotDataActions": [], "AssignableScopes": ["/"]}`,
			want: authz.RoleDefinition{
				GUID: authz.ContributorRoleGUID, RoleName: "Contributor", RoleType: authz.RoleTypeBuiltIn,
				Description: "Lets you manage everything except access to resources.",
				Permissions: []authz.Permission{{
					Actions:    []string{"*"},
					NotActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"},
				}},
				AssignableScopes: []string{"/"},
			},
			wantWarnings: []string{
				`NotActions[2]: "Microsoft.Authorization/elevateAccess/Action" matches no action kiln knows; kiln keeps it, but it has no effect until kiln has such an action`,
			},
		},
		{
			name: "REST resource with two permission blocks",
			input: `{
				"name": "` + galleryPublisherGUID + `",
				"id": "` + sub1 + `/providers/Microsoft.Authorization/roleDefinitions/` + galleryPublisherGUID + `",
				"type": "Microsoft.Authorization/roleDefinitions",
				"properties": {
					"roleName": "Gallery Publisher",
					"description": "Publishes image versions.",
					"type": "CustomRole",
					"permissions": [
						{"actions": ["Microsoft.Compute/galleries/*/read", "Microsoft.Compute/galleries/images/versions/write"],
						 "notActions": [], "dataActions": [], "notDataActions": [], "condition": null, "conditionVersion": null},
						{"actions": ["Microsoft.Compute/images/read"]}
					],
					"assignableScopes": ["` + rgA + `", "` + rgB + `"]
				}
			}`,
			want: authz.RoleDefinition{
				GUID: galleryPublisherGUID, ID: sub1 + "/providers/Microsoft.Authorization/roleDefinitions/" + galleryPublisherGUID,
				RoleName: "Gallery Publisher", RoleType: authz.RoleTypeCustom, Description: "Publishes image versions.",
				Permissions: []authz.Permission{
					{Actions: []string{"Microsoft.Compute/galleries/*/read", versionWrite}},
					{Actions: []string{imageRead}},
				},
				AssignableScopes: []string{rgA, rgB},
			},
		},
		{
			name: "az role definition list output (flattened properties)",
			input: `{
				"assignableScopes": ["/"],
				"createdBy": null,
				"createdOn": "2015-02-02T21:55:09.880642+00:00",
				"description": "View all resources, but does not allow you to make any changes.",
				"id": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
				"name": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
				"permissions": [{"actions": ["*/read"], "condition": null, "conditionVersion": null,
				                 "dataActions": [], "notActions": [], "notDataActions": []}],
				"roleName": "Reader",
				"roleType": "BuiltInRole",
				"type": "Microsoft.Authorization/roleDefinitions",
				"updatedBy": null,
				"updatedOn": "2021-11-11T20:13:47.8628684+00:00"
			}`,
			want: authz.RoleDefinition{
				GUID: authz.ReaderRoleGUID, ID: "/providers/Microsoft.Authorization/roleDefinitions/" + authz.ReaderRoleGUID,
				RoleName: "Reader", RoleType: authz.RoleTypeBuiltIn,
				Description:      "View all resources, but does not allow you to make any changes.",
				Permissions:      []authz.Permission{{Actions: []string{"*/read"}}},
				AssignableScopes: []string{"/"},
			},
		},
		{
			name: "keys in any case",
			input: `{"NAME": "` + galleryPublisherGUID + `", "PROPERTIES": {"ROLENAME": "Loud", "ROLETYPE": "customrole",
				"PERMISSIONS": [{"ACTIONS": ["MICROSOFT.COMPUTE/IMAGES/READ"]}], "ASSIGNABLESCOPES": ["` + rgA + `"]}}`,
			want: authz.RoleDefinition{
				GUID: galleryPublisherGUID, RoleName: "Loud", RoleType: authz.RoleTypeCustom,
				Permissions:      []authz.Permission{{Actions: []string{"MICROSOFT.COMPUTE/IMAGES/READ"}}},
				AssignableScopes: []string{rgA},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := authz.ParseRoleDefinition([]byte(tc.input))
			if err != nil {
				t.Fatalf("ParseRoleDefinition: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("definition (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, problemLines(warnings), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRoleDefinitionErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{
			name:  "misspelt field",
			input: `{"Name": "x", "Actons": ["Microsoft.Compute/images/read"], "AssignableScopes": ["` + rgA + `"]}`,
			want:  []string{`Actons: unknown field; did you mean "Actions"?`},
		},
		{
			name: "wrong types, all reported at once",
			input: `{"Name": 5, "IsCustom": "yes", "Actions": "Microsoft.Compute/images/read", "NotActions": [1, null],
				"AssignableScopes": "` + rgA + `"}`,
			want: []string{
				`Name: expected a string, got a number`,
				`IsCustom: expected true or false, got a string`,
				`Actions: expected an array of strings, got a string; write it as a list: ["Microsoft.Compute/images/read"]`,
				`NotActions[0]: expected a string, got a number`,
				`NotActions[1]: expected a string, got null`,
				`AssignableScopes: expected an array of strings, got a string; write it as a list: ["` + rgA + `"]`,
			},
		},
		{
			name: "malformed action patterns",
			input: `{"Name": "x", "Actions": ["Microsoft.Compute/images/reed", "Compute/images/read", "*/read"],
				"DataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/re?d"], "AssignableScopes": ["` + rgA + `"]}`,
			want: []string{
				`Actions[0]: invalid action "Microsoft.Compute/images/reed": it ends in "reed", which is not an operation; did you mean "read"?`,
				`Actions[1]: invalid action "Compute/images/read": "Compute" is not a resource provider namespace; an action starts with {Company}.{Provider}, for example "Microsoft.Compute/images/read"`,
				`DataActions[0]: invalid action "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/re?d": "?" is not a wildcard in actions; use "*", which matches any run of characters`,
			},
		},
		{
			name:  "custom role without assignable scopes or name",
			input: `{"Name": " ", "Actions": ["*/read"]}`,
			want: []string{
				`Name: the role name is required`,
				`AssignableScopes: a custom role needs at least one assignable scope; list where the role may be assigned, for example ["/subscriptions/{subscriptionId}/resourceGroups/{group}"]`,
			},
		},
		{
			name: "bad assignable scopes",
			input: `{"Name": "x", "Actions": ["*/read"],
				"AssignableScopes": ["/", "/subscriptions/<subscriptionID>/resourceGroups/<rgName>", "subscriptions/x"]}`,
			want: []string{
				`AssignableScopes[0]: a custom role cannot be assignable at the root scope "/"; use management group, subscription or resource group scopes`,
				`AssignableScopes[1]: scope "/subscriptions/<subscriptionID>/resourceGroups/<rgName>" holds a placeholder; replace it with a real name`,
				`AssignableScopes[2]: scope: invalid resource ID "subscriptions/x": it must start with "/"; expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/{namespace}/{type}/{name}`,
			},
		},
		{
			name: "REST shape mistakes",
			input: `{"name": "Gallery Publisher", "type": "Microsoft.Authorization/roleAssignments", "roleName": "x",
				"id": "/providers/Microsoft.Authorization/roleDefinitions/` + galleryPublisherGUID + `",
				"properties": {"roleName": "x", "RoleName": "y", "type": "Custom", "assignableScopes": ["` + rgA + `"],
					"permissions": [{"actions": ["*/read"], "conditon": "x", "condition": "@Resource[x] StringEquals 'y'"}, "*"]}}`,
			want: []string{
				`roleName: unknown field; move it into "properties"`,
				`name: "Gallery Publisher" is not a GUID; a role definition's name is its GUID; the role's display name goes in "roleName"`,
				`type: resource type "Microsoft.Authorization/roleAssignments" is not a role definition; write "Microsoft.Authorization/roleDefinitions"`,
				`properties.RoleName: duplicate field (also written "roleName"; keys ignore case); keep one`,
				`properties.type: role type "Custom" is neither "CustomRole" nor "BuiltInRole"`,
				`properties.permissions[0].conditon: unknown field; did you mean "condition"?`,
				`properties.permissions[0].condition: conditions in role definitions are not supported: kiln does not evaluate them, and ignoring one would grant more than it says; remove it; grant the role at a narrower scope instead`,
				`properties.permissions[1]: expected an object, got a string`,
			},
		},
		{
			name: "id and name disagree, role types contradict",
			input: `{"name": "` + galleryPublisherGUID + `", "id": "/providers/Microsoft.Authorization/roleDefinitions/` + authz.ReaderRoleGUID + `",
				"properties": {"roleName": "x", "type": "CustomRole", "roleType": "BuiltInRole", "assignableScopes": ["/"]}}`,
			want: []string{
				`id: id ends in ` + authz.ReaderRoleGUID + `, but name is ` + galleryPublisherGUID,
				`properties.roleType: role type "BuiltInRole" contradicts properties.type "CustomRole"`,
				`properties.assignableScopes[0]: a custom role cannot be assignable at the root scope "/"; use management group, subscription or resource group scopes`,
			},
		},
		{
			name: "REST shape with flattened or file-shape keys inside properties",
			input: `{"name": "` + galleryPublisherGUID + `", "properties": {"roleName": "x", "type": null, "assignableScopes": ["` + rgA + `"],
				"Actions": ["*/read"], "IsCustom": true}}`,
			want: []string{
				`properties.Actions: unknown field; in this shape actions sit in "permissions": [{"actions": [...]}]`,
				`properties.IsCustom: unknown field; in this shape the role type is "roleType": "CustomRole"`,
			},
		},
		{
			name:  "flattened shape with a file-shape key",
			input: `{"roleName": "x", "Actions": ["*/read"], "assignableScopes": ["` + rgA + `"]}`,
			want:  []string{`Actions: unknown field; in this shape actions sit in "permissions": [{"actions": [...]}]`},
		},
		{
			name:  "invalid JSON",
			input: "{\"Name\": \"x\",\n  \"Actions\": [}",
			want:  []string{`invalid JSON at line 2, column 15: invalid character '}' looking for beginning of value`},
		},
		{
			name:  "truncated JSON",
			input: "{\"Name\": \"x\",\n  \"Actions\": [",
			want:  []string{`invalid JSON at line 2, column 15: unexpected end of JSON input`},
		},
		{
			name:  "a list of roles",
			input: `[{"Name": "x"}]`,
			want:  []string{`expected a role definition (a JSON object), got an array; give one role definition a file`},
		},
		{
			name:  "a string",
			input: `"Reader"`,
			want:  []string{`expected a role definition (a JSON object), got a string`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := authz.ParseRoleDefinition([]byte(tc.input))
			assertProblems(t, err, tc.want)
		})
	}
}

func TestParseRoleDefinitionWarnings(t *testing.T) {
	input := `{"Name": "Mixed", "AssignableScopes": ["` + rgA + `"],
		"Actions": ["Microsoft.Compute/imagess/read", "Microsoft.Sql/*", "` + blobRead + `", "Microsoft.Compute/*"],
		"DataActions": ["Microsoft.Compute/images/read", "Microsoft.Storage/*"]}`
	def, warnings, err := authz.ParseRoleDefinition([]byte(input))
	if err != nil {
		t.Fatalf("ParseRoleDefinition: %v", err)
	}
	want := []string{
		`Actions[0]: "Microsoft.Compute/imagess/read" matches no action kiln knows; did you mean "Microsoft.Compute/images/read"?`,
		`Actions[1]: "Microsoft.Sql/*" matches no action kiln knows; kiln keeps it, but it has no effect until kiln has such an action`,
		`Actions[2]: "` + blobRead + `" is a data action; in Actions it grants nothing; move it to DataActions (or NotDataActions)`,
		`DataActions[0]: "Microsoft.Compute/images/read" is a control-plane action; in DataActions it grants nothing; move it to Actions (or NotActions)`,
	}
	if diff := cmp.Diff(want, problemLines(warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(def.Permissions) != 1 || len(def.Permissions[0].Actions) != 4 {
		t.Errorf("the definition lost actions with warnings: %+v", def.Permissions)
	}

	_, warnings, err = authz.ParseRoleDefinition([]byte(`{"Name": "Empty", "NotActions": ["*/read"], "AssignableScopes": ["` + rgA + `"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"the role grants nothing; list at least one action in Actions or DataActions"}, problemLines(warnings)); diff != "" {
		t.Errorf("warnings for a role without actions (-want +got):\n%s", diff)
	}
}

// TestRoleDefinitionJSONRoundTrip: a RoleDefinition marshals to the shape
// `az role definition list` prints, which ParseRoleDefinition reads back.
func TestRoleDefinitionJSONRoundTrip(t *testing.T) {
	for _, def := range append(authz.BuiltInRoles(), aibRoleWithGUID(t)) {
		data, err := json.Marshal(def)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := authz.ParseRoleDefinition(data)
		if err != nil {
			t.Fatalf("%s: ParseRoleDefinition(%s): %v", def.RoleName, data, err)
		}
		if diff := cmp.Diff(def, back, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", def.RoleName, diff)
		}
	}
}

func aibRoleWithGUID(t *testing.T) authz.RoleDefinition {
	def := aibRole(t)
	def.ID = authz.RoleDefinitionID(def.GUID)
	return def
}

func TestBuiltInRoles(t *testing.T) {
	wantGUIDs := map[string]string{
		"Owner":                     "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
		"Contributor":               "b24988ac-6180-42a0-ab88-20f7382dd24c",
		"Reader":                    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
		"User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
		"Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
		"Managed Identity Operator":               "f1a07417-d97a-45cb-824c-7a7467783830",
		"Storage Blob Data Reader":                "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
		"Kiln Image Template Identity":            authz.KilnImageTemplateIdentityRoleGUID,
		"Kiln Image Template Operator":            authz.KilnImageTemplateOperatorRoleGUID,
	}
	roles := authz.BuiltInRoles()
	if len(roles) != len(wantGUIDs) {
		t.Fatalf("BuiltInRoles() has %d roles, want %d", len(roles), len(wantGUIDs))
	}
	for _, r := range roles {
		if wantGUIDs[r.RoleName] != r.GUID {
			t.Errorf("%q has GUID %s, want %s", r.RoleName, r.GUID, wantGUIDs[r.RoleName])
		}
		if r.RoleType != authz.RoleTypeBuiltIn || !cmp.Equal(r.AssignableScopes, []string{"/"}) {
			t.Errorf("%q: type %s, assignable at %v; want a built-in role assignable at /", r.RoleName, r.RoleType, r.AssignableScopes)
		}
		if strings.HasPrefix(r.RoleName, "Kiln ") != strings.HasPrefix(r.Description, "kiln's own role, not an Azure built-in") {
			t.Errorf("%q: kiln's own roles must say so: %q", r.RoleName, r.Description)
		}
		if got, ok := authz.BuiltInRole(strings.ToUpper(r.RoleName)); !ok || got.GUID != r.GUID {
			t.Errorf("BuiltInRole(%q) = %s, %v", strings.ToUpper(r.RoleName), got.GUID, ok)
		}
		if got, ok := authz.BuiltInRole(r.GUID); !ok || got.RoleName != r.RoleName {
			t.Errorf("BuiltInRole(%s) = %q, %v", r.GUID, got.RoleName, ok)
		}
	}
	if err := authz.CheckUniqueRoleNames(roles); err != nil {
		t.Errorf("built-in role names clash: %v", err)
	}
	roles[0].Permissions[0].Actions[0] = "changed"
	if owner, _ := authz.BuiltInRole("Owner"); owner.Permissions[0].Actions[0] != "*" {
		t.Error("changing a returned built-in role changed the built-ins")
	}
	if _, ok := authz.BuiltInRole("Azure Image Builder Service Image Creation Role"); ok {
		t.Error("Image Builder's guide role is a custom role in Azure, not a built-in")
	}
}

func TestCheckUniqueRoleNames(t *testing.T) {
	roles := []authz.RoleDefinition{
		{RoleName: "Gallery Publisher"}, {RoleName: "Reader"}, {RoleName: "gallery publisher"}, {RoleName: " Reader "},
	}
	err := authz.CheckUniqueRoleNames(roles)
	assertProblems(t, err, []string{
		`roles[2]: role name "gallery publisher" is already taken by roles[0] ("Gallery Publisher"); choose another name`,
		`roles[3]: role name " Reader " is already taken by roles[1] ("Reader"); choose another name`,
	})
	if err := authz.CheckUniqueRoleNames(roles[:2]); err != nil {
		t.Errorf("distinct names: %v", err)
	}
}

func TestAssignableAt(t *testing.T) {
	role := aibRole(t) // assignable at rgA only
	owner, _ := authz.BuiltInRole("Owner")
	tests := []struct {
		role  authz.RoleDefinition
		scope string
		want  bool
	}{
		{role, rgA, true},
		{role, strings.ToUpper(rgA) + "/", true},
		{role, imageA, true},
		{role, rgB, false},
		{role, sub1, false},
		{role, rgA + "2", false},
		{role, "not a scope", false},
		{owner, "/", true},
		{owner, imageC, true},
	}
	for _, tc := range tests {
		if got := tc.role.AssignableAt(tc.scope); got != tc.want {
			t.Errorf("%q.AssignableAt(%s) = %v, want %v", tc.role.RoleName, tc.scope, got, tc.want)
		}
	}
}

func problemLines(ps []authz.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

// FuzzParseRoleDefinition checks that no input makes the decoder panic,
// and that what it accepts marshals back to something it accepts.
func FuzzParseRoleDefinition(f *testing.F) {
	aib, err := os.ReadFile("testdata/aib-role.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(aib))
	f.Add(`{"name": "` + galleryPublisherGUID + `", "properties": {"roleName": "x", "permissions": [{"actions": ["*/read"]}], "assignableScopes": ["/subscriptions/s"]}}`)
	f.Add(`{"roleName": "x", "roleType": "BuiltInRole", "permissions": [], "assignableScopes": ["/"]}`)
	f.Add(`{"Name": 1, "Actions": "x", "properties": null}`)
	f.Fuzz(func(t *testing.T, input string) {
		def, _, err := authz.ParseRoleDefinition([]byte(input))
		if err != nil {
			return
		}
		data, err := json.Marshal(def)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := authz.ParseRoleDefinition(data); err != nil {
			t.Errorf("accepted %s, but not its marshalled form %s: %v", input, data, err)
		}
	})
}
