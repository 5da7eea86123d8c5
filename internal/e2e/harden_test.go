package e2e

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// complianceReport is the part of `kiln image builder report` the tests read.
type complianceReport struct {
	Profile string  `json:"profile"`
	Score   float64 `json:"score"`
	Passed  bool    `json:"passed"`
	Failing []string
	Results []struct {
		Control, Status, Evidence, Phase, Title, CIS string
		NIST                                         []string
	}
	Deviations []struct{ Control, Reason string }
}

func TestHardenedImage(t *testing.T) {
	e := setup(t)
	e.mustKiln("group", "create", "-n", "HardenRG", "-l", "eastus", "-o", "none")

	t.Run("profiles are listed with their controls", func(t *testing.T) {
		out := e.mustKiln("harden", "profile", "list", "--query", "[?id=='cis-debian-l1'].controls | [0]", "-o", "tsv")
		if n, err := strconv.Atoi(strings.TrimSpace(out)); err != nil || n < 40 {
			t.Errorf("cis-debian-l1 has %q controls, want at least 40", out)
		}
		table := e.mustKiln("harden", "profile", "show", "cis-debian-l1", "-o", "table")
		if !strings.Contains(table, "ssh-permit-root-login") || !strings.Contains(table, "AC-6(2)") {
			t.Errorf("the profile table lacks controls or NIST mappings:\n%s", table)
		}
	})

	t.Run("the CIS example builds, boots, passes every control and carries its evidence", func(t *testing.T) {
		e.mustKiln("build", "examples/debian12-cis.json", "-g", "HardenRG", "-n", "cis", "-o", "none")
		var r complianceReport
		if err := json.Unmarshal([]byte(e.mustKiln("image", "builder", "report", "-g", "HardenRG", "-n", "cis")), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Passed || r.Profile != "cis-debian-l1" || len(r.Results) < 40 || r.Score != 100 {
			t.Fatalf("report: passed %v, profile %s, %d results, score %v, failing %v", r.Passed, r.Profile, len(r.Results), r.Score, r.Failing)
		}
		runtime := 0
		for _, res := range r.Results {
			if res.Phase == "runtime" {
				runtime++
			}
			if res.CIS == "" || len(res.NIST) == 0 || res.Evidence == "" {
				t.Errorf("result of %s lacks its mapping or evidence: %+v", res.Control, res)
			}
		}
		if runtime < 20 {
			t.Errorf("only %d controls were checked in the booted VM", runtime)
		}
		if len(r.Deviations) != 1 || r.Deviations[0].Control != "kmod-udf" || r.Deviations[0].Reason == "" {
			t.Errorf("the example's documented deviation is missing: %+v", r.Deviations)
		}
		html := e.mustKiln("image", "builder", "report", "-g", "HardenRG", "-n", "cis", "-o", "html")
		if !strings.Contains(html, "<html") || !strings.Contains(html, "ssh-permit-root-login") || !strings.Contains(html, "Azure hands provisioning data") {
			t.Error("the HTML report lacks the page, the controls or the deviation's reason")
		}
		vlog := e.mustKiln("image", "builder", "logs", "-g", "HardenRG", "-n", "cis", "--validation")
		for _, want := range []string{"KILN-READY", "tattoo read back from the running image matches", "compliance of cis-debian-l1",
			"OpenSCAP xccdf_org.ssgproject.content_profile_standard", "every rule is not applicable",
			`Starting validator Shell validator "sshd-effective-config"`, "validation passed"} {
			if !strings.Contains(vlog, want) {
				t.Errorf("validation.log lacks %q", want)
			}
		}
		var out struct {
			Tattoo struct {
				Hardening struct {
					Profile, Version, ReportSHA256 string
					Score                          float64
				}
			}
		}
		if err := json.Unmarshal([]byte(e.mustKiln("image", "builder", "output", "artifacts", "-g", "HardenRG", "-n", "cis")), &out); err != nil {
			t.Fatal(err)
		}
		if h := out.Tattoo.Hardening; h.Profile != "cis-debian-l1" || h.Version == "" || len(h.ReportSHA256) != 64 || h.Score != 100 {
			t.Errorf("the tattoo does not record the hardening: %+v", h)
		}
	})

	t.Run("a later step that re-enables root password login fails validation and distributes nothing", func(t *testing.T) {
		_, stderr, code := e.kiln("build", "examples/debian12-cis-broken.json", "-g", "HardenRG", "-n", "broken", "-o", "none")
		if code == 0 {
			t.Fatal("the broken build exited 0")
		}
		for _, want := range []string{"compliance gate failed", "ssh-permit-root-login", "ssh-key-only", "permitrootlogin yes"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("the error lacks %q:\n%s", want, stderr)
			}
		}
		msg := e.mustKiln("image", "builder", "show", "-g", "HardenRG", "-n", "broken", "--query", "properties.lastRunStatus.[runState, message]", "-o", "tsv")
		if !strings.HasPrefix(msg, "Failed") || !strings.Contains(msg, "ssh-permit-root-login") {
			t.Errorf("lastRunStatus does not name the failing control: %s", msg)
		}
		outs := strings.TrimSpace(e.mustKiln("image", "builder", "output", "list", "-g", "HardenRG", "-n", "broken", "--query", "[?provisioningState=='Succeeded'] | length(@)"))
		if outs != "0" {
			t.Errorf("the broken build distributed %s outputs", outs)
		}
		if logs := e.mustKiln("image", "builder", "logs", "-g", "HardenRG", "-n", "broken"); !strings.Contains(logs, "using cached base") {
			t.Error("the repair loop did not reuse the cached base")
		}
		var r complianceReport
		if err := json.Unmarshal([]byte(e.mustKiln("image", "builder", "report", "-g", "HardenRG", "-n", "broken")), &r); err != nil {
			t.Fatal(err)
		}
		if r.Passed || !slices.Contains(r.Failing, "ssh-permit-root-login") {
			t.Errorf("the broken run's report: passed %v, failing %v", r.Passed, r.Failing)
		}
	})
}
