package policy

import (
	"strings"
	"testing"
)

const (
	sub           = "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333"
	approvedPath  = sub + "/resourceGroups/ImageBuilderRG/providers/Microsoft.Compute/galleries/approvedGallery"
	approvedImage = approvedPath + "/images/debian12/versions/1.0.0"
)

// vm is a VM request payload with the given imageReference (JSON).
func vm(t *testing.T, imageReference string) Resource {
	t.Helper()
	body := jsonObject(t, `{"type":"Microsoft.Compute/virtualMachines","location":"eastus",
		"properties":{"hardwareProfile":{"vmSize":"Standard_B2s"},
		"storageProfile":{"imageReference":`+imageReference+`,"osDisk":{"createOption":"FromImage"}}}}`)
	return Resource{ID: sub + "/resourceGroups/app/providers/Microsoft.Compute/virtualMachines/vm1", Body: body}
}

func builtin(t *testing.T, name string, values map[string]any) *CompiledDefinition {
	t.Helper()
	d, ok := Builtin(name)
	if !ok {
		t.Fatalf("no built-in %q", name)
	}
	c, err := d.Compile(values)
	if err != nil {
		t.Fatalf("compile %q: %v", name, err)
	}
	return c
}

func TestBuiltinsParse(t *testing.T) {
	defs, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) < 9 {
		t.Errorf("%d built-ins, want at least 9", len(defs))
	}
	for _, d := range defs {
		if d.PolicyType != PolicyTypeBuiltIn || d.DisplayName == "" || d.Name == "" || !strings.HasSuffix(d.ID, "/"+d.Name) {
			t.Errorf("built-in %q: type %q, name %q, id %q", d.DisplayName, d.PolicyType, d.Name, d.ID)
		}
	}
}

// TestGuideRule is the hardening guide's rule: it denies VMs from a
// managed image or another gallery, allows versions of the approved
// gallery in any letter case, and (as on Azure) lets marketplace images
// through.
func TestGuideRule(t *testing.T) {
	for _, tc := range []struct {
		name, path, imageReference string
		deny                       bool
	}{
		{"managed image", approvedPath, `{"id":"` + sub + `/resourceGroups/rg/providers/Microsoft.Compute/images/myImage"}`, true},
		{"another gallery", approvedPath, `{"id":"` + sub + `/resourceGroups/rg/providers/Microsoft.Compute/galleries/other/images/debian12/versions/1.0.0"}`, true},
		{"approved gallery version", approvedPath, `{"id":"` + approvedImage + `"}`, false},
		{"approved gallery, ID lower case", approvedPath, `{"id":"` + strings.ToLower(approvedImage) + `"}`, false},
		{"approved gallery, path upper case", strings.ToUpper(approvedPath), `{"id":"` + approvedImage + `"}`, false},
		{"approved gallery, latest", approvedPath, `{"id":"` + approvedPath + `/images/debian12/versions/latest"}`, false},
		{"marketplace image: not denied, the guide's gap", approvedPath, `{"publisher":"Canonical","offer":"0001-com-ubuntu-server-jammy","sku":"22_04-lts","version":"latest"}`, false},
		{"no image reference (attached disk)", approvedPath, `null`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := builtin(t, "Require VM images from the approved gallery", map[string]any{"approvedGalleryPath": tc.path})
			r := c.Evaluate(vm(t, tc.imageReference), EvalContext{})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if got := r.Effect == EffectDeny; got != tc.deny {
				t.Errorf("deny = %t, want %t; trace %v", got, tc.deny, r.Trace)
			}
		})
	}
}

// TestApprovedImagesClosesTheGap: kiln's built-in denies what the guide's
// rule lets through.
func TestApprovedImagesClosesTheGap(t *testing.T) {
	for _, tc := range []struct {
		name, imageReference string
		deny                 bool
	}{
		{"marketplace image", `{"publisher":"Canonical","offer":"0001-com-ubuntu-server-jammy","sku":"22_04-lts","version":"latest"}`, true},
		{"publisher only", `{"publisher":"Debian"}`, true},
		{"shared gallery image", `{"sharedGalleryImageId":"/SharedGalleries/abc-approvedGallery/Images/debian12/Versions/1.0.0"}`, true},
		{"community gallery image", `{"communityGalleryImageId":"/CommunityGalleries/x/Images/y/Versions/1.0.0"}`, true},
		{"managed image", `{"id":"` + sub + `/resourceGroups/rg/providers/Microsoft.Compute/images/myImage"}`, true},
		{"a gallery whose name starts like the approved one", `{"id":"` + approvedPath + `Evil/images/debian12/versions/1.0.0"}`, true},
		{"approved gallery version", `{"id":"` + approvedImage + `"}`, false},
		{"approved gallery version, any case", `{"id":"` + strings.ToUpper(approvedImage) + `"}`, false},
		{"no image reference (attached disk)", `null`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := builtin(t, "Approved VM images only", map[string]any{"approvedGalleryId": approvedPath})
			r := c.Evaluate(vm(t, tc.imageReference), EvalContext{})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if got := r.Effect == EffectDeny; got != tc.deny {
				t.Errorf("deny = %t, want %t; reasons %v", got, tc.deny, r.Reasons())
			}
		})
	}
	guide := builtin(t, "Require VM images from the approved gallery", map[string]any{"approvedGalleryPath": approvedPath})
	evil := vm(t, `{"id":"`+approvedPath+`Evil/images/debian12/versions/1.0.0"}`)
	if r := guide.Evaluate(evil, EvalContext{}); r.Effect != "" {
		t.Errorf("the guide's rule (contains) lets a gallery named like the approved one through on Azure too; got %q", r.Effect)
	}
}

func TestImageVersionFacts(t *testing.T) {
	notLatest := builtin(t, "Audit VMs on an image version that is not the latest", nil)
	revoked := builtin(t, "Deny VMs on revoked or end-of-life image versions", nil)
	verified := true
	for _, tc := range []struct {
		name        string
		facts       *ImageVersionFacts
		audit, deny bool
	}{
		{"latest", &ImageVersionFacts{ID: approvedImage, IsLatest: true, TattooVerified: &verified}, false, false},
		{"outdated", &ImageVersionFacts{ID: approvedImage}, true, false},
		{"revoked", &ImageVersionFacts{ID: approvedImage, IsLatest: true, IsRevoked: true}, false, true},
		{"end of life", &ImageVersionFacts{ID: approvedImage, IsEndOfLife: true}, true, true},
		{"not on a gallery version", nil, false, false},
	} {
		res := vm(t, `{"id":"`+approvedImage+`"}`)
		if tc.facts != nil {
			res.Facts = tc.facts.Facts()
		}
		// a request cannot claim facts in its payload
		res.Body["kiln"] = map[string]any{"imageVersion": map[string]any{"isRevoked": true}}
		if got := notLatest.Evaluate(res, EvalContext{}).Effect == EffectAudit; got != tc.audit {
			t.Errorf("%s: audit = %t, want %t", tc.name, got, tc.audit)
		}
		if got := revoked.Evaluate(res, EvalContext{}).Effect == EffectDeny; got != tc.deny {
			t.Errorf("%s: deny = %t, want %t", tc.name, got, tc.deny)
		}
	}
	c, err := compileCond(t, `{"field":"Kiln.Compute/virtualMachines/imageVersion.tattooVerified","equals":true}`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res := vm(t, `{"id":"`+approvedImage+`"}`)
	res.Facts = ImageVersionFacts{TattooVerified: &verified}.Facts()
	if got, _ := evalOn(t, c, res); !got {
		t.Error("tattooVerified alias does not read the facts")
	}
}

func TestAllowedLocations(t *testing.T) {
	c := builtin(t, "e56962a6-4747-49cd-b67b-bf8b01975c4c", map[string]any{"listOfAllowedLocations": []any{"eastus", "westeurope"}})
	for loc, deny := range map[string]bool{"eastus": false, "East US": false, "WestEurope": false, "westus": true, "global": false} {
		res := Resource{ID: sub + "/resourceGroups/rg/providers/Microsoft.Compute/galleries/g", Body: map[string]any{"type": TypeGallery, "location": loc}}
		if got := c.Evaluate(res, EvalContext{}).Effect == EffectDeny; got != deny {
			t.Errorf("%s: deny = %t, want %t", loc, got, deny)
		}
	}
	// mode Indexed does not evaluate resource groups
	rg := Resource{ID: sub + "/resourceGroups/rg", Body: map[string]any{"location": "westus"}}
	if r := c.Evaluate(rg, EvalContext{}); r.Effect != "" || r.Applicable {
		t.Errorf("a resource group under Indexed: %+v", r)
	}
}

func TestAllowedVMSizes(t *testing.T) {
	c := builtin(t, "Allowed virtual machine size SKUs", map[string]any{"listOfAllowedSKUs": []any{"Standard_D2s_v3", "standard_b2s"}})
	if r := c.Evaluate(vm(t, `{"id":"x"}`), EvalContext{}); r.Effect != "" {
		t.Errorf("Standard_B2s is allowed (case-insensitively): %q", r.Effect)
	}
	big := vm(t, `{"id":"x"}`)
	big.Body["properties"].(map[string]any)["hardwareProfile"] = map[string]any{"vmSize": "Standard_M128"}
	if r := c.Evaluate(big, EvalContext{}); r.Effect != EffectDeny {
		t.Errorf("Standard_M128: %q, want deny", r.Effect)
	}
	noSize := vm(t, `{"id":"x"}`)
	delete(noSize.Body["properties"].(map[string]any), "hardwareProfile")
	if r := c.Evaluate(noSize, EvalContext{}); r.Effect != EffectDeny {
		t.Errorf("no vmSize: %q, want deny (in on a missing value is false)", r.Effect)
	}
	none := builtin(t, "Allowed virtual machine size SKUs", map[string]any{"listOfAllowedSKUs": []any{}})
	if r := none.Evaluate(vm(t, `{"id":"x"}`), EvalContext{}); r.Effect != EffectDeny {
		t.Errorf("an empty list denies every VM; got %q", r.Effect)
	}
	if _, err := mustBuiltin(t, "Allowed virtual machine size SKUs").Compile(nil); err == nil {
		t.Error("listOfAllowedSKUs has no default: compiling without it must fail")
	}
}

func mustBuiltin(t *testing.T, name string) *Definition {
	t.Helper()
	d, ok := Builtin(name)
	if !ok {
		t.Fatalf("no built-in %q", name)
	}
	return d
}

func TestRequireTag(t *testing.T) {
	c := builtin(t, "Require a tag on resources", map[string]any{"tagName": "costCenter"})
	tagged := Resource{ID: sub + "/resourceGroups/rg/providers/Microsoft.Compute/galleries/g", Body: map[string]any{"type": TypeGallery, "location": "eastus", "tags": map[string]any{"CostCenter": "42"}}}
	untagged := Resource{ID: tagged.ID, Body: map[string]any{"type": TypeGallery, "location": "eastus"}}
	if r := c.Evaluate(tagged, EvalContext{}); r.Effect != "" || !r.Applicable {
		t.Errorf("tagged: %+v", r)
	}
	if r := c.Evaluate(untagged, EvalContext{}); r.Effect != EffectDeny {
		t.Errorf("untagged: %q, want deny", r.Effect)
	}
	rgPolicy := builtin(t, "Require a tag on resource groups", map[string]any{"tagName": "costCenter"})
	rg := Resource{ID: sub + "/resourceGroups/rg", Body: map[string]any{"location": "eastus"}}
	if r := rgPolicy.Evaluate(rg, EvalContext{}); r.Effect != EffectDeny {
		t.Errorf("untagged resource group: %q, want deny", r.Effect)
	}
	if r := rgPolicy.Evaluate(untagged, EvalContext{}); r.Effect != "" || r.Applicable {
		t.Errorf("the resource group policy on a gallery: %+v, want not applicable", r)
	}
}

func TestAuditUnmanagedDisks(t *testing.T) {
	c := builtin(t, "Audit VMs that do not use managed disks", nil)
	managed := vm(t, `{"id":"x"}`)
	if r := c.Evaluate(managed, EvalContext{Context: ContextStored}); r.Effect != "" || !r.Applicable {
		t.Errorf("managed disks: %+v", r)
	}
	unmanaged := vm(t, `{"id":"x"}`)
	unmanaged.Body["properties"].(map[string]any)["storageProfile"] = jsonValue(t, `{"osDisk":{"vhd":{"uri":"https://sa.blob.core.windows.net/vhds/os.vhd"}}}`)
	if r := c.Evaluate(unmanaged, EvalContext{Context: ContextStored}); r.Effect != EffectAudit {
		t.Errorf("unmanaged disk: %q, want audit", r.Effect)
	}
	vmss := Resource{Body: jsonObject(t, `{"type":"Microsoft.Compute/virtualMachineScaleSets","properties":{"virtualMachineProfile":{"storageProfile":{"osDisk":{"image":{"uri":"https://x/y.vhd"}}}}}}`)}
	if r := c.Evaluate(vmss, EvalContext{Context: ContextStored}); r.Effect != EffectAudit {
		t.Errorf("scale set with an image URL: %q, want audit", r.Effect)
	}
}
