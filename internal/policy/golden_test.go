package policy

import (
	"errors"
	"testing"
)

// TestGoldenVectors are the reference's section D vectors 1 to 16 (17 to
// 20 are RBAC and locks, in internal/authz).
func TestGoldenVectors(t *testing.T) {
	for _, tc := range []struct {
		n       int
		cond    string
		body    string // the resource's JSON
		want    bool
		wantErr bool
	}{
		{1, `{"field":"type","equals":"microsoft.compute/VIRTUALMACHINES"}`, `{"type":"Microsoft.Compute/virtualMachines"}`, true, false},
		{2, `{"field":"Microsoft.Test/things/p","notEquals":"x"}`, `{"type":"Microsoft.Test/things","properties":{}}`, true, false},
		{3, `{"field":"Microsoft.Test/things/p","equals":"x"}`, `{"type":"Microsoft.Test/things","properties":{}}`, false, false},
		{4, `{"field":"Microsoft.Test/things/p","exists":"false"}`, `{"type":"Microsoft.Test/things","properties":{"p":null}}`, true, false},
		{5, `{"field":"Microsoft.Test/things/p","exists":true}`, `{"type":"Microsoft.Test/things","properties":{"p":""}}`, true, false},
		{5, `{"field":"Microsoft.Test/things/p","exists":true}`, `{"type":"Microsoft.Test/things","properties":{"p":[]}}`, true, false},
		{5, `{"field":"Microsoft.Test/things/p","exists":true}`, `{"type":"Microsoft.Test/things","properties":{"p":0}}`, true, false},
		{5, `{"field":"Microsoft.Test/things/p","exists":true}`, `{"type":"Microsoft.Test/things","properties":{"p":false}}`, true, false},
		{6, `{"field":"Microsoft.Test/things/p","in":[80,443]}`, `{"type":"Microsoft.Test/things","properties":{"p":"443"}}`, true, false},
		{7, `{"field":"Microsoft.Test/things/p","equals":true}`, `{"type":"Microsoft.Test/things","properties":{"p":"TRUE"}}`, true, false},
		// 8: the Azure linter's reading (regorus says true); see the package notes.
		{8, `{"field":"Microsoft.Test/things/p","equals":"5"}`, `{"type":"Microsoft.Test/things","properties":{"p":5.0}}`, false, false},
		{9, `{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"type":"Microsoft.Test/things","properties":{"a":[]}}`, true, false},
		{10, `{"field":"Microsoft.Test/things/a[*].s","equals":"ok"}`, `{"type":"Microsoft.Test/things","properties":{}}`, false, false},
		{11, `{"count":{"field":"Microsoft.Test/things/a[*]"},"equals":0}`, `{"type":"Microsoft.Test/things","properties":{}}`, true, false},
		{12, `{"field":"name","match":"vm-##"}`, `{"type":"Microsoft.Test/things","name":"vm-01"}`, true, false},
		{12, `{"field":"name","match":"vm-##"}`, `{"type":"Microsoft.Test/things","name":"VM-01"}`, false, false},
		{12, `{"field":"name","match":"vm-##"}`, `{"type":"Microsoft.Test/things","name":"vm-1"}`, false, false},
		{13, `{"field":"name","like":"*-prod"}`, `{"type":"Microsoft.Test/things","name":"Web-PROD"}`, true, false},
		{14, `{"field":"tags","containsKey":"Env"}`, `{"type":"Microsoft.Test/things","tags":{"env":"x"}}`, true, false},
		{15, `{"not":{"field":"location","in":["westus2"]}}`, `{"type":"Microsoft.Test/things","location":"West US 2"}`, false, false},
		{16, `{"value":"[substring(field('name'),0,3)]","equals":"abc"}`, `{"type":"Microsoft.Test/things","name":"ab"}`, false, true},
	} {
		c, err := compileCond(t, tc.cond, "", nil)
		if err != nil {
			t.Fatalf("vector %d: %v", tc.n, err)
		}
		r := c.Evaluate(Resource{Body: jsonObject(t, tc.body)}, EvalContext{Now: testNow})
		if (r.Err != nil) != tc.wantErr {
			t.Errorf("vector %d: error %v, want error %t", tc.n, r.Err, tc.wantErr)
		}
		if tc.wantErr {
			if r.Effect != EffectDeny || !errors.Is(r.Err, ErrEvaluation) {
				t.Errorf("vector %d: a failed evaluation gave effect %q, error %v; want an implicit deny", tc.n, r.Effect, r.Err)
			}
			continue
		}
		if got := r.Effect != ""; got != tc.want {
			t.Errorf("vector %d: %s on %s = %t, want %t", tc.n, tc.cond, tc.body, got, tc.want)
		}
	}
}
