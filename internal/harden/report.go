package harden

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// Report is the compliance evidence of one run.
type Report struct {
	Profile        string            `json:"profile"`
	ProfileVersion string            `json:"profileVersion"`
	Score          float64           `json:"score"` // percent of applicable, non-deviated controls passing
	Threshold      *float64          `json:"threshold,omitempty"`
	Passed         bool              `json:"passed"`
	Counts         Counts            `json:"counts"`
	Results        []Result          `json:"results"`
	Deviations     []Deviation       `json:"deviations"`
	Failing        []string          `json:"failing"`
	GeneratedAt    string            `json:"generatedAt"`
	Image          map[string]string `json:"image,omitempty"` // free-form: template, run id, OS version
}

// Counts tallies results by status.
type Counts struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	NotApplicable int `json:"notapplicable"`
	Deviated      int `json:"deviated"`
	Error         int `json:"error"`
}

// now is replaced in tests.
var now = func() time.Time { return time.Now().UTC() }

// AuditOffline runs every control's Audit against the root tree at root.
// Excluded controls are checked too, for the record, but reported as
// deviated.
func (p *Plan) AuditOffline(root string) Report {
	fsys := NewRoot(root)
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return p.allErrored(fmt.Sprintf("root tree %s is not a directory", root))
	}
	return p.auditWith(fsys)
}

func (p *Plan) auditWith(fsys Root) Report {
	rep := p.newReport()
	for _, c := range p.profile.Controls {
		r := runAudit(c, fsys, p.params)
		r = p.applyDeviation(c.ID, r)
		rep.Results = append(rep.Results, r)
	}
	rep.summarize()
	return rep
}

func (p *Plan) allErrored(why string) Report {
	rep := p.newReport()
	for _, c := range p.profile.Controls {
		r := p.applyDeviation(c.ID, withMeta(c, Result{Status: StatusError, Evidence: why}, PhaseOffline))
		rep.Results = append(rep.Results, r)
	}
	rep.summarize()
	return rep
}

func (p *Plan) newReport() Report {
	return Report{
		Profile:        p.profile.ID,
		ProfileVersion: p.profile.Version,
		Threshold:      p.threshold,
		Deviations:     p.Deviations(),
		GeneratedAt:    now().Format(time.RFC3339),
	}
}

// runAudit runs one Audit, turning a panic into an error result.
func runAudit(c Control, fsys Root, params Params) (r Result) {
	defer func() {
		if v := recover(); v != nil {
			r = withMeta(c, Result{Status: StatusError, Evidence: fmt.Sprintf("check failed unexpectedly: %v", v)}, PhaseOffline)
		}
	}()
	if c.Audit == nil {
		return withMeta(c, Result{Status: StatusError, Evidence: "control has no offline check"}, PhaseOffline)
	}
	return withMeta(c, c.Audit(fsys, params), PhaseOffline)
}

func withMeta(c Control, r Result, phase string) Result {
	r.ControlID, r.Title, r.CIS, r.NIST, r.Phase = c.ID, c.Title, c.CIS, slices.Clone(c.NIST), phase
	if r.Status == "" {
		r.Status = StatusError
	}
	return r
}

// applyDeviation marks excluded controls, and tailored ones that pass with
// their weaker parameters, as deviated.
func (p *Plan) applyDeviation(id string, r Result) Result {
	if why, ok := p.excluded[id]; ok {
		r.Evidence = fmt.Sprintf("excluded: %s (check result: %s: %s)", why, r.Status, r.Evidence)
		r.Status = StatusDeviated
		return r
	}
	if why, ok := p.tailored[id]; ok && r.Status == StatusPass {
		r.Evidence = fmt.Sprintf("%s (deviation: %s)", r.Evidence, why)
		r.Status = StatusDeviated
	}
	return r
}

func (r *Report) summarize() {
	r.Counts = Counts{}
	r.Failing = []string{}
	for _, res := range r.Results {
		switch res.Status {
		case StatusPass:
			r.Counts.Pass++
		case StatusFail:
			r.Counts.Fail++
			r.Failing = append(r.Failing, res.ControlID)
		case StatusNotApplicable:
			r.Counts.NotApplicable++
		case StatusDeviated:
			r.Counts.Deviated++
		default:
			r.Counts.Error++
			r.Failing = append(r.Failing, res.ControlID)
		}
	}
	applicable := r.Counts.Pass + r.Counts.Fail + r.Counts.Error
	r.Score = 100
	if applicable > 0 {
		r.Score = math.Round(float64(r.Counts.Pass)*10000/float64(applicable)) / 100
	}
	if r.Threshold == nil {
		r.Passed = len(r.Failing) == 0
	} else {
		r.Passed = r.Score >= *r.Threshold
	}
	if r.Deviations == nil {
		r.Deviations = []Deviation{}
	}
}

// MergeRuntime folds the output of RuntimeScript into an offline report:
// for every applied control with a Runtime check, the runtime verdict
// replaces the offline one, except that a control failing offline stays
// failed (a setting in effect now but not persisted in the image, or the
// reverse, does not comply). A control whose line is missing is an error.
func (p *Plan) MergeRuntime(r Report, output string) Report {
	lines := parseRuntime(output)
	out := r
	out.Results = slices.Clone(r.Results)
	for _, c := range p.controls {
		if strings.TrimSpace(c.Runtime) == "" {
			continue
		}
		res, ok := lines[c.ID]
		if !ok {
			res = Result{Status: StatusError, Evidence: "no runtime result: the runtime script did not report this control"}
		}
		res = p.applyDeviation(c.ID, withMeta(c, res, PhaseRuntime))
		out.Results = replaceResult(out.Results, worseOffline(out.Results, res))
	}
	out.summarize()
	return out
}

// worseOffline keeps an offline failure of the control over a runtime pass.
func worseOffline(rs []Result, runtime Result) Result {
	i := slices.IndexFunc(rs, func(r Result) bool { return r.ControlID == runtime.ControlID })
	if i < 0 {
		return runtime
	}
	off := rs[i]
	failed := off.Status == StatusFail || off.Status == StatusError
	if failed && (runtime.Status == StatusPass || runtime.Status == StatusNotApplicable) {
		runtime.Status = off.Status
		runtime.Evidence = fmt.Sprintf("in the image: %s; in the running system: %s", off.Evidence, runtime.Evidence)
	}
	return runtime
}

func replaceResult(rs []Result, r Result) []Result {
	for i := range rs {
		if rs[i].ControlID == r.ControlID {
			rs[i] = r
			return rs
		}
	}
	return append(rs, r)
}

// parseRuntime reads "KILN-CHECK <id> <verdict> <evidence>" lines.
func parseRuntime(output string) map[string]Result {
	out := map[string]Result{}
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(strings.TrimSpace(sc.Text()), " ", 4)
		if len(f) < 3 || f[0] != "KILN-CHECK" {
			continue
		}
		ev := ""
		if len(f) == 4 {
			ev = strings.TrimSpace(f[3])
		}
		out[f[1]] = Result{Status: runtimeStatus(f[2]), Evidence: ev}
	}
	return out
}

func runtimeStatus(v string) Status {
	switch v {
	case "pass":
		return StatusPass
	case "fail":
		return StatusFail
	case "na":
		return StatusNotApplicable
	}
	return StatusError
}

// JSON renders the report as indented JSON.
func (r Report) JSON() ([]byte, error) {
	if r.Results == nil {
		r.Results = []Result{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("compliance report: %w", err)
	}
	return append(b, '\n'), nil
}

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"join":   strings.Join,
	"score":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"thresh": func(f *float64) string { return fmt.Sprintf("%.1f%%", *f) },
}).Parse(reportHTML))

// HTML renders the report as one standalone page: no scripts, fonts or
// stylesheets from elsewhere.
func (r Report) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, r); err != nil {
		return nil, fmt.Errorf("compliance report: render HTML: %w", err)
	}
	return buf.Bytes(), nil
}
