package policy

import (
	"strings"
	"testing"
)

// FuzzParseDefinition: any input parses or fails with a Problems error;
// what parses also compiles (with its defaults, when it has them) and
// evaluates without panicking.
func FuzzParseDefinition(f *testing.F) {
	defs, _ := Builtins()
	for _, d := range defs {
		data, _ := d.MarshalJSON()
		f.Add(string(data))
	}
	f.Add(ruleDef(`{"count":{"value":"[range(0,3)]","name":"n","where":{"value":"[current('n')]","greater":1}},"equals":1}`, ""))
	f.Add(ruleDef(`{"field":"Microsoft.Compute/virtualMachines/storageProfile.dataDisks[*].managedDisk.id","contains":"x"}`, ""))
	f.Add(ruleDef(`{"value":"[if(equals(length(field('name')),1), substring(field('name'),0,5), 'x')]","equals":"y"}`, ""))
	f.Add(strings.Repeat(`{"not":`, 100) + "{}" + strings.Repeat("}", 100))
	f.Add(`{"if":{"field":"[concat('tags[', 'a', ']')]","exists":false},"then":{"effect":"modify","details":{"roleDefinitionIds":[],"operations":[{"operation":"add","field":"tags['a']","value":"b"}]}}}`)
	res := vm(&testing.T{}, `{"id":"/subscriptions/s/x","publisher":"p"}`)
	res.Body["tags"] = map[string]any{"a": "b"}
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := ParseDefinition([]byte(doc), nil)
		if err != nil {
			if _, ok := err.(Problems); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		c, err := d.Compile(nil)
		if err != nil {
			return // parameters without defaults
		}
		c.Evaluate(res, EvalContext{Now: testNow})
		c.Evaluate(res, EvalContext{Now: testNow, Context: ContextStored, NoTrace: true})
	})
}

// FuzzExpression: any expression string parses or fails, and what parses
// evaluates or fails, without panicking.
func FuzzExpression(f *testing.F) {
	for _, seed := range []string{
		`[concat('a', parameters('s'))]`, `[field('name')]`, `[if(true(), 1, 2)]`, `[parameters('obj').k]`,
		`[split('a,b', ',')[0]]`, `[json('{"a":[1]}').a[0]]`, `[format('{0:N2}', 1)]`, `[range(0, 5)]`,
		`[padLeft('a', 5, 'x')]`, `[ipRangeContains('10.0.0.0/8', '10.0.0.1')]`, `[utcNow('yyyy')]`,
		`[substring('abc', 1)]`, `['it''s']`, `[-5]`, `[add(1, -9223372036854775808)]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if !isExpression(expr) {
			return
		}
		_, _ = evalExpr(&testing.T{}, expr)
	})
}
