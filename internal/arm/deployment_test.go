package arm

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEvaluateDeploymentQuickstart(t *testing.T) {
	params, err := ParseParameters([]string{"@testdata/aib-deployment.parameters.json", "buildTimeout=90"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvaluateDeployment(readFixture(t, "aib-deployment.json"), params, testCtx)
	if err != nil {
		t.Fatal(err)
	}
	identity := rgID + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/AIBIdentity"
	want := []Resource{{
		Type:       "Microsoft.VirtualMachineImages/imageTemplates",
		APIVersion: "2024-02-01",
		Name:       "debian12-hardened",
		Location:   "eastus",
		DependsOn:  []string{},
		Fields: map[string]any{
			"tags": map[string]any{"owner": "platform", "subscription": sub1, "template": "debian12-hardened"},
			"identity": map[string]any{
				"type":                   "UserAssigned",
				"userAssignedIdentities": map[string]any{identity: map[string]any{}},
			},
			"properties": map[string]any{
				"buildTimeoutInMinutes": int64(90),
				"vmProfile":             map[string]any{"vmSize": "Standard_D2s_v3", "osDiskSizeGB": int64(30)},
				"source": map[string]any{
					"type": "PlatformImage", "publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest",
				},
				"customize": []any{
					map[string]any{
						"type": "Shell", "name": "harden",
						"scriptUri":      "https://raw.githubusercontent.com/kiln-dev/examples/main/scripts/harden.sh",
						"sha256Checksum": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
					},
					map[string]any{
						"type": "Shell", "name": "motd",
						"inline": []any{"echo 'built by kiln' | sudo tee /etc/motd", "[ -f /etc/motd ] && echo ok"},
					},
				},
				"distribute": []any{map[string]any{
					"type":               "SharedImage",
					"galleryImageId":     rgID + "/providers/Microsoft.Compute/galleries/myGallery/images/debian12",
					"runOutputName":      "debian12-sig",
					"artifactTags":       map[string]any{"source": "azureVmImageBuilder", "baseosimg": "debian12"},
					"replicationRegions": []any{"eastus", "westeurope"},
				}},
			},
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resources mismatch (-want +got):\n%s", diff)
	}
	id, err := got[0].ID(testCtx)
	if err != nil || id.String() != rgID+"/providers/Microsoft.VirtualMachineImages/imageTemplates/debian12-hardened" {
		t.Errorf("ID() = %s, %v", id, err)
	}
}

func TestEvaluateDefaultsOutputsAndSecrets(t *testing.T) {
	params := map[string]any{"galleryName": "g", "registryToken": RawValue("s3cr3t-token")}
	d, err := Evaluate(readFixture(t, "aib-deployment.json"), params, testCtx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Resources) != 2 {
		t.Fatalf("got %d resources, want 2 (the condition is true)", len(d.Resources))
	}
	name := d.Parameters["imageTemplateName"]
	if name != "debian12-hardened-egztcrimaibaw" {
		t.Errorf("default imageTemplateName = %v", name)
	}
	wantOut := map[string]any{"imageTemplateId": rgID + "/providers/Microsoft.VirtualMachineImages/imageTemplates/debian12-hardened-egztcrimaibaw"}
	if diff := cmp.Diff(wantOut, d.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"s3cr3t-token"}, d.SecureValues); diff != "" {
		t.Errorf("secure values (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"s3cr3t-token"}, d.Resources[1].SecureValues); diff != "" {
		t.Errorf("resource secure values (-want +got):\n%s", diff)
	}
	if got := d.Resources[1].Fields["properties"]; !cmp.Equal(got, map[string]any{"value": "s3cr3t-token"}) {
		t.Errorf("secret resource properties = %v", got)
	}
}

func TestResourceJSON(t *testing.T) {
	r := Resource{Type: "A.B/c", APIVersion: "2024-02-01", Name: "n", Fields: map[string]any{"properties": map[string]any{"x": int64(1)}}}
	data, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "A.B/c", "apiVersion": "2024-02-01", "name": "n", "properties": map[string]any{"x": 1.0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// deployment assembles a small template around the given sections.
func deployment(params, vars, resources string) []byte {
	if params == "" {
		params = "{}"
	}
	if vars == "" {
		vars = "{}"
	}
	if resources == "" {
		resources = "[]"
	}
	return []byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0", "parameters": ` + params + `, "variables": ` + vars + `, "resources": ` + resources + `}`)
}

const okResource = `{"type": "A.B/c", "apiVersion": "1", "name": "[parameters('p')]"}`

func TestEvaluateDeploymentErrors(t *testing.T) {
	cases := []struct {
		name   string
		doc    []byte
		params map[string]any
		want   string
	}{
		{"syntax", []byte("{\n  \"a\": 1,\n}"), nil,
			"invalid JSON at line 3, column 1: invalid character '}' looking for beginning of object key string"},
		{"not an object", []byte(`[]`), nil, "a deployment template is a JSON object, got an array"},
		{"trailing data", []byte("{}\n {}"), nil, "invalid JSON at line 2, column 2: unexpected data after the top-level value"},
		{"top level", []byte(`{"$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#", "resource": [], "functions": [{"namespace": "x"}]}`), nil,
			"$schema: this is a parameters file, not a deployment template (pass parameter files with --parameters @FILE)\n" +
				"contentVersion: contentVersion is required (add \"contentVersion\": \"1.0.0.0\")\n" +
				"functions: user-defined functions are not supported (inline the functions' bodies where they are used)\n" +
				"resource: unknown template property \"resource\" (did you mean \"resources\"?)"},
		{"subscription schema", []byte(`{"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []}`), nil,
			`$schema: only resource group deployments are supported, got schema "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"`},
		{"language version 2", []byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "languageVersion": "2.0", "resources": {}}`), nil,
			"languageVersion: languageVersion is not supported (languageVersion 2.0 templates cannot be evaluated by kiln) (write the template without user-defined types and symbolic resources)"},
		{"symbolic resources", []byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": {}}`), nil,
			"resources: expected an array, got an object (symbolic-name resources of languageVersion 2.0 are not supported)"},
		{"missing required parameter", deployment(`{"p": {"type": "string"}}`, "", "["+okResource+"]"), nil,
			"parameters.p: parameter 'p' is required: no value was given and it has no defaultValue (pass it with --parameters p=VALUE or give it a defaultValue)"},
		{"undeclared parameter", deployment(`{"location": {"type": "string"}}`, "", ""), map[string]any{"location": "x", "loaction": "y"},
			"parameters.loaction: a value was given for parameter 'loaction', which the template does not declare (did you mean 'location'?)"},
		{"no parameters declared", deployment("", "", ""), map[string]any{"x": 1},
			"parameters.x: a value was given for parameter 'x', which the template does not declare (the template declares no parameters)"},
		{"not allowed", deployment(`{"p": {"type": "string", "allowedValues": ["a", "b"]}}`, "", ""), map[string]any{"p": "c"},
			`parameters.p: value "c" is not allowed (allowed values: "a", "b")`},
		{"array element not allowed", deployment(`{"p": {"type": "array", "allowedValues": ["a", "b"]}}`, "", ""), map[string]any{"p": []any{"a", "z"}},
			`parameters.p: value "z" is not allowed (allowed values: "a", "b")`},
		{"wrong type", deployment(`{"p": {"type": "int"}, "q": {"type": "bool"}, "r": {"type": "object"}}`, "", ""),
			map[string]any{"p": "seven", "q": RawValue("maybe"), "r": RawValue("{")},
			"parameters.p: expected an int value, got a string\n" +
				"parameters.q: cannot use \"maybe\" as a bool (expected true or false)\n" +
				"parameters.r: cannot use \"{\" as an object: it is not valid JSON"},
		{"bounds", deployment(`{"n": {"type": "int", "minValue": 1, "maxValue": 3}, "s": {"type": "string", "maxLength": 2}, "a": {"type": "array", "minLength": 1}}`, "", ""),
			map[string]any{"n": 4, "s": "abc", "a": []any{}},
			"parameters.a: length 0 is less than minLength 1\n" +
				"parameters.n: value 4 is greater than maxValue 3\n" +
				"parameters.s: length 3 is greater than maxLength 2"},
		{"bad declarations", deployment(`{"p": {"type": "text"}, "q": {"defaultValue": 1}, "r": {"type": "string", "allowedValue": ["x"]}, "s": {"type": "int", "minValue": "1"}}`, "", ""), nil,
			"parameters.p.type: unknown type \"text\" (valid types: string, secureString, int, bool, object, secureObject, array)\n" +
				"parameters.q: \"type\" is required (one of string, secureString, int, bool, object, secureObject, array)\n" +
				"parameters.r.allowedValue: unknown parameter property \"allowedValue\" (did you mean \"allowedValues\"?)\n" +
				"parameters.s.minValue: expected an int, got a string"},
		{"default fails its own check", deployment(`{"p": {"type": "string", "defaultValue": "[resourceGroup().name]", "allowedValues": ["x"]}}`, "", ""), nil,
			`parameters.p: value "ImageBuilderRG" is not allowed (allowed values: "x")`},
		{"error in default", deployment(`{"p": {"type": "string", "defaultValue": "[concat(parameters('q'))]"}}`, "", ""), nil,
			"parameters.p.defaultValue: parameter 'q' is not defined (did you mean 'p'?)"},
		{"secure values are masked", deployment(`{"pw": {"type": "securestring", "allowedValues": ["x"]}, "pw2": {"type": "secureObject"}, "n": {"type": "int", "defaultValue": "[int(parameters('pw2').p)]"}}`, "", ""),
			map[string]any{"pw": "hunter2", "pw2": map[string]any{"p": "s3cret-pass"}},
			"parameters.n.defaultValue: function 'int': cannot convert \"***\" to an int\n" +
				"parameters.pw: the value is not one of the allowed values (allowed values: \"x\")"},
		{"variable errors once", deployment(`{"p": {"type": "string", "defaultValue": "x"}}`, `{"a": "[variables('b')]", "b": "[bad()]", "c": "[variables('a')]", "copy": []}`, "["+okResource+"]"), nil,
			"variables.b: unknown function 'bad' (did you mean 'add'?)\n" +
				"variables.copy: variable copy loops are not supported"},
		{"resource problems", deployment(`{"p": {"type": "string", "defaultValue": "x"}}`, "", `[
			{"type": "A.B/c", "name": "n"},
			{"type": "c", "apiVersion": "1", "name": ""},
			{"type": "A.B/c", "apiVersion": "1", "name": "n", "copy": {"name": "loop", "count": 2}, "resources": []},
			{"type": "A.B/c", "apiVersion": "1", "name": "[parameters('p')]", "condition": "yes"},
			{"type": "A.B/c", "apiVersion": "1", "name": "[parameters('p')]", "dependsOn": [1]},
			"nope"]`), nil,
			"resources[0]: a resource needs \"apiVersion\"\n" +
				"resources[1].name: must not be empty\n" +
				"resources[1].type: resource type \"c\" is not of the form Namespace/type (for example Microsoft.VirtualMachineImages/imageTemplates)\n" +
				"resources[2].copy: resource copy loops are not supported\n" +
				"resources[2].resources: nested child resources are not supported (declare child resources at the top level with their full type and name)\n" +
				"resources[3].condition: a condition must be a bool, got a string\n" +
				"resources[4].dependsOn[0]: expected a string, got an int\n" +
				"resources[5]: a resource is an object, got a string"},
		{"duplicate resource", deployment(`{"p": {"type": "string", "defaultValue": "x"}}`, "", "["+okResource+", "+okResource+"]"), nil,
			"resources[1]: resource A.B/c \"x\" is already defined at resources[0]"},
		{"errors in resources are all reported", deployment(`{"p": {"type": "string", "defaultValue": "x"}}`, "", `[{"type": "A.B/c", "apiVersion": "1", "name": "n",
			"properties": {"a": "[parameters('q')]", "b": ["[concatt('x')]"], "[toLower(1)]": 1}}]`), nil,
			"resources[0].properties.a: parameter 'q' is not defined (did you mean 'p'?)\n" +
				"resources[0].properties.b[0]: unknown function 'concatt' (did you mean 'concat'?)\n" +
				"resources[0].properties[\"[toLower(1)]\"]: function 'toLower' expects argument 1 to be a string, got an int"},
		{"outputs", []byte(`{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": [],
			"outputs": {"a": {"type": "int", "value": "x"}, "b": {"type": "string", "value": "[reference('x')]"}, "c": {"type": "string", "valeu": 1}}}`), nil,
			"outputs.a.value: expected an int value, got a string\n" +
				"outputs.b.value: function 'reference' is not supported by kiln (it reads live Azure state; pass the value in as a parameter)\n" +
				"outputs.c.valeu: unknown output property \"valeu\" (did you mean \"value\"?)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EvaluateDeployment(tc.doc, tc.params, testCtx)
			if err == nil {
				t.Fatal("EvaluateDeployment succeeded")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestRawValueCoercion(t *testing.T) {
	doc := deployment(`{"s": {"type": "string"}, "i": {"type": "int"}, "b": {"type": "bool"}, "o": {"type": "object"}, "a": {"type": "array"}}`, "", "")
	params, err := ParseParameters([]string{"s=3", "i=3", "b=True", `o={"k": [1]}`, `a=["x"]`})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Evaluate(doc, params, testCtx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"s": "3", "i": int64(3), "b": true, "o": map[string]any{"k": []any{int64(1)}}, "a": []any{"x"}}
	if diff := cmp.Diff(want, d.Parameters); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	doc := readFixture(t, "aib-deployment.json")
	params := map[string]any{"galleryName": "g"}
	first, err := EvaluateDeployment(doc, params, testCtx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		again, err := EvaluateDeployment(doc, params, testCtx)
		if err != nil || !cmp.Equal(first, again) {
			t.Fatalf("evaluation %d differs: %v", i, err)
		}
	}
	if strings.Contains(first[0].Name, "[") {
		t.Errorf("name not evaluated: %s", first[0].Name)
	}
}
