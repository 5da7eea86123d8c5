package arm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testCtx = DeploymentContext{
	SubscriptionID: "00000000-0000-0000-0000-000000000001",
	TenantID:       "11111111-1111-1111-1111-111111111111",
	ResourceGroup:  "ImageBuilderRG",
	Location:       "eastus",
}

func testEvaluator() *Evaluator {
	params := map[string]any{
		"name":    "kiln",
		"count":   3,
		"flag":    true,
		"obj":     map[string]any{"a": map[string]any{"b": "c"}, "list": []any{1, 2}},
		"arr":     []any{"x", "y"},
		"nothing": nil,
	}
	vars := map[string]any{
		"greeting": "[concat('hello-', parameters('name'))]",
		"nested":   map[string]any{"k": "[parameters('count')]"},
		"self":     "[variables('self')]",
		"a":        "[variables('b')]",
		"b":        "[variables('a')]",
		"broken":   "[parameters('missing')]",
		"literal":  "[[not an expression]",
	}
	return NewEvaluator(testCtx, params, vars)
}

// evalCase is one expression and the value it must give.
type evalCase struct {
	expr string
	want any
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := testEvaluator().Eval("x", tc.expr)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.expr, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Eval(%q) mismatch (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestLiteralsAndEscapes(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"plain text", "plain text"},
		{"[[literal]", "[literal]"},
		{"[[", "["},
		{"[concat('a'", "[concat('a'"},
		{"[", "["},
		{"[]x", "[]x"},
		{"['it''s']", "it's"},
		{"[ 'spaces around' ]", "spaces around"},
		{"[42]", int64(42)},
		{"[-7]", int64(-7)},
		{"[variables('literal')]", "[not an expression]"},
	})
}

func TestAccess(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"[parameters('obj').a.b]", "c"},
		{"[parameters('obj')['a']['b']]", "c"},
		{"[parameters('obj').A.B]", "c"},
		{"[parameters('obj').list[1]]", int64(2)},
		{"[parameters('arr')[0]]", "x"},
		{"[createArray('p', 'q')[add(0, 1)]]", "q"},
		{"[resourceGroup().location]", "eastus"},
		{"[subscription().subscriptionId]", "00000000-0000-0000-0000-000000000001"},
		{"[variables('nested').k]", int64(3)},
		{"[PARAMETERS('NAME')]", "kiln"},
	})
}

func TestScopeFunctions(t *testing.T) {
	rg := "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ImageBuilderRG"
	runEvalCases(t, []evalCase{
		{"[parameters('name')]", "kiln"},
		{"[parameters('count')]", int64(3)},
		{"[parameters('nothing')]", nil},
		{"[variables('greeting')]", "hello-kiln"},
		{"[resourceGroup()]", map[string]any{
			"id": rg, "name": "ImageBuilderRG", "type": "Microsoft.Resources/resourceGroups", "location": "eastus",
			"tags": map[string]any{}, "properties": map[string]any{"provisioningState": "Succeeded"},
		}},
		{"[resourceGroup().id]", rg},
		{"[subscription()]", map[string]any{
			"id": "/subscriptions/00000000-0000-0000-0000-000000000001", "subscriptionId": "00000000-0000-0000-0000-000000000001",
			"tenantId": "11111111-1111-1111-1111-111111111111", "displayName": "00000000-0000-0000-0000-000000000001",
		}},
		{"[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'aib')]", rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"},
		{"[resourceId('Microsoft.Compute/galleries/images', 'gal', 'def')]", rg + "/providers/Microsoft.Compute/galleries/gal/images/def"},
		{"[resourceId('Microsoft.Compute/galleries/images', 'gal/def')]", rg + "/providers/Microsoft.Compute/galleries/gal/images/def"},
		{"[resourceId('otherRG', 'Microsoft.Compute/images', 'img')]", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/otherRG/providers/Microsoft.Compute/images/img"},
		{"[resourceId('sub2', 'rg2', 'Microsoft.Compute/images', 'img')]", "/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.Compute/images/img"},
		{"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]", "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/r1"},
		{"[subscriptionResourceId('sub2', 'Microsoft.Authorization/roleDefinitions', 'r1')]", "/subscriptions/sub2/providers/Microsoft.Authorization/roleDefinitions/r1"},
		{"[tenantResourceId('Microsoft.Management/managementGroups', 'mg')]", "/providers/Microsoft.Management/managementGroups/mg"},
	})
}

func TestStringFunctions(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"[concat('a', '-', parameters('name'))]", "a-kiln"},
		{"[concat('n', 1, true())]", "n1True"},
		{"[format('{0}-{1}', 'a', 2)]", "a-2"},
		{"[format('{0:D3}|{1:X}|{1:x4}|{2:N0}|{2:N}', 7, 255, 1234567)]", "007|FF|00ff|1,234,567|1,234,567.00"},
		{"[format('{{{0}}}', 'x')]", "{x}"},
		{"[format('[{0,4}][{0,-4}]', 'ab')]", "[  ab][ab  ]"},
		{"[format('{0}', true())]", "True"},
		{"[format('{0:D2}', -5)]", "-05"},
		{"[toLower('MiXeD')]", "mixed"},
		{"[toUpper('MiXeD')]", "MIXED"},
		{"[string(5)]", "5"},
		{"[string(true())]", "True"},
		{"[string(parameters('arr'))]", `["x","y"]`},
		{"[string(parameters('nothing'))]", ""},
		{"[string('s')]", "s"},
		{"[replace('a-b-c', '-', '_')]", "a_b_c"},
		{"[split('a,b;c', ',')]", []any{"a", "b;c"}},
		{"[split('a,b;c', createArray(',', ';'))]", []any{"a", "b", "c"}},
		{"[split('', ',')]", []any{""}},
		{"[substring('hello', 1, 3)]", "ell"},
		{"[substring('hello', 2)]", "llo"},
		{"[substring('héllo', 1, 1)]", "é"},
		{"[trim('  x y  ')]", "x y"},
		{"[startsWith('Debian-12', 'debian')]", true},
		{"[endsWith('image.qcow2', '.QCOW2')]", true},
		{"[indexOf('abcabc', 'C')]", int64(2)},
		{"[lastIndexOf('abcabc', 'c')]", int64(5)},
		{"[indexOf('abc', 'z')]", int64(-1)},
		{"[padLeft('7', 3, '0')]", "007"},
		{"[padLeft(42, 4)]", "  42"},
		{"[padLeft('long', 2)]", "long"},
		{"[base64('kiln')]", "a2lsbg=="},
		{"[base64ToString('a2lsbg==')]", "kiln"},
		{"[json('{\"a\": [1, true, null]}')]", map[string]any{"a": []any{int64(1), true, nil}}},
		{"[json('null')]", nil},
		{"[uniqueString('a')]", "zklycewkdo64u"},
		{"[uniqueString(resourceGroup().id)]", "egztcrimaibaw"},
		{"[guid('a', 'b')]", "7314973b-d2fd-596e-a1f7-aa6c0f8b9208"},
	})
}

func TestLogicFunctions(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"[if(parameters('flag'), 'yes', 'no')]", "yes"},
		{"[if(false(), parameters('undefined'), 'lazy')]", "lazy"},
		{"[equals('a', 'a')]", true},
		{"[equals('a', 'A')]", false},
		{"[equals(parameters('obj').list, createArray(1, 2))]", true},
		{"[equals(1, '1')]", false},
		{"[not(true())]", false},
		{"[and(true(), true(), false())]", false},
		{"[and(true(), true())]", true},
		{"[or(false(), true())]", true},
		{"[or(false(), false())]", false},
		{"[bool('TRUE')]", true},
		{"[bool(0)]", false},
		{"[bool(false())]", false},
		{"[int('42')]", int64(42)},
		{"[int(7)]", int64(7)},
		{"[null()]", nil},
		{"[coalesce(parameters('nothing'), null(), 'x', 'y')]", "x"},
		{"[coalesce(null())]", nil},
		{"[greater(2, 1)]", true},
		{"[greater('a', 'b')]", false},
		{"[greaterOrEquals(2, 2)]", true},
		{"[less(1, 2)]", true},
		{"[lessOrEquals('b', 'a')]", false},
	})
}

func TestCollectionFunctions(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"[concat(parameters('arr'), createArray('z'))]", []any{"x", "y", "z"}},
		{"[union(createObject('a', 1, 'n', createObject('x', 1)), createObject('b', 2, 'n', createObject('y', 2)))]",
			map[string]any{"a": int64(1), "b": int64(2), "n": map[string]any{"x": int64(1), "y": int64(2)}}},
		{"[union(createObject('a', 1), createObject('a', 2))]", map[string]any{"a": int64(2)}},
		{"[union(createArray(1, 2), createArray(2, 3))]", []any{int64(1), int64(2), int64(3)}},
		{"[createArray()]", []any{}},
		{"[createObject()]", map[string]any{}},
		{"[contains('abc', 'b')]", true},
		{"[contains('abc', 'B')]", false},
		{"[contains(parameters('arr'), 'y')]", true},
		{"[contains(parameters('obj'), 'LIST')]", true},
		{"[contains(parameters('obj'), 'missing')]", false},
		{"[empty('')]", true},
		{"[empty(createArray())]", true},
		{"[empty(createObject('a', 1))]", false},
		{"[empty(parameters('nothing'))]", true},
		{"[length('héllo')]", int64(5)},
		{"[length(parameters('arr'))]", int64(2)},
		{"[length(parameters('obj'))]", int64(2)},
		{"[first(parameters('arr'))]", "x"},
		{"[last(parameters('arr'))]", "y"},
		{"[first('abc')]", "a"},
		{"[last('abc')]", "c"},
		{"[first(createArray())]", nil},
		{"[last('')]", ""},
		{"[skip(parameters('arr'), 1)]", []any{"y"}},
		{"[skip('hello', 10)]", ""},
		{"[take('hello', 2)]", "he"},
		{"[take(parameters('arr'), -1)]", []any{}},
		{"[join(createArray('a', 'b', 1), '-')]", "a-b-1"},
		{"[range(5, 3)]", []any{int64(5), int64(6), int64(7)}},
	})
}

func TestNumericFunctions(t *testing.T) {
	runEvalCases(t, []evalCase{
		{"[add(2, 3)]", int64(5)},
		{"[sub(2, 3)]", int64(-1)},
		{"[mul(4, -3)]", int64(-12)},
		{"[div(7, 2)]", int64(3)},
		{"[mod(7, 2)]", int64(1)},
		{"[min(3, createArray(1, 5))]", int64(1)},
		{"[max(createArray(3, 9, 4))]", int64(9)},
	})
}

func TestEvalErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"[concatt('a')]", "x: unknown function 'concatt' (did you mean 'concat'?)"},
		{"[ToLowr('a')]", "x: unknown function 'ToLowr' (did you mean 'toLower'?)"},
		{"[reference('x').id]", "x: function 'reference' is not supported by kiln (it reads live Azure state; pass the value in as a parameter)"},
		{"[listKeys('x', '2020-01-01')]", "x: function 'listKeys' is not supported by kiln (it reads live Azure state; pass the value in as a parameter)"},
		{"[parameters('nmae')]", "x: parameter 'nmae' is not defined (did you mean 'name'?)"},
		{"[variables('zzzzzzzz')]", "x: variable 'zzzzzzzz' is not defined"},
		{"[variables('self')]", "variables.self: variable 'self' refers to itself (circular reference)"},
		{"[variables('a')]", "variables.b: variable 'a' refers to itself (circular reference)"},
		{"[variables('broken')]", "variables.broken: parameter 'missing' is not defined"},
		{"[toLower()]", "x: function 'toLower' expects 1 argument, got 0"},
		{"[concat()]", "x: function 'concat' expects at least 1 argument, got 0"},
		{"[substring('a', 1, 2, 3)]", "x: function 'substring' expects at most 3 arguments, got 4"},
		{"[toLower(1)]", "x: function 'toLower' expects argument 1 to be a string, got an int"},
		{"[concat('a', createArray())]", "x: function 'concat' expects argument 2 to be a string, an int or a bool like argument 1, got an array"},
		{"[concat(createArray(), 'a')]", "x: function 'concat' expects argument 2 to be an array like argument 1, got a string"},
		{"[if('yes', 1, 2)]", "x: function 'if' expects argument 1 to be a bool, got a string"},
		{"[not(1)]", "x: function 'not' expects argument 1 to be a bool, got an int"},
		{"[int('four')]", "x: function 'int': cannot convert \"four\" to an int"},
		{"[bool('yes')]", "x: function 'bool': cannot convert \"yes\" to a bool (expected 'true' or 'false')"},
		{"[substring('abc', 2, 5)]", "x: function 'substring': start 2 plus length 5 is beyond the end of the string (length 3)"},
		{"[substring('abc', -1)]", "x: function 'substring': start index -1 is outside the string (length 3)"},
		{"[replace('abc', '', 'x')]", "x: function 'replace': the string to replace must not be empty"},
		{"[split('abc', '')]", "x: function 'split': a delimiter must not be empty"},
		{"[format('{1}', 'a')]", "x: function 'format': format item {1} refers to argument 1, but 1 value given"},
		{"[format('{0:Q}', 1)]", "x: function 'format': unsupported format specifier \"Q\" (supported: D, X, x, N, each with an optional precision 0-99)"},
		{"[format('{0:D}', 'a')]", "x: function 'format': format specifier \"D\" needs an int, got a string"},
		{"[format('{0', 'a')]", "x: function 'format': format string has a '{' at position 0 without a closing '}'"},
		{"[format('a}', 'a')]", "x: function 'format': format string has a '}' at position 1 without an opening '{' (write '}}' for a literal brace)"},
		{"[json('{')]", "x: function 'json': invalid JSON: unexpected EOF"},
		{"[base64ToString('***')]", "x: function 'base64ToString': invalid base64: illegal base64 data at input byte 0"},
		{"[createObject('a')]", "x: function 'createObject': expects key, value pairs, got 1 arguments"},
		{"[padLeft('a', 3, 'xy')]", "x: function 'padLeft': the padding character must be exactly one character, got \"xy\""},
		{"[div(1, 0)]", "x: function 'div': division by zero"},
		{"[mod(1, 0)]", "x: function 'mod': division by zero"},
		{"[add(9223372036854775807, 1)]", "x: function 'add': integer overflow"},
		{"[sub(-9223372036854775808, 1)]", "x: function 'sub': integer overflow"},
		{"[mul(9223372036854775807, 2)]", "x: function 'mul': integer overflow"},
		{"[range(0, 10001)]", "x: function 'range': count 10001 is not between 0 and 10000"},
		{"[length(1)]", "x: function 'length' expects argument 1 to be a string, an array or an object, got an int"},
		{"[greater(1, 'a')]", "x: function 'greater' expects argument 2 to be an int, got a string"},
		{"[max(createArray('a'))]", "x: function 'max' expects argument 1 to be an int or an array of ints, got an array"},
		{"[resourceId('images', 'x')]", "x: function 'resourceId': expected resourceId([subscriptionId], [resourceGroupName], 'Namespace/type', 'name', ...)"},
		{"[resourceId('Microsoft.Compute/galleries/images', 'gal')]", "x: function 'resourceId': invalid resource ID: resource type \"Microsoft.Compute/galleries/images\" needs 2 name(s), got 1"},
		{"[parameters('obj').missing]", "x: property 'missing' does not exist (available properties: a, list)"},
		{"[parameters('name').length]", "x: cannot read property 'length' of a string"},
		{"[parameters('arr')[2]]", "x: index 2 is out of range (the array has 2 elements)"},
		{"[parameters('arr')[true()]]", "x: an index must be a string or an int, got a bool"},
		{"[parameters('count')[0]]", "x: cannot index an int with an int"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := testEvaluator().Eval("x", tc.expr)
			if err == nil {
				t.Fatalf("Eval(%q) succeeded, want error %q", tc.expr, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Eval(%q) error:\n got: %s\nwant: %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"[concat('a', )]", `syntax error at position 14 in "[concat('a', )]": expected a function call, a 'string' or a number, found ')'`},
		{"['unterminated]", `syntax error at position 2 in "['unterminated]": unterminated string (a quote inside a string is written '')`},
		{"[name]", `syntax error at position 6 in "[name]": expected "(" after function name "name", found end of expression`},
		{"[true]", `syntax error at position 6 in "[true]": expected "(" after function name "true", found end of expression`},
		{"[ns.fn()]", `syntax error at position 4 in "[ns.fn()]": user-defined functions (ns.name()) are not supported`},
		{"[1.5]", `syntax error at position 3 in "[1.5]": only integers are supported, found '.'`},
		{"[99999999999999999999]", `syntax error at position 2 in "[99999999999999999999]": integer 99999999999999999999 is out of range`},
		{"[-]", `syntax error at position 2 in "[-]": expected digits after "-"`},
		{"[f() g()]", `syntax error at position 6 in "[f() g()]": unexpected 'g' after the end of the expression`},
		{"[a().]", `syntax error at position 6 in "[a().]": expected a property name after ".", found end of expression`},
		{"[a()[0]", `syntax error at position 7 in "[a()[0]": expected ']', found end of expression`},
		{"[]", `syntax error at position 2 in "[]": expected a function call, a 'string' or a number, found end of expression`},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseExpression(tc.expr)
			if err == nil {
				t.Fatalf("ParseExpression(%q) succeeded", tc.expr)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("ParseExpression(%q):\n got: %s\nwant: %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestNestingLimit(t *testing.T) {
	deep := func(n int) string {
		return "[" + strings.Repeat("not(", n) + "true()" + strings.Repeat(")", n) + "]"
	}
	if _, err := ParseExpression(deep(MaxExpressionDepth - 2)); err != nil {
		t.Fatalf("depth %d: %v", MaxExpressionDepth-2, err)
	}
	_, err := ParseExpression(deep(MaxExpressionDepth))
	if err == nil || !strings.Contains(err.Error(), "nested deeper than 64 levels") {
		t.Fatalf("depth %d: got %v, want nesting error", MaxExpressionDepth, err)
	}
	chain := "[a()" + strings.Repeat(".p", MaxExpressionDepth) + "]"
	if _, err := ParseExpression(chain); err == nil {
		t.Fatalf("long property chain accepted")
	}
}

func TestExpressionString(t *testing.T) {
	x, err := ParseExpression("[ concat( 'it''s' ,parameters('a').b[0] , -1 ) ]")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.String(), "[concat('it''s', parameters('a').b[0], -1)]"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func TestIsExpression(t *testing.T) {
	for s, want := range map[string]bool{
		"[a()]": true, "[[a()]": false, "a()": false, "[a()": false, "[]": true, "[": false, "": false, "[x]]": true,
	} {
		if got := IsExpression(s); got != want {
			t.Errorf("IsExpression(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestEvalValueKeysAndNesting(t *testing.T) {
	in := map[string]any{
		"[concat('k-', parameters('name'))]": []any{"[parameters('count')]", "lit", map[string]any{"[[x]": "[variables('greeting')]"}},
	}
	got, err := testEvaluator().EvalValue("root", in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"k-kiln": []any{int64(3), "lit", map[string]any{"[x]": "hello-kiln"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EvalValue mismatch (-want +got):\n%s", diff)
	}
}

func TestEvalValueCollectsAllErrors(t *testing.T) {
	in := map[string]any{
		"a":        "[nope()]",
		"b":        []any{"ok", "[parameters('zz')]"},
		"[int(1)]": "v",
	}
	_, err := testEvaluator().EvalValue("root", in)
	want := "root[\"[int(1)]\"]: an object key must evaluate to a string, got an int\n" +
		"root.a: unknown function 'nope' (did you mean 'not'?)\n" +
		"root.b[1]: parameter 'zz' is not defined"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestSizeLimits(t *testing.T) {
	vars := map[string]any{"v0": "[padLeft('', 1000000, 'x')]"}
	vars["v1"] = "[concat(variables('v0'), variables('v0'))]"
	vars["v2"] = "[concat(variables('v1'), variables('v1'))]"
	vars["v3"] = "[concat(variables('v2'), variables('v2'))]"
	e := NewEvaluator(testCtx, nil, vars)
	_, err := e.Eval("x", "[variables('v3')]")
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("got %v, want a size error", err)
	}
	arrVars := map[string]any{"a0": "[range(0, 10000)]"}
	names := []string{"a0"}
	for i := 1; i < 12; i++ {
		name := "a" + strings.Repeat("x", i)
		prev := names[len(names)-1]
		arrVars[name] = "[createArray(variables('" + prev + "'), variables('" + prev + "'))]"
		names = append(names, name)
	}
	e = NewEvaluator(testCtx, nil, arrVars)
	_, err = e.Eval("x", "[variables('"+names[len(names)-1]+"')]")
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v, want a size error", err)
	}
}
