package arm

import "testing"

// FuzzExpression checks that parsing and evaluating any string never
// panics, that nesting stays bounded, and that a parsed expression prints
// back to text that parses to the same expression.
func FuzzExpression(f *testing.F) {
	for _, s := range []string{
		"[concat(parameters('name'), '-', variables('greeting'))]",
		"[format('{0:D3}-{1}', 7, resourceGroup().location)]",
		"[resourceId('Microsoft.Compute/galleries/images', 'g', 'i')]",
		"[if(equals(parameters('count'), 3), createArray(1, 2)[1], json('{\"a\":1}').a)]",
		"[union(parameters('obj'), createObject('k', 'v')).a.b]",
		"[split('a,b', ',')[0]]", "[[escaped]", "['it''s']", "[-1]", "[variables('self')]",
		"[padLeft('x', 20, '0')]", "[uniqueString(subscription().id)]", "[guid('a')]",
		"[string(parameters('obj'))]", "[substring('hello', 1, 2)]", "[range(1, 3)]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParseExpression(s)
		if err == nil {
			again, err := ParseExpression(x.String())
			if err != nil {
				t.Fatalf("printed form %q of %q does not parse: %v", x.String(), s, err)
			}
			if again.String() != x.String() {
				t.Fatalf("print/parse not stable: %q -> %q", x.String(), again.String())
			}
			if h := height(x.root); h > MaxExpressionDepth {
				t.Fatalf("accepted an expression %d levels deep", h)
			}
		}
		_, _ = testEvaluator().Eval("x", s)
		_, _ = testEvaluator().EvalValue("x", map[string]any{s: []any{s}})
	})
}

// FuzzEvaluate checks that evaluating any document never panics.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(deployment(`{"p": {"type": "string", "defaultValue": "[resourceGroup().name]"}}`,
		`{"v": "[concat(parameters('p'), '-x')]"}`, `[{"type": "A.B/c", "apiVersion": "1", "name": "[variables('v')]"}]`)))
	f.Add([]byte(`{"$schema": "x", "resources": [{"condition": "[false()]"}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, _ = Evaluate(doc, map[string]any{"p": RawValue("1")}, testCtx)
	})
}
