package policy

import (
	"strings"
	"testing"
)

const nsgProps = `{"rules":[
	{"name":"ssh","properties":{"direction":"Inbound","access":"Allow","port":"22","ports":["22","2222"]}},
	{"name":"rdp","properties":{"direction":"Inbound","access":"Allow","port":"3389","ports":[]}},
	{"name":"out","properties":{"direction":"Outbound","access":"Deny","port":"*"}}
]}`

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name, cond, props string
		want              bool
	}{
		{"no where counts elements", `{"count":{"field":"Microsoft.Test/things/rules[*]"},"equals":3}`, nsgProps, true},
		{"missing array counts 0", `{"count":{"field":"Microsoft.Test/things/rules[*]"},"equals":0}`, `{}`, true},
		{"null array counts 0", `{"count":{"field":"Microsoft.Test/things/rules[*]"},"less":1}`, `{"rules":null}`, true},
		{"where binds each element", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":{"allOf":[
			{"field":"Microsoft.Test/things/rules[*].direction","equals":"inbound"},
			{"field":"Microsoft.Test/things/rules[*].access","equals":"Allow"}]}},"equals":2}`, nsgProps, true},
		{"where reads other fields whole", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":{"field":"location","equals":"eastus"}},"equals":3}`, nsgProps, true},
		{"nested [*] inside where is an implicit allOf per element", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":
			{"field":"Microsoft.Test/things/rules[*].ports[*]","like":"2*"}},"equals":2}`, nsgProps, true},
		{"field() of the counted alias is a one-element array", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":
			{"value":"[first(field('Microsoft.Test/things/rules[*].port'))]","equals":"3389"}},"equals":1}`, nsgProps, true},
		{"current() of a field count", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":
			{"value":"[current('Microsoft.Test/things/rules[*]').name]","equals":"rdp"}},"equals":1}`, nsgProps, true},
		{"current() of a property of the counted alias", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":
			{"value":"[current('Microsoft.Test/things/rules[*].direction')]","equals":"Outbound"}},"equals":1}`, nsgProps, true},
		{"bare current()", `{"count":{"field":"Microsoft.Test/things/strings[*]","where":{"value":"[current()]","like":"a*"}},"equals":2}`, `{"strings":["ab","AC","b"]}`, true},
		{"all members match", `{"count":{"field":"Microsoft.Test/things/strings[*]","where":{"field":"Microsoft.Test/things/strings[*]","in":["a","b"]}},
			"equals":"[length(field('Microsoft.Test/things/strings[*]'))]"}`, `{"strings":["a","b"]}`, true},
		{"value count with current(name)", `{"count":{"value":["web-*","db-*"],"name":"pattern","where":{"field":"name","like":"[current('pattern')]"}},"greater":0}`, `{}`, false},
		{"value count default name", `{"count":{"value":["thing*","x"],"where":{"field":"name","like":"[current()]"}},"equals":1}`, `{}`, true},
		{"value count over objects", `{"count":{"value":[{"p":1},{"p":2}],"name":"o","where":{"value":"[current('o').p]","greater":1}},"equals":1}`, `{}`, true},
		{"nested value count in a field count", `{"count":{"field":"Microsoft.Test/things/rules[*]","where":
			{"count":{"value":["22","3389"],"name":"p","where":{"field":"Microsoft.Test/things/rules[*].port","equals":"[current('p')]"}},"greater":0}},"equals":2}`, nsgProps, true},
		{"count compared with like", `{"count":{"field":"Microsoft.Test/things/rules[*]"},"like":"3"}`, nsgProps, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalCond(t, tc.cond, tc.props)
			if err != nil || got != tc.want {
				t.Errorf("got %t, %v; want %t", got, err, tc.want)
			}
		})
	}
}

func TestCountRejected(t *testing.T) {
	for _, tc := range []struct{ cond, fragment string }{
		{`{"count":{"field":"Microsoft.Test/things/a"},"equals":0}`, "must be an alias with [*]"},
		{`{"count":{"field":"name"},"equals":0}`, "must be an alias with [*]"},
		{`{"count":{"field":"Microsoft.Test/things/a[*]","value":[1]},"equals":0}`, "exactly one of"},
		{`{"count":{"value":"abc"},"equals":0}`, "must be an array"},
		{`{"count":{"value":[1],"name":"a-b"},"equals":0}`, "alphanumeric"},
		{`{"count":{"field":"Microsoft.Test/things/a[*]","name":"x"},"equals":0}`, "has no name"},
		{`{"count":{"field":"Microsoft.Test/things/a[*]","wher":{}},"equals":0}`, `did you mean "where"`},
		{`{"value":"[current()]","equals":0}`, "only valid inside the where of a count"},
		{`{"count":{"value":[1],"name":"a","where":{"count":{"value":[1],"where":{"value":"[current()]","equals":1}},"equals":1}},"equals":1}`, "needs a name"},
		{`{"count":{"value":[1],"name":"a","where":{"count":{"value":[1],"name":"b","where":{"value":"[current()]","equals":1}},"equals":1}},"equals":1}`, "not nested"},
		{`{"count":{"value":[1],"name":"a","where":{"value":"[current('b')]","equals":1}},"equals":1}`, "names no enclosing count"},
	} {
		_, err := compileCond(t, tc.cond, "", nil)
		wantProblem(t, err, tc.fragment)
	}
}

func TestCountLimits(t *testing.T) {
	one := `{"count":{"field":"Microsoft.Test/things/a[*]"},"equals":0}`
	_, err := compileCond(t, `{"allOf":[`+strings.Repeat(one+",", 5)+one+`]}`, "", nil)
	wantProblem(t, err, "more than 5 field counts")

	vc := `{"count":{"value":[1]},"equals":1}`
	_, err = compileCond(t, `{"allOf":[`+strings.Repeat(vc+",", 10)+vc+`]}`, "", nil)
	wantProblem(t, err, "more than 10 value counts")

	// nested value counts multiply: 11 x 10 iterations fail the evaluation
	nested := `{"count":{"value":"[range(0,11)]","name":"a","where":{"count":{"value":"[range(0,10)]","name":"b","where":{"value":"[current('b')]","greater":-1}},"greater":0}},"greater":0}`
	_, err = evalCond(t, nested, `{}`)
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 100") {
		t.Errorf("nested value counts of 110 iterations: %v", err)
	}
}
