// Package store persists kiln's state behind small interfaces. The default
// backend is an embedded SQLite database (modernc.org/sqlite, no cgo) with
// goose migrations. Resources are kept as ARM-shaped JSON bodies keyed by
// their lower-cased ARM ID, so IDs compare case-insensitively as in Azure;
// each domain package owns the shape of its bodies.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Resource is one stored ARM resource.
type Resource struct {
	ID            string          // ARM ID as the user wrote it
	Type          string          // e.g. Microsoft.VirtualMachineImages/imageTemplates
	Name          string          // last segment
	Subscription  string          // subscription ID
	ResourceGroup string          // "" for subscription-level resources
	Parent        string          // parent resource ID, "" for top level
	Location      string          //
	Body          json.RawMessage // the resource's JSON
	ETag          string          // changes on every write
	CreatedAt     time.Time       //
	UpdatedAt     time.Time       //
	// SortKey orders siblings as the owning package defines (ListFilter's
	// BySortKey); "" when the package does not use it.
	SortKey string
}

// ListFilter selects resources; empty fields match everything. Lists are
// ordered by ID unless BySortKey; Limit (when positive) and Offset page them.
type ListFilter struct {
	Type          string
	Subscription  string
	ResourceGroup string
	Parent        string

	BySortKey  bool
	Descending bool
	Limit      int
	Offset     int
}

// Run is one execution of an image template.
type Run struct {
	ID              string
	TemplateID      string
	RunState        string
	RunSubState     string
	Message         string
	StartTime       time.Time
	EndTime         time.Time // zero while running
	PID             int       // process running the build
	BootID          string    // host boot the PID belongs to
	WorkDir         string
	CancelRequested bool
	Outputs         json.RawMessage // run outputs and artifacts, owned by package build
}

// Resources stores ARM resources.
type Resources interface {
	CreateResource(ctx context.Context, r Resource) (Resource, error)
	// PutResource creates or replaces; ifMatch, when set, must equal the stored ETag.
	PutResource(ctx context.Context, r Resource, ifMatch string) (Resource, error)
	GetResource(ctx context.Context, id string) (Resource, error)
	ListResources(ctx context.Context, f ListFilter) ([]Resource, error)
	DeleteResource(ctx context.Context, id string) error
}

// Runs stores template runs.
type Runs interface {
	CreateRun(ctx context.Context, r Run) error
	UpdateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, id string) (Run, error)
	ListRuns(ctx context.Context, templateID string) ([]Run, error)
	RequestCancel(ctx context.Context, id string) error
	DeleteRuns(ctx context.Context, templateID string) error
}

// Meta stores small key/value facts (bootstrap IDs, schema facts).
type Meta interface {
	GetMeta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Store is everything a kiln process persists.
type Store interface {
	Resources
	Runs
	Meta
	Directory
	Access
	Credentials
	ActivityLog
	Close() error
}
