package arm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseParameters(t *testing.T) {
	full := writeFile(t, "full.json", `{
		"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
		"contentVersion": "1.0.0.0",
		"parameters": {"location": {"value": "westeurope"}, "count": {"value": 2}, "tags": {"value": {"a": "b"}}}}`)
	noSchema := writeFile(t, "noschema.json", `{"parameters": {"location": {"value": "northeurope"}}}`)
	bare := writeFile(t, "bare.json", `{"vmSize": {"value": "Standard_D4s_v3"}, "regions": ["eastus"], "obj": {"value": 1, "other": 2}}`)
	cases := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"file", []string{"@" + full}, map[string]any{"location": "westeurope", "count": int64(2), "tags": map[string]any{"a": "b"}}},
		{"file without schema", []string{"@" + noSchema}, map[string]any{"location": "northeurope"}},
		{"bare object", []string{"@" + bare}, map[string]any{
			"vmSize": "Standard_D4s_v3", "regions": []any{"eastus"}, "obj": map[string]any{"value": int64(1), "other": int64(2)}}},
		{"path without @", []string{noSchema}, map[string]any{"location": "northeurope"}},
		{"name=value", []string{"a=text", "b=3", "c=true", "d=", "e=x=y", `f={"k": 1}`, `g=[1, "2"]`, `h="quoted"`, "i={not json"},
			map[string]any{
				"a": RawValue("text"), "b": RawValue("3"), "c": RawValue("true"), "d": RawValue(""), "e": RawValue("x=y"),
				"f": map[string]any{"k": int64(1)}, "g": []any{int64(1), "2"}, "h": "quoted", "i": RawValue("{not json"),
			}},
		{"inline JSON", []string{`{"location": {"value": "eastus"}, "n": 5}`}, map[string]any{"location": "eastus", "n": int64(5)}},
		{"later wins", []string{"@" + full, "location=eastus2"}, map[string]any{
			"location": RawValue("eastus2"), "count": int64(2), "tags": map[string]any{"a": "b"}}},
		{"none", nil, map[string]any{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseParameters(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseParametersErrors(t *testing.T) {
	syntax := writeFile(t, "syntax.json", "{\n  \"a\": {\"value\": 1,}\n}")
	kv := writeFile(t, "kv.json", `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0",
		"parameters": {"pw": {"reference": {"keyVault": {"id": "x"}, "secretName": "s"}}, "plain": "x"}, "extra": 1}`)
	tmpl := writeFile(t, "template.json", `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"syntax", []string{"@" + syntax}, syntax + ": invalid JSON at line 2, column 20: invalid character '}' looking for beginning of object key string"},
		{"file problems", []string{"@" + kv}, kv + `: extra: unknown parameters file property "extra"`},
		{"entries", []string{`{"parameters": {"pw": {"reference": {}}, "plain": "x"}}`},
			"inline parameters: parameters.plain: expected an object with a \"value\", got a string (write {\"value\": ...})\n" +
				"inline parameters: parameters.pw: Key Vault references are not supported (pass the secret's value as a securestring parameter)"},
		{"template", []string{"@" + tmpl}, tmpl + ": $schema: this is a deployment template, not a parameters file (pass templates with --template-file)"},
		{"not an object", []string{"[1]"}, `parameter argument "[1]" is not NAME=VALUE, @FILE or a JSON object`},
		{"garbage", []string{"no-equals-sign"}, `parameter argument "no-equals-sign" is not NAME=VALUE, @FILE or a JSON object`},
		{"unterminated", []string{`{"a": 1}`, `{`}, "inline parameters: invalid JSON at line 1, column 2: unexpected end of input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseParameters(tc.args)
			if err == nil {
				t.Fatal("ParseParameters succeeded")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	_, err := ParseParameters([]string{"@" + filepath.Join(t.TempDir(), "missing.json")})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want a wrapped fs.ErrNotExist", err)
	}
}
