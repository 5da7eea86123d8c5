package policy

import (
	"strings"
	"testing"
)

func TestBuiltinAliasPaths(t *testing.T) {
	// every path of the built-in table parses (buildBuiltinAliases skips
	// a bad one silently)
	for _, bt := range builtinTypes {
		for _, pair := range bt.aliases {
			if _, err := parsePath(strings.TrimSuffix(pair[1], "!")); err != nil {
				t.Errorf("%s %s: %v", bt.typ, pair[0], err)
			}
		}
	}
	a := BuiltinAliases()
	for _, tc := range []struct{ alias, typ, want string }{
		{"Microsoft.Compute/imageId", TypeVirtualMachine, "properties.storageProfile.imageReference.id"},
		{"microsoft.compute/IMAGEID", TypeVirtualMachineScaleSet, "properties.virtualMachineProfile.storageProfile.imageReference.id"},
		{"Microsoft.Compute/imageSKU", TypeVirtualMachine, "properties.storageProfile.imageReference.sku"},
		{"Microsoft.Compute/virtualMachines/sku.name", TypeVirtualMachine, "properties.hardwareProfile.vmSize"},
		{"Microsoft.Compute/virtualMachines/storageProfile.imageReference.exactVersion", TypeVirtualMachine, "properties.storageProfile.imageReference.exactVersion"},
		{"Microsoft.Compute/galleries/images/identifier.publisher", TypeGalleryImage, "properties.identifier.publisher"},
		{"Microsoft.Compute/galleries/images/versions/publishingProfile.targetRegions[*].name", TypeGalleryImageVersion, "properties.publishingProfile.targetRegions[*].name"},
		{"Microsoft.VirtualMachineImages/imageTemplates/distribute[*].type", TypeImageTemplate, "properties.distribute[*].type"},
		{"Microsoft.VirtualMachineImages/imageTemplates/source.type", TypeImageTemplate, "properties.source.type"},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/principalId", TypeUserAssignedIdentity, "properties.principalId"},
		{AliasImageVersionIsLatest, TypeVirtualMachine, "$kiln.imageVersion.isLatest"},
	} {
		got, ok := a.Path(tc.alias, tc.typ, "")
		if !ok || got != tc.want {
			t.Errorf("%s for %s: %q, %t; want %q", tc.alias, tc.typ, got, ok, tc.want)
		}
	}
	if _, ok := a.Path("Microsoft.Compute/imageId", TypeGallery, ""); ok {
		t.Error("imageId has no path for galleries")
	}
	for _, typ := range []string{TypeVirtualMachine, TypeGallery, TypeResourceGroup} {
		if info, ok := a.Type(typ); !ok || !info.Known || len(info.APIVersions) == 0 {
			t.Errorf("type %s: %+v", typ, info)
		}
	}
}

func TestLoadAliases(t *testing.T) {
	a := testAliases(t)
	if p, ok := a.Path("Microsoft.Test/things/renamed", testType, "2023-01-01"); !ok || p != "properties.oldName" {
		t.Errorf("versioned path: %q", p)
	}
	if p, _ := a.Path("Microsoft.Test/things/renamed", testType, ""); p != "properties.newName" {
		t.Errorf("default path: %q", p)
	}
	info, _ := a.Type(testType)
	if !info.TagsAndLocation || info.APIVersions[0] != "2024-01-01" {
		t.Errorf("type info %+v", info)
	}
	if child, _ := a.Type("Microsoft.Test/things/children"); child.TagsAndLocation || !child.Known {
		t.Errorf("child type %+v", child)
	}
	// the built-in table is not changed by a load
	if _, ok := BuiltinAliases().Path("Microsoft.Test/things/p", testType, ""); ok {
		t.Error("LoadAliases changed the built-in table")
	}
	// an array of providers and the REST {"value": [...]} form
	one := `{"namespace":"Contoso.X","resourceTypes":[{"resourceType":"widgets","aliases":[{"name":"Contoso.X/widgets/size","defaultPath":"properties.size"}]}]}`
	for _, doc := range []string{"[" + one + "]", `{"value":[` + one + `]}`} {
		b, err := LoadAliases([]byte(doc), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Path("Contoso.X/widgets/size", "Contoso.X/widgets", ""); !ok {
			t.Errorf("%s: alias not loaded", doc)
		}
	}
	for _, tc := range []struct{ doc, fragment string }{
		{`{"namespace":"X","resourceTypes":"no"}`, "resourceTypes"},
		{`{"resourceTypes":[]}`, "missing provider namespace"},
		{`{"namespace":"X","resourceTypes":[{"resourceType":"t","aliases":[{"name":"X/t/a","defaultPath":"a..b"}]}]}`, "resourceTypes[0].aliases[0].defaultPath"},
		{`{"namespace":"X","resourceTypes":[{"resourceType":"t","aliases":[{"name":1}]}]}`, "expected a string"},
		{`[1]`, "expected a provider object"},
		{`{`, "invalid JSON"},
	} {
		_, err := LoadAliases([]byte(tc.doc), nil)
		wantProblem(t, err, tc.fragment)
	}
}

func TestUnknownAliasNamesNearest(t *testing.T) {
	_, err := ParseDefinition([]byte(ruleDef(`{"field":"Microsoft.Compute/virtualMachines/sku.nam","in":["a"]}`, "")), nil)
	wantProblem(t, err, `unknown field or alias "Microsoft.Compute/virtualMachines/sku.nam"`, `did you mean "Microsoft.Compute/virtualMachines/sku.name"?`)
	_, err = ParseDefinition([]byte(ruleDef(`{"field":"Contoso.Widgets/widgets/colour","exists":true}`, "")), nil)
	wantProblem(t, err, "--aliases")
}
