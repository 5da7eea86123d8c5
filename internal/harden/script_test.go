package harden

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestApplyScriptSections(t *testing.T) {
	excluded := []string{"kmod-udf", "unattended-upgrades", "ssh-key-only"}
	var ex []Deviation
	for _, id := range excluded {
		ex = append(ex, Deviation{Control: id, Reason: "tested\nexclusion"})
	}
	p := mustResolve(t, Tailoring{Profile: "cis-debian-l1", Exclude: ex,
		Parameters: map[string]any{"bannerText": "It's 'quoted' $HOME `x`\n", "firewallAllowTCP": []any{"443"}}})
	script := p.ApplyScript()
	for _, c := range cisDebianL1().Controls {
		section := "echo " + shq("==> "+c.ID+" "+c.Title) + "\n"
		if slicesContains(excluded, c.ID) {
			if strings.Contains(script, section) {
				t.Errorf("excluded control %s has a section", c.ID)
			}
			if !strings.Contains(script, "# deviation "+c.ID+": tested exclusion\n") {
				t.Errorf("deviation of %s not recorded in the header", c.ID)
			}
			continue
		}
		if !strings.Contains(script, section) {
			t.Errorf("no section for %s", c.ID)
		}
		if !strings.Contains(script, "kiln_fail "+shq(c.ID+" ("+c.Title+")")) {
			t.Errorf("no failure line for %s", c.ID)
		}
	}
	for _, want := range []string{
		`export KILN_PARAM_BANNER_TEXT='It'\''s '\''quoted'\'' $HOME ` + "`x`\n'",
		"export KILN_PARAM_FIREWALL_ALLOW_TCP='443'\n",
		"export KILN_PARAM_SSH_ALLOW_GROUPS='sudo'\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	// Executors pass a script as one argument to sh -c, and Linux limits
	// one argument to 128 KiB (MAX_ARG_STRLEN).
	if len(script) > 100<<10 {
		t.Errorf("ApplyScript is %d bytes, close to the 128 KiB limit of one exec argument", len(script))
	}
	shSyntax(t, script)
	shSyntax(t, p.RuntimeScript())
	shSyntax(t, p.InstallScript())
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func shSyntax(t *testing.T, script string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v: %s", err, out)
	}
}

// runSh runs a script with sh and returns stdout, stderr and the exit code.
func runSh(t *testing.T, script string) (string, string, int) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(sh, "-c", script)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func testPlan(controls []Control, params []ParamSpec, given map[string]any, exclude ...Deviation) *Plan {
	prof := Profile{ID: "test", Title: "Test", Version: "0.1", Controls: controls, Params: params}
	vals, probs := resolveParams(prof, given)
	if len(probs) > 0 {
		panic(probs)
	}
	ex, probs := resolveExclusions(prof, exclude)
	if len(probs) > 0 {
		panic(probs)
	}
	return newPlan(prof, vals, ex, nil)
}

func TestApplyScriptStopsAtFailingControl(t *testing.T) {
	p := testPlan([]Control{
		{ID: "first", Title: "First", Apply: `echo "param=[$KILN_PARAM_WHO]"`},
		{ID: "bad", Title: "Bad one", Apply: "false\necho after-false"},
		{ID: "never", Title: "Never", Apply: "echo never-ran"},
	}, []ParamSpec{{Name: "who", Type: TypeString, Default: "a 'b' c"}}, nil)
	out, errOut, code := runSh(t, p.ApplyScript())
	if code == 0 {
		t.Fatalf("exit 0; stdout %s", out)
	}
	for _, want := range []string{"==> first First\n", "param=[a 'b' c]\n", "==> bad Bad one\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"after-false", "never-ran", "==> never"} {
		if strings.Contains(out, bad) {
			t.Errorf("stdout has %q: set -e did not stop the control or the script:\n%s", bad, out)
		}
	}
	if !strings.Contains(errOut, "kiln-harden: control bad (Bad one) failed with exit status 1") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestApplyScriptHelpers(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/login.defs"
	p := testPlan([]Control{{ID: "kv", Title: "KV", Apply: `
printf '%s\n' '# PASS_MAX_DAYS is documented here' 'PASS_MAX_DAYS	99999' 'OTHER 1' 'PASS_MAX_DAYS 5' > ` + f + `
kiln_set_kv ` + f + ` PASS_MAX_DAYS '	' 365
kiln_set_kv ` + f + ` NEW_KEY ' = ' 7
kiln_set_kv ` + f + ` NEW_KEY ' = ' 8
kiln_line ` + f + ` flag
kiln_line ` + f + ` flag
cat ` + f}}, nil, nil)
	out, errOut, code := runSh(t, p.ApplyScript())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "# PASS_MAX_DAYS is documented here\nPASS_MAX_DAYS\t365\nOTHER 1\nNEW_KEY = 8\nflag\n"
	if got := out[strings.Index(out, "==> kv KV\n")+len("==> kv KV\n") : strings.LastIndex(out, "==> kiln")]; got != want {
		t.Errorf("file after helpers:\n%q\nwant\n%q", got, want)
	}
}

func TestRuntimeScript(t *testing.T) {
	p := testPlan([]Control{
		{ID: "ok", Title: "OK", Runtime: `echo "pass value=$KILN_PARAM_N"`},
		{ID: "noisy", Title: "Noisy", Runtime: "echo some output\necho >&2 on stderr\necho 'fail seen 7'"},
		{ID: "na", Title: "NA", Runtime: "echo 'na no such service'"},
		{ID: "garbage", Title: "Garbage", Runtime: "echo hello"},
		{ID: "silent", Title: "Silent", Runtime: "exit 3"},
		{ID: "offline-only", Title: "Offline", Apply: ":"},
		{ID: "excluded", Title: "Excluded", Runtime: "echo 'pass'"},
	}, []ParamSpec{{Name: "n", Type: TypeInt, Default: 5}}, nil, Deviation{Control: "excluded", Reason: "r"})
	out, errOut, code := runSh(t, p.RuntimeScript())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "KILN-CHECK ok pass value=5\n" +
		"KILN-CHECK noisy fail seen 7\n" +
		"KILN-CHECK na na no such service\n" +
		"KILN-CHECK garbage error the check printed no verdict (last line: hello)\n" +
		"KILN-CHECK silent error the check printed no verdict (last line: )\n"
	if out != want {
		t.Errorf("runtime output:\n%s\nwant\n%s", out, want)
	}
}

func TestInstallScript(t *testing.T) {
	s := mustResolve(t, Tailoring{Profile: "cis-debian-l1"}).InstallScript()
	if !strings.Contains(s, "apt-get install -y -q --no-install-recommends") || !strings.Contains(s, " apparmor audispd-plugins auditd cron ") {
		t.Errorf("install script:\n%s", s)
	}
	if got := testPlan(nil, nil, nil).InstallScript(); strings.Contains(got, "apt-get") {
		t.Errorf("install script without packages: %s", got)
	}
}
