package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-dev/kiln/internal/fetch"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/template"
)

// OscapArgs is the `oscap xccdf eval` command line for an offline scan
// (the root comes through OSCAP_PROBE_ROOT).
func OscapArgs(datastream, profile, arf, report string) []string {
	return []string{"xccdf", "eval", "--profile", profile, "--results-arf", arf, "--report", report, datastream}
}

// OscapSummary counts the results of an evaluation by result.
type OscapSummary struct {
	Profile string         `json:"profile"`
	Counts  map[string]int `json:"counts"`
	Failed  []string       `json:"failed,omitempty"`
	ARF     string         `json:"arf"`
	HTML    string         `json:"html"`
}

// ParseOscapOutput reads oscap's "Rule ... / Result ..." lines.
func ParseOscapOutput(out string) OscapSummary {
	sum := OscapSummary{Counts: map[string]int{}}
	rule := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 2)
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "Rule":
			rule = strings.TrimSpace(f[1])
		case "Result":
			r := strings.TrimSpace(f[1])
			sum.Counts[r]++
			if r == "fail" || r == "error" {
				sum.Failed = append(sum.Failed, rule)
			}
		}
	}
	return sum
}

// Total is the number of rules evaluated.
func (o OscapSummary) Total() int {
	n := 0
	for _, c := range o.Counts {
		n += c
	}
	return n
}

func (o OscapSummary) String() string {
	keys := make([]string, 0, len(o.Counts))
	for k := range o.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", o.Counts[k], k)
	}
	return strings.Join(parts, ", ")
}

// runOpenSCAP evaluates the image's tree offline with the template's SCAP
// content and keeps the ARF and HTML results with the run's outputs.
func runOpenSCAP(ctx context.Context, s *State, cfg *template.OpenSCAP) error {
	if len(hostexec.Missing("oscap")) > 0 {
		return errors.New("the OpenSCAP validator needs oscap: apt-get install -y openscap-scanner")
	}
	f := &fetch.Fetcher{TemplateDir: s.Job.TemplateDir, Dir: filepath.Join(s.WorkDir, "scap")}
	ds, _, err := f.Fetch(ctx, cfg.Datastream, cfg.SHA256Checksum)
	if err != nil {
		return fmt.Errorf("OpenSCAP datastream: %w", err)
	}
	dir := filepath.Join(s.Job.Dir, "outputs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	arf, html := filepath.Join(dir, "openscap-arf.xml"), filepath.Join(dir, "openscap.html")
	var out strings.Builder
	_, err = s.Engine.Runner.Run(ctx, hostexec.Command{Name: "oscap", Args: OscapArgs(ds, cfg.Profile, arf, html),
		Env: append(os.Environ(), "OSCAP_PROBE_ROOT="+s.RootDir), Stdout: &out, Stderr: &out})
	var exit *hostexec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode == 2) {
		// 2 means "some rules failed"; anything else is an error of the content or the tool.
		return fmt.Errorf("oscap could not evaluate %s profile %s: %w", cfg.Datastream, cfg.Profile, err)
	}
	sum := ParseOscapOutput(out.String())
	sum.Profile, sum.ARF, sum.HTML = cfg.Profile, arf, html
	s.OpenSCAP = &sum
	s.ValLog.Printf("OpenSCAP %s: %d rules: %s (ARF %s, report %s)", cfg.Profile, sum.Total(), sum, arf, html)
	if n := sum.Counts["notapplicable"]; n > 0 && n == sum.Total() {
		s.ValLog.Printf("OpenSCAP: every rule is not applicable to %s: the datastream targets another release (Debian's packaged ssg content covers Debian 10 and 11 only); use content written for this release", s.Tattoo.OSVersion)
	}
	if len(sum.Failed) > 0 && !cfg.Informational {
		return fmt.Errorf("OpenSCAP profile %s: %d rules failed: %s", cfg.Profile, len(sum.Failed), strings.Join(sum.Failed, ", "))
	}
	return nil
}
