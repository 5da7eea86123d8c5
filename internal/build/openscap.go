package build

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

// ParseARF counts the rule results of an ARF (or plain XCCDF results)
// document: every <rule-result idref=...><result>...</result>, except the
// rules the profile did not select. oscap's terminal output is not parsed:
// its layout changes with the terminal and the version, the ARF does not.
func ParseARF(r io.Reader) (OscapSummary, error) {
	sum := OscapSummary{Counts: map[string]int{}}
	dec := xml.NewDecoder(r)
	rule, inResult := "", false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return sum, nil
		}
		if err != nil {
			return sum, fmt.Errorf("read the ARF results: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "rule-result":
				rule = attr(t, "idref")
			case "result":
				inResult = rule != ""
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "rule-result":
				rule = ""
			case "result":
				inResult = false
			}
		case xml.CharData:
			if inResult {
				sum.add(rule, strings.TrimSpace(string(t)))
				inResult = false
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (o *OscapSummary) add(rule, result string) {
	if result == "" || result == "notselected" {
		return
	}
	o.Counts[result]++
	if result == "fail" || result == "error" {
		o.Failed = append(o.Failed, rule)
	}
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
	ds := s.Files[scapKey].Path // fetched and sniffed by the fetch-inputs step
	dir := filepath.Join(s.Job.Dir, "outputs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	arf, html := filepath.Join(dir, "openscap-arf.xml"), filepath.Join(dir, "openscap.html")
	out := hostexec.NewTail(2048)
	_, err := s.Engine.Runner.Run(ctx, hostexec.Command{Name: "oscap", Args: OscapArgs(ds, cfg.Profile, arf, html),
		Env: append(os.Environ(), "OSCAP_PROBE_ROOT="+s.RootDir), Stdout: out, Stderr: out})
	var exit *hostexec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode == 2) {
		// 2 means "some rules failed"; anything else is an error of the content or the tool.
		return fmt.Errorf("oscap could not evaluate %s profile %s: %w", cfg.Datastream, cfg.Profile, err)
	}
	sum, err := readARF(arf)
	if err != nil {
		return fmt.Errorf("oscap gave no usable results for %s profile %s: %w (output: %s)", cfg.Datastream, cfg.Profile, err, out.Lines(5))
	}
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

func readARF(path string) (OscapSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return OscapSummary{}, err
	}
	defer f.Close()
	return ParseARF(f)
}
