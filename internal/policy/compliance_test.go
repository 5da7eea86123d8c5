package policy

import (
	"math"
	"strings"
	"testing"
)

func TestRollup(t *testing.T) {
	for _, tc := range []struct {
		states []string
		want   string
	}{
		{[]string{StateCompliant, StateNonCompliant, StateExempt}, StateNonCompliant},
		{[]string{StateExempt, StateCompliant}, StateCompliant}, // exempt from one, compliant with the rest
		{[]string{StateConflict, StateExempt}, StateConflict},
		{[]string{StateUnknown, StateExempt}, StateExempt},
		{[]string{StateUnknown}, StateUnknown},
		{nil, ""},
	} {
		if got := Rollup(tc.states...); got != tc.want {
			t.Errorf("Rollup(%v) = %q, want %q", tc.states, got, tc.want)
		}
	}
}

func TestPercentage(t *testing.T) {
	for _, tc := range []struct {
		c, nc, conflict, exempt, unknown int
		want                             float64
	}{
		{19, 1, 0, 0, 0, 95}, // "19 of 20 distinct applicable resources"
		{8, 1, 0, 1, 0, 90},  // exempt counts as compliant
		{0, 0, 0, 0, 0, 100}, // nothing applicable
		{1, 1, 1, 0, 1, 50},  // conflict counts against, unknown for
		{0, 0, 0, 0, 3, 100}, // unknown stays within 100%
		{0, 3, 0, 0, 0, 0},   //
		{1, 2, 0, 0, 0, 100 / 3.0},
	} {
		got := Percentage(tc.c, tc.nc, tc.conflict, tc.exempt, tc.unknown)
		if math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%+v: %v, want %v", tc, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	rec := func(resource, assignment, ref, def, state string) ComplianceRecord {
		return ComplianceRecord{ResourceID: sub + "/resourceGroups/" + resource, AssignmentID: assignment,
			DefinitionReferenceID: ref, DefinitionID: def, State: state}
	}
	records := []ComplianceRecord{
		// vm1: compliant with both members of the initiative
		rec("rg1/providers/Microsoft.Compute/virtualMachines/vm1", "init", "images", "d1", StateCompliant),
		rec("rg1/providers/Microsoft.Compute/virtualMachines/vm1", "init", "tags", "d2", StateCompliant),
		// vm2: exempt from one, non-compliant with the other
		rec("rg1/providers/Microsoft.Compute/virtualMachines/vm2", "init", "images", "d1", StateExempt),
		rec("rg1/providers/Microsoft.Compute/virtualMachines/vm2", "init", "tags", "d2", StateNonCompliant),
		// vm3: exempt from one, compliant with the other: compliant overall
		rec("rg2/providers/Microsoft.Compute/virtualMachines/vm3", "init", "images", "d1", StateExempt),
		rec("rg2/providers/Microsoft.Compute/virtualMachines/VM3", "init", "tags", "d2", StateCompliant),
		// vm4: exempt only
		rec("rg2/providers/Microsoft.Compute/virtualMachines/vm4", "init", "images", "d1", StateExempt),
		// vm1 under a second assignment
		rec("rg1/providers/Microsoft.Compute/virtualMachines/vm1", "sizes", "", "d3", StateNonCompliant),
	}
	s := Summarize(records)
	check := func(what string, got Tally, c, nc, ex int, pct float64) {
		t.Helper()
		if got.Compliant != c || got.NonCompliant != nc || got.Exempt != ex || math.Abs(got.Percentage-pct) > 1e-9 {
			t.Errorf("%s: %+v; want %d compliant, %d non-compliant, %d exempt, %v%%", what, got, c, nc, ex, pct)
		}
	}
	check("overall", s.Overall, 1, 2, 1, 50)           // vm1 NC (sizes), vm2 NC, vm3 C, vm4 E
	check("initiative", s.Assignments[0], 2, 1, 1, 75) // vm1 C, vm2 NC, vm3 C (ID case ignored), vm4 E
	check("sizes", s.Assignments[1], 0, 1, 0, 0)
	check("images member", s.References[0], 1, 0, 3, 100)
	check("tags member", s.References[1], 2, 1, 0, 100*2/3.0)
	check("definition d2", s.Definitions[1], 2, 1, 0, 100*2/3.0)
	check("rg1", s.ResourceGroups[0], 0, 2, 0, 0)
	check("rg2", s.ResourceGroups[1], 1, 0, 1, 100)
	if s.ResourceGroups[0].Key != strings.ToLower(sub+"/resourceGroups/rg1") {
		t.Errorf("resource group key %q", s.ResourceGroups[0].Key)
	}
}

func TestScanStates(t *testing.T) {
	guide := guideAssignment(t, "")
	resources := []Resource{
		managedImageVM(t),
		vm(t, `{"id":"`+approvedImage+`"}`),
		{ID: approvedPath, Body: map[string]any{"type": TypeGallery, "location": "eastus"}}, // not a VM: not applicable
	}
	recs := Scan(resources, []*CompiledAssignment{guide}, nil, ScanOptions{Now: testNow, Reasons: true})
	if len(recs) != 2 {
		t.Fatalf("records %+v", recs)
	}
	if recs[0].State != StateNonCompliant || !strings.Contains(recs[0].Reason, "notContains") || recs[1].State != StateCompliant {
		t.Errorf("records %+v", recs)
	}
	if recs[0].Effect != EffectDeny || recs[0].AssignmentID != guideAssignmentID {
		t.Errorf("record %+v", recs[0])
	}
}

func TestScanErrorsAndManual(t *testing.T) {
	failing, err := ParseDefinition([]byte(`{"name":"prefix","properties":{"mode":"All","policyRule":{
		"if":{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"value":"[substring(field('name'), 0, 5)]","equals":"vm-01"}]},
		"then":{"effect":"audit"}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	manual, err := ParseDefinition([]byte(`{"name":"attest","properties":{"mode":"All","policyRule":{
		"if":{"field":"type","equals":"Microsoft.Compute/virtualMachines"},
		"then":{"effect":"manual","details":{"defaultState":"Unknown"}}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cas []*CompiledAssignment
	for _, d := range []*Definition{failing, manual} {
		ca, err := CompileAssignment(&Assignment{ID: "/a/" + d.Name, Name: d.Name, Scope: "/"}, d)
		if err != nil {
			t.Fatal(err)
		}
		cas = append(cas, ca)
	}
	recs := Scan([]Resource{managedImageVM(t)}, cas, nil, ScanOptions{Now: testNow,
		Attestation: func(resourceID, assignmentID, ref string) (string, bool) { return "", false }})
	if len(recs) != 2 || recs[0].State != StateNonCompliant || !strings.Contains(recs[0].Reason, "evaluation error") || recs[1].State != StateUnknown {
		t.Errorf("records %+v", recs)
	}
	recs = Scan([]Resource{managedImageVM(t)}, cas[1:], nil, ScanOptions{
		Attestation: func(resourceID, assignmentID, ref string) (string, bool) { return StateCompliant, true }})
	if recs[0].State != StateCompliant {
		t.Errorf("attested: %+v", recs[0])
	}
}

func TestAuditIfNotExists(t *testing.T) {
	d, err := ParseDefinition([]byte(`{"name":"need-ext","properties":{"mode":"Indexed","policyRule":{
		"if":{"field":"type","equals":"Microsoft.Compute/virtualMachines"},
		"then":{"effect":"auditIfNotExists","details":{"type":"Microsoft.Compute/virtualMachines/extensions","name":"[concat(field('name'), '-ext')]",
			"existenceCondition":{"allOf":[{"field":"name","equals":"[concat(field('name'), '-ext')]"},{"field":"tags['status']","equals":"ok"}]}}}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := CompileAssignment(&Assignment{ID: "/a/ext", Name: "ext", Scope: "/"}, d)
	if err != nil {
		t.Fatal(err)
	}
	vm1 := managedImageVM(t)
	r := ca.Members[0].Compiled.Evaluate(vm1, EvalContext{})
	q, ok := r.Details.(ExistenceDetails)
	if r.Effect != EffectAuditIfNotExists || !ok || q.Name != "vm1-ext" || q.ExistenceScope != "resourceGroup" {
		t.Fatalf("result %+v", r)
	}
	ext := func(status string) Resource {
		return Resource{ID: vm1.ID + "/extensions/vm1-ext", Body: map[string]any{"type": "Microsoft.Compute/virtualMachines/extensions", "tags": map[string]any{"status": status}}}
	}
	for _, tc := range []struct {
		related []Resource
		want    string
	}{
		{nil, StateNonCompliant},
		{[]Resource{ext("bad")}, StateNonCompliant},
		{[]Resource{ext("bad"), ext("ok")}, StateCompliant},
	} {
		recs := Scan([]Resource{vm1}, []*CompiledAssignment{ca}, nil, ScanOptions{
			Related: func(ExistenceDetails, Resource) ([]Resource, error) { return tc.related, nil }})
		if len(recs) != 1 || recs[0].State != tc.want {
			t.Errorf("%d related: %+v, want %s", len(tc.related), recs, tc.want)
		}
	}
	// a resource whose if is false is not applicable for *IfNotExists
	gallery := Resource{ID: approvedPath, Body: map[string]any{"type": TypeGallery, "location": "eastus"}}
	if recs := Scan([]Resource{gallery}, []*CompiledAssignment{ca}, nil, ScanOptions{}); len(recs) != 0 {
		t.Errorf("gallery: %+v", recs)
	}
}

func TestApplicability(t *testing.T) {
	for _, tc := range []struct {
		cond       string
		body       string
		applicable bool
	}{
		// only name conditions: every resource
		{`{"field":"name","equals":"other"}`, `{"type":"Microsoft.Compute/galleries","name":"g"}`, true},
		// type + other: type decides
		{`{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"field":"location","equals":"x"}]}`, `{"type":"Microsoft.Compute/galleries","location":"eastus"}`, false},
		{`{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"field":"location","equals":"x"}]}`, `{"type":"Microsoft.Compute/virtualMachines","location":"eastus"}`, true},
		// type + name only: only the type decides
		{`{"allOf":[{"field":"type","equals":"Microsoft.Compute/galleries"},{"field":"name","equals":"x"}]}`, `{"type":"Microsoft.Compute/galleries","name":"g"}`, true},
		// type + name + other: both decide
		{`{"allOf":[{"field":"type","equals":"Microsoft.Compute/galleries"},{"field":"name","equals":"x"},{"field":"location","equals":"y"}]}`, `{"type":"Microsoft.Compute/galleries","name":"g","location":"eastus"}`, false},
		// a condition under not counts as false, so not() of it is true
		{`{"allOf":[{"field":"type","equals":"Microsoft.Compute/galleries"},{"not":{"field":"location","equals":"eastus"}}]}`, `{"type":"Microsoft.Compute/galleries","location":"eastus"}`, true},
		{`{"not":{"field":"type","equals":"Microsoft.Compute/galleries"}}`, `{"type":"Microsoft.Compute/galleries"}`, false},
	} {
		c, err := compileCond(t, tc.cond, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		r := c.Evaluate(Resource{Body: jsonObject(t, tc.body)}, EvalContext{Context: ContextStored})
		if r.Effect != "" {
			t.Fatalf("%s: the if holds", tc.cond)
		}
		if r.Applicable != tc.applicable {
			t.Errorf("%s on %s: applicable %t, want %t", tc.cond, tc.body, r.Applicable, tc.applicable)
		}
	}
	// location conditions never apply to subscriptions
	c, _ := compileCond(t, `{"field":"location","notIn":["eastus"]}`, "", nil)
	if r := c.Evaluate(Resource{ID: "/subscriptions/s", Body: map[string]any{}}, EvalContext{}); r.Applicable || r.Effect != "" {
		t.Errorf("a location policy on a subscription: %+v", r)
	}
	// mode All never evaluates Microsoft.Resources types other than groups and subscriptions
	if r := c.Evaluate(Resource{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Resources/deployments/d", Body: map[string]any{}}, EvalContext{}); r.Applicable {
		t.Errorf("a deployment: %+v", r)
	}
}

func TestTrace(t *testing.T) {
	c, err := compileCond(t, `{"anyOf":[{"field":"Microsoft.Test/things/p","equals":"a"},{"field":"Microsoft.Test/things/p","equals":"b"},{"field":"Microsoft.Test/things/p","equals":"c"}]}`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Evaluate(testResource(t, `{"p":"b"}`), EvalContext{})
	if len(r.Trace) != 3 {
		t.Fatalf("trace %v (short-circuit: the third is not evaluated)", r.Trace)
	}
	reasons := r.Reasons()
	if len(reasons) != 1 || !strings.Contains(reasons[0], `"b"`) {
		t.Errorf("the deciding condition of a true anyOf is the true one: %v", reasons)
	}
	if r.Trace[1].Path != "policyRule.if.anyOf[0]" || r.Trace[1].Decisive || !r.Trace[2].Decisive {
		t.Errorf("trace %+v", r.Trace)
	}
	if r := c.Evaluate(testResource(t, `{}`), EvalContext{NoTrace: true}); r.Trace != nil {
		t.Errorf("NoTrace kept a trace: %v", r.Trace)
	}
}
