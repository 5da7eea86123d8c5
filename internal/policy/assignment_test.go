package policy

import (
	"errors"
	"strings"
	"testing"
)

const guideAssignmentID = sub + "/providers/Microsoft.Authorization/policyAssignments/require-hardened-vm-images"

// guideAssignment assigns the guide's rule at the subscription.
func guideAssignment(t *testing.T, extra string) *CompiledAssignment {
	t.Helper()
	a, err := ParseAssignment([]byte(`{"id":"` + guideAssignmentID + `","name":"require-hardened-vm-images","type":"Microsoft.Authorization/policyAssignments",
		"properties":{"displayName":"Require hardened VM images","policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/4d9b3c1e-6f0a-4b7e-9c2d-8a1f5e3b7c60",
		"parameters":{"approvedGalleryPath":{"value":"` + approvedPath + `"}},
		"nonComplianceMessages":[{"message":"Only images from the hardened gallery"}]` + extra + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := CompileAssignment(a, mustBuiltin(t, "Require VM images from the approved gallery"))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func managedImageVM(t *testing.T) Resource {
	return vm(t, `{"id":"`+sub+`/resourceGroups/rg/providers/Microsoft.Compute/images/myImage"}`)
}

func TestAdmitDenies(t *testing.T) {
	d := Admit(Request{Resource: managedImageVM(t)}, []*CompiledAssignment{guideAssignment(t, "")}, nil)
	if d.Allowed {
		t.Fatal("a VM from a managed image was allowed")
	}
	var dis *DisallowedError
	if !errors.As(d.Err, &dis) || dis.Code() != "RequestDisallowedByPolicy" || !IsDisallowed(d.Err) {
		t.Fatalf("error %v is not a RequestDisallowedByPolicy", d.Err)
	}
	msg := d.Err.Error()
	for _, want := range []string{"RequestDisallowedByPolicy", "'vm1'", "Require hardened VM images", guideAssignmentID,
		"Require VM images from the approved gallery", "Only images from the hardened gallery", `"notContains"`, "images/myImage"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
	if len(dis.Denials) != 1 || len(dis.Denials[0].Reasons) != 3 {
		t.Errorf("denials %+v", dis.Denials)
	}
	ok := Admit(Request{Resource: vm(t, `{"id":"`+approvedImage+`"}`)}, []*CompiledAssignment{guideAssignment(t, "")}, nil)
	if !ok.Allowed || ok.Err != nil {
		t.Errorf("a VM from the approved gallery: %v", ok.Err)
	}
}

func TestDoNotEnforce(t *testing.T) {
	ca := guideAssignment(t, `,"enforcementMode":"DoNotEnforce"`)
	d := Admit(Request{Resource: managedImageVM(t)}, []*CompiledAssignment{ca}, nil)
	if !d.Allowed || d.Err != nil {
		t.Fatalf("DoNotEnforce denied: %v", d.Err)
	}
	if len(d.Outcomes) != 1 || d.Outcomes[0].Effect != EffectDeny || d.Outcomes[0].Enforced {
		t.Errorf("the evaluation is still reported, not enforced: %+v", d.Outcomes)
	}
	// and compliance is still reported
	recs := Scan([]Resource{managedImageVM(t)}, []*CompiledAssignment{ca}, nil, ScanOptions{Now: testNow})
	if len(recs) != 1 || recs[0].State != StateNonCompliant {
		t.Errorf("records %+v", recs)
	}
}

func TestNotScopes(t *testing.T) {
	ca := guideAssignment(t, `,"notScopes":["`+strings.ToUpper(sub)+`/resourceGroups/APP"]`)
	if ca.Covers(managedImageVM(t).ID) {
		t.Error("a notScope (any letter case) still covers the resource")
	}
	d := Admit(Request{Resource: managedImageVM(t)}, []*CompiledAssignment{ca}, nil)
	if !d.Allowed || len(d.Outcomes) != 0 {
		t.Errorf("an excluded resource is not evaluated: %+v", d)
	}
	if recs := Scan([]Resource{managedImageVM(t)}, []*CompiledAssignment{ca}, nil, ScanOptions{}); len(recs) != 0 {
		t.Errorf("an excluded resource is not counted: %+v", recs)
	}
	// segments compare whole: .../resourceGroups/app does not exclude .../resourceGroups/application
	other := managedImageVM(t)
	other.ID = sub + "/resourceGroups/application/providers/Microsoft.Compute/virtualMachines/vm1"
	if !ca.Covers(other.ID) {
		t.Error("notScope .../app excludes .../application")
	}
	// a resource outside the scope is not covered
	if ca.Covers("/subscriptions/other/resourceGroups/app/providers/Microsoft.Compute/virtualMachines/vm1") {
		t.Error("another subscription is covered")
	}
}

func TestExemptions(t *testing.T) {
	ca := guideAssignment(t, "")
	exemption := func(expires string) *Exemption {
		t.Helper()
		e, err := ParseExemption([]byte(`{"id":"` + sub + `/resourceGroups/app/providers/Microsoft.Authorization/policyExemptions/legacy",
			"properties":{"policyAssignmentId":"` + strings.ToLower(guideAssignmentID) + `","exemptionCategory":"Waiver","expiresOn":"` + expires + `"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	active, expired := exemption("2026-12-31T23:59:00.0000000Z"), exemption("2026-01-01T00:00:00Z")
	if active.Scope != sub+"/resourceGroups/app" {
		t.Errorf("scope from the ID: %q", active.Scope)
	}
	if err := active.Validate(ca); err != nil {
		t.Errorf("validate: %v", err)
	}
	req := Request{Resource: managedImageVM(t), Now: testNow}
	if d := Admit(req, []*CompiledAssignment{ca}, []*Exemption{active}); !d.Allowed || len(d.Outcomes) != 1 || !d.Outcomes[0].Exempt {
		t.Errorf("an active exemption: %+v", d)
	}
	if d := Admit(req, []*CompiledAssignment{ca}, []*Exemption{expired}); d.Allowed {
		t.Error("an expired exemption still exempts")
	}
	recs := Scan([]Resource{managedImageVM(t)}, []*CompiledAssignment{ca}, []*Exemption{active}, ScanOptions{Now: testNow})
	if len(recs) != 1 || recs[0].State != StateExempt || recs[0].ExemptionID == "" {
		t.Errorf("scan with an exemption: %+v", recs)
	}
	recs = Scan([]Resource{managedImageVM(t)}, []*CompiledAssignment{ca}, []*Exemption{expired}, ScanOptions{Now: testNow})
	if len(recs) != 1 || recs[0].State != StateNonCompliant {
		t.Errorf("scan with an expired exemption: %+v", recs)
	}
	// exactly at expiresOn the exemption is over
	if active.Active(*active.ExpiresOn) {
		t.Error("an exemption is active at its expiresOn")
	}
	// an exemption elsewhere does not apply
	elsewhere := exemption("2026-12-31T23:59:00Z")
	elsewhere.Scope = sub + "/resourceGroups/other"
	if d := Admit(req, []*CompiledAssignment{ca}, []*Exemption{elsewhere}); d.Allowed {
		t.Error("an exemption of another resource group applies")
	}
	_, err := ParseExemption([]byte(`{"properties":{"policyAssignmentId":"x","exemptionCategory":"Waived","scope":"/subscriptions/s"}}`))
	wantProblem(t, err, `did you mean "Waiver"?`)
}

// initiativeJSON groups the guide's rule, allowed locations and the tag
// rule, with initiative parameters mapped to members.
const initiativeJSON = `{"id":"/subscriptions/s/providers/Microsoft.Authorization/policySetDefinitions/hardened","name":"hardened",
 "properties":{"displayName":"Hardened images","parameters":{
   "gallery":{"type":"String"},
   "locations":{"type":"Array","defaultValue":["eastus"]}},
  "policyDefinitionGroups":[{"name":"CIS_1"},{"name":"CIS_2"}],
  "policyDefinitions":[
   {"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/4d9b3c1e-6f0a-4b7e-9c2d-8a1f5e3b7c60","policyDefinitionReferenceId":"images","groupNames":["CIS_1"],
    "parameters":{"approvedGalleryPath":{"value":"[parameters('gallery')]"}}},
   {"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c","policyDefinitionReferenceId":"locations","groupNames":["CIS_2"],
    "parameters":{"listOfAllowedLocations":{"value":"[union(parameters('locations'), createArray('westeurope'))]"}}},
   {"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/871b6d14-10aa-478d-b590-94f262ecfa99","policyDefinitionReferenceId":"tag",
    "parameters":{"tagName":{"value":"owner"}}}]}}`

func builtinLookup(id string) (*Definition, error) {
	if d, ok := Builtin(id); ok {
		return d, nil
	}
	return nil, errors.New("not found")
}

func compileInitiative(t *testing.T, assignment string) *CompiledAssignment {
	t.Helper()
	s, err := ParseSetDefinition([]byte(initiativeJSON))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAssignment([]byte(assignment))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := CompileSetAssignment(a, s, builtinLookup)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestInitiative(t *testing.T) {
	ca := compileInitiative(t, `{"properties":{"scope":"`+sub+`","policyDefinitionId":"/subscriptions/s/providers/Microsoft.Authorization/policySetDefinitions/hardened",
		"parameters":{"gallery":{"value":"`+approvedPath+`"}},
		"nonComplianceMessages":[{"message":"hardened images only"},{"message":"tag it","policyDefinitionReferenceId":"tag"}]}}`)
	if got := strings.Join(ca.ReferenceIDs(), ","); got != "images,locations,tag" {
		t.Errorf("members %s", got)
	}
	locations := ca.Members[1].Compiled.Parameters()["listofallowedlocations"]
	if display(locations) != `["eastus","westeurope"]` {
		t.Errorf("member values from initiative parameters and defaults: %s", display(locations))
	}
	res := managedImageVM(t)
	res.Body["location"] = "westus"
	d := Admit(Request{Resource: res}, []*CompiledAssignment{ca}, nil)
	var dis *DisallowedError
	if !errors.As(d.Err, &dis) || len(dis.Denials) != 3 {
		t.Fatalf("want 3 denials (image, location, tag), got %v", d.Err)
	}
	if dis.Denials[2].DefinitionReferenceID != "tag" || dis.Denials[2].Message != "tag it" || dis.Denials[0].Message != "hardened images only" {
		t.Errorf("denials %+v", dis.Denials)
	}
	// an exemption of one member leaves the others
	e := &Exemption{Scope: sub, PolicyAssignmentID: ca.Assignment.ID, PolicyDefinitionReferenceIDs: []string{"TAG"}, Category: CategoryMitigated}
	d = Admit(Request{Resource: res}, []*CompiledAssignment{ca}, []*Exemption{e})
	if !errors.As(d.Err, &dis) || len(dis.Denials) != 2 {
		t.Errorf("with the tag member exempt: %v", d.Err)
	}
}

func TestInitiativeErrors(t *testing.T) {
	_, err := ParseSetDefinition([]byte(`{"properties":{"parameters":{},"policyDefinitions":[{"policyDefinitionId":"x","parameters":{"p":{"value":"[parameters('nope')]"}}}]}}`))
	wantProblem(t, err, "parameter 'nope' is used but not defined")
	_, err = ParseSetDefinition([]byte(`{"properties":{"policyDefinitions":[{"policyDefinitionId":"x","policyDefinitionReferenceId":"a"},{"policyDefinitionId":"y","policyDefinitionReferenceId":"A"}]}}`))
	wantProblem(t, err, "duplicate reference ID")
	_, err = ParseSetDefinition([]byte(`{"properties":{"policyDefinitions":[{"policyDefinitionId":"x","groupNames":["g1"]}],"policyDefinitionGroups":[{"name":"g2"}]}}`))
	wantProblem(t, err, `group "g1" is not in policyDefinitionGroups`)
	_, err = ParseSetDefinition([]byte(`{"properties":{"policyDefinitions":[]}}`))
	wantProblem(t, err, "non-empty array of policyDefinitions")
	s, err := ParseSetDefinition([]byte(initiativeJSON))
	if err != nil {
		t.Fatal(err)
	}
	a := &Assignment{Name: "a", Scope: sub, PolicyDefinitionID: s.ID}
	_, err = CompileSetAssignment(a, s, builtinLookup)
	wantProblem(t, err, `parameter "gallery" has no value and no default`)
}

func TestAssignmentParsing(t *testing.T) {
	a, err := ParseAssignment([]byte(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/policyAssignments/a1","name":"a1",
		"identity":{"type":"SystemAssigned"},"location":"eastus",
		"properties":{"policyDefinitionId":"/p/d","enforcementMode":"donotenforce","parameters":{"x":{"value":1}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.Scope != "/subscriptions/s/resourceGroups/rg" || a.EnforcementMode != EnforcementDoNotEnforce || a.Parameters["x"] == nil {
		t.Errorf("%+v", a)
	}
	_, err = ParseAssignment([]byte(`{"properties":{"policyDefinitionId":"/p/d","scope":"/subscriptions/s","enforcmentMode":"Default"}}`))
	wantProblem(t, err, `did you mean "enforcementMode"?`)
	_, err = ParseAssignment([]byte(`{"properties":{"policyDefinitionId":"/p/d","scope":"/subscriptions/s","notScopes":"/subscriptions/s/resourceGroups/x"}}`))
	wantProblem(t, err, "write it as a list")
	_, err = ParseAssignment([]byte(`{"properties":{"policyDefinitionId":"/p/d"}}`))
	wantProblem(t, err, "missing scope")
	d := mustBuiltin(t, "Require a tag on resources")
	other, _ := ParseAssignment([]byte(`{"properties":{"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/other","scope":"/"}}`))
	_, err = CompileAssignment(other, d)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("an assignment bound to another definition: %v", err)
	}
}

func TestModifyAndAppend(t *testing.T) {
	modify, err := ParseDefinition([]byte(`{"name":"add-owner","properties":{"mode":"Indexed","parameters":{"owner":{"type":"String"}},"policyRule":{
		"if":{"field":"tags['owner']","exists":"false"},
		"then":{"effect":"modify","details":{"roleDefinitionIds":["/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
			"operations":[
				{"operation":"addOrReplace","field":"tags['owner']","value":"[parameters('owner')]"},
				{"operation":"add","field":"tags['managedBy']","value":"kiln","condition":"[equals(field('type'), 'Microsoft.Compute/virtualMachines')]"},
				{"operation":"remove","field":"tags['temp']"}]}}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	deny, err := ParseDefinition([]byte(`{"name":"owner-must-be-ops","properties":{"mode":"Indexed","policyRule":{
		"if":{"field":"tags['owner']","notEquals":"ops"},"then":{"effect":"deny"}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	assign := func(d *Definition, params string) *CompiledAssignment {
		a, err := ParseAssignment([]byte(`{"name":"` + d.Name + `","properties":{"scope":"` + sub + `","policyDefinitionId":"` + d.Name + `","parameters":` + params + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		ca, err := CompileAssignment(a, d)
		if err != nil {
			t.Fatal(err)
		}
		return ca
	}
	// the deny is listed first but runs after the modify, and sees its result
	assignments := []*CompiledAssignment{assign(deny, `{}`), assign(modify, `{"owner":{"value":"ops"}}`)}
	res := managedImageVM(t)
	res.Body["tags"] = map[string]any{"temp": "1", "ManagedBy": "someone"}
	d := Admit(Request{Resource: res}, assignments, nil)
	if d.Allowed {
		t.Fatal("add on an existing different tag is a conflict, which denies by default")
	}
	delete(res.Body["tags"].(map[string]any), "ManagedBy")
	d = Admit(Request{Resource: res}, assignments, nil)
	if !d.Allowed || !d.Modified {
		t.Fatalf("modify then deny: %v", d.Err)
	}
	if got := display(d.Body["tags"]); got != `{"managedBy":"kiln","owner":"ops"}` {
		t.Errorf("tags after modify: %s", got)
	}
	if _, touched := res.Body["tags"].(map[string]any)["owner"]; touched {
		t.Error("the request body was changed in place")
	}

	appendDef, err := ParseDefinition([]byte(`{"name":"append-nic","properties":{"mode":"All","policyRule":{
		"if":{"field":"type","equals":"Microsoft.Compute/virtualMachines"},
		"then":{"effect":"append","details":[
			{"field":"Microsoft.Compute/virtualMachines/networkProfile.networkInterfaces[*]","value":{"id":"nic2"}},
			{"field":"Microsoft.Compute/virtualMachines/securityProfile.encryptionAtHost","value":true}]}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	res = managedImageVM(t)
	res.Body["properties"].(map[string]any)["networkProfile"] = jsonValue(t, `{"networkInterfaces":[{"id":"nic1"}]}`)
	d = Admit(Request{Resource: res}, []*CompiledAssignment{assign(appendDef, `{}`)}, nil)
	if !d.Allowed {
		t.Fatal(d.Err)
	}
	props := d.Body["properties"].(map[string]any)
	if got := display(props["networkProfile"]); got != `{"networkInterfaces":[{"id":"nic1"},{"id":"nic2"}]}` || props["securityProfile"] == nil {
		t.Errorf("after append: %s, %s", got, display(props["securityProfile"]))
	}
	res.Body["properties"].(map[string]any)["securityProfile"] = map[string]any{"encryptionAtHost": false}
	if d := Admit(Request{Resource: res}, []*CompiledAssignment{assign(appendDef, `{}`)}, nil); d.Allowed {
		t.Error("append over a different value must deny")
	}
}

func TestDenyActionOnDelete(t *testing.T) {
	d, err := ParseDefinition([]byte(`{"name":"keep-galleries","properties":{"mode":"Indexed","policyRule":{
		"if":{"field":"type","equals":"Microsoft.Compute/galleries"},
		"then":{"effect":"denyAction","details":{"actionNames":["delete"],"cascadeBehaviors":{"resourceGroup":"allow"}}}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := CompileAssignment(&Assignment{Name: "keep", Scope: sub, EnforcementMode: EnforcementDefault}, d)
	if err != nil {
		t.Fatal(err)
	}
	gallery := Resource{ID: approvedPath, Body: map[string]any{"type": TypeGallery, "location": "eastus"}}
	if dec := Admit(Request{Resource: gallery}, []*CompiledAssignment{ca}, nil); !dec.Allowed {
		t.Errorf("denyAction blocks a write: %v", dec.Err)
	}
	dec := Admit(Request{Resource: gallery, Operation: OperationDelete}, []*CompiledAssignment{ca}, nil)
	if dec.Allowed {
		t.Fatal("denyAction did not block the delete")
	}
	if details, ok := dec.Outcomes[0].Result.Details.(DenyActionDetails); !ok || details.CascadeResourceGroup != "allow" {
		t.Errorf("details %+v", dec.Outcomes[0].Result.Details)
	}
}

func TestOverridesAndSelectors(t *testing.T) {
	ca := compileInitiative(t, `{"properties":{"scope":"`+sub+`","policyDefinitionId":"hardened","parameters":{"gallery":{"value":"`+approvedPath+`"}},
		"overrides":[{"kind":"policyEffect","value":"Audit","selectors":[{"kind":"policyDefinitionReferenceId","in":["tag"]}]},
		             {"kind":"policyEffect","value":"Disabled","selectors":[{"kind":"policyDefinitionReferenceId","in":["images"]},{"kind":"resourceLocation","in":["West Europe"]}]}],
		"resourceSelectors":[{"name":"no-dev","selectors":[{"kind":"resourceType","notIn":["Microsoft.Compute/galleries"]}]}]}}`)
	res := managedImageVM(t)
	res.Body["tags"] = map[string]any{}
	d := Admit(Request{Resource: res}, []*CompiledAssignment{ca}, nil)
	var dis *DisallowedError
	if !errors.As(d.Err, &dis) || len(dis.Denials) != 1 || dis.Denials[0].DefinitionReferenceID != "images" {
		t.Fatalf("the tag member is overridden to audit, the image member denies in eastus: %v", d.Err)
	}
	res.Body["location"] = "westeurope"
	if d := Admit(Request{Resource: res}, []*CompiledAssignment{ca}, nil); !d.Allowed {
		t.Errorf("the image member is disabled in West Europe: %v", d.Err)
	}
	gallery := Resource{ID: approvedPath, Body: map[string]any{"type": TypeGallery, "location": "westus"}}
	if d := Admit(Request{Resource: gallery}, []*CompiledAssignment{ca}, nil); !d.Allowed || len(d.Outcomes) != 0 {
		t.Errorf("the resource selector leaves galleries out: %+v", d)
	}
}

func TestModifyAliases(t *testing.T) {
	def := func(field, conflict string) *CompiledAssignment {
		t.Helper()
		d, err := ParseDefinition([]byte(`{"name":"m","properties":{"mode":"All","policyRule":{"if":{"field":"type","equals":"Microsoft.Test/things"},
			"then":{"effect":"modify","details":{"roleDefinitionIds":["r"],"conflictEffect":"`+conflict+`",
			"operations":[{"operation":"addOrReplace","field":"`+field+`","value":"new"}]}}}}}`), testAliases(t))
		if err != nil {
			t.Fatal(err)
		}
		ca, err := CompileAssignment(&Assignment{Name: "m", Scope: "/"}, d)
		if err != nil {
			t.Fatal(err)
		}
		return ca
	}
	res := testResource(t, `{"q":"old","p":"old"}`)
	d := Admit(Request{Resource: res}, []*CompiledAssignment{def("Microsoft.Test/things/q", "deny")}, nil)
	if !d.Allowed || d.Body["properties"].(map[string]any)["q"] != "new" {
		t.Errorf("a Modifiable alias: %v, %v", d.Err, d.Body)
	}
	d = Admit(Request{Resource: res}, []*CompiledAssignment{def("Microsoft.Test/things/p", "deny")}, nil)
	if d.Allowed || !errors.Is(d.Err.(*DisallowedError).Denials[0].Err, ErrConflict) {
		t.Errorf("an alias that is not Modifiable conflicts, and the conflict denies: %v", d.Err)
	}
	d = Admit(Request{Resource: res}, []*CompiledAssignment{def("Microsoft.Test/things/p", "audit")}, nil)
	if !d.Allowed || d.Modified || d.Outcomes[0].Effect != EffectAudit {
		t.Errorf("conflictEffect audit records the conflict: %+v", d)
	}
}
