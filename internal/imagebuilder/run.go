package imagebuilder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/store"
)

// RunOptions tune a run.
type RunOptions struct {
	// Observe receives every log line, for live progress.
	Observe func(phase, line string)
	// OnSubState receives runSubState changes.
	OnSubState func(sub string)
	// RefreshBase bootstraps a fresh base image even if one is cached.
	RefreshBase bool
}

// Run runs the template to the end in this process and returns the
// template with its final lastRunStatus. A failed build is not an error:
// its outcome is in lastRunStatus, as on Azure.
func (s *Service) Run(ctx context.Context, p authz.Principal, group, name string, opts RunOptions) (_ Template, err error) {
	id := s.ID(group, name)
	defer s.record(ctx, p, ActionRun, id, &err)
	if err := s.Authz.Check(ctx, p, ActionRun, id); err != nil {
		return Template{}, err
	}
	r, st, err := s.load(ctx, group, name)
	if err != nil {
		return Template{}, err
	}
	as, err := s.runAs(ctx, p, id, st.Template)
	if err != nil {
		return Template{}, err
	}
	run, err := s.startRun(ctx, id)
	if err != nil {
		return Template{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go s.watchCancel(ctx, run.ID, cancel)
	job := build.Job{
		RunID: run.ID, TemplateID: id, TemplateName: r.Name, Template: st.Template, TemplateDir: st.TemplateDir,
		Dir: run.WorkDir, Identity: as, Secrets: st.Secrets, Observe: opts.Observe, RefreshBase: opts.RefreshBase,
		OnSubState: func(sub string) {
			run.RunSubState = sub
			if err := s.Store.UpdateRun(context.WithoutCancel(ctx), run); err != nil {
				fmt.Fprintf(os.Stderr, "kiln: record run sub-state: %v\n", err)
			}
			if opts.OnSubState != nil {
				opts.OnSubState(sub)
			}
		},
	}
	out := s.Engine.Run(ctx, job)
	if err := s.finishRun(context.WithoutCancel(ctx), run, out); err != nil {
		return Template{}, err
	}
	s.pruneRuns(context.WithoutCancel(ctx), id)
	return s.view(context.WithoutCancel(ctx), r, st)
}

// startRun records a new run, refusing if one is already active. The
// store's immediate transactions make the check-and-insert safe enough for
// one host; the run's PID makes a dead run detectable.
func (s *Service) startRun(ctx context.Context, id string) (store.Run, error) {
	if err := s.Recover(ctx); err != nil {
		return store.Run{}, err
	}
	runs, err := s.Store.ListRuns(ctx, id)
	if err != nil {
		return store.Run{}, err
	}
	if len(runs) > 0 && active(runs[0].RunState) {
		return store.Run{}, fmt.Errorf("Conflict: image template %s already has a run in progress (run %s, %s); wait for it or cancel it: %w", id, runs[0].ID, runs[0].RunState, store.ErrConflict)
	}
	runID := newRunID()
	run := store.Run{ID: runID, TemplateID: id, RunState: build.StateRunning, RunSubState: build.SubQueued,
		StartTime: time.Now(), PID: os.Getpid(), BootID: BootID(), WorkDir: filepath.Join(s.RunsDir, runID)}
	if err := os.MkdirAll(run.WorkDir, 0o700); err != nil {
		return run, fmt.Errorf("create run directory: %w", err)
	}
	return run, s.Store.CreateRun(ctx, run)
}

// watchCancel polls the store for a cancel request (it may come from another process).
func (s *Service) watchCancel(ctx context.Context, runID string, cancel context.CancelCauseFunc) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r, err := s.Store.GetRun(ctx, runID)
			if err == nil && r.CancelRequested {
				cancel(build.ErrCanceled)
				return
			}
		}
	}
}

func (s *Service) finishRun(ctx context.Context, run store.Run, out build.Outcome) error {
	run.RunState, run.RunSubState, run.Message, run.EndTime = out.RunState, out.SubState, out.Message, time.Now()
	outputs, err := json.Marshal(out)
	if err != nil {
		return err
	}
	run.Outputs = outputs
	if err := os.WriteFile(filepath.Join(run.WorkDir, "outcome.json"), outputs, 0o644); err != nil {
		return err
	}
	return s.Store.UpdateRun(ctx, run)
}

// pruneRuns removes the directories of all but the newest KeepRuns runs.
func (s *Service) pruneRuns(ctx context.Context, id string) {
	if s.KeepRuns <= 0 {
		return
	}
	runs, err := s.Store.ListRuns(ctx, id)
	if err != nil {
		return
	}
	for i, r := range runs {
		if i >= s.KeepRuns && !active(r.RunState) {
			os.RemoveAll(r.WorkDir)
		}
	}
}

// Outcome returns the recorded outcome of a template's run ("" = latest).
func (s *Service) Outcome(ctx context.Context, p authz.Principal, group, name, runID string) (build.Outcome, store.Run, error) {
	var out build.Outcome
	run, err := s.findRun(ctx, p, group, name, runID)
	if err != nil {
		return out, run, err
	}
	if len(run.Outputs) > 0 && string(run.Outputs) != "null" {
		if err := json.Unmarshal(run.Outputs, &out); err != nil {
			return out, run, err
		}
	}
	return out, run, nil
}

func (s *Service) findRun(ctx context.Context, p authz.Principal, group, name, runID string) (store.Run, error) {
	id := s.ID(group, name)
	if err := s.Authz.Check(ctx, p, ActionRead, id); err != nil {
		return store.Run{}, err
	}
	if _, _, err := s.load(ctx, group, name); err != nil {
		return store.Run{}, err
	}
	runs, err := s.Store.ListRuns(ctx, id)
	if err != nil {
		return store.Run{}, err
	}
	if len(runs) == 0 {
		return store.Run{}, fmt.Errorf("image template %q has not been run yet; start it with kiln image builder run -g %s -n %s: %w", name, group, name, store.ErrNotFound)
	}
	if runID == "" {
		return runs[0], nil
	}
	for _, r := range runs {
		if r.ID == runID {
			return r, nil
		}
	}
	return store.Run{}, fmt.Errorf("run %s of image template %q: %w", runID, name, store.ErrNotFound)
}

// Runs lists a template's runs, newest first.
func (s *Service) Runs(ctx context.Context, p authz.Principal, group, name string) ([]LastRunStatus, error) {
	id := s.ID(group, name)
	if err := s.Authz.Check(ctx, p, ActionRead, id); err != nil {
		return nil, err
	}
	if _, _, err := s.load(ctx, group, name); err != nil {
		return nil, err
	}
	runs, err := s.Store.ListRuns(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]LastRunStatus, len(runs))
	for i, r := range runs {
		out[i] = *statusOf(r)
	}
	return out, nil
}

// RunOutputs lists the run outputs of the latest successful distribution, as Azure's runOutputs.
func (s *Service) RunOutputs(ctx context.Context, p authz.Principal, group, name string) ([]build.RunOutput, error) {
	out, _, err := s.Outcome(ctx, p, group, name, "")
	if err != nil {
		return nil, err
	}
	sort.Slice(out.Outputs, func(i, j int) bool { return out.Outputs[i].Name < out.Outputs[j].Name })
	return out.Outputs, nil
}

// Logs copies a run's log ("customization" or "validation") to w. With
// follow it keeps copying until the run ends.
func (s *Service) Logs(ctx context.Context, p authz.Principal, group, name, runID, which string, follow bool, w io.Writer) error {
	run, err := s.findRun(ctx, p, group, name, runID)
	if err != nil {
		return err
	}
	if which != "customization" && which != "validation" {
		return fmt.Errorf("unknown log %q: use customization or validation", which)
	}
	path := filepath.Join(run.WorkDir, which+".log")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("the %s log of run %s is gone (only the newest runs are kept): %w", which, run.ID, err)
	}
	defer f.Close()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		if !follow {
			return nil
		}
		cur, err := s.Store.GetRun(ctx, run.ID)
		if err != nil {
			return err
		}
		if !active(cur.RunState) {
			_, err := io.Copy(w, f)
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}
