// Package imagebuilder is the image template service
// (Microsoft.VirtualMachineImages/imageTemplates): create, show, list and
// delete templates, run and cancel them, read their logs and run outputs.
// Runs execute in the calling process through package build; their state
// lives in the store, so cancel works from another process and a run whose
// process died is marked Failed on the next start.
package imagebuilder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/template"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// Actions checked by the service.
const (
	ActionRead   = template.ResourceType + "/read"
	ActionWrite  = template.ResourceType + "/write"
	ActionDelete = template.ResourceType + "/delete"
	ActionRun    = template.ResourceType + "/run/action"
	ActionCancel = template.ResourceType + "/cancel/action"
)

// Template is an image template as `az image builder show` returns it.
type Template struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Location   string             `json:"location"`
	Tags       map[string]string  `json:"tags,omitempty"`
	Identity   *template.Identity `json:"identity,omitempty"`
	Properties Properties         `json:"properties"`
}

// Properties are the template's properties plus Azure's read-only fields.
type Properties struct {
	template.Properties
	ProvisioningState         string         `json:"provisioningState"`
	LastRunStatus             *LastRunStatus `json:"lastRunStatus,omitempty"`
	ExactStagingResourceGroup string         `json:"exactStagingResourceGroup,omitempty"`
}

// LastRunStatus is Azure's lastRunStatus.
type LastRunStatus struct {
	StartTime   string `json:"startTime"`
	EndTime     string `json:"endTime,omitempty"`
	RunState    string `json:"runState"`
	RunSubState string `json:"runSubState"`
	Message     string `json:"message"`
	RunID       string `json:"runId"`
}

// stored is the body kept in the store.
type stored struct {
	Template    template.ImageTemplate `json:"template"`
	TemplateDir string                 `json:"templateDir"`
	Secrets     []string               `json:"secrets,omitempty"`
}

// Service implements the template operations.
type Service struct {
	Store    store.Store
	Authz    authz.Checker
	Defaults tenancy.Defaults
	Groups   *tenancy.Groups
	Engine   *build.Engine
	RunsDir  string
	// KeepRuns is how many run directories are kept per template.
	KeepRuns int
	// IdentityExists checks template identities; nil accepts any.
	IdentityExists func(id string) bool
	// Identities resolves template identities to the principals builds
	// act as (see identity.go).
	Identities IdentityDirectory
	// Audit records mutating calls in the activity log; may be nil.
	Audit Recorder
}

// ID is the ARM ID of a template in the default subscription.
func (s *Service) ID(group, name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s", s.Defaults.SubscriptionID, group, template.ResourceType, name)
}

// CreateRequest creates a template.
type CreateRequest struct {
	Group, Name string
	Template    template.ImageTemplate
	TemplateDir string
	Secrets     []string
}

// Create validates and stores a new template. As on Azure, an existing
// template cannot be updated by create: delete it first.
func (s *Service) Create(ctx context.Context, p authz.Principal, req CreateRequest) (_ Template, err error) {
	if err := template.ValidateName(req.Name); err != nil {
		return Template{}, err
	}
	id := s.ID(req.Group, req.Name)
	defer s.record(ctx, p, ActionWrite, id, &err)
	if err := s.Authz.Check(ctx, p, ActionWrite, id); err != nil {
		return Template{}, err
	}
	grp, err := s.Groups.Get(ctx, p, req.Group)
	if err != nil {
		return Template{}, err
	}
	t := req.Template
	t.Type, t.Name, t.APIVersion = template.ResourceType, req.Name, ""
	if t.Location == "" {
		t.Location = grp.Location
	}
	if err := t.Validate(template.ValidateEnv{IdentityExists: s.IdentityExists, LocalBuild: true}); err != nil {
		return Template{}, err
	}
	if err := build.CheckHardening(t.Properties); err != nil {
		return Template{}, err
	}
	if err := s.checkIdentityAssign(ctx, p, t); err != nil {
		return Template{}, err
	}
	body, _ := json.Marshal(stored{Template: t, TemplateDir: req.TemplateDir, Secrets: req.Secrets})
	_, err = s.Store.CreateResource(ctx, store.Resource{ID: id, Type: template.ResourceType, Name: req.Name,
		Subscription: s.Defaults.SubscriptionID, ResourceGroup: req.Group, Parent: grp.ID, Location: t.Location, Body: body})
	if errors.Is(err, store.ErrConflict) {
		return Template{}, fmt.Errorf("Conflict: image template %q already exists in resource group %q; update of image templates is not supported, delete it first (kiln image builder delete -g %s -n %s): %w",
			req.Name, req.Group, req.Group, req.Name, store.ErrConflict)
	}
	if err != nil {
		return Template{}, err
	}
	return s.Get(ctx, p, req.Group, req.Name)
}

func (s *Service) load(ctx context.Context, group, name string) (store.Resource, stored, error) {
	var st stored
	r, err := s.Store.GetResource(ctx, s.ID(group, name))
	if errors.Is(err, store.ErrNotFound) {
		return r, st, fmt.Errorf("ResourceNotFound: image template %q was not found in resource group %q: %w", name, group, store.ErrNotFound)
	}
	if err != nil {
		return r, st, err
	}
	return r, st, json.Unmarshal(r.Body, &st)
}

// Get returns a template with its last run status.
func (s *Service) Get(ctx context.Context, p authz.Principal, group, name string) (Template, error) {
	id := s.ID(group, name)
	if err := s.Authz.Check(ctx, p, ActionRead, id); err != nil {
		return Template{}, err
	}
	r, st, err := s.load(ctx, group, name)
	if err != nil {
		return Template{}, err
	}
	return s.view(ctx, r, st)
}

func (s *Service) view(ctx context.Context, r store.Resource, st stored) (Template, error) {
	t := st.Template
	out := Template{ID: r.ID, Name: r.Name, Type: template.ResourceType, Location: t.Location, Tags: t.Tags, Identity: t.Identity,
		Properties: Properties{Properties: t.Properties, ProvisioningState: "Succeeded"}}
	runs, err := s.Store.ListRuns(ctx, r.ID)
	if err != nil {
		return out, err
	}
	if len(runs) > 0 {
		out.Properties.LastRunStatus = statusOf(runs[0])
	}
	return out, nil
}

func statusOf(r store.Run) *LastRunStatus {
	st := &LastRunStatus{StartTime: r.StartTime.UTC().Format(time.RFC3339), RunState: r.RunState, RunSubState: r.RunSubState, Message: r.Message, RunID: r.ID}
	if !r.EndTime.IsZero() {
		st.EndTime = r.EndTime.UTC().Format(time.RFC3339)
	}
	return st
}

// List lists templates in a group, or in the subscription when group is "".
func (s *Service) List(ctx context.Context, p authz.Principal, group string) ([]Template, error) {
	scope := "/subscriptions/" + s.Defaults.SubscriptionID
	if group != "" {
		scope += "/resourceGroups/" + group
	}
	if err := s.Authz.Check(ctx, p, ActionRead, scope); err != nil {
		return nil, err
	}
	rs, err := s.Store.ListResources(ctx, store.ListFilter{Type: template.ResourceType, Subscription: s.Defaults.SubscriptionID, ResourceGroup: group})
	if err != nil {
		return nil, err
	}
	out := make([]Template, 0, len(rs))
	for _, r := range rs {
		var st stored
		if err := json.Unmarshal(r.Body, &st); err != nil {
			return nil, fmt.Errorf("template %s: %w", r.ID, err)
		}
		t, err := s.view(ctx, r, st)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Delete removes a template and its runs' directories; refused while a run is active.
func (s *Service) Delete(ctx context.Context, p authz.Principal, group, name string) (err error) {
	id := s.ID(group, name)
	defer s.record(ctx, p, ActionDelete, id, &err)
	if err := s.Authz.Check(ctx, p, ActionDelete, id); err != nil {
		return err
	}
	if _, _, err := s.load(ctx, group, name); err != nil {
		return err
	}
	runs, err := s.Store.ListRuns(ctx, id)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if active(r.RunState) {
			return fmt.Errorf("Conflict: operation 'delete' is not allowed in run state %s (run %s); cancel it first with kiln image builder cancel -g %s -n %s: %w", r.RunState, r.ID, group, name, store.ErrConflict)
		}
	}
	if err := s.Store.DeleteResource(ctx, id); err != nil {
		return err
	}
	for _, r := range runs {
		os.RemoveAll(filepath.Join(s.RunsDir, r.ID))
	}
	return s.Store.DeleteRuns(ctx, id)
}

func active(state string) bool {
	return state == build.StateRunning || state == build.StateCanceling
}

// Cancel asks the running build to stop; it returns at once, as Azure's does.
func (s *Service) Cancel(ctx context.Context, p authz.Principal, group, name string) (_ Template, err error) {
	id := s.ID(group, name)
	defer s.record(ctx, p, ActionCancel, id, &err)
	if err := s.Authz.Check(ctx, p, ActionCancel, id); err != nil {
		return Template{}, err
	}
	r, st, err := s.load(ctx, group, name)
	if err != nil {
		return Template{}, err
	}
	runs, err := s.Store.ListRuns(ctx, id)
	if err != nil {
		return Template{}, err
	}
	if len(runs) == 0 || !active(runs[0].RunState) {
		return Template{}, fmt.Errorf("Conflict: image template %q has no run in progress to cancel: %w", name, store.ErrConflict)
	}
	run := runs[0]
	if err := s.Store.RequestCancel(ctx, run.ID); err != nil {
		return Template{}, err
	}
	run.RunState = build.StateCanceling
	if err := s.Store.UpdateRun(ctx, run); err != nil {
		return Template{}, err
	}
	return s.view(ctx, r, st)
}

// Recover marks runs whose process is gone as Failed and removes their
// staging directories. It runs when a kiln process starts.
func (s *Service) Recover(ctx context.Context) error {
	runs, err := s.Store.ListRuns(ctx, "")
	if err != nil {
		return err
	}
	boot := BootID()
	for _, r := range runs {
		if !active(r.RunState) || (r.BootID == boot && processAlive(r.PID)) {
			continue
		}
		r.RunState = build.StateFailed
		r.Message = fmt.Sprintf("kiln stopped while this run was in progress (process %d is gone); the staging directory was removed; run the template again", r.PID)
		r.EndTime = time.Now()
		if r.WorkDir != "" {
			os.RemoveAll(filepath.Join(r.WorkDir, "work"))
		}
		if err := s.Store.UpdateRun(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// BootID identifies the current boot of the host.
func BootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// newRunID makes a run ID.
func newRunID() string { return uuid.NewString() }
