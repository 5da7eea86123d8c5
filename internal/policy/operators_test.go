package policy

import (
	"fmt"
	"testing"
)

// opCase is one operator test: the field Microsoft.Test/things/p holds
// value (JSON, or "U" for a missing property) and is compared with rhs.
type opCase struct {
	value, rhs string
	want       bool
	wantErr    bool
}

func runOperator(t *testing.T, op string, cases []opCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s_%s_%s", tc.value, op, tc.rhs), func(t *testing.T) {
			cond := fmt.Sprintf(`{"field":%q,%q:%s}`, testNS+"p", op, tc.rhs)
			props := `{}`
			if tc.value != "U" {
				props = `{"p":` + tc.value + `}`
			}
			got, err := evalCond(t, cond, props)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %t", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("%s with p = %s: got %t, want %t", cond, tc.value, got, tc.want)
			}
		})
	}
}

// negate turns positive cases into their negated operator's cases: the
// result flips, missing values included; errors stay errors.
func negate(cases []opCase) []opCase {
	out := make([]opCase, len(cases))
	for i, c := range cases {
		out[i] = c
		if !c.wantErr {
			out[i].want = !c.want
		}
	}
	return out
}

var equalsCases = []opCase{
	{`"abc"`, `"abc"`, true, false},
	{`"ABC"`, `"abc"`, true, false},        // case-insensitive
	{`"straße"`, `"STRASSE"`, true, false}, // full case folding
	{`"abc"`, `"abd"`, false, false},       //
	{`U`, `"abc"`, false, false},           // missing is never equal
	{`null`, `""`, true, false},            // null compares as ""
	{`null`, `"x"`, false, false},          //
	{`""`, `""`, true, false},              // empty
	{`5`, `"5"`, true, false},              // numbers as strings
	{`"5"`, `5`, true, false},              //
	{`5.0`, `"5"`, false, false},           // the lexeme, as the Azure linter says
	{`"05"`, `5`, false, false},            //
	{`true`, `"TRUE"`, true, false},        // booleans as strings
	{`"true"`, `true`, true, false},        //
	{`["a"]`, `"a"`, false, false},         // an array never equals a scalar
	{`{"a":1}`, `"a"`, false, false},       // nor an object
}

func TestEquals(t *testing.T) {
	runOperator(t, "equals", equalsCases)
	runOperator(t, "notEquals", negate(equalsCases))
}

func TestEqualsNullValueFails(t *testing.T) {
	// A null operator value fails the evaluation (an implicit deny); a
	// literal null is refused when the definition is parsed.
	for _, op := range []string{"equals", "notEquals", "contains", "like", "in", "less"} {
		cond := fmt.Sprintf(`{"field":"%sp","%s":"[if(equals(field('%sp'), 'x'), null(), 'x')]"}`, testNS, op, testNS)
		_, err := evalCond(t, cond, `{"p":"x"}`)
		if err == nil {
			t.Errorf("%s with a null value: no error", op)
		}
	}
}

func TestLike(t *testing.T) {
	cases := []opCase{
		{`"Web-PROD"`, `"*-prod"`, true, false},
		{`"web-prod-2"`, `"*-prod"`, false, false}, // anchored at the end
		{`"prod"`, `"prod*"`, true, false},         // * matches nothing
		{`"abc"`, `"a?c"`, true, false},            // ? one character
		{`"ac"`, `"a?c"`, false, false},
		{`"abc"`, `"abc"`, true, false},        // no wildcard: equals
		{`"a*c"`, `"a*c"`, true, false},        //
		{`"vm-01-x"`, `"vm-*-*"`, true, false}, // more than one *
		{`U`, `"*"`, false, false},             // missing
		{`null`, `"*"`, true, false},           // null is ""
		{`42`, `"4*"`, true, false},            // a number as a string
		{`["a"]`, `"*"`, false, false},         // an array never matches
	}
	runOperator(t, "like", cases)
	runOperator(t, "notLike", negate(cases))
}

func TestMatch(t *testing.T) {
	cases := []opCase{
		{`"vm-01"`, `"vm-##"`, true, false},
		{`"VM-01"`, `"vm-##"`, false, false}, // case-sensitive
		{`"vm-1"`, `"vm-##"`, false, false},  // same length
		{`"abc"`, `"???"`, true, false},      // ? a letter
		{`"a1c"`, `"???"`, false, false},
		{`"a.c"`, `"a.c"`, true, false},
		{`"abc"`, `"a.c"`, true, false}, // . any character
		{`U`, `"#"`, false, false},
		{`5`, `"#"`, true, false},
	}
	runOperator(t, "match", cases)
	runOperator(t, "notMatch", negate(cases))
	insensitive := []opCase{
		{`"VM-01"`, `"vm-##"`, true, false},
		{`"vm-1"`, `"vm-##"`, false, false},
		{`U`, `"vm-##"`, false, false},
	}
	runOperator(t, "matchInsensitively", insensitive)
	runOperator(t, "notMatchInsensitively", negate(insensitive))
}

func TestContains(t *testing.T) {
	cases := []opCase{
		{`"/subscriptions/S/resourceGroups/RG/x"`, `"resourcegroups/rg"`, true, false}, // case-insensitive substring
		{`"abc"`, `"d"`, false, false},
		{`"a*c"`, `"*"`, true, false},       // a literal star
		{`["a","B"]`, `"b"`, true, false},   // an element, by equals
		{`["a","B"]`, `"c"`, false, false},  //
		{`[1,2]`, `"2"`, true, false},       // numbers as strings
		{`{"Key":1}`, `"key"`, true, false}, // an object's key
		{`{"Key":1}`, `"1"`, false, false},  //
		{`U`, `"a"`, false, false},          // missing
		{`null`, `"a"`, false, false},       // null is ""
		{`12345`, `"234"`, true, false},     // a number as a string
	}
	runOperator(t, "contains", cases)
	runOperator(t, "notContains", negate(cases))
}

func TestIn(t *testing.T) {
	cases := []opCase{
		{`"B"`, `["a","b"]`, true, false}, // case-insensitive
		{`"c"`, `["a","b"]`, false, false},
		{`"443"`, `[80,443]`, true, false}, // numbers as strings
		{`443`, `["443"]`, true, false},
		{`U`, `["a"]`, false, false},         // missing
		{`U`, `["a",null]`, true, false},     // missing is in a list that holds null
		{`null`, `["a",null]`, false, false}, // null never is
		{`""`, `[""]`, true, false},
		{`"a"`, `[]`, false, false},       // empty list
		{`["a"]`, `["a"]`, false, false},  // an array is not a scalar
		{`["a"]`, `[["a"]]`, true, false}, // but may be an element
	}
	runOperator(t, "in", cases)
	runOperator(t, "notIn", negate(cases))
}

func TestContainsKey(t *testing.T) {
	cases := []opCase{
		{`{"Env":"x"}`, `"env"`, true, false},
		{`{"a":1}`, `"b"`, false, false},
		{`{}`, `"b"`, false, false},
		{`"env"`, `"env"`, false, false}, // not an object
		{`U`, `"env"`, false, false},
		{`null`, `"env"`, false, false},
	}
	runOperator(t, "containsKey", cases)
	runOperator(t, "notContainsKey", negate(cases))
}

func TestOrdering(t *testing.T) {
	runOperator(t, "less", []opCase{
		{`1`, `2`, true, false},
		{`2`, `2`, false, false},
		{`10`, `9`, false, false},    // numerically, not as strings
		{`1.5`, `2`, true, false},    //
		{`"a"`, `"B"`, true, false},  // strings ignoring case
		{`"b"`, `"A"`, false, false}, //
		{`"2024-01-02T00:00:00Z"`, `"2024-01-10T00:00:00.0000000Z"`, true, false}, // dates as times
		{`U`, `1`, false, false},    // missing is false
		{`null`, `1`, false, false}, // so is null
		{`"5"`, `10`, false, true},  // a numeric string against a number fails
		{`true`, `1`, false, true},  // booleans cannot be ordered
		{`[1]`, `2`, false, true},   // nor arrays
	})
	runOperator(t, "lessOrEquals", []opCase{{`2`, `2`, true, false}, {`3`, `2`, false, false}, {`U`, `2`, false, false}})
	runOperator(t, "greater", []opCase{{`3`, `2`, true, false}, {`2`, `2`, false, false}, {`"b"`, `"A"`, true, false}, {`U`, `2`, false, false}})
	runOperator(t, "greaterOrEquals", []opCase{{`2`, `2`, true, false}, {`1`, `2`, false, false}, {`U`, `0`, false, false}})
}

func TestExists(t *testing.T) {
	for _, rhs := range []string{`true`, `"true"`, `"True"`, `"TRUE"`} {
		runOperator(t, "exists", []opCase{
			{`"x"`, rhs, true, false},
			{`""`, rhs, true, false}, // empty values exist
			{`0`, rhs, true, false},
			{`false`, rhs, true, false},
			{`[]`, rhs, true, false},
			{`{}`, rhs, true, false},
			{`null`, rhs, false, false}, // null does not
			{`U`, rhs, false, false},    // nor a missing value
		})
	}
	runOperator(t, "exists", []opCase{{`null`, `"false"`, true, false}, {`U`, `false`, true, false}, {`1`, `"False"`, false, false}})
}

func TestOperatorNamesIgnoreCase(t *testing.T) {
	got, err := evalCond(t, `{"Field":"Microsoft.Test/things/p","EQUALS":"x"}`, `{"p":"X"}`)
	if err != nil || !got {
		t.Errorf("mixed-case keys: got %t, %v", got, err)
	}
	got, err = evalCond(t, `{"ALLOF":[{"field":"microsoft.test/THINGS/p","notequals":"y"}]}`, `{"p":"X"}`)
	if err != nil || !got {
		t.Errorf("mixed-case allOf and alias: got %t, %v", got, err)
	}
}

func TestLogical(t *testing.T) {
	yes, no := `{"field":"Microsoft.Test/things/p","equals":"x"}`, `{"field":"Microsoft.Test/things/p","equals":"y"}`
	for _, tc := range []struct {
		cond string
		want bool
	}{
		{`{"allOf":[` + yes + `,` + yes + `]}`, true},
		{`{"allOf":[` + yes + `,` + no + `]}`, false},
		{`{"anyOf":[` + no + `,` + yes + `]}`, true},
		{`{"anyOf":[` + no + `,` + no + `]}`, false},
		{`{"not":` + no + `}`, true},
		{`{"not":{"not":` + yes + `}}`, true},
		// short-circuit: the failing condition after a decided anyOf is not evaluated
		{`{"anyOf":[` + yes + `,{"value":"[substring(field('Microsoft.Test/things/p'),0,5)]","equals":"a"}]}`, true},
	} {
		got, err := evalCond(t, tc.cond, `{"p":"x"}`)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %t, %v; want %t", tc.cond, got, err, tc.want)
		}
	}
}
