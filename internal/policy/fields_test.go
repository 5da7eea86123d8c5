package policy

import (
	"testing"
)

func TestBuiltinFields(t *testing.T) {
	const vm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/gal/images/def/versions/1.0.0"
	body := `{"type":"Microsoft.Compute/galleries/images/versions","location":"East US","kind":"k1",
		"identity":{"type":"SystemAssigned, UserAssigned"},
		"tags":{"Env":"prod","My.Tag":"dotted","'q'":"quoted"}}`
	for _, tc := range []struct {
		cond string
		want bool
	}{
		{`{"field":"name","equals":"1.0.0"}`, true},
		{`{"field":"fullName","equals":"gal/def/1.0.0"}`, true},
		{`{"field":"id","equals":"` + vm + `"}`, true},
		{`{"field":"kind","equals":"K1"}`, true},
		{`{"field":"location","equals":"eastus"}`, true}, // normalized
		{`{"field":"location","in":["East US 2","EASTUS"]}`, true},
		{`{"field":"identity.type","contains":"userassigned"}`, true},
		{`{"field":"tags","containsKey":"env"}`, true},
		{`{"field":"tags['env']","equals":"PROD"}`, true}, // tag names ignore case
		{`{"field":"tags.Env","equals":"prod"}`, true},
		{`{"field":"tags[Env]","equals":"prod"}`, true},
		{`{"field":"tags[My.Tag]","equals":"dotted"}`, true},
		{`{"field":"tags['My.Tag']","equals":"dotted"}`, true},
		{`{"field":"tags['''q''']","equals":"quoted"}`, true},
		{`{"field":"tags['missing']","exists":false}`, true},
		{`{"field":"Microsoft.Compute/galleries/images/versions/publishingProfile.excludeFromLatest","exists":false}`, true},
	} {
		c, err := compileCond(t, tc.cond, "", nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		got, err := evalOn(t, c, Resource{ID: vm, Body: jsonObject(t, body)})
		if err != nil || got != tc.want {
			t.Errorf("%s: got %t, %v; want %t", tc.cond, got, err, tc.want)
		}
	}
}

func TestTypeAndNameFromID(t *testing.T) {
	// A request body without type or name: both come from the ID.
	c, err := compileCond(t, `{"allOf":[{"field":"type","equals":"Microsoft.Resources/subscriptions/resourceGroups"},{"field":"name","equals":"rg1"}]}`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := evalOn(t, c, Resource{ID: "/subscriptions/s/resourceGroups/rg1", Body: map[string]any{}})
	if err != nil || !got {
		t.Errorf("resource group from its ID: got %t, %v", got, err)
	}
}

func TestFieldFromParameters(t *testing.T) {
	c, err := compileCond(t, `{"field":"[concat('tags[', parameters('tagName'), ']')]","exists":"false"}`,
		`{"tagName":{"type":"String"}}`, map[string]any{"tagName": "costCenter"})
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]bool{`{"tags":{"CostCenter":"1"}}`: false, `{"tags":{}}`: true, `{}`: true} {
		res := Resource{ID: testID, Body: jsonObject(t, body)}
		res.Body["type"] = testType
		if got, err := evalOn(t, c, res); err != nil || got != want {
			t.Errorf("%s: got %t, %v; want %t", body, got, err, want)
		}
	}
}

// TestImplicitAllOf covers the [*] traps: every element must match, an
// empty array matches vacuously, a missing array does not.
func TestImplicitAllOf(t *testing.T) {
	for _, tc := range []struct {
		cond, props string
		want        bool
	}{
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"a":[{"s":"ok"},{"s":"OK"}]}`, true},
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"a":[{"s":"ok"},{"s":"no"}]}`, false},
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"a":[]}`, true},    // vacuous
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{}`, false},         // missing
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"a":null}`, false}, // null
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"a":"x"}`, false},  // not an array
		// "none match" is notEquals over [*]; it is true on an empty array
		{`{"field":"Microsoft.Test/things/a[*].s","notEquals":"bad"}`, `{"a":[{"s":"ok"}]}`, true},
		{`{"field":"Microsoft.Test/things/a[*].s","notEquals":"bad"}`, `{"a":[{"s":"ok"},{"s":"bad"}]}`, false},
		{`{"field":"Microsoft.Test/things/a[*].s","notEquals":"bad"}`, `{"a":[]}`, true},
		// "any match" is not notEquals
		{`{"not":{"field":"Microsoft.Test/things/a[*].s","notEquals":"bad"}}`, `{"a":[{"s":"ok"},{"s":"bad"}]}`, true},
		{`{"not":{"field":"Microsoft.Test/things/a[*].s","notEquals":"bad"}}`, `{"a":[]}`, false},
		// an element without the property is missing: equals false, notEquals true
		{`{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"a":[{"s":"ok"},{}]}`, false},
		{`{"field":"Microsoft.Test/things/a[*].s","notEquals":"bad"}`, `{"a":[{}]}`, true},
		{`{"field":"Microsoft.Test/things/a[*].s","exists":"true"}`, `{"a":[{"s":1},{}]}`, false},
		// nested [*] flattens; an inner missing array is false
		{`{"field":"Microsoft.Test/things/a[*].b[*].c","equals":1}`, `{"a":[{"b":[{"c":1}]},{"b":[{"c":1},{"c":1}]}]}`, true},
		{`{"field":"Microsoft.Test/things/a[*].b[*].c","equals":1}`, `{"a":[{"b":[{"c":1}]},{"b":[{"c":2}]}]}`, false},
		{`{"field":"Microsoft.Test/things/a[*].b[*].c","equals":1}`, `{"a":[{"b":[]}]}`, true},
		{`{"field":"Microsoft.Test/things/a[*].b[*].c","equals":1}`, `{"a":[{}]}`, false},
		// the array alias without [*] is the array itself
		{`{"field":"Microsoft.Test/things/a","exists":"true"}`, `{"a":[]}`, true},
		{`{"field":"Microsoft.Test/things/strings[*]","in":["a","b"]}`, `{"strings":["A","b"]}`, true},
		{`{"field":"Microsoft.Test/things/strings[*]","in":["a","b"]}`, `{"strings":["a","c"]}`, false},
	} {
		got, err := evalCond(t, tc.cond, tc.props)
		if err != nil || got != tc.want {
			t.Errorf("%s on %s: got %t, %v; want %t", tc.cond, tc.props, got, err, tc.want)
		}
	}
}

func TestValueConditions(t *testing.T) {
	for _, tc := range []struct {
		cond, props string
		want        bool
	}{
		{`{"value":"[less(length(field('tags')),3)]","equals":"true"}`, `{}`, true}, // bool against "true"
		{`{"value":"[resourceGroup().name]","like":"*1"}`, `{}`, true},
		{`{"value":"[subscription().subscriptionId]","equals":"SUB1"}`, `{}`, true},
		{`{"value":"[field('Microsoft.Test/things/q')]","exists":false}`, `{}`, true},
		{`{"value":"[field('Microsoft.Test/things/p')]","equals":""}`, `{}`, true}, // a missing field reads as null
		{`{"value":"[join(field('Microsoft.Test/things/a[*].s'), ',')]","equals":"x,y"}`, `{"a":[{"s":"x"},{},{"s":"y"}]}`, true},
		{`{"value":"[length(field('Microsoft.Test/things/a[*]'))]","equals":0}`, `{}`, true}, // a missing array is []
		{`{"value":"literal","equals":"LITERAL"}`, `{}`, true},
		{`{"value":"[[literal]","equals":"[[literal]"}`, `{}`, true}, // "[[" escapes a literal "["
		{`{"value":["a","b"],"contains":"b"}`, `{}`, true},
		{`{"value":"[requestContext().apiVersion]","equals":"2024-01-01"}`, `{}`, true}, // no request version: the newest, not a preview
	} {
		got, err := evalCond(t, tc.cond, tc.props)
		if err != nil || got != tc.want {
			t.Errorf("%s on %s: got %t, %v; want %t", tc.cond, tc.props, got, err, tc.want)
		}
	}
}

func TestMissingAliasPathsByType(t *testing.T) {
	// A namespace alias resolves per type: Microsoft.Compute/imageId is
	// one path for a VM and another for a scale set.
	c, err := compileCond(t, `{"field":"Microsoft.Compute/imageId","equals":"img"}`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	vm := Resource{Body: jsonObject(t, `{"type":"Microsoft.Compute/virtualMachines","properties":{"storageProfile":{"imageReference":{"id":"img"}}}}`)}
	vmss := Resource{Body: jsonObject(t, `{"type":"Microsoft.Compute/virtualMachineScaleSets","properties":{"virtualMachineProfile":{"storageProfile":{"imageReference":{"id":"img"}}}}}`)}
	other := Resource{Body: jsonObject(t, `{"type":"Microsoft.Compute/galleries","properties":{"storageProfile":{"imageReference":{"id":"img"}}}}`)}
	for name, tc := range map[string]struct {
		res  Resource
		want bool
	}{"vm": {vm, true}, "vmss": {vmss, true}, "other type": {other, false}} {
		if got, err := evalOn(t, c, tc.res); err != nil || got != tc.want {
			t.Errorf("%s: got %t, %v; want %t", name, got, err, tc.want)
		}
	}
}

func TestAliasAPIVersions(t *testing.T) {
	c, err := compileCond(t, `{"field":"Microsoft.Test/things/renamed","equals":"v"}`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	old := testResource(t, `{"oldName":"v"}`)
	for _, tc := range []struct {
		ctx  EvalContext
		want bool
	}{
		{EvalContext{APIVersion: "2023-01-01"}, true},                          // the request's version selects the old path
		{EvalContext{APIVersion: "2024-01-01"}, false},                         // the new path
		{EvalContext{Context: ContextStored, APIVersion: "2023-01-01"}, false}, // scans use the newest (default) path
	} {
		r := c.Evaluate(old, tc.ctx)
		if got := r.Effect != ""; got != tc.want || r.Err != nil {
			t.Errorf("%+v: got %t, %v; want %t", tc.ctx, got, r.Err, tc.want)
		}
	}
}

func TestParseResource(t *testing.T) {
	r, err := ParseResource([]byte(`{"id":"` + testID + `","type":"Microsoft.Test/things","properties":{"p":5.10}}`))
	if err != nil || r.ID != testID {
		t.Fatalf("%+v, %v", r, err)
	}
	got, err := evalOn(t, mustCompile(t, `{"field":"Microsoft.Test/things/p","equals":"5.10"}`), r)
	if err != nil || !got {
		t.Errorf("the number's lexeme survives decoding: %t, %v", got, err)
	}
	for _, bad := range []string{`[1]`, `{`, ``} {
		if _, err := ParseResource([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func mustCompile(t *testing.T, cond string) *CompiledDefinition {
	t.Helper()
	c, err := compileCond(t, cond, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConcurrentEvaluate: a compiled definition is shared by goroutines
// (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	c := mustCompile(t, `{"allOf":[{"field":"Microsoft.Test/things/a[*].s","equals":"x"},{"count":{"field":"Microsoft.Test/things/a[*]","where":{"field":"Microsoft.Test/things/a[*].s","like":"X"}},"equals":2}]}`)
	res := testResource(t, `{"a":[{"s":"x"},{"s":"X"}]}`)
	done := make(chan bool)
	for range 8 {
		go func() {
			ok := true
			for range 200 {
				r := c.Evaluate(res, EvalContext{Now: testNow})
				ok = ok && r.Effect == EffectAudit
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("a concurrent evaluation gave another result")
		}
	}
}
