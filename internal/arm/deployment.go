package arm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// Resource is one resource of an evaluated deployment, every expression in
// it replaced by its value.
type Resource struct {
	Type       string
	APIVersion string
	Name       string // as in the template: "gallery/image" for a child
	Location   string
	DependsOn  []string
	// Fields are every other key of the resource (properties, identity,
	// tags, sku, kind, ...). condition, comments and metadata are dropped.
	Fields map[string]any
	// SecureValues are the deployment's securestring and secureObject
	// values (all of them, not only those this resource uses): redact them
	// from anything logged.
	SecureValues []string
}

// JSON is the resource as one JSON object: Fields plus type, apiVersion,
// name and location, which template.Parse accepts for an image template.
func (r Resource) JSON() ([]byte, error) {
	obj := make(map[string]any, len(r.Fields)+4)
	for k, v := range r.Fields {
		obj[k] = v
	}
	for k, v := range map[string]string{"type": r.Type, "apiVersion": r.APIVersion, "name": r.Name, "location": r.Location} {
		if v != "" {
			obj[k] = v
		}
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("resource %s %q: %w", r.Type, r.Name, err)
	}
	return data, nil
}

// ID is the resource's ID in the deployment's resource group.
func (r Resource) ID(ctx DeploymentContext) (ID, error) {
	return ResourceID(ctx.SubscriptionID, ctx.ResourceGroup, r.Type, strings.Split(r.Name, "/")...)
}

// Deployment is an evaluated deployment template.
type Deployment struct {
	Resources  []Resource
	Outputs    map[string]any // secure outputs are left out, as in ARM
	Parameters map[string]any // effective values, defaults applied
	// SecureValues are the string values of securestring and secureObject
	// parameters, longest first: redact them from logs.
	SecureValues []string
}

// EvaluateDeployment evaluates a group deployment template with parameter
// values (from ParseParameters or any map of JSON-like values) and returns
// its resources in document order. The error, if any, is an Errors listing
// every problem by JSON path, with secure values masked.
func EvaluateDeployment(doc []byte, params map[string]any, ctx DeploymentContext) ([]Resource, error) {
	d, err := Evaluate(doc, params, ctx)
	if err != nil {
		return nil, err
	}
	return d.Resources, nil
}

// Evaluate is EvaluateDeployment returning outputs and effective
// parameters too.
func Evaluate(doc []byte, params map[string]any, ctx DeploymentContext) (*Deployment, error) {
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, Errors{jsonSyntaxError(doc, err)}
	}
	tmpl, ok := root.(map[string]any)
	if !ok {
		return nil, Errors{{Message: "a deployment template is a JSON object, got " + describeType(root)}}
	}
	ev := &evaluation{e: &Evaluator{ctx: ctx}, tmpl: tmpl}
	return ev.run(params)
}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	e      *Evaluator
	tmpl   map[string]any
	decls  []*paramDecl
	secure []string
}

func (ev *evaluation) run(params map[string]any) (*Deployment, error) {
	ev.checkTopLevel()
	ev.declareParameters(params)
	ev.declareVariables()
	ev.resolveAll()
	if len(ev.e.errs) > 0 {
		return nil, ev.errors()
	}
	d := &Deployment{Parameters: ev.parameterValues(), SecureValues: ev.secure}
	d.Resources = ev.resources()
	d.Outputs = ev.outputs()
	if len(ev.e.errs) > 0 {
		return nil, ev.errors()
	}
	return d, nil
}

// errors returns the recorded errors with secure values masked.
func (ev *evaluation) errors() Errors {
	out := make(Errors, len(ev.e.errs))
	for i, err := range ev.e.errs {
		err.Message, err.Hint = redact(err.Message, ev.secure), redact(err.Hint, ev.secure)
		out[i] = err
	}
	sortErrors(out)
	return out
}

// indexInPath matches an array index in a JSON path.
var indexInPath = regexp.MustCompile(`\[(\d+)\]`)

// sortErrors orders errors by path, array indexes numerically, keeping
// the order of errors at the same path.
func sortErrors(errs Errors) {
	key := func(p string) string {
		return indexInPath.ReplaceAllStringFunc(p, func(m string) string {
			return fmt.Sprintf("[%012s]", m[1:len(m)-1])
		})
	}
	sort.SliceStable(errs, func(i, j int) bool { return key(errs[i].Path) < key(errs[j].Path) })
}

// redact replaces every secure value in s with "***".
func redact(s string, secure []string) string {
	for _, v := range secure {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

func (ev *evaluation) fail(path, format string, args ...any) {
	ev.e.errs = append(ev.e.errs, Error{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (ev *evaluation) failHint(path, hint, format string, args ...any) {
	ev.e.errs = append(ev.e.errs, Error{Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}

var topLevelKeys = []string{"$schema", "contentVersion", "apiProfile", "metadata", "parameters", "variables", "functions", "resources", "outputs"}

// checkTopLevel checks the template's own keys, schema and version.
func (ev *evaluation) checkTopLevel() {
	for _, k := range sortedKeys(ev.tmpl) {
		switch k {
		case "languageVersion", "definitions":
			ev.failHint(k, "write the template without user-defined types and symbolic resources", "%s is not supported (languageVersion 2.0 templates cannot be evaluated by kiln)", k)
		default:
			if !contains(topLevelKeys, k) {
				ev.failHint(k, didYouMean(k, topLevelKeys, `"`), "unknown template property %q", k)
			}
		}
	}
	ev.checkSchema()
	if cv, ok := ev.tmpl["contentVersion"].(string); !ok || cv == "" {
		ev.failHint("contentVersion", `add "contentVersion": "1.0.0.0"`, "contentVersion is required")
	}
	if fns, present := ev.tmpl["functions"]; present && !isEmptyArray(fns) {
		ev.failHint("functions", "inline the functions' bodies where they are used", "user-defined functions are not supported")
	}
}

func (ev *evaluation) checkSchema() {
	schema, _ := ev.tmpl["$schema"].(string)
	lower := strings.ToLower(schema)
	switch {
	case schema == "":
		ev.failHint("$schema", `add "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"`, "$schema is required")
	case strings.Contains(lower, "deploymentparameters"):
		ev.failHint("$schema", "pass parameter files with --parameters @FILE", "this is a parameters file, not a deployment template")
	case strings.Contains(lower, "subscriptiondeploymenttemplate"), strings.Contains(lower, "managementgroupdeploymenttemplate"), strings.Contains(lower, "tenantdeploymenttemplate"):
		ev.fail("$schema", "only resource group deployments are supported, got schema %q", schema)
	case !strings.Contains(lower, "deploymenttemplate.json"):
		ev.fail("$schema", "%q is not a deployment template schema", schema)
	}
}

func isEmptyArray(v any) bool {
	arr, ok := v.([]any)
	return v == nil || ok && len(arr) == 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// declareVariables fills the variables table from the template.
func (ev *evaluation) declareVariables() {
	ev.e.vars = newTable("variable", "variables")
	vars, ok := ev.section("variables")
	if !ok {
		return
	}
	for _, name := range sortedKeys(vars) {
		if strings.EqualFold(name, "copy") {
			ev.fail(jsonpath.Key("variables", name), "variable copy loops are not supported")
			continue
		}
		ev.e.vars.add(name, &entry{raw: vars[name]})
	}
}

// section returns an optional top-level object.
func (ev *evaluation) section(name string) (map[string]any, bool) {
	raw, present := ev.tmpl[name]
	if !present || raw == nil {
		return nil, false
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		ev.fail(name, "expected an object, got %s", describeType(raw))
	}
	return obj, ok
}

// resolveAll evaluates every parameter and variable once, so that each
// error is reported where it is defined.
func (ev *evaluation) resolveAll() {
	for _, t := range []*table{ev.e.params, ev.e.vars} {
		for _, name := range t.names {
			if en := t.entries[name]; en.state == pending {
				_, _ = ev.e.resolve(t, name, en)
			}
		}
	}
	ev.collectSecure()
}

// resources evaluates the resources array in document order.
func (ev *evaluation) resources() []Resource {
	raw, present := ev.tmpl["resources"]
	arr, ok := raw.([]any)
	switch {
	case !present:
		ev.fail("resources", "resources is required")
		return nil
	case !ok:
		ev.fail("resources", "expected an array, got %s (symbolic-name resources of languageVersion 2.0 are not supported)", describeType(raw))
		return nil
	}
	var out []Resource
	seen := map[string]string{}
	for i, x := range arr {
		path := jsonpath.Index("resources", i)
		r, ok := ev.resource(path, x)
		if !ok || r == nil {
			continue
		}
		key := strings.ToLower(r.Type + " " + r.Name)
		if first, dup := seen[key]; dup {
			ev.fail(path, "resource %s %q is already defined at %s", r.Type, r.Name, first)
			continue
		}
		seen[key] = path
		out = append(out, *r)
	}
	return out
}

// resource evaluates one resource; it returns nil, true when its condition is false.
func (ev *evaluation) resource(path string, x any) (*Resource, bool) {
	raw, ok := x.(map[string]any)
	if !ok {
		ev.fail(path, "a resource is an object, got %s", describeType(x))
		return nil, false
	}
	if !ev.unsupportedResourceKeys(path, raw) {
		return nil, false
	}
	if include, ok := ev.condition(path, raw); !ok || !include {
		return nil, ok
	}
	body := make(map[string]any, len(raw))
	for k, v := range raw {
		if !strings.EqualFold(k, "condition") && !strings.EqualFold(k, "comments") && !strings.EqualFold(k, "metadata") {
			body[k] = v
		}
	}
	v, ok := ev.e.evalValue(path, body)
	if !ok {
		return nil, false
	}
	if err := ev.e.charge(v); err != nil {
		ev.e.record(path, err)
		return nil, false
	}
	return ev.buildResource(path, v.(map[string]any))
}

func (ev *evaluation) unsupportedResourceKeys(path string, raw map[string]any) bool {
	ok := true
	if _, has := raw["copy"]; has {
		ev.fail(jsonpath.Key(path, "copy"), "resource copy loops are not supported")
		ok = false
	}
	if _, has := raw["resources"]; has {
		ev.failHint(jsonpath.Key(path, "resources"), "declare child resources at the top level with their full type and name", "nested child resources are not supported")
		ok = false
	}
	return ok
}

// condition evaluates the optional "condition" of a resource.
func (ev *evaluation) condition(path string, raw map[string]any) (bool, bool) {
	c, has := raw["condition"]
	if !has {
		return true, true
	}
	cpath := jsonpath.Key(path, "condition")
	v, ok := ev.e.evalValue(cpath, c)
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		ev.fail(cpath, "a condition must be a bool, got %s", describeType(v))
		return false, false
	}
	return b, true
}

// buildResource splits an evaluated resource object into a Resource.
func (ev *evaluation) buildResource(path string, obj map[string]any) (*Resource, bool) {
	r := &Resource{Fields: map[string]any{}, SecureValues: append([]string(nil), ev.secure...)}
	ok := true
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		switch k {
		case "type":
			r.Type, ok = ev.stringField(path, k, v, true, ok)
		case "apiVersion":
			r.APIVersion, ok = ev.stringField(path, k, v, true, ok)
		case "name":
			r.Name, ok = ev.stringField(path, k, v, true, ok)
		case "location":
			r.Location, ok = ev.stringField(path, k, v, false, ok)
		case "dependsOn":
			r.DependsOn, ok = ev.dependsOn(jsonpath.Key(path, k), v, ok)
		default:
			r.Fields[k] = v
		}
	}
	return r, ev.requireFields(path, obj) && ok
}

func (ev *evaluation) stringField(path, key string, v any, required, ok bool) (string, bool) {
	s, isStr := v.(string)
	if !isStr {
		ev.fail(jsonpath.Key(path, key), "expected a string, got %s", describeType(v))
		return "", false
	}
	if required && s == "" {
		ev.fail(jsonpath.Key(path, key), "must not be empty")
		return "", false
	}
	if key == "type" && !strings.Contains(s, "/") {
		ev.failHint(jsonpath.Key(path, key), "for example Microsoft.VirtualMachineImages/imageTemplates", "resource type %q is not of the form Namespace/type", s)
		return "", false
	}
	return s, ok
}

func (ev *evaluation) requireFields(path string, obj map[string]any) bool {
	ok := true
	for _, k := range []string{"type", "apiVersion", "name"} {
		if _, has := obj[k]; !has {
			ev.fail(path, "a resource needs %q", k)
			ok = false
		}
	}
	return ok
}

func (ev *evaluation) dependsOn(path string, v any, ok bool) ([]string, bool) {
	arr, isArr := v.([]any)
	if !isArr {
		ev.fail(path, "expected an array of strings, got %s", describeType(v))
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		s, isStr := x.(string)
		if !isStr {
			ev.fail(jsonpath.Index(path, i), "expected a string, got %s", describeType(x))
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

var outputKeys = []string{"type", "value", "condition", "metadata"}

// outputs evaluates the outputs section; secure outputs are left out.
func (ev *evaluation) outputs() map[string]any {
	outs, ok := ev.section("outputs")
	if !ok {
		return nil
	}
	result := map[string]any{}
	for _, name := range sortedKeys(outs) {
		path := jsonpath.Key("outputs", name)
		v, keep := ev.output(path, outs[name])
		if keep {
			result[name] = v
		}
	}
	return result
}

func (ev *evaluation) output(path string, raw any) (any, bool) {
	decl, ok := raw.(map[string]any)
	if !ok {
		ev.fail(path, "an output is an object with \"type\" and \"value\", got %s", describeType(raw))
		return nil, false
	}
	if !ev.knownKeys(path, decl, outputKeys, "output property") {
		return nil, false
	}
	typ, ok := ev.declaredType(path, decl)
	if !ok {
		return nil, false
	}
	if include, ok := ev.condition(path, decl); !ok || !include {
		return nil, false
	}
	v, ok := ev.e.evalValue(jsonpath.Key(path, "value"), decl["value"])
	if !ok {
		return nil, false
	}
	if err := checkType(typ, v); err != nil {
		ev.e.record(jsonpath.Key(path, "value"), err)
		return nil, false
	}
	return v, !isSecureType(typ)
}

// knownKeys reports keys of obj not in allowed; it is false if there were any.
func (ev *evaluation) knownKeys(path string, obj map[string]any, allowed []string, what string) bool {
	ok := true
	for _, k := range sortedKeys(obj) {
		if !contains(allowed, k) {
			ev.failHint(jsonpath.Key(path, k), didYouMean(k, allowed, `"`), "unknown %s %q", what, k)
			ok = false
		}
	}
	return ok
}

// collectSecure gathers the string values of secure parameters, longest
// first so that redaction replaces the longest match.
func (ev *evaluation) collectSecure() {
	seen := map[string]bool{}
	for _, d := range ev.decls {
		if !isSecureType(d.typ) {
			continue
		}
		_, en, found := ev.e.params.find(d.name)
		switch {
		case !found:
		case en.state == done:
			addStrings(en.val, seen)
		default:
			addStrings(en.raw, seen)
		}
	}
	for s := range seen {
		ev.secure = append(ev.secure, s)
	}
	sort.Slice(ev.secure, func(i, j int) bool {
		a, b := ev.secure[i], ev.secure[j]
		return len(a) > len(b) || len(a) == len(b) && a < b
	})
}

// addStrings adds every non-empty string inside v.
func addStrings(v any, seen map[string]bool) {
	switch v := v.(type) {
	case string:
		if v != "" {
			seen[v] = true
		}
	case RawValue:
		addStrings(string(v), seen)
	case []any:
		for _, x := range v {
			addStrings(x, seen)
		}
	case map[string]any:
		for _, x := range v {
			addStrings(x, seen)
		}
	}
}

// parameterValues is the effective value of every parameter.
func (ev *evaluation) parameterValues() map[string]any {
	out := map[string]any{}
	for _, name := range ev.e.params.names {
		if en := ev.e.params.entries[name]; en.state == done {
			out[name] = en.val
		}
	}
	return out
}
