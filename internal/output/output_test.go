package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The fixtures look like kiln's resources: struct field order is not
// alphabetical on purpose, so the goldens prove that it is kept.

type runStatus struct {
	StartTime   string  `json:"startTime"`
	RunState    string  `json:"runState"`
	RunSubState string  `json:"runSubState"`
	Message     *string `json:"message"`
}

type properties struct {
	ProvisioningState string   `json:"provisioningState"`
	OSDiskSizeGB      int      `json:"osDiskSizeGB"`
	Regions           []string `json:"replicationRegions"`
}

type resource struct {
	Name          string            `json:"name"`
	ID            string            `json:"id"`
	Type          string            `json:"type"`
	Location      string            `json:"location"`
	Tags          map[string]string `json:"tags"`
	ImageIsLatest bool              `json:"imageIsLatest"`
	ImageVersion  *string           `json:"imageVersion"`
	SizeBytes     uint64            `json:"sizeBytes"`
	Score         float64           `json:"score"`
	Properties    properties        `json:"properties"`
	LastRunStatus runStatus         `json:"lastRunStatus"`
}

func strPtr(s string) *string { return &s }

func sampleResources() []resource {
	const prefix = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
	return []resource{
		{
			Name: "web-01", ID: prefix + "web-01", Type: "Microsoft.Compute/virtualMachines",
			Location: "eastus", Tags: map[string]string{"team": "payments", "env": "prod"},
			ImageIsLatest: true, ImageVersion: strPtr("1.0.0"), SizeBytes: 9007199254740993, Score: 1.5,
			Properties:    properties{ProvisioningState: "Succeeded", OSDiskSizeGB: 30, Regions: []string{"eastus", "westeurope"}},
			LastRunStatus: runStatus{StartTime: "2024-05-01T10:00:00Z", RunState: "Succeeded", RunSubState: "Distributing"},
		},
		{
			Name: "batch-01", ID: prefix + "batch-01", Type: "Microsoft.Compute/virtualMachines",
			Location: "westeurope", Tags: map[string]string{"team": "data"},
			ImageIsLatest: false, ImageVersion: nil, SizeBytes: 0, Score: 0.25,
			Properties:    properties{ProvisioningState: "Failed", OSDiskSizeGB: 64, Regions: []string{}},
			LastRunStatus: runStatus{StartTime: "2024-05-02T11:30:00Z", RunState: "Failed", RunSubState: "Customizing", Message: strPtr("step 2: exit status 1")},
		},
		{
			Name: "api-02", ID: prefix + "api-02", Type: "Microsoft.Compute/virtualMachines",
			Location: "eastus", Tags: map[string]string{"team": "payments"},
			ImageIsLatest: false, ImageVersion: strPtr("0.9.1"), SizeBytes: 21474836480, Score: 3,
			Properties:    properties{ProvisioningState: "Succeeded", OSDiskSizeGB: 30},
			LastRunStatus: runStatus{StartTime: "2024-05-03T09:15:00Z", RunState: "Succeeded", RunSubState: "Distributing"},
		},
	}
}

type goldenCase struct {
	name  string
	value any
	query string
}

func goldenCases() []goldenCase {
	list := sampleResources()
	return []goldenCase{
		{name: "list", value: list},
		{name: "single", value: list[0]},
		{name: "scalar", value: "Succeeded"},
		{name: "empty-list", value: []resource{}},
		{name: "query-filter-hash", value: list, query: "[?tags.team=='payments'].{vm:name, latest:imageIsLatest}"},
		{name: "query-run-state", value: list[0], query: "lastRunStatus.runState"},
		{name: "query-sub-object", value: list[1], query: "lastRunStatus"},
		{name: "query-names", value: list, query: "[].name"},
		{name: "query-pairs", value: list, query: "[].[name, properties.osDiskSizeGB]"},
		{name: "query-numbers", value: list, query: "[?score > `1`].{name: name, size: sizeBytes, score: score}"},
		{name: "query-bool", value: list[0], query: "imageIsLatest"},
		{name: "query-big-int", value: list[0], query: "sizeBytes"},
	}
}

var goldenFormats = []string{FormatJSON, FormatJSONC, FormatYAML, FormatTSV, FormatTable}

func TestWriteGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		for _, format := range goldenFormats {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var out bytes.Buffer
				err := Write(&out, tc.value, Options{Format: format, Query: tc.query, Color: true})
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				checkGolden(t, filepath.Join("testdata", tc.name+"."+format+".golden"), out.String())
			})
		}
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestWriteKnownOutputs(t *testing.T) {
	list := sampleResources()
	tests := []struct {
		name  string
		value any
		opts  Options
		want  string
	}{
		{"run state tsv", list[0], Options{Format: "tsv", Query: "lastRunStatus.runState"}, "Succeeded\n"},
		{"bool tsv is lower case at top level", list[0], Options{Format: "tsv", Query: "imageIsLatest"}, "true\n"},
		{"names tsv", list, Options{Format: "tsv", Query: "[].name"}, "web-01\nbatch-01\napi-02\n"},
		{"hash keeps query order", list, Options{Format: "tsv", Query: "[0].{z: name, a: location}"}, "web-01\teastus\n"},
		{"big int survives", list[0], Options{Query: "sizeBytes"}, "9007199254740993\n"},
		{"big int survives projection", list, Options{Format: "tsv", Query: "[].sizeBytes"}, "9007199254740993\n0\n21474836480\n"},
		{"float keeps text", list, Options{Format: "tsv", Query: "[].score"}, "1.5\n0.25\n3\n"},
		{"numeric compare", list, Options{Format: "tsv", Query: "[?properties.osDiskSizeGB > `40`].name"}, "batch-01\n"},
		{"null result prints nothing", list[0], Options{Format: "json", Query: "nosuchfield"}, ""},
		{"nil value prints nothing", nil, Options{Format: "table"}, ""},
		{"none format", list, Options{Format: "none"}, ""},
		{"empty format is json", "x", Options{}, "\"x\"\n"},
		{"format is case-insensitive", "x", Options{Format: "TSV"}, "x\n"},
		{"jsonc without color is json", map[string]int{"a": 1}, Options{Format: "jsonc"}, "{\n  \"a\": 1\n}\n"},
		{"json does not escape html or unicode", "<é>&", Options{}, "\"<é>&\"\n"},
		{"json escapes controls", "a\"b\\c\n\x01", Options{}, "\"a\\\"b\\\\c\\n\\u0001\"\n"},
		{"raw message keeps order", json.RawMessage(`{"b":1,"a":{"d":2,"c":3}}`), Options{Format: "tsv", Query: "a"}, "2\t3\n"},
		{"table list of lists", [][]any{{"a", 1}, {"b", nil}}, Options{Format: "table"}, "Column1    Column2\n---------  ---------\na          1\nb\n"},
		{"table skips id type etag and nulls", map[string]any{"id": "x", "type": "t", "etag": "e", "name": "n", "gone": nil}, Options{Format: "table"}, "Name\n------\nn\n"},
		{"table empty list", []int{}, Options{Format: "table"}, "\n"},
		{"table union of columns", []map[string]any{{"a": 1}, {"b": 2}}, Options{Format: "table"}, "A    B\n---  ---\n1\n     2\n"},
		{"tsv nested values", map[string]any{"a": map[string]int{"x": 1}, "b": []int{1, 2, 3}, "c": nil, "d": false}, Options{Format: "tsv"}, "\t3\tNone\tFalse\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Write(&out, tc.value, tc.opts); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name  string
		value any
		opts  Options
		want  string
	}{
		{"syntax", []int{1}, Options{Query: "[?"}, `invalid --query "[?": `},
		{"unknown function", []int{1}, Options{Query: "nosuch(@)"}, `invalid --query "nosuch(@)": `},
		{"bad argument type", []int{1}, Options{Query: "abs(@)"}, `invalid --query "abs(@)": `},
		{"unknown format", 1, Options{Format: "xml"}, `invalid output format "xml": valid formats are json, jsonc, yaml, table, tsv, none`},
		{"unencodable value", make(chan int), Options{}, "output: cannot encode result"},
		{"table without columns", []map[string]any{{"tags": map[string]string{}}}, Options{Format: "table"}, "table output unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Write(&out, tc.value, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("Write wrote %q despite the error", out.String())
			}
		})
	}
}

func TestQueryErrorType(t *testing.T) {
	err := Write(&bytes.Buffer{}, 1, Options{Query: "]["})
	qe, ok := err.(*QueryError)
	if !ok {
		t.Fatalf("error is %T, want *QueryError", err)
	}
	if qe.Query != "][" || qe.Reason == "" {
		t.Errorf("QueryError = %+v", qe)
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"json", "json", true},
		{"JSONC", "jsonc", true},
		{" yaml ", "yaml", true},
		{"table", "table", true},
		{"tsv", "tsv", true},
		{"none", "none", true},
		{"", "", false},
		{"yml", "", false},
		{"csv", "", false},
	}
	for _, tc := range tests {
		got, err := ParseFormat(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestColorEnabled(t *testing.T) {
	if ColorEnabled(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if ColorEnabled(os.Stdout) {
		t.Error("NO_COLOR must disable colour")
	}
}

func TestQueryDoesNotReorderInput(t *testing.T) {
	// sort_by sorts go-jmespath's copy in place; the output must follow the
	// sorted order while unsorted objects keep their key order.
	var out bytes.Buffer
	err := Write(&out, sampleResources(), Options{Format: "tsv", Query: "sort_by(@, &name)[].{n: name, l: location}"})
	if err != nil {
		t.Fatal(err)
	}
	want := "api-02\teastus\nbatch-01\twesteurope\nweb-01\teastus\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzWriteQuery(f *testing.F) {
	for _, tc := range goldenCases() {
		f.Add(tc.query)
	}
	f.Add("[?a<`1`] | sort_by(@, &b)[0:2].{x: c, y: `{\"k\": 1}`}")
	value := sampleResources()
	f.Fuzz(func(t *testing.T, query string) {
		for _, format := range Formats {
			_ = Write(&bytes.Buffer{}, value, Options{Format: format, Query: query, Color: true})
		}
	})
}
