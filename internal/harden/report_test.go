package harden

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixedNow(t *testing.T) {
	old := now
	now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	t.Cleanup(func() { now = old })
}

func result(s Status) func(Root, Params) Result {
	return func(Root, Params) Result { return Result{Status: s, Evidence: "seen " + string(s)} }
}

func TestScoreAndGate(t *testing.T) {
	controls := []Control{
		{ID: "a", Audit: result(StatusPass)}, {ID: "b", Audit: result(StatusPass)},
		{ID: "c", Audit: result(StatusPass)}, {ID: "d", Audit: result(StatusFail)},
		{ID: "e", Audit: result(StatusNotApplicable)}, {ID: "f", Audit: result(StatusFail)},
	}
	tests := []struct {
		name      string
		exclude   []Deviation
		threshold *float64
		score     float64
		passed    bool
		failing   []string
	}{
		{"strict gate fails", nil, nil, 60, false, []string{"d", "f"}},
		{"deviations pass the strict gate", []Deviation{{"d", "r"}, {"f", "r"}}, nil, 100, true, []string{}},
		{"threshold met", nil, f64(60), 60, true, []string{"d", "f"}},
		{"threshold missed", nil, f64(60.01), 60, false, []string{"d", "f"}},
		{"one deviation", []Deviation{{"d", "r"}}, nil, 75, false, []string{"f"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan(controls, nil, nil, tc.exclude...)
			p.threshold = tc.threshold
			r := p.auditWith(NewRoot(t.TempDir()))
			if r.Score != tc.score || r.Passed != tc.passed || strings.Join(r.Failing, ",") != strings.Join(tc.failing, ",") {
				t.Errorf("score %v passed %v failing %v; want %v %v %v", r.Score, r.Passed, r.Failing, tc.score, tc.passed, tc.failing)
			}
			if r.Counts.NotApplicable != 1 || r.Counts.Deviated != len(tc.exclude) {
				t.Errorf("counts %+v", r.Counts)
			}
		})
	}
}

func TestAuditOfflineRobustness(t *testing.T) {
	p := testPlan([]Control{
		{ID: "panics", Audit: func(Root, Params) Result { panic("boom") }},
		{ID: "nil-audit"},
		{ID: "no-status", Audit: func(Root, Params) Result { return Result{Evidence: "x"} }},
	}, nil, nil)
	r := p.AuditOffline(t.TempDir())
	for _, res := range r.Results {
		if res.Status != StatusError || res.Phase != PhaseOffline {
			t.Errorf("%s: %s %q", res.ControlID, res.Status, res.Evidence)
		}
	}
	if !strings.Contains(r.Results[0].Evidence, "boom") {
		t.Errorf("panic evidence %q", r.Results[0].Evidence)
	}
	missing := p.AuditOffline(filepath.Join(t.TempDir(), "nope"))
	if missing.Passed || missing.Counts.Error != 3 || !strings.Contains(missing.Results[0].Evidence, "is not a directory") {
		t.Errorf("missing root: %+v", missing)
	}
}

func TestMergeRuntime(t *testing.T) {
	p := testPlan([]Control{
		{ID: "both", Title: "Both", Audit: result(StatusPass), Runtime: "x"},
		{ID: "offline", Title: "Offline", Audit: result(StatusPass)},
		{ID: "lost", Title: "Lost", Audit: result(StatusPass), Runtime: "x"},
		{ID: "skipped", Title: "Skipped", Audit: result(StatusPass), Runtime: "x"},
		{ID: "weak", Title: "Weak", Audit: result(StatusPass), Runtime: "x", tailor: func(Params) string { return "weaker by parameter" }},
		{ID: "unpersisted", Title: "In effect but not in the image", Audit: result(StatusFail), Runtime: "x"},
	}, nil, nil, Deviation{Control: "skipped", Reason: "not here"})
	off := p.AuditOffline(t.TempDir())
	if off.Results[4].Status != StatusDeviated || !strings.Contains(off.Results[4].Evidence, "weaker by parameter") {
		t.Errorf("tailored control offline: %+v", off.Results[4])
	}
	out := "booting...\nKILN-CHECK both fail sysctl = 1 (want 0)\nKILN-CHECK skipped pass x\nKILN-CHECK weak pass v\nKILN-CHECK unpersisted pass set now\nKILN-CHECK unknown pass\nKILN-CHECK\n"
	r := p.MergeRuntime(off, out)
	want := map[string]struct {
		status Status
		phase  string
		ev     string
	}{
		"both":        {StatusFail, PhaseRuntime, "sysctl = 1 (want 0)"},
		"offline":     {StatusPass, PhaseOffline, "seen pass"},
		"lost":        {StatusError, PhaseRuntime, "no runtime result: the runtime script did not report this control"},
		"skipped":     {StatusDeviated, PhaseOffline, "excluded: not here (check result: pass: seen pass)"},
		"weak":        {StatusDeviated, PhaseRuntime, "v (deviation: weaker by parameter)"},
		"unpersisted": {StatusFail, PhaseRuntime, "in the image: seen fail; in the running system: set now"},
	}
	if len(r.Results) != len(want) {
		t.Fatalf("%d results", len(r.Results))
	}
	for _, res := range r.Results {
		w := want[res.ControlID]
		if res.Status != w.status || res.Phase != w.phase || res.Evidence != w.ev {
			t.Errorf("%s: %s %s %q; want %s %s %q", res.ControlID, res.Status, res.Phase, res.Evidence, w.status, w.phase, w.ev)
		}
	}
	if r.Passed || strings.Join(r.Failing, ",") != "both,lost,unpersisted" || r.Score != 25 {
		t.Errorf("passed %v failing %v score %v", r.Passed, r.Failing, r.Score)
	}
	if off.Results[0].Status != StatusPass {
		t.Error("MergeRuntime modified the offline report")
	}
}

func TestReportJSON(t *testing.T) {
	fixedNow(t)
	p := mustResolve(t, Tailoring{Profile: "cis-debian-l1", Exclude: []Deviation{{Control: "kmod-udf", Reason: "Azure"}}})
	r := p.auditWith(compliantTree(t).root())
	r.Image = map[string]string{"template": "t1"}
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Profile != "cis-debian-l1" || back.GeneratedAt != "2026-01-02T03:04:05Z" || !back.Passed || back.Score != 100 ||
		len(back.Results) != len(r.Results) || back.Deviations[0].Reason != "Azure" || back.Image["template"] != "t1" {
		t.Errorf("round trip: %+v", back)
	}
	for _, key := range []string{`"profileVersion"`, `"control": "kmod-udf"`, `"status": "deviated"`, `"cis": "1.1.1.8"`, `"nist": [`, `"failing": []`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestReportHTML(t *testing.T) {
	fixedNow(t)
	p := testPlan([]Control{
		{ID: "ctl-one", Title: "First & best", CIS: "1.2.3", NIST: []string{"AC-3", "SC-7(5)"},
			Audit: func(Root, Params) Result { return fail(`saw <script>alert("x")</script>`) }},
		{ID: "ctl-two", Title: "Second", CIS: "4.5", NIST: []string{"CM-7"}, Audit: result(StatusPass)},
	}, nil, nil, Deviation{Control: "ctl-two", Reason: "not <b>needed</b> here"})
	r := p.AuditOffline(t.TempDir())
	r.Image = map[string]string{"runId": "run-42"}
	b, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		"<!DOCTYPE html>", "ctl-one", "ctl-two", "First &amp; best", "1.2.3", "AC-3, SC-7(5)",
		"saw &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "not &lt;b&gt;needed&lt;/b&gt; here",
		"FAILED", "run-42", "2026-01-02T03:04:05Z", `class="st fail"`, `class="st deviated"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "<b>needed", "http://", "https://", "<link", "src="} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if os.Getenv("KILN_WRITE_REPORT") != "" {
		_ = os.WriteFile(os.Getenv("KILN_WRITE_REPORT"), b, 0o644)
	}
}
