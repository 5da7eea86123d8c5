package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseShapes(t *testing.T) {
	rule := `{"if":{"field":"type","equals":"Microsoft.Compute/virtualMachines"},"then":{"effect":"Audit"}}`
	for name, doc := range map[string]string{
		"full":       `{"name":"n1","id":"/providers/Microsoft.Authorization/policyDefinitions/n1","type":"Microsoft.Authorization/policyDefinitions","properties":{"displayName":"D","mode":"all","policyRule":` + rule + `}}`,
		"properties": `{"displayName":"D","mode":"All","policyRule":` + rule + `}`,
		"rule only":  rule,
	} {
		d, err := ParseDefinition([]byte(doc), nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.Effect() != EffectAudit {
			t.Errorf("%s: effect %q", name, d.Effect())
		}
		if want := map[string]string{"full": ModeAll, "properties": ModeAll, "rule only": ModeIndexed}[name]; d.Mode != want {
			t.Errorf("%s: mode %q, want %q", name, d.Mode, want)
		}
	}
}

func TestNewDefinition(t *testing.T) {
	d, err := NewDefinition([]byte(`{"if":{"field":"location","notIn":"[parameters('locs')]"},"then":{"effect":"deny"}}`),
		[]byte(`{"locs":{"type":"Array","defaultValue":["eastus"]}}`), "all", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Evaluate(Resource{Body: jsonObject(t, `{"type":"Microsoft.Compute/galleries","location":"westeurope"}`)}, EvalContext{})
	if r.Effect != EffectDeny {
		t.Errorf("effect %q, want deny", r.Effect)
	}
	// --rules may be a whole definition
	if _, err := NewDefinition([]byte(`{"properties":{"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}}`), nil, "", nil); err != nil {
		t.Errorf("a definition as --rules: %v", err)
	}
}

// TestParseErrors: every bad input is an error naming the JSON path and,
// where one is close, the name that was meant.
func TestParseErrors(t *testing.T) {
	cond := func(c string) string { return ruleDef(c, "") }
	for _, tc := range []struct {
		name, doc string
		fragments []string
	}{
		{"unknown property", `{"mode":"All","polcyRule":{}}`, []string{"polcyRule", `did you mean "policyRule"?`}},
		{"unknown operator", cond(`{"field":"type","equal":"x"}`), []string{"policyRule.if.equal", `unknown key "equal"`, `did you mean "equals"?`}},
		{"unknown effect", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"denyy"}}}`, []string{"policyRule.then.effect", `did you mean "deny"?`}},
		{"provider mode", `{"mode":"Microsoft.Kubernetes.Data","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}`, []string{"mode", "data-plane"}},
		{"unknown mode", `{"mode":"Indexd","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}`, []string{`did you mean "Indexed"?`}},
		{"parameter not defined", cond(`{"field":"location","in":"[parameters('locations')]"}`), []string{"policyRule.if.in", "parameter 'locations' is used but not defined"}},
		{"parameter misspelt", ruleDef(`{"field":"location","in":"[parameters('locatons')]"}`, `{"locations":{"type":"Array"}}`), []string{`did you mean "locations"?`}},
		{"parameter type", ruleDef(`{"field":"type","equals":"x"}`, `{"p":{"type":"Strng"}}`), []string{"parameters.p.type", `did you mean "String"?`}},
		{"default of wrong type", ruleDef(`{"field":"type","equals":"x"}`, `{"p":{"type":"Integer","defaultValue":"7"}}`), []string{"parameters.p.defaultValue", "expected a value of type Integer"}},
		{"default not allowed", ruleDef(`{"field":"type","equals":"x"}`, `{"p":{"type":"String","defaultValue":"deny","allowedValues":["Deny","Audit"]}}`), []string{"not one of the allowed values"}},
		{"unknown parameter key", ruleDef(`{"field":"type","equals":"x"}`, `{"p":{"type":"String","defualtValue":"x"}}`), []string{`did you mean "defaultValue"?`}},
		{"unknown alias", cond(`{"field":"Microsoft.Compute/imageid2","exists":true}`), []string{"unknown field or alias", `did you mean "Microsoft.Compute/imageId"?`}},
		{"unknown alias of a VM", cond(`{"field":"Microsoft.Compute/virtualMachines/storageProfile.imageReference.ids","exists":true}`), []string{`did you mean "Microsoft.Compute/virtualMachines/storageProfile.imageReference.id"?`}},
		{"two operators", cond(`{"field":"type","equals":"x","notEquals":"y"}`), []string{"in one condition"}},
		{"no operator", cond(`{"field":"type"}`), []string{"no operator"}},
		{"no field", cond(`{"equals":"x"}`), []string{"no field, value or count"}},
		{"two left-hand sides", cond(`{"field":"type","value":"x","equals":"y"}`), []string{"exactly one of field, value and count"}},
		{"logical with more keys", cond(`{"allOf":[{"field":"type","equals":"x"}],"field":"name"}`), []string{"must be the only key"}},
		{"empty allOf", cond(`{"allOf":[]}`), []string{"allOf is empty"}},
		{"allOf not an array", cond(`{"anyOf":{"field":"type","equals":"x"}}`), []string{"anyOf expects an array"}},
		{"not an object", cond(`[1]`), []string{"expected a condition"}},
		{"legacy source", cond(`{"source":"action","equals":"x"}`), []string{"no longer supported"}},
		{"array parameter with equals", ruleDef(`{"field":"location","equals":"[parameters('l')]"}`, `{"l":{"type":"Array"}}`), []string{"is of type 'Array', expected type is 'String'"}},
		{"string parameter with in", ruleDef(`{"field":"location","in":"[parameters('l')]"}`, `{"l":{"type":"String"}}`), []string{"'in' needs an array"}},
		{"literal with in", cond(`{"field":"location","in":"eastus"}`), []string{"must be an array", "write the value as a list"}},
		{"literal array with equals", cond(`{"field":"location","equals":["eastus"]}`), []string{"must be a single value", `use "in"`}},
		{"null operator value", cond(`{"field":"location","equals":null}`), []string{"is null"}},
		{"bad exists", cond(`{"field":"location","exists":"yes"}`), []string{"must be true or false"}},
		{"field not a string", cond(`{"field":1,"equals":"x"}`), []string{"field expects a string"}},
		{"effect parameter holding a non-effect", `{"mode":"All","parameters":{"effect":{"type":"String","allowedValues":["Deny","Block"]}},"policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"[parameters('effect')]"}}}`, []string{`may hold "Block"`}},
		{"missing then", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"}}}`, []string{"needs both"}},
		{"missing policyRule", `{"mode":"All"}`, []string{"missing policyRule"}},
		{"effect out of scope", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"mutate"}}}`, []string{"resource provider mode"}},
		{"bad expression", cond(`{"value":"[concat('a',]","equals":"x"}`), []string{"policyRule.if.value", "syntax error"}},
		{"append without details", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"append"}}}`, []string{"needs details"}},
		{"modify remove with value", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"modify","details":{"roleDefinitionIds":["r"],"operations":[{"operation":"remove","field":"tags['a']","value":"x"}]}}}}`, []string{"remove takes no value"}},
		{"modify unknown operation", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"modify","details":{"roleDefinitionIds":["r"],"operations":[{"operation":"addOrReplac","field":"tags['a']","value":"x"}]}}}}`, []string{`did you mean "addOrReplace"?`}},
		{"dine without deployment", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"deployIfNotExists","details":{"type":"Microsoft.Compute/virtualMachines/extensions","roleDefinitionIds":["r"]}}}}`, []string{"needs a deployment"}},
		{"denyAction unknown action", `{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"denyAction","details":{"actionNames":["stop"]}}}}`, []string{`unknown action "stop"`}},
		{"invalid JSON", "{\n  \"mode\": \"All\",\n  \"policyRule\": {,\n}", []string{"invalid JSON at line 3"}},
		{"trailing data", `{"mode":"All"} {}`, []string{"more than one value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDefinition([]byte(tc.doc), testAliases(t))
			wantProblem(t, err, tc.fragments...)
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := ParseDefinition([]byte(ruleDef(`{"allOf":[{"field":"typ","equals":"x"},{"field":"name","equls":"y"}]}`, "")), nil)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	if ps[0].Path != "policyRule.if.allOf[0].field" || ps[1].Path != "policyRule.if.allOf[1].equls" {
		t.Errorf("paths %q, %q", ps[0].Path, ps[1].Path)
	}
}

func TestCompileParameters(t *testing.T) {
	d, err := ParseDefinition([]byte(ruleDef(`{"allOf":[{"field":"location","in":"[parameters('locations')]"},{"field":"type","equals":"[parameters('type')]"}]}`,
		`{"locations":{"type":"Array","allowedValues":["eastus","westus"]},"type":{"type":"String","defaultValue":"t"}}`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		values    map[string]any
		fragments []string
	}{
		{map[string]any{}, []string{`parameter "locations" has no value and no default`}},
		{map[string]any{"locations": "eastus"}, []string{"expected a value of type Array"}},
		{map[string]any{"locations": []any{"EastUS"}}, []string{"not one of the allowed values"}}, // case-sensitive
		{map[string]any{"locations": []any{"eastus"}, "locatoins": 1}, []string{`did you mean "locations"?`}},
	} {
		_, err := d.Compile(tc.values)
		wantProblem(t, err, tc.fragments...)
	}
	if _, err := d.Compile(map[string]any{"LOCATIONS": []string{"eastus"}}); err != nil {
		t.Errorf("names ignore case, Go slices are accepted: %v", err)
	}
}

func TestParseParameterValues(t *testing.T) {
	v, err := ParseParameterValues([]byte(`{"a":{"value":["x"]},"b":{"value":{"value":1}}}`))
	if err != nil || len(v) != 2 {
		t.Fatalf("%v, %v", v, err)
	}
	if _, ok := v["b"].(map[string]any); !ok {
		t.Errorf("an object value: %#v", v["b"])
	}
	v, err = ParseParameterValues([]byte(`{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#","contentVersion":"1.0.0.0","parameters":{"a":{"value":1}}}`))
	if err != nil || len(v) != 1 {
		t.Errorf("a deployment parameters file: %v, %v", v, err)
	}
	_, err = ParseParameterValues([]byte(`{"a":["x"]}`))
	wantProblem(t, err, `{"value": ...}`, `write {"a": {"value": ["x"]}}`)
}

// TestBoundedInput: deeply nested and huge rules are refused with a clear
// error, never a stack overflow.
func TestBoundedInput(t *testing.T) {
	deepNot := strings.Repeat(`{"not":`, 5000) + `{"field":"type","equals":"x"}` + strings.Repeat(`}`, 5000)
	_, err := ParseDefinition([]byte(ruleDef(deepNot, "")), nil)
	wantProblem(t, err, "nested more than")

	deepAllOf := strings.Repeat(`{"allOf":[`, 100) + `{"field":"type","equals":"x"}` + strings.Repeat(`]}`, 100)
	_, err = ParseDefinition([]byte(ruleDef(deepAllOf, "")), nil)
	wantProblem(t, err, "nested more than")

	one := `{"field":"type","equals":"x"},`
	huge := `{"anyOf":[` + strings.Repeat(one, 5000) + `{"field":"type","equals":"y"}]}`
	_, err = ParseDefinition([]byte(ruleDef(huge, "")), nil)
	wantProblem(t, err, "more than 4096 conditions")

	deepJSON := strings.Repeat("[", 200000) + strings.Repeat("]", 200000)
	_, err = ParseDefinition([]byte(deepJSON), nil)
	if err == nil {
		t.Error("200,000 nested arrays: no error")
	}
	big := make([]byte, MaxDocumentBytes+1)
	_, err = ParseDefinition(big, nil)
	wantProblem(t, err, "more than the limit")
}

func TestDefinitionJSONRoundTrip(t *testing.T) {
	d, ok := Builtin("Allowed locations")
	if !ok {
		t.Fatal("no Allowed locations built-in")
	}
	data, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseDefinition(data, nil)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, data)
	}
	if again.Name != d.Name || again.Mode != d.Mode || again.PolicyType != PolicyTypeBuiltIn || len(again.Parameters) != 1 {
		t.Errorf("round trip lost data: %+v", again)
	}
}
