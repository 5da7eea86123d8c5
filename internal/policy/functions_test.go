package policy

import (
	"strings"
	"testing"
)

// evalExpr compiles and evaluates one expression against a test resource,
// with parameters s (String "abc"), arr (Array ["a","b"]) and obj (Object).
func evalExpr(t *testing.T, expr string) (any, error) {
	t.Helper()
	defs := map[string]*ParameterDefinition{
		"s":   {Name: "s", Type: TypeString},
		"arr": {Name: "arr", Type: TypeArray},
		"obj": {Name: "obj", Type: TypeObject},
	}
	values := map[string]any{"s": "abc", "arr": []any{"a", "b"}, "obj": map[string]any{"k": "v", "n": jsonValue(t, `{"x":1}`)}}
	c := newCompiler(testAliases(t), defs, values)
	x, ok := c.compileString("expr", expr)
	if !ok {
		return nil, c.errs.err()
	}
	res := testResource(t, `{"p":"Hello","a":[{"s":"x"},{"s":"y"}]}`)
	res.Body["tags"] = map[string]any{"env": "prod"}
	ctx := EvalContext{Now: testNow, APIVersion: "2023-01-01", Policy: PolicyInfo{AssignmentID: "/a/1"}}
	return x.eval(newState(newView(&res), &ctx, testAliases(t), 0))
}

type fnCase struct {
	expr string
	want string // JSON; "" expects an error
}

func TestFunctions(t *testing.T) {
	groups := map[string][]fnCase{
		"parameters":     {{`[parameters('s')]`, `"abc"`}, {`[parameters('S')]`, `"abc"`}, {`[parameters('arr')[1]]`, `"b"`}, {`[parameters('obj').k]`, `"v"`}, {`[parameters('nope')]`, ``}},
		"field":          {{`[field('Microsoft.Test/things/p')]`, `"Hello"`}, {`[field('name')]`, `"thing1"`}, {`[field('tags').env]`, `"prod"`}, {`[field('Microsoft.Test/things/q')]`, `null`}, {`[field('Microsoft.Test/things/a[*].s')]`, `["x","y"]`}, {`[field('bogus')]`, ``}},
		"concat":         {{`[concat('a', 'b', 1, true())]`, `"ab1True"`}, {`[concat(createArray(1), createArray(2))]`, `[1,2]`}, {`[concat('a', createArray(1))]`, ``}},
		"toLower":        {{`[toLower('AbC')]`, `"abc"`}, {`[toUpper('abc')]`, `"ABC"`}, {`[toLower(1)]`, ``}},
		"if":             {{`[if(true(), 'a', 'b')]`, `"a"`}, {`[if(false(), substring('a', 5), 'b')]`, `"b"`}, {`[if('x', 1, 2)]`, ``}},
		"logic":          {{`[and(true(), false())]`, `false`}, {`[or(false(), true())]`, `true`}, {`[not(false())]`, `true`}, {`[and(true(), 1)]`, ``}, {`[bool('TRUE')]`, `true`}, {`[bool(0)]`, `false`}, {`[bool('x')]`, ``}},
		"equals":         {{`[equals('a', 'a')]`, `true`}, {`[equals('a', 'A')]`, `false`}, {`[equals(1, 1)]`, `true`}, {`[equals(createArray(1), createArray(1))]`, `true`}},
		"compare":        {{`[greater(2, 1)]`, `true`}, {`[less('a', 'b')]`, `true`}, {`[lessOrEquals(2, 2)]`, `true`}, {`[greaterOrEquals(1, 2)]`, `false`}, {`[greater(1, 'a')]`, ``}},
		"contains":       {{`[contains('abc', 'b')]`, `true`}, {`[contains('abc', 'B')]`, `false`}, {`[contains(createArray('a'), 'a')]`, `true`}, {`[contains(parameters('obj'), 'K')]`, `true`}, {`[contains(1, 1)]`, ``}},
		"empty":          {{`[empty('')]`, `true`}, {`[empty(createArray())]`, `true`}, {`[empty(json('{}'))]`, `true`}, {`[empty(null())]`, `true`}, {`[empty('a')]`, `false`}},
		"length":         {{`[length('héllo')]`, `5`}, {`[length(parameters('arr'))]`, `2`}, {`[length(parameters('obj'))]`, `2`}, {`[length(null())]`, `0`}, {`[length(1)]`, ``}},
		"split":          {{`[split('a,b;c', ',')]`, `["a","b;c"]`}, {`[split('a,b;c', createArray(',', ';'))]`, `["a","b","c"]`}, {`[split('', ',')]`, `[""]`}},
		"substring":      {{`[substring('hello', 1, 3)]`, `"ell"`}, {`[substring('hello', 2)]`, `"llo"`}, {`[substring('ab', 0, 3)]`, ``}, {`[substring('ab', -1)]`, ``}},
		"replace":        {{`[replace('a-b-c', '-', '+')]`, `"a+b+c"`}, {`[replace('abc', '', 'x')]`, ``}},
		"first":          {{`[first('abc')]`, `"a"`}, {`[first(parameters('arr'))]`, `"a"`}, {`[last(parameters('arr'))]`, `"b"`}, {`[first(createArray())]`, `null`}, {`[last('')]`, `""`}},
		"union":          {{`[union(createArray(1, 2), createArray(2, 3))]`, `[1,2,3]`}, {`[union(json('{"a":{"x":1}}'), json('{"a":{"y":2},"b":3}'))]`, `{"a":{"x":1,"y":2},"b":3}`}},
		"intersection":   {{`[intersection(createArray(1, 2, 3), createArray(3, 2))]`, `[2,3]`}, {`[intersection(json('{"a":1,"b":2}'), json('{"a":1,"b":3}'))]`, `{"a":1}`}},
		"tryGet":         {{`[tryGet(parameters('obj'), 'n', 'x')]`, `1`}, {`[tryGet(parameters('obj'), 'missing')]`, `null`}, {`[tryGet(parameters('arr'), 5)]`, `null`}},
		"utcNow":         {{`[utcNow()]`, `"2026-03-01T12:00:00.0000000Z"`}, {`[utcNow('yyyyMMdd')]`, `"20260301"`}, {`[utcNow('u')]`, `"2026-03-01 12:00:00Z"`}},
		"addDays":        {{`[addDays('2026-03-01T12:00:00.0000000Z', 30)]`, `"2026-03-31T12:00:00.0000000Z"`}, {`[addDays(utcNow(), -1)]`, `"2026-02-28T12:00:00.0000000Z"`}, {`[addDays('not a date', 1)]`, ``}},
		"requestContext": {{`[requestContext().apiVersion]`, `"2023-01-01"`}, {`[policy().assignmentId]`, `"/a/1"`}},
		"scope":          {{`[resourceGroup().name]`, `"rg1"`}, {`[subscription().subscriptionId]`, `"sub1"`}},
		"current":        {{`[current('x')]`, ``}},
		"string":         {{`[string(1)]`, `"1"`}, {`[string(true())]`, `"True"`}, {`[string(createArray('a'))]`, `"[\"a\"]"`}, {`[string(null())]`, `""`}},
		"int":            {{`[int('42')]`, `42`}, {`[int(4)]`, `4`}, {`[int('x')]`, ``}, {`[float('1.5')]`, `1.5`}},
		"json":           {{`[json('{"a":[1,2]}').a[1]]`, `2`}, {`[json('null')]`, `null`}, {`[json('{')]`, ``}},
		"coalesce":       {{`[coalesce(null(), 'b')]`, `"b"`}, {`[coalesce(null())]`, `null`}},
		"startsWith":     {{`[startsWith('Hello', 'he')]`, `true`}, {`[endsWith('Hello', 'LO')]`, `true`}, {`[startsWith('a', 'b')]`, `false`}},
		"indexOf":        {{`[indexOf('Hello', 'L')]`, `2`}, {`[lastIndexOf('Hello', 'l')]`, `3`}, {`[indexOf('a', 'z')]`, `-1`}, {`[indexOf(parameters('arr'), 'b')]`, `1`}},
		"trim":           {{`[trim('  a b ')]`, `"a b"`}},
		"padLeft":        {{`[padLeft('7', 3, '0')]`, `"007"`}, {`[padLeft(7, 3)]`, `"  7"`}, {`[padLeft('abcd', 2)]`, `"abcd"`}, {`[padLeft('7', 3, '00')]`, ``}},
		"arithmetic":     {{`[add(1, 2)]`, `3`}, {`[sub(1, 2)]`, `-1`}, {`[mul(3, 4)]`, `12`}, {`[div(7, 2)]`, `3`}, {`[mod(7, 2)]`, `1`}, {`[div(1, 0)]`, ``}, {`[add(9223372036854775807, 1)]`, ``}, {`[add('1', 2)]`, ``}},
		"minmax":         {{`[min(3, 1, 2)]`, `1`}, {`[max(createArray(3, 9, 2))]`, `9`}, {`[min(createArray())]`, ``}},
		"format":         {{`[format('{0}-{1}', 'a', 2)]`, `"a-2"`}, {`[format('{{{0}}}', 'x')]`, `"{x}"`}, {`[format('{1}', 'a')]`, ``}},
		"range":          {{`[range(5, 3)]`, `[5,6,7]`}, {`[range(0, 10001)]`, ``}},
		"take":           {{`[take(parameters('arr'), 1)]`, `["a"]`}, {`[skip(parameters('arr'), 1)]`, `["b"]`}, {`[take('abc', 5)]`, `"abc"`}, {`[skip('abc', -1)]`, `"abc"`}},
		"createArray":    {{`[createArray(1, 'a')]`, `[1,"a"]`}, {`[createObject('a', 1, 'b', 'c')]`, `{"a":1,"b":"c"}`}, {`[createObject('a')]`, ``}, {`[array('a')]`, `["a"]`}},
		"items":          {{`[items(json('{"b":2,"a":1}'))[0].key]`, `"a"`}},
		"join":           {{`[join(createArray('a', 'b'), '-')]`, `"a-b"`}},
		"indexFromEnd":   {{`[indexFromEnd(parameters('arr'), 1)]`, `"b"`}, {`[tryIndexFromEnd(parameters('arr'), 3)]`, `null`}, {`[indexFromEnd(parameters('arr'), 3)]`, ``}},
		"base64":         {{`[base64('hi')]`, `"aGk="`}, {`[base64ToString('aGk=')]`, `"hi"`}, {`[base64ToJson(base64('{"a":1}')).a]`, `1`}, {`[base64ToString('!')]`, ``}},
		"dataUri":        {{`[dataUriToString(dataUri('hi'))]`, `"hi"`}},
		"uri":            {{`[uri('https://a.example/x/', 'y')]`, `"https://a.example/x/y"`}, {`[uriComponent('a b&c')]`, `"a+b%26c"`}, {`[uriComponentToString('a%20b')]`, `"a b"`}},
		"ipRangeContains": {{`[ipRangeContains('10.0.0.0/8', '10.1.2.3')]`, `true`}, {`[ipRangeContains('10.0.0.0/8', '11.0.0.1')]`, `false`},
			{`[ipRangeContains('10.0.0.1-10.0.0.9', '10.0.0.0/30')]`, `false`}, {`[ipRangeContains('2001:db8::/32', '2001:db8::1')]`, `true`}, {`[ipRangeContains('', '10.0.0.1')]`, ``}, {`[ipRangeContains('10.0.0.0/8', '::1')]`, ``}},
		"uniqueString": {{`[length(uniqueString('a', 'b'))]`, `13`}, {`[equals(guid('a'), guid('a'))]`, `true`}},
		"accessors":    {{`[parameters('obj')['k']]`, `"v"`}, {`[parameters('obj').missing]`, ``}, {`[parameters('arr')[2]]`, ``}, {`[parameters('s').x]`, ``}},
		"refused":      {{`[resourceId('a', 'b')]`, ``}, {`[variables('x')]`, ``}, {`[dateTimeAdd(utcNow(), 'P1D')]`, ``}, {`[listKeys('x', '1')]`, ``}, {`[newGuid()]`, ``}, {`[nosuch()]`, ``}},
	}
	for name, cases := range groups {
		for _, tc := range cases {
			t.Run(name+"/"+tc.expr, func(t *testing.T) {
				got, err := evalExpr(t, tc.expr)
				if tc.want == "" {
					if err == nil {
						t.Fatalf("got %s, want an error", display(got))
					}
					return
				}
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if want := jsonValue(t, tc.want); !exactEqual(got, want) {
					t.Errorf("got %s, want %s", display(got), tc.want)
				}
			})
		}
	}
}

func TestFormatNumbers(t *testing.T) {
	got, err := evalExpr(t, `[format('{0:N2}|{1:D4}|{2:X}', json('1234.5'), 42, 255)]`)
	if err != nil || got != "1,234.50|0042|FF" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestFunctionErrorMessages(t *testing.T) {
	_, err := evalExpr(t, `[toLowr('a')]`)
	wantProblem(t, err, "unknown function 'toLowr'", `did you mean "toLower"?`)
	_, err = evalExpr(t, `[dateTimeAdd(utcNow(), 'P1D')]`)
	wantProblem(t, err, "not available in a policy rule", "addDays")
	_, err = evalExpr(t, `[substring('a')]`)
	wantProblem(t, err, "expects at least 2 arguments")
	_, err = evalExpr(t, `[concat('a']`)
	wantProblem(t, err, "syntax error")
	_, err = evalExpr(t, `[true]`)
	wantProblem(t, err, "write true()")
}

func TestExpressionLimits(t *testing.T) {
	deep := "[" + strings.Repeat("not(", 70) + "true()" + strings.Repeat(")", 70) + "]"
	_, err := evalExpr(t, deep)
	wantProblem(t, err, "nested more than 64 levels")
	long := "['" + strings.Repeat("x", MaxExpressionLength) + "']"
	_, err = evalExpr(t, long)
	wantProblem(t, err, "more than the limit")
	// a string function's result is bounded at run time
	_, err = evalExpr(t, `[padLeft(field('name'), 200000)]`)
	if err == nil {
		t.Error("a 200,000-character result: no error")
	}
}
