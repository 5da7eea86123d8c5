package harden

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	if p, err := Lookup("cis-debian-l1"); err != nil || p.ID != "cis-debian-l1" {
		t.Fatalf("Lookup = %v, %v", p.ID, err)
	}
	for _, tc := range []struct{ id, want string }{
		{"cis-debian-l2", `unknown hardening profile "cis-debian-l2": did you mean "cis-debian-l1"? (available: cis-debian-l1)`},
		{"stig", `unknown hardening profile "stig" (available: cis-debian-l1)`},
	} {
		if _, err := Lookup(tc.id); err == nil || err.Error() != tc.want {
			t.Errorf("Lookup(%q) error = %v\nwant %s", tc.id, err, tc.want)
		}
	}
}

func f64(f float64) *float64 { return &f }

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Tailoring
		want []string // every problem, in order
	}{
		{"no profile", Tailoring{}, []string{"profile is required (available: cis-debian-l1)"}},
		{"unknown profile", Tailoring{Profile: "cis-debain-l1"},
			[]string{`unknown hardening profile "cis-debain-l1": did you mean "cis-debian-l1"? (available: cis-debian-l1)`}},
		{"unknown control with suggestion", Tailoring{Profile: "cis-debian-l1", Exclude: []Deviation{{Control: "ssh-permit-root", Reason: "x"}}},
			[]string{`exclude[0]: unknown control "ssh-permit-root" in profile cis-debian-l1 (did you mean "ssh-permit-root-login"?)`}},
		{"unknown control without suggestion", Tailoring{Profile: "cis-debian-l1", Exclude: []Deviation{{Control: "zzzzzzzzzzzzzzzz", Reason: "x"}}},
			[]string{`exclude[0]: unknown control "zzzzzzzzzzzzzzzz" in profile cis-debian-l1`}},
		{"deviation without reason", Tailoring{Profile: "cis-debian-l1", Exclude: []Deviation{{Control: "kmod-udf", Reason: "  "}}},
			[]string{"exclude[0]: control kmod-udf is excluded without a reason; a deviation must say why"}},
		{"duplicate deviation", Tailoring{Profile: "cis-debian-l1", Exclude: []Deviation{{Control: "kmod-udf", Reason: "a"}, {Control: "kmod-udf", Reason: "b"}}},
			[]string{"exclude[1]: control kmod-udf is excluded twice"}},
		{"unknown parameter", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshAllowGroup": []any{"wheel"}}},
			[]string{`parameters.sshAllowGroup: unknown parameter of profile cis-debian-l1 (did you mean "sshAllowGroups"?)`}},
		{"string for int", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshMaxAuthTries": "four"}},
			[]string{`parameters.sshMaxAuthTries: want int, got string "four"`}},
		{"fraction for int", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"passMinLength": 14.5}},
			[]string{"parameters.passMinLength: want int, got number 14.5, which is not a whole number in range"}},
		{"number for string", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshPermitRootLogin": 0.0}},
			[]string{"parameters.sshPermitRootLogin: want string, got number 0"}},
		{"number in list", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"firewallAllowTCP": []any{443.0}}},
			[]string{"parameters.firewallAllowTCP: want []string, item 0: got number 443"}},
		{"string for list", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshAllowUsers": "alice"}},
			[]string{`parameters.sshAllowUsers: want []string, got string "alice"`}},
		{"bool for int", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"shellTimeout": true}},
			[]string{"parameters.shellTimeout: want int, got bool true"}},
		{"out of range", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshMaxAuthTries": 6}},
			[]string{"parameters.sshMaxAuthTries: 6 is out of range 1..4"}},
		{"enum", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshPermitRootLogin": "yes"}},
			[]string{`parameters.sshPermitRootLogin: "yes" is not one of no, prohibit-password`}},
		{"bad port", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"firewallAllowTCP": []any{"443", "http"}}},
			[]string{`parameters.firewallAllowTCP: "http" is not a port or port range (e.g. "443" or "8000-8010")`}},
		{"bad user name", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"sshAllowUsers": []any{"bob\nPermitRootLogin yes"}}},
			[]string{`parameters.sshAllowUsers: "bob\nPermitRootLogin yes" is not a valid user or group name`}},
		{"banner with escape", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"bannerText": `Debian \r`}},
			[]string{`parameters.bannerText: the banner must not contain the getty escape \r (it reveals OS details)`}},
		{"weak umask", Tailoring{Profile: "cis-debian-l1", Parameters: map[string]any{"umask": "022"}},
			[]string{"parameters.umask: umask 022 is weaker than 027 (group write, other read/write/execute must be masked)"}},
		{"threshold", Tailoring{Profile: "cis-debian-l1", Threshold: f64(120)},
			[]string{"threshold: 120 is not a percentage between 0 and 100"}},
		{"all at once", Tailoring{Profile: "cis-debian-l1",
			Parameters: map[string]any{"nope": 1, "passMaxDays": "x"},
			Exclude:    []Deviation{{Control: "kmod-udf"}, {Control: "kmod-udff", Reason: "r"}}},
			[]string{
				"parameters.nope: unknown parameter of profile cis-debian-l1",
				`parameters.passMaxDays: want int, got string "x"`,
				"exclude[0]: control kmod-udf is excluded without a reason; a deviation must say why",
				`exclude[1]: unknown control "kmod-udff" in profile cis-debian-l1 (did you mean "kmod-udf"?)`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(tc.in)
			var te *TailoringError
			if p != nil || !errors.As(err, &te) {
				t.Fatalf("Resolve = %v, %v; want a TailoringError", p, err)
			}
			if !slices.Equal(te.Problems, tc.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(te.Problems, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if !strings.HasPrefix(err.Error(), "hardening tailoring: ") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

func TestResolveFromJSON(t *testing.T) {
	for _, useNumber := range []bool{false, true} {
		doc := `{"profile": "cis-debian-l1",
			"parameters": {"sshMaxAuthTries": 3, "firewallAllowTCP": ["443", "8000-8010"], "sshPermitRootLogin": "prohibit-password"},
			"exclude": [{"control": "kmod-udf", "reason": "Azure provisioning media is UDF"}],
			"threshold": 95}`
		dec := json.NewDecoder(strings.NewReader(doc))
		if useNumber {
			dec.UseNumber()
		}
		var tl Tailoring
		if err := dec.Decode(&tl); err != nil {
			t.Fatal(err)
		}
		p := mustResolve(t, tl)
		params := p.Params()
		if params.Int("sshMaxAuthTries") != 3 || !slices.Equal(params.List("firewallAllowTCP"), []string{"443", "8000-8010"}) {
			t.Errorf("params %v", params)
		}
		if params.Int("passMinLength") != 14 || params.String("umask") != "027" {
			t.Errorf("defaults not filled: %v", params)
		}
		if _, ok := findControl(p.Controls(), "kmod-udf"); ok {
			t.Error("excluded control still planned")
		}
		want := []Deviation{
			{Control: "kmod-udf", Reason: "Azure provisioning media is UDF"},
			{Control: "ssh-permit-root-login", Reason: "parameter sshPermitRootLogin=prohibit-password: root may log in over SSH with a key (CIS 5.1.20 asks for no)"},
		}
		if got := p.Deviations(); !slices.Equal(got, want) {
			t.Errorf("deviations %v", got)
		}
		if p.threshold == nil || *p.threshold != 95 {
			t.Errorf("threshold %v", p.threshold)
		}
	}
}

func TestParamsDoNotAlias(t *testing.T) {
	p := mustResolve(t, Tailoring{Profile: "cis-debian-l1"})
	l := p.Params()["sshAllowGroups"].([]string)
	l[0] = "changed"
	if p.Params().List("sshAllowGroups")[0] != "sudo" {
		t.Error("Params() exposes the plan's slice")
	}
	if cisDebianL1().Params[1].Default.([]string)[0] != "sudo" {
		t.Error("the profile default was modified")
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"sshPermitRootLogin": "KILN_PARAM_SSH_PERMIT_ROOT_LOGIN",
		"firewallAllowTCP":   "KILN_PARAM_FIREWALL_ALLOW_TCP",
		"umask":              "KILN_PARAM_UMASK",
		"pass2Max-days":      "KILN_PARAM_PASS2_MAX_DAYS",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPackages(t *testing.T) {
	all := mustResolve(t, Tailoring{Profile: "cis-debian-l1"}).Packages()
	want := []string{"apparmor", "audispd-plugins", "auditd", "cron", "libpam-pwquality", "nftables", "openssh-server", "sudo", "unattended-upgrades"}
	if !slices.Equal(all, want) {
		t.Errorf("Packages = %v", all)
	}
	var ex []Deviation
	for _, id := range []string{"unattended-upgrades"} {
		ex = append(ex, Deviation{Control: id, Reason: "managed elsewhere"})
	}
	got := mustResolve(t, Tailoring{Profile: "cis-debian-l1", Exclude: ex}).Packages()
	if slices.Contains(got, "unattended-upgrades") {
		t.Errorf("excluded control's package still installed: %v", got)
	}
}

func findControl(cs []Control, id string) (Control, bool) {
	for _, c := range cs {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}
