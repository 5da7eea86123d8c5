package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// Field names of the three shapes, in their canonical spelling. Keys match
// case-insensitively: az itself only lower-cases the first letter of a
// file's keys ("NotActions" becomes "notActions"), and Azure's REST API
// ignores case; kiln accepts any case.
var (
	// az CLI's --role-definition file, and PowerShell's Get-AzRoleDefinition.
	fileFields = []string{"Name", "Id", "IsCustom", "Description", "Actions", "NotActions", "DataActions", "NotDataActions", "AssignableScopes"}
	// REST/ARM: {"name": GUID, "type": ..., "properties": {...}}.
	armFields = []string{"name", "id", "type", "properties"}
	// The "properties" object of the REST shape.
	propertiesFields = []string{"roleName", "description", "type", "roleType", "permissions", "assignableScopes", "createdOn", "updatedOn", "createdBy", "updatedBy"}
	// What `az role definition list` prints: the properties flattened.
	flatFields = []string{"name", "id", "type", "roleName", "description", "roleType", "permissions", "assignableScopes", "createdOn", "updatedOn", "createdBy", "updatedBy"}
	// One element of "permissions".
	permissionFields = []string{"actions", "notActions", "dataActions", "notDataActions", "condition", "conditionVersion"}
)

// ParseRoleDefinition reads one role definition, verbatim, in any of the
// shapes Azure uses:
//
//   - the az CLI file of `az role definition create --role-definition`
//     {"Name", "IsCustom", "Description", "Actions", "NotActions",
//     "DataActions", "NotDataActions", "AssignableScopes"} (also with "Id",
//     as PowerShell prints it);
//   - the REST/ARM resource {"name": GUID, "type":
//     "Microsoft.Authorization/roleDefinitions", "properties": {"roleName",
//     "description", "type": "CustomRole"|"BuiltInRole", "permissions":
//     [{"actions", "notActions", "dataActions", "notDataActions"}],
//     "assignableScopes"}};
//   - that resource with its properties flattened, as `az role definition
//     list` prints it (and as RoleDefinition marshals).
//
// Decoding is strict: unknown fields, wrong types and malformed action
// patterns are errors, each located by its JSON path, all reported at
// once as Problems. Valid action patterns that match no action kiln knows
// come back as warnings, with the definition.
//
// The definition is read as written: IsCustom false (or type BuiltInRole)
// gives a built-in role. Creating a role from a file makes it custom
// whatever the file says, as az does; that is the caller's to enforce.
func ParseRoleDefinition(data []byte) (RoleDefinition, []Problem, error) {
	d := &roleDecoder{}
	def := d.document(data)
	if err := d.errs.err(); err != nil {
		return RoleDefinition{}, d.warns.list, err
	}
	return def, d.warns.list, nil
}

// roleDecoder walks a role definition document, collecting errors and
// warnings on the way.
type roleDecoder struct {
	errs, warns problemList
}

// member is one key and value of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// object is a JSON object whose keys were matched against a field list.
type object struct {
	path   string
	fields map[string]member // by canonical field name
}

// pathOf is the JSON path of a field, spelt as the input spelt it.
func (o object) pathOf(name string) string {
	if m, ok := o.fields[name]; ok {
		return jsonpath.Key(o.path, m.key)
	}
	return jsonpath.Key(o.path, name)
}

func (d *roleDecoder) document(data []byte) RoleDefinition {
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		d.errs.list = append(d.errs.list, syntaxProblem(data, err))
		return RoleDefinition{}
	}
	members, isObject := objectMembers(data)
	if !isObject {
		hint := ""
		if jsonKind(data) == "an array" {
			hint = "give one role definition a file"
		}
		d.errs.add("", hint, "expected a role definition (a JSON object), got %s", jsonKind(data))
		return RoleDefinition{}
	}
	switch {
	case hasKeyFold(members, "properties"):
		return d.armShape(data)
	case hasKeyFold(members, "roleName"), hasKeyFold(members, "permissions"):
		return d.flatShape(data)
	default:
		return d.fileShape(data)
	}
}

// fileShape reads az CLI's file: {"Name": role name, "Actions": [...], ...}.
func (d *roleDecoder) fileShape(data []byte) RoleDefinition {
	o, _ := d.object("", data, fileFields, nil)
	def := RoleDefinition{RoleName: d.str(o, "Name"), Description: d.str(o, "Description"), RoleType: RoleTypeCustom}
	d.idOrGUID(o, "Id", &def)
	if custom, ok := d.boolean(o, "IsCustom"); ok && !custom {
		def.RoleType = RoleTypeBuiltIn
	}
	def.Permissions = []Permission{d.permissionLists(o, "Actions", "NotActions", "DataActions", "NotDataActions")}
	def.AssignableScopes = d.strList(o, "AssignableScopes")
	d.validate(def, o.pathOf("Name"), o.pathOf("AssignableScopes"))
	return def
}

// armShape reads the REST resource {"name", "type", "properties": {...}}.
func (d *roleDecoder) armShape(data []byte) RoleDefinition {
	o, _ := d.object("", data, armFields, map[string]string{
		"rolename":         `move it into "properties"`,
		"permissions":      `move it into "properties"`,
		"assignablescopes": `move it into "properties"`,
		"description":      `move it into "properties"`,
		"roletype":         `move it into "properties"`,
	})
	var def RoleDefinition
	d.nameAndID(o, &def)
	d.resourceType(o)
	raw, ok := o.fields["properties"]
	if !ok {
		return def
	}
	props, ok := d.object(o.pathOf("properties"), raw.value, propertiesFields, permissionListsMisplaced)
	if !ok {
		return def
	}
	d.body(props, &def, []string{"type", "roleType"})
	return def
}

// flatShape reads `az role definition list` output: the REST resource with
// its properties at the top level.
func (d *roleDecoder) flatShape(data []byte) RoleDefinition {
	o, _ := d.object("", data, flatFields, permissionListsMisplaced)
	var def RoleDefinition
	d.nameAndID(o, &def)
	d.resourceType(o)
	d.body(o, &def, []string{"roleType"})
	return def
}

// permissionListsMisplaced are the hints for az CLI file keys written in
// the REST or flattened shape.
var permissionListsMisplaced = map[string]string{
	"actions":        `in this shape actions sit in "permissions": [{"actions": [...]}]`,
	"notactions":     `in this shape notActions sit in "permissions": [{"notActions": [...]}]`,
	"dataactions":    `in this shape dataActions sit in "permissions": [{"dataActions": [...]}]`,
	"notdataactions": `in this shape notDataActions sit in "permissions": [{"notDataActions": [...]}]`,
	"iscustom":       `in this shape the role type is "roleType": "CustomRole"`,
}

// body reads the fields the REST properties and the flattened shape share.
func (d *roleDecoder) body(o object, def *RoleDefinition, roleTypeFields []string) {
	def.RoleName = d.str(o, "roleName")
	def.Description = d.str(o, "description")
	def.RoleType = d.roleType(o, roleTypeFields)
	def.Permissions = d.permissions(o)
	def.AssignableScopes = d.strList(o, "assignableScopes")
	for _, f := range []string{"createdOn", "updatedOn", "createdBy", "updatedBy"} {
		d.str(o, f) // informational; only the type is checked
	}
	d.validate(*def, o.pathOf("roleName"), o.pathOf("assignableScopes"))
}

// roleType reads "CustomRole" or "BuiltInRole" from the first of fields
// present; absent means custom. Two fields that disagree are an error.
func (d *roleDecoder) roleType(o object, fields []string) string {
	got, from := "", ""
	for _, f := range fields {
		v := d.str(o, f)
		if v == "" {
			continue // absent or null
		}
		canon := nearestExact(v, []string{RoleTypeCustom, RoleTypeBuiltIn})
		switch {
		case canon == "":
			d.errs.add(o.pathOf(f), didYouMean(v, []string{RoleTypeCustom, RoleTypeBuiltIn}),
				"role type %q is neither %q nor %q", v, RoleTypeCustom, RoleTypeBuiltIn)
		case got != "" && canon != got:
			d.errs.add(o.pathOf(f), "", "role type %q contradicts %s %q", v, from, got)
		default:
			got, from = canon, o.pathOf(f)
		}
	}
	if got == "" {
		return RoleTypeCustom
	}
	return got
}

// nearestExact returns the candidate equal to v ignoring case, or "".
func nearestExact(v string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, v) {
			return c
		}
	}
	return ""
}

// permissions reads the "permissions" array.
func (d *roleDecoder) permissions(o object) []Permission {
	items, path := d.array(o, "permissions", "an array of permission objects")
	out := make([]Permission, 0, len(items))
	for i, raw := range items {
		po, ok := d.object(jsonpath.Index(path, i), raw, permissionFields, nil)
		if !ok {
			continue
		}
		out = append(out, d.permissionLists(po, "actions", "notActions", "dataActions", "notDataActions"))
		if cond := d.str(po, "condition"); strings.TrimSpace(cond) != "" {
			d.errs.add(po.pathOf("condition"), "remove it; grant the role at a narrower scope instead",
				"conditions in role definitions are not supported: kiln does not evaluate them, and ignoring one would grant more than it says")
		}
		d.str(po, "conditionVersion")
	}
	return out
}

// permissionLists reads the four action lists of one permission block,
// whatever their spelling in the shape at hand.
func (d *roleDecoder) permissionLists(o object, actions, notActions, dataActions, notDataActions string) Permission {
	return Permission{
		Actions:        d.actionList(o, actions, controlPlane),
		NotActions:     d.actionList(o, notActions, controlPlane),
		DataActions:    d.actionList(o, dataActions, dataPlane),
		NotDataActions: d.actionList(o, notDataActions, dataPlane),
	}
}

// actionList reads a list of action patterns: malformed ones are errors,
// ones that match nothing kiln knows are warnings.
func (d *roleDecoder) actionList(o object, name string, pl plane) []string {
	list := d.strList(o, name)
	base := o.pathOf(name)
	for i, a := range list {
		p, err := CompileActionPattern(a)
		var pe *ActionPatternError
		if errors.As(err, &pe) {
			d.errs.add(jsonpath.Index(base, i), pe.Hint, "invalid action %q: %s", a, pe.Reason)
			continue
		}
		if msg, hint, unknown := unknownActionWarning(p, pl); unknown {
			d.warns.add(jsonpath.Index(base, i), hint, "%s", msg)
		}
	}
	return list
}

// nameAndID reads "name" (the GUID) and "id" (the resource ID), which must
// agree.
func (d *roleDecoder) nameAndID(o object, def *RoleDefinition) {
	def.GUID = d.str(o, "name")
	if def.GUID != "" && !isGUID(def.GUID) {
		d.errs.add(o.pathOf("name"), `the role's display name goes in "roleName"`,
			"%q is not a GUID; a role definition's name is its GUID", def.GUID)
	}
	id := d.str(o, "id")
	if id == "" {
		return
	}
	guid, err := roleGUIDOf(id)
	switch {
	case err != nil:
		d.errs.add(o.pathOf("id"), "", "%v", err)
	case isGUID(def.GUID) && !strings.EqualFold(guid, def.GUID):
		d.errs.add(o.pathOf("id"), "", "id ends in %s, but name is %s", guid, def.GUID)
	default:
		def.ID = id
		if !isGUID(def.GUID) {
			def.GUID = id[len(id)-len(guid):]
		}
	}
}

// idOrGUID reads the file shape's "Id": a GUID or a role definition ID.
func (d *roleDecoder) idOrGUID(o object, field string, def *RoleDefinition) {
	v := d.str(o, field)
	if v == "" {
		return
	}
	guid, err := roleGUIDOf(v)
	if err != nil {
		d.errs.add(o.pathOf(field), "", "%v", err)
		return
	}
	def.GUID = v[len(v)-len(guid):]
	if v != def.GUID {
		def.ID = v
	}
}

// resourceType checks the optional "type" of the REST and flattened shapes.
func (d *roleDecoder) resourceType(o object) {
	if t := d.str(o, "type"); t != "" && !strings.EqualFold(t, RoleDefinitionType) {
		d.errs.add(o.pathOf("type"), fmt.Sprintf("write %q", RoleDefinitionType),
			"resource type %q is not a role definition", t)
	}
}

// validate checks what the shapes share once the fields are read. A
// field that already has an error is not reported again as missing.
func (d *roleDecoder) validate(def RoleDefinition, namePath, scopesPath string) {
	if strings.TrimSpace(def.RoleName) == "" && !d.errs.has(namePath) {
		d.errs.add(namePath, "", "the role name is required")
	}
	if def.IsCustom() && len(def.AssignableScopes) == 0 && !d.errs.has(scopesPath) {
		d.errs.add(scopesPath, `list where the role may be assigned, for example ["/subscriptions/{subscriptionId}/resourceGroups/{group}"]`,
			"a custom role needs at least one assignable scope")
	}
	for i, s := range def.AssignableScopes {
		if err := checkScope(s); err != nil {
			d.errs.add(jsonpath.Index(scopesPath, i), "", "%v", err)
		} else if def.IsCustom() && s == "/" {
			d.errs.add(jsonpath.Index(scopesPath, i), "use management group, subscription or resource group scopes",
				`a custom role cannot be assignable at the root scope "/"`)
		}
	}
	if def.IsCustom() && grantsNothing(def.Permissions) && len(d.errs.list) == 0 {
		d.warns.add("", "list at least one action in Actions or DataActions", "the role grants nothing")
	}
}

func grantsNothing(perms []Permission) bool {
	for _, p := range perms {
		if len(p.Actions) > 0 || len(p.DataActions) > 0 {
			return false
		}
	}
	return true
}
