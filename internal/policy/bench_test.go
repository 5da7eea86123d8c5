package policy

import (
	"fmt"
	"testing"
	"time"
)

// benchVM is a VM payload on one of the image kinds kiln meets: a version
// of the approved gallery, another gallery, a managed image, a marketplace
// image.
func benchVM(i int, rg string) Resource {
	var ref map[string]any
	switch i % 4 {
	case 0, 1:
		ref = map[string]any{"id": fmt.Sprintf("%s/images/debian12/versions/1.0.%d", approvedPath, i%7)}
	case 2:
		ref = map[string]any{"id": rg + "/providers/Microsoft.Compute/images/img" + fmt.Sprint(i%5)}
	default:
		ref = map[string]any{"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"}
	}
	sizes := []string{"Standard_B2s", "Standard_D2s_v3", "Standard_M128"}
	locations := []string{"eastus", "westeurope", "westus"}
	body := map[string]any{
		"type": TypeVirtualMachine, "name": fmt.Sprintf("vm%d", i), "location": locations[i%3],
		"tags": map[string]any{"owner": "team" + fmt.Sprint(i%3)},
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": sizes[i%3]},
			"storageProfile": map[string]any{
				"imageReference": ref,
				"osDisk":         map[string]any{"createOption": "FromImage", "managedDisk": map[string]any{"storageAccountType": "Premium_LRS"}},
			},
		},
	}
	if i%10 == 0 {
		delete(body, "tags")
	}
	res := Resource{ID: fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm%d", rg, i), Body: body}
	if i%4 < 2 {
		res.Facts = ImageVersionFacts{ID: ref["id"].(string), IsLatest: i%7 == 6, IsRevoked: i%97 == 0, IsEndOfLife: i%89 == 0}.Facts()
	}
	return res
}

func BenchmarkGuideRule(b *testing.B) {
	d, _ := Builtin("Require VM images from the approved gallery")
	c, err := d.Compile(map[string]any{"approvedGalleryPath": approvedPath})
	if err != nil {
		b.Fatal(err)
	}
	vms := make([]Resource, 1024)
	for i := range vms {
		vms[i] = benchVM(i, sub+"/resourceGroups/rg1")
	}
	for _, bc := range []struct {
		name string
		ctx  EvalContext
	}{
		{"request", EvalContext{Now: testNow}},
		{"request-notrace", EvalContext{Now: testNow, NoTrace: true}},
		{"stored", EvalContext{Now: testNow, Context: ContextStored, NoTrace: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			denied := 0
			for i := 0; b.Loop(); i++ {
				if c.Evaluate(vms[i%len(vms)], bc.ctx).Effect == EffectDeny {
					denied++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
			if denied == 0 {
				b.Fatal("nothing denied")
			}
		})
	}
}

// benchEstate is 100,000 resources: 10 subscriptions of 10 resource
// groups, each group with 950 VMs, a gallery, 45 image versions, an image
// template and 3 identities.
func benchEstate() []Resource {
	out := make([]Resource, 0, 100000)
	for s := range 10 {
		for g := range 10 {
			rg := fmt.Sprintf("/subscriptions/%08d-0000-0000-0000-000000000000/resourceGroups/rg%d", s, g)
			for i := range 950 {
				out = append(out, benchVM(s*10000+g*1000+i, rg))
			}
			out = append(out, Resource{ID: rg + "/providers/Microsoft.Compute/galleries/gal", Body: map[string]any{"type": TypeGallery, "location": "eastus"}})
			for v := range 45 {
				out = append(out, Resource{ID: fmt.Sprintf("%s/providers/Microsoft.Compute/galleries/gal/images/debian12/versions/1.0.%d", rg, v),
					Body: map[string]any{"type": TypeGalleryImageVersion, "location": "eastus", "properties": map[string]any{"publishingProfile": map[string]any{"excludeFromLatest": v%2 == 0}}}})
			}
			out = append(out, Resource{ID: rg + "/providers/Microsoft.VirtualMachineImages/imageTemplates/t", Body: map[string]any{"type": TypeImageTemplate, "location": "westus"}})
			for i := range 3 {
				out = append(out, Resource{ID: fmt.Sprintf("%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id%d", rg, i), Body: map[string]any{"type": TypeUserAssignedIdentity, "location": "eastus"}})
			}
		}
	}
	return out
}

// benchAssignments are 10 assignments of the built-ins at the root, at
// subscriptions and at resource groups, some with notScopes.
func benchAssignments(tb testing.TB) []*CompiledAssignment {
	type spec struct {
		def       string
		scope     string
		notScopes []string
		params    map[string]any
	}
	sub0 := "/subscriptions/00000000-0000-0000-0000-000000000000"
	specs := []spec{
		{"Require VM images from the approved gallery", "/", nil, map[string]any{"approvedGalleryPath": approvedPath}},
		{"Approved VM images only", "/", []string{sub0 + "/resourceGroups/rg9"}, map[string]any{"approvedGalleryId": approvedPath}},
		{"Audit VMs on an image version that is not the latest", "/", nil, nil},
		{"Deny VMs on revoked or end-of-life image versions", "/", nil, nil},
		{"Allowed locations", "/", nil, map[string]any{"listOfAllowedLocations": []any{"eastus", "westeurope"}}},
		{"Allowed virtual machine size SKUs", sub0, nil, map[string]any{"listOfAllowedSKUs": []any{"Standard_B2s", "Standard_D2s_v3"}}},
		{"Require a tag on resources", "/", []string{sub0}, map[string]any{"tagName": "owner"}},
		{"Require a tag on resource groups", "/", nil, map[string]any{"tagName": "owner"}},
		{"Audit VMs that do not use managed disks", "/", nil, nil},
		{"Allowed virtual machine size SKUs", sub0 + "/resourceGroups/rg1", nil, map[string]any{"listOfAllowedSKUs": []any{"Standard_B2s"}}},
	}
	out := make([]*CompiledAssignment, len(specs))
	for i, s := range specs {
		d, ok := Builtin(s.def)
		if !ok {
			tb.Fatalf("no built-in %q", s.def)
		}
		a := &Assignment{ID: fmt.Sprintf("/providers/Microsoft.Authorization/policyAssignments/a%d", i), Name: fmt.Sprintf("a%d", i),
			Scope: s.scope, NotScopes: s.notScopes, Parameters: s.params, EnforcementMode: EnforcementDefault}
		ca, err := CompileAssignment(a, d)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = ca
	}
	return out
}

func BenchmarkComplianceScan(b *testing.B) {
	resources := benchEstate()
	assignments := benchAssignments(b)
	exemptions := []*Exemption{{ID: "e1", Scope: "/subscriptions/00000000-0000-0000-0000-000000000001", PolicyAssignmentID: assignments[0].Assignment.ID, Category: CategoryWaiver}}
	b.ReportAllocs()
	var records int
	var summary Summary
	for b.Loop() {
		recs := Scan(resources, assignments, exemptions, ScanOptions{Now: testNow})
		summary = Summarize(recs)
		records = len(recs)
	}
	perScan := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perScan, "s/scan")
	b.ReportMetric(float64(records), "records")
	b.ReportMetric(summary.Overall.Percentage, "%compliant")
	if perScan > 10 {
		b.Errorf("a scan of %d resources against %d assignments took %.1f s, over the 10 s budget", len(resources), len(assignments), perScan)
	}
	_ = time.Second
}
