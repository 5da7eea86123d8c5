package store

import (
	"context"
	"errors"
	"fmt"
)

// ErrQuota is wrapped by *QuotaError.
var ErrQuota = errors.New("quota exceeded")

// Quota bounds how many resources may match Filter once a create is done.
type Quota struct {
	// Name names the quota in errors (for example a kiln.yaml key).
	Name   string
	Filter ListFilter
	Max    int
}

// QuotaError says that a create would exceed a quota: Count resources
// would match its filter, more than Max.
type QuotaError struct {
	Quota Quota
	Count int
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("quota %s exceeded: %d resources would match, at most %d may", e.Quota.Name, e.Count, e.Quota.Max)
}

// Unwrap makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Unwrap() error { return ErrQuota }

// Conditions are checked inside the transaction of a guarded write, so that
// no concurrent writer can slip between the check and the write.
type Conditions struct {
	// Exists lists resource IDs that must exist (a parent): ErrNotFound
	// otherwise.
	Exists []string
	// Quotas are counted as they will be after the write.
	Quotas []Quota
	// Check, when set, sees the resources matching CheckFilter (before the
	// write) and refuses the write by returning an error, which the write
	// returns unchanged.
	CheckFilter ListFilter
	Check       func(existing []Resource) error
}

// Write is one change of a WriteResources batch: Resource is created or
// replaced (Delete false) or the resource with its ID removed (Delete
// true). IfMatch, when set, must equal the stored ETag.
type Write struct {
	Resource Resource
	IfMatch  string
	Delete   bool
}

// LimitedResources are the guarded writes of resources whose counts are
// limited or whose siblings constrain them (image galleries). Each call is
// one transaction: on SQLite it begins IMMEDIATE, which takes the write lock
// first, so that counting and inserting cannot interleave with another
// writer; a PostgreSQL backend must lock the parent rows or run
// SERIALIZABLE to the same effect.
type LimitedResources interface {
	// CreateResourceLimited inserts r when it does not exist (ErrConflict
	// otherwise) and the conditions hold; a quota that would be exceeded
	// is a *QuotaError.
	CreateResourceLimited(ctx context.Context, r Resource, c Conditions) (Resource, error)
	// DeleteResourceLimited removes the resource id (ErrNotFound when
	// absent) when the conditions hold; ifMatch, when set, must equal its
	// ETag.
	DeleteResourceLimited(ctx context.Context, id, ifMatch string, c Conditions) error
	// WriteResources applies every write or none. An ifMatch that does
	// not match is ErrConflict, a missing resource to delete or to match
	// ErrNotFound. It returns the written resources (deleted ones as given).
	WriteResources(ctx context.Context, ws []Write) ([]Resource, error)
}

// ResourceNames lists names without reading bodies, for callers that pick
// one resource among many by name (the latest gallery image version).
type ResourceNames interface {
	// ListResourceNames returns the names of the resources matching f, in
	// no particular order.
	ListResourceNames(ctx context.Context, f ListFilter) ([]string, error)
}
