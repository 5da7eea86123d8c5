package template

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testRG       = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ImageBuilderRG"
	testIdentity = testRG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/AIBIdentity"
	testGallery  = testRG + "/providers/Microsoft.Compute/galleries/myGallery/images/debian12"
)

func intPtr(i int) *int { return &i }

// debianHardened is what testdata/valid/debian-hardened.{json,yaml} decode to.
func debianHardened() *ImageTemplate {
	return &ImageTemplate{
		Type:       ResourceType,
		APIVersion: "2024-02-01",
		Location:   "eastus",
		Tags:       map[string]string{"imagebuilderTemplate": "debian12", "userIdentity": "enabled"},
		Identity: &Identity{
			Type:                   "UserAssigned",
			UserAssignedIdentities: map[string]UserAssignedIdentity{testIdentity: {}},
		},
		Properties: debianHardenedProperties(),
	}
}

func debianHardenedProperties() Properties {
	return Properties{
		BuildTimeoutInMinutes: 100,
		VMProfile:             &VMProfile{VMSize: "Standard_D2s_v3", OSDiskSizeGB: 30},
		Source:                Source{Type: "PlatformImage", Publisher: "Debian", Offer: "debian-12", Sku: "12-gen2", Version: "latest"},
		Customize: []Customizer{
			{Type: "Shell", Name: "harden-ssh",
				ScriptURI:      "https://raw.githubusercontent.com/kiln-dev/examples/main/scripts/harden-ssh.sh",
				SHA256Checksum: "2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE"},
			{Type: "Shell", Name: "motd", Inline: []string{"echo 'hardened by kiln' | sudo tee /etc/motd"}},
			{Type: "File", Name: "auditd-rules", SourceURI: "files/audit.rules", Destination: "/tmp/audit.rules"},
			{Type: "Update", Name: "apt-upgrade", Filters: []string{"exclude:linux-image-*"}, UpdateLimit: 50},
			{Type: "Restart", RestartTimeout: "5m"},
		},
		Validate: &Validate{InVMValidations: []Customizer{{Type: "Shell", Name: "sshd-config", Inline: []string{"sudo sshd -t"}}}},
		Optimize: &Optimize{VMBoot: &OptimizeState{State: "Enabled"}},
		ErrorHandling: &ErrorHandling{
			OnCustomizerError: "abort",
			OnValidationError: "cleanup",
		},
		Distribute: []Distributor{
			{
				Type: "SharedImage", GalleryImageID: testGallery, RunOutputName: "debian12-sig",
				ArtifactTags: map[string]string{"source": "azureVmImageBuilder", "baseosimg": "debian12"},
				TargetRegions: []TargetRegion{
					{Name: "eastus", ReplicaCount: 1, StorageAccountType: "Standard_LRS"},
					{Name: "westeurope", ReplicaCount: 2, StorageAccountType: "Standard_ZRS"},
				},
				Versioning: &Versioning{Scheme: "Latest", Major: intPtr(1)},
			},
			{Type: "VHD", RunOutputName: "debian12-vhd"},
		},
		Kiln: &KilnSettings{Executor: "chroot", Packages: []string{"auditd", "openscap-scanner"}, Snapshot: "20250101T000000Z"},
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, name string) *ImageTemplate {
	t.Helper()
	tmpl, err := Parse(readTestdata(t, name), ParseOptions{Filename: name})
	if err != nil {
		t.Fatalf("Parse(%s):\n%v", name, err)
	}
	return tmpl
}

func TestParseFullResourceJSON(t *testing.T) {
	got := mustParse(t, "valid/debian-hardened.json")
	if diff := cmp.Diff(debianHardened(), got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseYAMLGivesTheSameStruct(t *testing.T) {
	fromJSON := mustParse(t, "valid/debian-hardened.json")
	fromYAML := mustParse(t, "valid/debian-hardened.yaml")
	if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
		t.Errorf("YAML differs from JSON (-json +yaml):\n%s", diff)
	}
	if fromJSON.ContentHash() != fromYAML.ContentHash() {
		t.Errorf("content hashes differ")
	}
}

func TestParseBareProperties(t *testing.T) {
	got := mustParse(t, "valid/bare-properties.json")
	want := &ImageTemplate{Properties: debianHardenedProperties()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseResourceWithoutType(t *testing.T) {
	got, err := Parse([]byte(`{"location": "eastus", "properties": {"source": {"type": "PlatformImage"}}}`), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &ImageTemplate{Location: "eastus", Properties: Properties{Source: Source{Type: "PlatformImage"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseMinimalYAML(t *testing.T) {
	got := mustParse(t, "valid/minimal.yaml")
	want := &ImageTemplate{Properties: Properties{
		Source: Source{Type: "DiskImage", URI: "/var/lib/images/debian-12-generic-amd64.qcow2",
			SHA256Checksum: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Customize:  []Customizer{{Type: "Shell", Inline: []string{"apt-get -y install nginx"}}},
		Distribute: []Distributor{{Type: "VHD", RunOutputName: "nginx"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(ValidateEnv{LocalBuild: true}); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseYAMLScalars(t *testing.T) {
	doc := "buildTimeoutInMinutes: 0x3C\nvmProfile: {osDiskSizeGB: 1e2}\nstagingResourceGroup: 2024-01-01\n" +
		"customize:\n  - {type: PowerShell, validExitCodes: [0o7, +1], runElevated: true, inline: [~, 'x']}\n"
	_, err := Parse([]byte(doc), ParseOptions{})
	if err == nil || err.Error() != "properties.customize[0].inline[0]: expected string, got null" {
		t.Fatalf("got %v", err)
	}
	got, err := Parse([]byte(strings.Replace(doc, "~, ", "", 1)), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &ImageTemplate{Properties: Properties{
		BuildTimeoutInMinutes: 60,
		VMProfile:             &VMProfile{OSDiskSizeGB: 100},
		StagingResourceGroup:  "2024-01-01",
		Customize:             []Customizer{{Type: "PowerShell", ValidExitCodes: []int{7, 1}, RunElevated: true, Inline: []string{"x"}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestParseNullIsAbsent(t *testing.T) {
	got, err := Parse([]byte(`{"source": {"type": "Shell-less", "publisher": null}, "customize": null, "distribute": [], "vmProfile": null}`), ParseOptions{})
	if err == nil || err.Error() != `properties.source.type: unknown source type "Shell-less"; valid values: PlatformImage, ManagedImage, SharedImageVersion, DiskImage` {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = Parse([]byte(`{"source": {"type": "PlatformImage", "publisher": null}, "customize": null, "vmProfile": null}`), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&ImageTemplate{Properties: Properties{Source: Source{Type: "PlatformImage"}}}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// parseErrorCases are documents and the exact errors Parse reports for
// them. Documents starting with "{" are JSON, the others YAML.
var parseErrorCases = []struct {
	name, doc, want string
}{
	{"unknown field: case-insensitive suggestion",
		`{"source": {"type": "PlatformImage"}, "customize": [{"type": "Shell", "scriptURI": "x"}]}`,
		`properties.customize[0].scriptURI: unknown field "scriptURI" (did you mean "scriptUri"?)`},
	{"unknown field: edit-distance suggestion",
		`{"customize": [{"type": "Shell"}, {"type": "Shell"}, {"type": "Shell", "scriptUrl": "x"}]}`,
		`properties.customize[2].scriptUrl: unknown field "scriptUrl" (did you mean "scriptUri"?)`},
	{"unknown field: no close name lists the valid ones",
		`{"errorHandling": {"whenever": "abort"}}`,
		`properties.errorHandling.whenever: unknown field "whenever" (valid fields: onCustomizerError, onValidationError)`},
	{"case-sensitive field names",
		`{"optimize": {"vmboot": {"state": "Enabled"}}}`,
		`properties.optimize.vmboot: unknown field "vmboot" (did you mean "vmBoot"?)`},
	{"field of another customizer kind",
		`{"customize": [{"type": "File", "inline": ["x"], "sourceUri": "a", "destination": "/tmp/a"}]}`,
		`properties.customize[0].inline: field "inline" is not valid for a File customizer; valid fields: name, type, sourceUri, destination, sha256Checksum, timeout`},
	{"PowerShell fields on Shell",
		`{"customize": [{"type": "Shell", "runElevated": true}]}`,
		`properties.customize[0].runElevated: field "runElevated" is not valid for a Shell customizer; valid fields: name, type, scriptUri, inline, sha256Checksum, timeout`},
	{"kiln Update customizer",
		`{"customize": [{"type": "Update", "searchCriteria": "IsInstalled=0"}]}`,
		`properties.customize[0].searchCriteria: field "searchCriteria" is not valid for an Update customizer; valid fields: name, type, filters, updateLimit, timeout`},
	{"Restart takes no script",
		`{"customize": [{"type": "Restart", "inline": ["reboot"]}]}`,
		`properties.customize[0].inline: field "inline" is not valid for a Restart customizer; valid fields: name, type, restartCommand, restartCheckCommand, restartTimeout`},
	{"validators are Shell, PowerShell and File only",
		`{"validate": {"inVMValidations": [{"type": "WindowsRestart"}]}}`,
		`properties.validate.inVMValidations[0].type: unknown validator type "WindowsRestart"; valid values: Shell, PowerShell, File`},
	{"unknown customizer type",
		`{"customize": [{"type": "shell", "inline": ["x"]}]}`,
		`properties.customize[0].type: unknown customizer type "shell"; valid values: Shell, PowerShell, File, WindowsRestart, WindowsUpdate, Update, Restart, Hardening (did you mean "Shell"?)`},
	{"source kinds",
		`{"source": {"type": "PlatformImage", "publisher": "Debian", "imageId": "x"}}`,
		`properties.source.imageId: field "imageId" is not valid for a PlatformImage source; valid fields: type, publisher, offer, sku, version, exactVersion, planInfo`},
	{"unknown source type",
		`{"source": {"type": "Marketplace"}}`,
		`properties.source.type: unknown source type "Marketplace"; valid values: PlatformImage, ManagedImage, SharedImageVersion, DiskImage`},
	{"distributor kinds",
		`{"distribute": [{"type": "VHD", "runOutputName": "v", "galleryImageId": "x"}]}`,
		`properties.distribute[0].galleryImageId: field "galleryImageId" is not valid for a VHD distributor; valid fields: type, runOutputName, artifactTags, uri`},
	{"unknown distributor type",
		`{"distribute": [{"type": "SharedImages", "runOutputName": "v"}]}`,
		`properties.distribute[0].type: unknown distributor type "SharedImages"; valid values: ManagedImage, SharedImage, VHD (did you mean "SharedImage"?)`},
	{"versioning schemes",
		`{"distribute": [{"type": "SharedImage", "runOutputName": "v", "versioning": {"scheme": "Source", "major": 1}}, {"type": "SharedImage", "runOutputName": "w", "versioning": {"scheme": "latest"}}]}`,
		`properties.distribute[0].versioning.major: field "major" is not valid for a Source versioning; valid fields: scheme` + "\n" +
			`properties.distribute[1].versioning.scheme: unknown versioning scheme "latest"; valid values: Latest, Source (did you mean "Latest"?)`},
	{"wrong types",
		`{"buildTimeoutInMinutes": "100", "customize": [{"type": "Shell", "inline": "echo hi"}], "validate": {"sourceValidationOnly": "yes"}, "source": {"type": "PlatformImage", "version": 1.0}, "managedResourceTags": {"a": 1}}`,
		`properties.buildTimeoutInMinutes: expected integer, got string` + "\n" +
			`properties.customize[0].inline: expected array, got string` + "\n" +
			`properties.validate.sourceValidationOnly: expected boolean, got string` + "\n" +
			`properties.source.version: expected string, got number (write it in quotes: "1.0")` + "\n" +
			`properties.managedResourceTags.a: expected string, got number (write it in quotes: "1")`},
	{"null inside an array",
		`{"customize": [{"type": "Shell", "inline": ["a", null]}, null]}`,
		`properties.customize[0].inline[1]: expected string, got null` + "\n" +
			`properties.customize[1]: expected object, got null`},
	{"integers",
		`{"buildTimeoutInMinutes": 1.5, "vmProfile": {"osDiskSizeGB": 3000000000}, "customize": [{"type": "PowerShell", "validExitCodes": [0, 1e2, 1.0, -1e99]}]}`,
		`properties.buildTimeoutInMinutes: expected integer, got 1.5` + "\n" +
			`properties.vmProfile.osDiskSizeGB: 3000000000 is out of range for a 32-bit integer` + "\n" +
			`properties.customize[0].validExitCodes[3]: -1e99 is out of range for a 32-bit integer`},
	{"object expected",
		`{"source": "PlatformImage", "validate": [], "customize": {}, "identities": {}}`,
		`properties.source: expected object, got string` + "\n" +
			`properties.validate: expected object, got array` + "\n" +
			`properties.customize: expected array, got object` + "\n" +
			`properties.identities: unknown field "identities" (valid fields: source, customize, optimize, validate, distribute, errorHandling, buildTimeoutInMinutes, vmProfile, stagingResourceGroup, autoRun, managedResourceTags, x-kiln)`},
	{"resource envelope",
		`{"type": "Microsoft.Compute/images", "location": "eastus", "source": {}, "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/x": "id"}}, "id": "/subscriptions/x", "properties": {"provisioningState": "Succeeded"}}`,
		`source: unknown field "source" (it belongs inside "properties")` + "\n" +
			`identity.userAssignedIdentities["/x"]: expected object, got string` + "\n" +
			`id: field "id" is read-only (it is set by the service; remove it from the template)` + "\n" +
			`properties.provisioningState: field "provisioningState" is read-only (it is set by the service; remove it from the template)` + "\n" +
			`type: resource type "Microsoft.Compute/images" is not an image template (expected "Microsoft.VirtualMachineImages/imageTemplates")`},
	{"kiln extension",
		`{"x-kiln": {"executor": "vm", "redactValues": ["x"], "Packages": []}}`,
		`properties.x-kiln.redactValues: unknown field "redactValues" (valid fields: executor, packages, mirror, snapshot, openscap)` + "\n" +
			`properties.x-kiln.Packages: unknown field "Packages" (did you mean "packages"?)`},
	{"duplicate JSON keys",
		`{"source": {"type": "PlatformImage", "type": "ManagedImage"}}`,
		`properties.source.type: duplicate key "type"`},
	{"JSON syntax error",
		"{\n  \"source\": {\n    \"type\": \"PlatformImage\",\n  }\n}",
		`t.json:4:3: invalid JSON: invalid character '}' looking for beginning of object key string`},
	{"JSON truncated",
		`{"source": {`,
		`t.json:1:13: invalid JSON: unexpected end of input`},
	{"JSON trailing data",
		"{}\n{}",
		`t.json:2:1: invalid JSON: invalid character '{' after top-level value`},
	{"not an object",
		`[1, 2]`,
		`an image template is an object, got array`},
	{"empty", " \n", `the document is empty`},
	{"YAML: duplicate keys",
		"source:\n  type: PlatformImage\n  type: DiskImage\n",
		`properties.source.type: duplicate key "type" (line 3)`},
	{"YAML: unquoted version",
		"source:\n  type: PlatformImage\n  version: 1.0\n  sku: 12\n",
		`properties.source.version: expected string, got number (write it in quotes: "1.0")` + "\n" +
			`properties.source.sku: expected string, got number (write it in quotes: "12")`},
	{"YAML: syntax error",
		"source:\n  type: PlatformImage\n bad: [\n",
		`t.json:2: invalid YAML: did not find expected key`},
	{"YAML: two documents",
		"source: {}\n---\nsource: {}\n",
		`invalid YAML: a template is a single document; found a second one ("---")`},
	{"YAML: merge keys",
		"base: &b {type: Shell}\ncustomize:\n  - <<: *b\n    inline: [x]\n",
		`t.json:3:5: invalid YAML: merge keys (<<) are not supported; write the fields out`},
	{"ARM deployment template",
		`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []}`,
		`this is an ARM deployment template, not an image template (evaluate it with: kiln deployment group create -g RG --template-file FILE)`},
	{"YAML: numbers that are not finite",
		"buildTimeoutInMinutes: .inf\n",
		`t.json:1:24: invalid YAML: unsupported number ".inf"`},
	{"YAML: custom tags",
		"stagingResourceGroup: !vault secret\n",
		`t.json:1:23: invalid YAML: unsupported tag !vault on "secret"`},
	{"YAML: keys must be scalars",
		"? [a, b]\n: c\n",
		`t.json:1:3: invalid YAML: mapping keys must be plain strings`},
	{"YAML: scalar document",
		"just text\n",
		`an image template is an object, got string`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), ParseOptions{Filename: "t.json"})
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			want := prefixLines(tc.want, "t.json: ")
			if got := err.Error(); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// prefixLines adds prefix to each line that does not already start with
// the file name and a position ("t.json:3:5: ...").
func prefixLines(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "t.json:") {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

func TestParseErrorsAreTyped(t *testing.T) {
	_, err := Parse([]byte(`{"source": {"type": "PlatformImage", "sku": 1}, "distribute": [{"type": "VHD", "runOutputName": 2}]}`), ParseOptions{})
	var list Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("got %#v, want two FieldErrors", err)
	}
	want := Errors{
		{Path: "properties.source.sku", Message: "expected string, got number", Hint: `write it in quotes: "1"`},
		{Path: "properties.distribute[0].runOutputName", Message: "expected string, got number", Hint: `write it in quotes: "2"`},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	var fe FieldError
	if !errors.As(err, &fe) || fe.Path != "properties.source.sku" {
		t.Errorf("errors.As(FieldError) = %v", fe)
	}
}

// TestParseManyErrorsAtOnce checks a document with many problems against
// testdata/invalid/many-errors.golden (run with -update to rewrite it).
func TestParseManyErrorsAtOnce(t *testing.T) {
	for _, name := range []string{"many-errors.json", "many-errors.yaml"} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(readTestdata(t, "invalid/"+name), ParseOptions{Filename: name})
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			got := strings.ReplaceAll(err.Error(), name+": ", "")
			checkGolden(t, "invalid/many-errors.golden", got)
		})
	}
}
