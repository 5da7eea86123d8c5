package template

import (
	"github.com/kiln-dev/kiln/internal/jsonpath"
	"github.com/kiln-dev/kiln/internal/suggest"

	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/arm"
)

// ValidateEnv is what Validate may consult; every field is optional.
type ValidateEnv struct {
	// Filename names the document in error messages.
	Filename string
	// IdentityExists reports whether a user-assigned identity (by ARM ID)
	// exists. nil skips the check.
	IdentityExists func(id string) bool
	// LocalBuild refuses what only Azure can build: Windows-only
	// customizers (PowerShell, WindowsRestart, WindowsUpdate).
	LocalBuild bool
}

// ErrInvalidName is wrapped by ValidateName's errors.
var ErrInvalidName = errors.New("invalid name")

// namePattern is the rule for template, runOutput and trigger names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9\-_.]{1,64}$`)

// ValidateName checks a template name (also the rule for runOutputName):
// 1 to 64 letters, digits, "-", "_" or ".".
func ValidateName(name string) error {
	if namePattern.MatchString(name) {
		return nil
	}
	return fmt.Errorf("%w %q: use 1 to 64 letters, digits, '-', '_' or '.'", ErrInvalidName, name)
}

// Limits from Azure Image Builder.
const (
	MaxBuildTimeoutMinutes     = 960
	DefaultBuildTimeoutMinutes = 240
	MaxOSDiskSizeGB            = 4095
)

// BuildTimeout is buildTimeoutInMinutes as a duration; 0 means 4 hours.
func (p Properties) BuildTimeout() time.Duration {
	if p.BuildTimeoutInMinutes == 0 {
		return DefaultBuildTimeoutMinutes * time.Minute
	}
	return time.Duration(p.BuildTimeoutInMinutes) * time.Minute
}

// Validate checks what Parse cannot: required fields per kind, ranges,
// names, resource IDs, checksums and references. It normalizes
// sha256Checksum values to lower case. The error, if any, is an Errors
// with every problem.
func (t *ImageTemplate) Validate(env ValidateEnv) error {
	v := &validator{env: env}
	v.envelope(t)
	v.properties("properties", &t.Properties)
	return v.errs.list.withFile(env.Filename)
}

// validator collects semantic errors.
type validator struct {
	env  ValidateEnv
	errs errs
}

func (v *validator) add(path, hint, format string, args ...any) {
	v.errs.add(path, hint, format, args...)
}

func (v *validator) envelope(t *ImageTemplate) {
	if t.Type != "" && !strings.EqualFold(t.Type, ResourceType) {
		v.add("type", "expected \""+ResourceType+"\"", "resource type %q is not an image template", t.Type)
	}
	if t.Name != "" {
		if err := ValidateName(t.Name); err != nil {
			v.add("name", "", "%v", err)
		}
	}
	if t.Identity != nil {
		v.identity("identity", t.Identity)
	}
}

func (v *validator) identity(p string, id *Identity) {
	switch id.Type {
	case "UserAssigned":
		n := len(id.UserAssignedIdentities)
		if n == 0 {
			v.add(jsonpath.Key(p, "userAssignedIdentities"), "", "a UserAssigned identity needs one user-assigned identity")
		}
		if n > 1 {
			v.add(jsonpath.Key(p, "userAssignedIdentities"), "", "Image Builder supports a single identity, got %d", n)
		}
	case "None":
		if len(id.UserAssignedIdentities) > 0 {
			v.add(jsonpath.Key(p, "userAssignedIdentities"), "", "an identity of type None takes no user-assigned identities")
		}
	default:
		hint := suggestHint(id.Type, []string{"UserAssigned", "None"})
		if strings.Contains(strings.ToLower(id.Type), "systemassigned") {
			hint = "Image Builder uses a single user-assigned identity, not a system-assigned one"
		}
		v.add(jsonpath.Key(p, "type"), hint, "identity type must be UserAssigned or None, got %q", id.Type)
	}
	for _, key := range sortedKeys(id.UserAssignedIdentities) {
		v.identityRef(jsonpath.Key(jsonpath.Key(p, "userAssignedIdentities"), key), key)
	}
}

// identityRef checks the ID of a user-assigned identity and that it exists.
func (v *validator) identityRef(p, s string) {
	id, ok := v.armID(p, s, "a user-assigned identity", "Microsoft.ManagedIdentity/userAssignedIdentities")
	if !ok || v.env.IdentityExists == nil || v.env.IdentityExists(s) {
		return
	}
	v.add(p, fmt.Sprintf("create it with: kiln identity create -g %s -n %s", id.ResourceGroup(), id.Name()),
		"identity %q does not exist in resource group %q", id.Name(), id.ResourceGroup())
}

// armID parses an ARM ID that must have one of the given types.
func (v *validator) armID(p, s, what string, types ...string) (arm.ID, bool) {
	id, err := arm.ParseID(s)
	if err != nil {
		var ie *arm.IDError
		if errors.As(err, &ie) {
			v.add(p, "expected "+idShape(types[0]), "%q is not a resource ID: %s", s, ie.Reason)
		} else {
			v.add(p, "", "%v", err)
		}
		return arm.ID{}, false
	}
	for _, t := range types {
		if strings.EqualFold(id.ResourceType(), t) {
			return id, true
		}
	}
	v.add(p, "expected "+idShape(types[0]), "expected the ID of %s, got the ID of a %s", what, id.ResourceType())
	return arm.ID{}, false
}

// idShape is the ID pattern of a resource type.
func idShape(typ string) string {
	switch typ {
	case "Microsoft.Resources/resourceGroups":
		return "/subscriptions/{subscriptionId}/resourceGroups/{name}"
	case "Microsoft.Compute/galleries/images":
		return "/subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}/images/{definition}[/versions/{version}]"
	}
	ns, rest, _ := strings.Cut(typ, "/")
	var sb strings.Builder
	sb.WriteString("/subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/" + ns)
	for _, seg := range strings.Split(rest, "/") {
		sb.WriteString("/" + seg + "/{name}")
	}
	return sb.String()
}

func (v *validator) properties(p string, props *Properties) {
	v.source(jsonpath.Key(p, "source"), &props.Source)
	v.steps(jsonpath.Key(p, "customize"), props.Customize, customizerUnion)
	if props.Optimize != nil {
		v.optimize(jsonpath.Key(p, "optimize"), props.Optimize)
	}
	if props.Validate != nil {
		v.steps(jsonpath.Key(jsonpath.Key(p, "validate"), "inVMValidations"), props.Validate.InVMValidations, validatorUnion)
	}
	v.distributors(jsonpath.Key(p, "distribute"), props.Distribute)
	v.errorHandling(jsonpath.Key(p, "errorHandling"), props.ErrorHandling)
	if props.BuildTimeoutInMinutes < 0 || props.BuildTimeoutInMinutes > MaxBuildTimeoutMinutes {
		v.add(jsonpath.Key(p, "buildTimeoutInMinutes"), "0 means 240 (4 hours)", "%d is out of range 0..%d", props.BuildTimeoutInMinutes, MaxBuildTimeoutMinutes)
	}
	if props.VMProfile != nil {
		v.vmProfile(jsonpath.Key(p, "vmProfile"), props.VMProfile)
	}
	if props.StagingResourceGroup != "" {
		v.armID(jsonpath.Key(p, "stagingResourceGroup"), props.StagingResourceGroup, "a resource group", "Microsoft.Resources/resourceGroups")
	}
	if props.AutoRun != nil {
		v.enum(jsonpath.Key(jsonpath.Key(p, "autoRun"), "state"), props.AutoRun.State, true, "Enabled", "Disabled")
	}
	if props.Kiln != nil {
		v.kiln(jsonpath.Key(p, ExtensionKey), props.Kiln)
	}
}

// enum checks a string against its allowed values ("" is allowed when optional).
func (v *validator) enum(p, s string, optional bool, values ...string) {
	if s == "" && optional || slices.Contains(values, s) {
		return
	}
	if s == "" {
		v.add(p, "one of "+strings.Join(values, ", "), "required")
		return
	}
	v.add(p, suggestHint(s, values), "%q is not one of %s", s, strings.Join(values, ", "))
}

func suggestHint(s string, values []string) string {
	if n := suggest.Nearest(s, values); n != "" {
		return fmt.Sprintf("did you mean %q?", n)
	}
	return ""
}

// kindOf checks a union discriminator and the fields set for its kind.
func (v *validator) kindOf(p string, u *union, name string, value any) (kind, bool) {
	if name == "" {
		v.add(jsonpath.Key(p, u.key), "one of "+strings.Join(u.names(), ", "), "required")
		return kind{}, false
	}
	k, ok := u.find(name)
	if !ok {
		v.add(jsonpath.Key(p, u.key), suggestHint(name, u.names()), "unknown %s %s %q; valid values: %s", u.what, u.key, name, strings.Join(u.names(), ", "))
		return kind{}, false
	}
	v.fieldsOfKind(p, u, k, value)
	return k, true
}

// fieldsOfKind reports set fields that the kind does not allow (for
// templates built in code; Parse already refuses them in documents).
func (v *validator) fieldsOfKind(p string, u *union, k kind, value any) {
	data, err := json.Marshal(value)
	if err != nil {
		return
	}
	var set map[string]json.RawMessage
	if json.Unmarshal(data, &set) != nil {
		return
	}
	for _, f := range sortedKeys(set) {
		if !slices.Contains(k.fields, f) {
			v.add(jsonpath.Key(p, f), "", "field %q is not valid for %s; valid fields: %s", f, u.label(k.name), strings.Join(k.fields, ", "))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// required reports an empty required field of a kind.
func (v *validator) required(p, field, value, label string) bool {
	if value == "" {
		v.add(jsonpath.Key(p, field), "", "required for %s", label)
		return false
	}
	return true
}

// absolutePath accepts "/x" and Windows "C:\x" or "C:/x".
func absolutePath(s string) bool {
	if path.IsAbs(s) {
		return true
	}
	return len(s) >= 3 && isLetter(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/')
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
