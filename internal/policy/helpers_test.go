package policy

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test resources are of type Microsoft.Test/things, whose aliases
// (testdata/test_aliases.json, in Azure's provider format) map
// Microsoft.Test/things/<x> to properties.<x>.
const (
	testType = "Microsoft.Test/things"
	testNS   = "Microsoft.Test/things/"
	testID   = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Test/things/thing1"
)

var (
	testAliasesOnce sync.Once
	testAliasTable  *Aliases
)

// testAliases is the built-in table plus the test provider.
func testAliases(t testing.TB) *Aliases {
	t.Helper()
	testAliasesOnce.Do(func() {
		data, err := os.ReadFile("testdata/test_aliases.json")
		if err != nil {
			panic(err)
		}
		if testAliasTable, err = LoadAliases(data, nil); err != nil {
			panic(err)
		}
	})
	return testAliasTable
}

// testNow is the time every test evaluates at.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// jsonValue decodes a JSON literal for a test.
func jsonValue(t testing.TB, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func jsonObject(t testing.TB, s string) map[string]any {
	t.Helper()
	m, ok := jsonValue(t, s).(map[string]any)
	if !ok {
		t.Fatalf("test JSON %s is not an object", s)
	}
	return m
}

// ruleDef wraps a condition into a definition (mode All, effect audit)
// with the given parameter declarations.
func ruleDef(cond, params string) string {
	if params == "" {
		params = "{}"
	}
	return `{"mode":"All","parameters":` + params + `,"policyRule":{"if":` + cond + `,"then":{"effect":"audit"}}}`
}

// compileCond compiles a condition with parameter values.
func compileCond(t testing.TB, cond, params string, values map[string]any) (*CompiledDefinition, error) {
	t.Helper()
	d, err := ParseDefinition([]byte(ruleDef(cond, params)), testAliases(t))
	if err != nil {
		return nil, err
	}
	return d.Compile(values)
}

// evalCond evaluates a condition against a test resource whose properties
// are props (JSON); it reports whether the if held.
func evalCond(t testing.TB, cond, props string) (bool, error) {
	t.Helper()
	c, err := compileCond(t, cond, "", nil)
	if err != nil {
		t.Fatalf("compile %s: %v", cond, err)
	}
	return evalOn(t, c, testResource(t, props))
}

func evalOn(t testing.TB, c *CompiledDefinition, res Resource) (bool, error) {
	t.Helper()
	r := c.Evaluate(res, EvalContext{Now: testNow})
	if r.Err != nil {
		if r.Effect != EffectDeny {
			t.Errorf("a failed evaluation gave effect %q, want deny", r.Effect)
		}
		return false, r.Err
	}
	return r.Effect != "", nil
}

// testResource is a Microsoft.Test/things resource with the given
// properties object ("" for none).
func testResource(t testing.TB, props string) Resource {
	t.Helper()
	body := map[string]any{"type": testType, "name": "thing1", "location": "eastus"}
	if props != "" {
		body["properties"] = jsonValue(t, props)
	}
	return Resource{ID: testID, Body: body}
}

// wantProblem checks that err is a Problems mentioning every fragment.
func wantProblem(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", fragments)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
