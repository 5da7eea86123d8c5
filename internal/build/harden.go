package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/harden"
	"github.com/kiln-dev/kiln/internal/tattoo"
	"github.com/kiln-dev/kiln/internal/template"
)

// Tailoring turns a Hardening customizer into the profile's tailoring.
func Tailoring(c template.Customizer) harden.Tailoring {
	t := harden.Tailoring{Profile: c.Profile, Parameters: c.Parameters, Threshold: c.Threshold}
	for _, d := range c.Exclude {
		t.Exclude = append(t.Exclude, harden.Deviation{Control: d.Control, Reason: d.Reason})
	}
	return t
}

// CheckHardening resolves every Hardening step of a template, so unknown
// profiles, controls and parameters are refused when the template is created.
func CheckHardening(p template.Properties) error {
	n := 0
	for i, c := range p.Customize {
		if c.Type != template.CustomizerHardening {
			continue
		}
		if n++; n > 1 {
			return fmt.Errorf("properties.customize[%d]: a template takes one Hardening step", i)
		}
		if _, err := harden.Resolve(Tailoring(c)); err != nil {
			return fmt.Errorf("properties.customize[%d]: %w", i, err)
		}
	}
	return nil
}

// hardening is the state of a run's Hardening step.
type hardening struct {
	plan    *harden.Plan
	offline harden.Report
	final   *harden.Report
}

// runHardening installs the profile's packages and applies its controls.
func runHardening(ctx context.Context, s *State, ex executor.Executor, out io.Writer, c template.Customizer) error {
	plan, err := harden.Resolve(Tailoring(c))
	if err != nil {
		return err
	}
	if len(plan.Packages()) > 0 {
		if err := runScript(ctx, ex, plan.InstallScript(), out); err != nil {
			return fmt.Errorf("install the packages of profile %s: %w", c.Profile, err)
		}
	}
	if err := runScript(ctx, ex, plan.ApplyScript(), out); err != nil {
		return fmt.Errorf("apply profile %s: %w", c.Profile, err)
	}
	s.Hardening = &hardening{plan: plan}
	return nil
}

// auditOffline scans the generalized tree and records the result in the
// tattoo (profile, version, score and the offline report's digest).
func auditOffline(s *State) error {
	h := s.Hardening
	if h == nil {
		return nil
	}
	h.offline = h.plan.AuditOffline(s.RootDir)
	data, err := h.offline.JSON()
	if err != nil {
		return err
	}
	if err := writeOutput(s, "compliance-offline.json", data); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	s.Tattoo.Hardening = &tattoo.Hardening{Profile: h.offline.Profile, Version: h.offline.ProfileVersion,
		Score: h.offline.Score, Passed: h.offline.Passed, ReportSHA256: hex.EncodeToString(sum[:])}
	s.Log.Printf("compliance scan (offline) of %s %s: score %.1f%%, %d failing", h.offline.Profile, h.offline.ProfileVersion, h.offline.Score, len(h.offline.Failing))
	return nil
}

// stepOfflineGate fails a run whose offline scan already fails the
// profile's gate, before the disk is assembled and booted: the checks in the
// running system cannot turn an offline failure into a pass
// (harden.Plan.MergeRuntime), so the repair loop gets its answer in seconds.
// With continueDistributeOnFailure the full validation runs instead.
type stepOfflineGate struct{}

func (*stepOfflineGate) Name() string     { return "compliance-gate" }
func (*stepOfflineGate) SubState() string { return SubValidating }
func (*stepOfflineGate) Cleanup(*State)   {}

func (*stepOfflineGate) Run(ctx context.Context, s *State) error {
	h := s.Hardening
	v := s.Job.Template.Properties.Validate
	if h == nil || h.offline.Passed || (v != nil && v.ContinueDistributeOnFailure) {
		return nil
	}
	report := h.offline
	report.Image = map[string]string{"template": s.Job.TemplateName, "runId": s.Job.RunID, "osVersion": s.Tattoo.OSVersion}
	h.final = &report
	if err := writeReport(s, report); err != nil {
		return err
	}
	s.ValLog.Printf("compliance of %s %s in the image (offline scan): score %.1f%%, passed false; the image is not booted: checks in the running system cannot make it pass",
		report.Profile, report.ProfileVersion, report.Score)
	return validationFailed(ctx, s, gateError(report))
}

func gateError(r harden.Report) error {
	return fmt.Errorf("compliance gate failed for profile %s (score %.1f%%): failing controls: %s", r.Profile, r.Score, failingSummary(r))
}

// checkCompliance runs the runtime checks in the booted VM, writes the
// final report and applies the gate.
func checkCompliance(ctx context.Context, s *State, vm executor.Executor) error {
	h := s.Hardening
	if h == nil {
		return nil
	}
	report := h.offline
	if vm != nil {
		var out strings.Builder
		t0 := time.Now()
		if err := runAsRoot(ctx, s, vm, h.plan.RuntimeScript(), &out); err != nil {
			s.ValLog.Printf("runtime compliance checks: %v", err)
		}
		s.ValLog.Printf("(telemetry) compliance checks in the running system took %s", elapsed(t0))
		report = h.plan.MergeRuntime(report, out.String())
	}
	report.Image = map[string]string{"template": s.Job.TemplateName, "runId": s.Job.RunID, "osVersion": s.Tattoo.OSVersion}
	h.final = &report
	if err := writeReport(s, report); err != nil {
		return err
	}
	s.ValLog.Printf("compliance of %s %s: score %.1f%%, passed %v", report.Profile, report.ProfileVersion, report.Score, report.Passed)
	if !report.Passed {
		return gateError(report)
	}
	return nil
}

// runAsRoot runs a script as root in the validation VM, whose login user is
// not root (hardened images refuse root logins): the script is uploaded
// (uploads are written as root) and run through sudo.
func runAsRoot(ctx context.Context, s *State, vm executor.Executor, script string, out io.Writer) error {
	local := filepath.Join(s.WorkDir, "compliance-check.sh")
	if err := os.WriteFile(local, []byte(script), 0o600); err != nil {
		return err
	}
	const remote = "/run/kiln-compliance-check.sh"
	if err := vm.Upload(ctx, local, remote, 0o700); err != nil {
		return err
	}
	return vm.Run(ctx, `if [ "$(id -u)" -eq 0 ]; then exec /bin/sh `+remote+`; else exec sudo -n /bin/sh `+remote+`; fi`, out)
}

func failingSummary(r harden.Report) string {
	var parts []string
	for _, res := range r.Results {
		if res.Status == harden.StatusFail || res.Status == harden.StatusError {
			ev := res.Evidence
			if len(ev) > 80 {
				ev = ev[:80] + "…"
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s)", res.ControlID, res.Title, ev))
		}
	}
	return strings.Join(parts, "; ")
}

func writeReport(s *State, r harden.Report) error {
	data, err := r.JSON()
	if err != nil {
		return err
	}
	if err := writeOutput(s, "compliance.json", data); err != nil {
		return err
	}
	page, err := r.HTML()
	if err != nil {
		return err
	}
	return writeOutput(s, "compliance.html", page)
}

func writeOutput(s *State, name string, data []byte) error {
	dir := filepath.Join(s.Job.Dir, "outputs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}
