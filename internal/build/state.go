package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/source"
	"github.com/kiln-dev/kiln/internal/tattoo"
	"github.com/kiln-dev/kiln/internal/template"
)

// Job is one run of a template.
type Job struct {
	RunID        string
	TemplateID   string
	TemplateName string
	Template     template.ImageTemplate
	// TemplateDir resolves relative scriptUri/sourceUri paths.
	TemplateDir string
	// Dir is the run's directory (runs/<id>): logs and outputs stay there,
	// the staging work directory is Dir/work.
	Dir string
	// Identity is the principal the build acts as (the template's identity).
	Identity authz.Principal
	// Secrets are values redacted from every log.
	Secrets []string
	// Observe receives every log line (for live progress); may be nil.
	Observe func(phase, line string)
	// OnSubState is called when runSubState changes; may be nil.
	OnSubState func(sub string)
	// RefreshBase bootstraps a fresh base even if one is cached.
	RefreshBase bool
}

// Artifact is one disk image produced by the run.
type Artifact struct {
	Format      string `json:"format"` // qcow2, raw, vhd
	Path        string `json:"path"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	VirtualSize int64  `json:"virtualSize"`
}

// RunOutput is one distribution result, as Azure's runOutputs child.
type RunOutput struct {
	Name              string            `json:"name"`
	Type              string            `json:"type"`
	ArtifactID        string            `json:"artifactId,omitempty"`
	ArtifactURI       string            `json:"artifactUri,omitempty"`
	ProvisioningState string            `json:"provisioningState"`
	ArtifactTags      map[string]string `json:"artifactTags,omitempty"`
}

// Outcome is how a run ended.
type Outcome struct {
	RunState    string             `json:"runState"`
	SubState    string             `json:"runSubState"`
	Message     string             `json:"message"`
	Outputs     []RunOutput        `json:"runOutputs,omitempty"`
	Artifacts   []Artifact         `json:"artifacts,omitempty"`
	Tattoo      *tattoo.Record     `json:"tattoo,omitempty"`
	Base        *source.Base       `json:"base,omitempty"`
	Timings     []Timing           `json:"timings,omitempty"`
	KeptWorkDir string             `json:"keptWorkDir,omitempty"`
	Compliance  *ComplianceSummary `json:"compliance,omitempty"`
	OpenSCAP    *OscapSummary      `json:"openscap,omitempty"`
}

// ComplianceSummary is the hardening result of a run and where its report is.
type ComplianceSummary struct {
	Profile string   `json:"profile"`
	Version string   `json:"version"`
	Score   float64  `json:"score"`
	Passed  bool     `json:"passed"`
	Failing []string `json:"failing,omitempty"`
	Report  string   `json:"report"`
	HTML    string   `json:"html"`
}

// State is what the steps share.
type State struct {
	Job       Job
	Engine    *Engine
	Log       *Logger // customization.log
	ValLog    *Logger // validation.log
	WorkDir   string
	RootDir   string
	Base      source.Base
	Exec      executor.Executor
	Files     map[string]fetched // customizer index -> fetched file
	Tattoo    tattoo.Record
	RawPath   string
	Artifacts []Artifact
	Outputs   []RunOutput
	Timings   []Timing
	// KeepWork keeps the staging directory (errorHandling abort).
	KeepWork bool
	// ValidationErr is a validation failure that did not stop distribution.
	ValidationErr error
	// Hardening is set by a Hardening customizer.
	Hardening *hardening
	// OpenSCAP is the result of the OpenSCAP validator.
	OpenSCAP *OscapSummary
	subState string
}

type fetched struct {
	Path, SHA256 string
}

func (s *State) setSubState(sub string) {
	if sub == s.subState {
		return
	}
	s.subState = sub
	if s.Job.OnSubState != nil {
		s.Job.OnSubState(sub)
	}
}

// Engine runs jobs.
type Engine struct {
	Runner hostexec.Runner
	// Sources resolve each source type.
	Sources map[string]source.Resolver
	// Publish stores artifacts and creates distribution targets.
	Publish Publisher
	// BuilderVersion is recorded in tattoos.
	BuilderVersion string
	// VM starts the vm executor; nil means the vm executor is unavailable.
	VM func(ctx context.Context, root, workDir string, log *Logger) (executor.Executor, error)
	// Boot starts validation VMs; nil means in-VM validation is unavailable.
	Boot Booter
	// HostCheck fails when the host lacks programs or privileges a build
	// needs, saying what to install; nil skips the check.
	HostCheck func(ctx context.Context) error
	// Disk assembles and converts disk images.
	Disk DiskTools
}

// Publisher distributes artifacts (a consumer-side interface over the
// blob store and the image services).
type Publisher interface {
	// StoreArtifacts imports the artifacts into content-addressed storage.
	StoreArtifacts(ctx context.Context, arts []Artifact) ([]Artifact, error)
	// Distribute creates one distribution target and returns its run output.
	Distribute(ctx context.Context, as authz.Principal, job Job, d template.Distributor, arts []Artifact, t tattoo.Record) (RunOutput, error)
}

// Run executes a job to the end and reports how it went. It never returns
// an error: failures are in the Outcome, as Azure's lastRunStatus.
func (e *Engine) Run(ctx context.Context, job Job) Outcome {
	s, closeLogs, err := e.newState(job)
	if err != nil {
		return Outcome{RunState: StateFailed, SubState: SubQueued, Message: err.Error()}
	}
	defer closeLogs()
	timeout := job.Template.Properties.BuildTimeout()
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("the build timed out after %s (buildTimeoutInMinutes)", timeout))
	defer cancel()
	s.Log.Printf("run %s of template %s started; timeout %s", job.RunID, job.TemplateName, timeout)
	runErr := runSteps(ctx, e.steps(s), s)
	out := e.outcome(ctx, s, runErr)
	s.Log.Printf("run %s ended: %s %s", job.RunID, out.RunState, out.Message)
	return out
}

func (e *Engine) newState(job Job) (*State, func(), error) {
	work := filepath.Join(job.Dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create staging directory: %w", err)
	}
	clog, err := os.OpenFile(filepath.Join(job.Dir, "customization.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, err
	}
	vlog, err := os.OpenFile(filepath.Join(job.Dir, "validation.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		clog.Close()
		return nil, nil, err
	}
	observe := func(phase string) func(string) {
		if job.Observe == nil {
			return nil
		}
		return func(line string) { job.Observe(phase, line) }
	}
	s := &State{
		Job: job, Engine: e, WorkDir: work, RootDir: filepath.Join(work, "root"),
		Log:    NewLogger(clog, job.Secrets, observe("customization")),
		ValLog: NewLogger(vlog, job.Secrets, observe("validation")),
		Files:  map[string]fetched{},
	}
	return s, func() { clog.Close(); vlog.Close() }, nil
}

func (e *Engine) steps(s *State) []Step {
	p := s.Job.Template.Properties
	steps := []Step{&stepPreflight{}, &stepFetch{}, &stepSource{}}
	if p.Validate == nil || !p.Validate.SourceValidationOnly {
		steps = append(steps, &stepCustomize{}, &stepGeneralize{})
		if hasHardening(p) {
			steps = append(steps, &stepOfflineGate{})
		}
	}
	steps = append(steps, &stepAssemble{})
	if p.Validate != nil || hasHardening(p) || (p.Kiln != nil && p.Kiln.OpenSCAP != nil) {
		steps = append(steps, &stepValidate{})
	}
	if p.Validate == nil || !p.Validate.SourceValidationOnly {
		steps = append(steps, &stepDistribute{})
	}
	return steps
}

func hasHardening(p template.Properties) bool {
	for _, c := range p.Customize {
		if c.Type == template.CustomizerHardening {
			return true
		}
	}
	return false
}

// outcome maps the steps' result to Azure's run states.
func (e *Engine) outcome(ctx context.Context, s *State, err error) Outcome {
	out := Outcome{RunState: StateSucceeded, SubState: s.subState, Outputs: s.Outputs, Artifacts: s.Artifacts, Timings: s.Timings}
	if s.Base.Digest != "" {
		b := s.Base
		out.Base = &b
	}
	if s.Tattoo.Schema != "" {
		t := s.Tattoo
		out.Tattoo = &t
	}
	if s.KeepWork {
		out.KeptWorkDir = s.WorkDir
	}
	out.OpenSCAP = s.OpenSCAP
	if h := s.Hardening; h != nil {
		r := h.offline
		if h.final != nil {
			r = *h.final
		}
		out.Compliance = &ComplianceSummary{Profile: r.Profile, Version: r.ProfileVersion, Score: r.Score, Passed: r.Passed, Failing: r.Failing,
			Report: filepath.Join(s.Job.Dir, "outputs", "compliance.json"), HTML: filepath.Join(s.Job.Dir, "outputs", "compliance.html")}
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrCanceled) || errors.Is(context.Cause(ctx), ErrCanceled):
		out.RunState, out.Message = StateCanceled, "the run was canceled"
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		out.RunState, out.Message = StateFailed, context.Cause(ctx).Error()
	default:
		out.RunState, out.Message = StateFailed, err.Error()
	}
	if err == nil && s.ValidationErr != nil {
		// continueDistributeOnFailure: distributed, but validation failed.
		out.RunState, out.Message = StatePartiallySucceeded, "validation failed, distributed anyway (continueDistributeOnFailure): "+s.ValidationErr.Error()
	}
	out.Message = s.Log.redact(out.Message)
	if out.RunState != StateSucceeded {
		out.Message += fmt.Sprintf(" (customization.log: kiln image builder logs -g %s -n %s)", groupOf(s.Job.TemplateID), s.Job.TemplateName)
		if s.KeepWork {
			out.Message += fmt.Sprintf("; the work directory was kept (errorHandling abort): sudo chroot %s /bin/bash", s.RootDir)
		}
	}
	return out
}

func groupOf(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "resourceGroups") {
			return parts[i+1]
		}
	}
	return ""
}

// elapsed formats a duration for logs.
func elapsed(t0 time.Time) string { return time.Since(t0).Round(time.Millisecond).String() }
