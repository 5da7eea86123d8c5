package gallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// Store is what the Service persists in: ARM resources and the guarded
// writes that keep counts within limits under concurrency.
type Store interface {
	store.Resources
	store.LimitedResources
	store.ResourceNames
	store.Meta
}

// RegionDirs maps the configured regions to their directories
// (config.Config implements it).
type RegionDirs interface {
	RegionPath(name string) string
	HasRegion(name string) bool
	RegionNames() []string
}

// Recorder receives every mutating call for the activity log.
type Recorder interface {
	Record(ctx context.Context, caller authz.Principal, action, scope string, err error)
}

// Service owns galleries, definitions and versions (resources of types
// Microsoft.Compute/galleries, .../galleries/images and
// .../galleries/images/versions), their replicas in the region
// directories, the galleries' signing keys and the versions' evidence.
// Every call checks the caller's Azure action first.
type Service struct {
	Store   Store
	Authz   authz.Checker
	Regions RegionDirs
	// Limits are the quotas; a zero field takes DefaultLimits' value.
	Limits Limits
	// KeyDir holds the galleries' private keys (0700 directory, one 0600
	// PEM file per gallery), never inside a build.
	KeyDir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Audit records mutating calls; may be nil.
	Audit Recorder
	// BeforeCommit, when set, runs once a publish has stored every replica
	// and the evidence, just before the one store write that makes the
	// version visible; its error aborts the publish. Tests use it to
	// inject failures and to pause a publish (KILN_TEST_PAUSE_PUBLISH).
	BeforeCommit func(ctx context.Context, v ImageVersion) error
	// Trace, when set, receives the duration of each publish phase.
	Trace func(phase string, d time.Duration)
}

// Azure actions checked by the Service.
const (
	actionGalleryRead   = GalleryType + "/read"
	actionGalleryWrite  = GalleryType + "/write"
	actionGalleryDelete = GalleryType + "/delete"
	actionDefRead       = ImageDefinitionType + "/read"
	actionDefWrite      = ImageDefinitionType + "/write"
	actionDefDelete     = ImageDefinitionType + "/delete"
	actionVersionRead   = ImageVersionType + "/read"
	actionVersionWrite  = ImageVersionType + "/write"
	actionVersionDelete = ImageVersionType + "/delete"
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// limits returns the configured limits, defaults filling zero fields.
func (s *Service) limits() Limits {
	l, d := s.Limits, DefaultLimits()
	for _, f := range []struct{ v, def *int }{
		{&l.GalleriesPerSubscription, &d.GalleriesPerSubscription},
		{&l.ImageDefinitionsPerGallery, &d.ImageDefinitionsPerGallery},
		{&l.VersionsPerImageDefinition, &d.VersionsPerImageDefinition},
		{&l.TargetRegionsPerVersion, &d.TargetRegionsPerVersion},
		{&l.ReplicasPerRegion, &d.ReplicasPerRegion},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return l
}

func (s *Service) trace(phase string, start time.Time) {
	if s.Trace != nil {
		s.Trace(phase, time.Since(start))
	}
}

// record reports a call's outcome to the Recorder, if there is one; use it
// deferred, with the call's named error result.
func (s *Service) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if s.Audit != nil {
		s.Audit.Record(ctx, p, action, scope, *err)
	}
}

func (s *Service) check(ctx context.Context, p authz.Principal, action, scope string) error {
	if s.Authz == nil {
		return errors.New("the gallery service has no authorization checker")
	}
	return s.Authz.Check(ctx, p, action, scope)
}

// NotFoundError is a gallery resource that does not exist. It matches
// both ErrNotFound and store.ErrNotFound.
type NotFoundError struct {
	What string // "gallery", "image definition", "image version"
	ID   string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("ResourceNotFound: %s %s was not found", e.What, e.ID)
}

// Is matches ErrNotFound and store.ErrNotFound.
func (e *NotFoundError) Is(target error) bool {
	return target == ErrNotFound || target == store.ErrNotFound
}

// conflictf is a 409-style conflict error.
func conflictf(format string, args ...any) error {
	return fmt.Errorf("Conflict (409): %s: %w", fmt.Sprintf(format, args...), ErrConflict)
}

// stored is a decoded resource with the ETag it was read at.
type stored[T any] struct {
	Value T
	ETag  string
}

// load reads and decodes one resource of type typ.
func load[T any](ctx context.Context, st Store, what, typ, id string) (stored[T], error) {
	var out stored[T]
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return out, &NotFoundError{What: what, ID: id}
	}
	if err != nil {
		return out, fmt.Errorf("read %s %s: %w", what, id, err)
	}
	if !strings.EqualFold(r.Type, typ) {
		return out, &NotFoundError{What: what, ID: id}
	}
	if err := json.Unmarshal(r.Body, &out.Value); err != nil {
		return out, fmt.Errorf("%s %s is damaged in the store: %w", what, id, err)
	}
	out.ETag = r.ETag
	return out, nil
}

// list reads and decodes the resources matching f.
func list[T any](ctx context.Context, st Store, what string, f store.ListFilter) ([]stored[T], error) {
	rs, err := st.ListResources(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", what, err)
	}
	return decodeAll[T](what, rs)
}

func decodeAll[T any](what string, rs []store.Resource) ([]stored[T], error) {
	out := make([]stored[T], 0, len(rs))
	for _, r := range rs {
		var v T
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return nil, fmt.Errorf("%s %s is damaged in the store: %w", what, r.ID, err)
		}
		out = append(out, stored[T]{Value: v, ETag: r.ETag})
	}
	return out, nil
}

func values[T any](ss []stored[T]) []T {
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = s.Value
	}
	return out
}

// clone deep-copies a JSON-shaped value.
func clone[T any](v T) (T, error) {
	var out T
	data, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(data, &out)
}

// resourceOf builds the stored form of a gallery resource.
func resourceOf(id, typ, name, location, parent string, v any) (store.Resource, error) {
	ref, err := parseIDParts(id)
	if err != nil {
		return store.Resource{}, err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return store.Resource{}, fmt.Errorf("encode %s: %w", id, err)
	}
	return store.Resource{ID: id, Type: typ, Name: name, Subscription: ref.Subscription, ResourceGroup: ref.ResourceGroup,
		Parent: parent, Location: location, Body: body}, nil
}

// putIfMatch replaces a resource read at etag; a concurrent change is a conflict.
func (s *Service) putIfMatch(ctx context.Context, r store.Resource, etag, what string) error {
	_, err := s.Store.PutResource(ctx, r, etag)
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflictf("%s %s was changed by someone else meanwhile; read it again and retry", what, r.ID)
	case errors.Is(err, store.ErrNotFound):
		return &NotFoundError{What: what, ID: r.ID}
	case err != nil:
		return fmt.Errorf("write %s %s: %w", what, r.ID, err)
	}
	return nil
}

// regionName maps a user's region name to the configured one ("East US"
// → "eastus"), or says which regions exist.
func (s *Service) regionName(name string) (string, error) {
	n := NormalizeRegion(name)
	if s.Regions != nil && s.Regions.HasRegion(n) {
		return n, nil
	}
	var known []string
	if s.Regions != nil {
		known = slices.Clone(s.Regions.RegionNames())
	}
	return "", &FieldError{
		Message: fmt.Sprintf("region %q is not a configured region; configured: %s", name, strings.Join(known, ", ")),
		Hint:    "regions are directories named in kiln.yaml under regions; add one there to use it",
		Kind:    ErrInvalid,
	}
}

// limitError turns a store quota error into the gallery's *LimitError.
func limitError(err error, which Limit) error {
	var qe *store.QuotaError
	if errors.As(err, &qe) {
		return &LimitError{Limit: which, Max: qe.Quota.Max, Count: qe.Count}
	}
	return err
}
