// Package audit is kiln's activity log, the counterpart of Azure's: every
// mutating service call is recorded with who made it, the action, the
// scope it acted on, when, and whether it succeeded (and if not, why).
// Services record through a small Recorder interface of their own, which
// *Log satisfies; `kiln monitor activity-log list` reads it back in the
// shape `az monitor activity-log list` prints. The log is append-only:
// nothing here, nor in the store, changes or removes an event.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/arm"
	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// ReadAction is the action needed to read the activity log at a scope.
const ReadAction = "Microsoft.Insights/eventtypes/values/read"

// Statuses of an event.
const (
	StatusSucceeded = "Succeeded"
	StatusFailed    = "Failed"
)

// Log records and lists activity events of one tenant.
type Log struct {
	Store    store.ActivityLog
	Authz    authz.Checker
	TenantID string
	// SubscriptionID is the tenant's subscription, where listing starts.
	SubscriptionID string
	// CorrelationID ties together the events of one kiln invocation;
	// when it is empty each event is its own correlation.
	CorrelationID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Record appends one event: the caller did action on scope, and err is
// how it ended (nil: Succeeded). Recording never fails the call it
// records; a store error is logged.
func (l *Log) Record(ctx context.Context, caller authz.Principal, action, scope string, err error) {
	if l == nil || l.Store == nil {
		return
	}
	e := store.ActivityEvent{
		EventID: uuid.NewString(), CorrelationID: l.CorrelationID, Time: l.now(),
		CallerID: caller.ID, Caller: callerName(caller), Operation: action, Scope: scope,
		Status: StatusSucceeded, SubStatus: "OK",
	}
	if e.CorrelationID == "" {
		e.CorrelationID = e.EventID
	}
	if id, perr := arm.ParseID(scope); perr == nil {
		e.Subscription, e.ResourceGroup = id.Subscription(), id.ResourceGroup()
	}
	if err != nil {
		e.Status, e.SubStatus, e.Message = StatusFailed, subStatus(err), err.Error()
	}
	if _, aerr := l.Store.AppendActivity(context.WithoutCancel(ctx), e); aerr != nil {
		slog.Warn("could not record an activity event", "operation", action, "scope", scope, "err", aerr)
	}
}

// callerName is what Azure puts in "caller": a user's name, else the
// principal's object ID.
func callerName(p authz.Principal) string {
	if p.Type == authz.TypeUser && p.Name != "" {
		return p.Name
	}
	return p.ID
}

// subStatus names the HTTP status Azure would have answered with.
func subStatus(err error) string {
	var denied *authz.AuthorizationFailedError
	var locked *authz.ScopeLockedError
	switch {
	case errors.As(err, &denied):
		return "Forbidden"
	case errors.As(err, &locked), errors.Is(err, store.ErrConflict):
		return "Conflict"
	case errors.Is(err, store.ErrNotFound):
		return "NotFound"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "RequestTimeout"
	default:
		return "BadRequest"
	}
}

// Query selects events to list.
type Query struct {
	ResourceGroup string
	ResourceID    string
	Caller        string
	CorrelationID string
	Status        string
	// Since and Until bound the event time; zero Since means 6 hours ago,
	// az's default offset.
	Since, Until time.Time
	// MaxEvents bounds the answer; 0 means 50, az's default.
	MaxEvents int
}

// DefaultOffset is how far back a query looks by default.
const DefaultOffset = 6 * time.Hour

// List returns matching events, newest first, in az's shape. The caller
// needs ReadAction at the resource, the group, or the subscription.
func (l *Log) List(ctx context.Context, p authz.Principal, q Query) ([]Event, error) {
	scope := "/subscriptions/" + l.SubscriptionID
	switch {
	case q.ResourceID != "":
		scope = q.ResourceID
	case q.ResourceGroup != "":
		scope += "/resourceGroups/" + q.ResourceGroup
	}
	if err := l.Authz.Check(ctx, p, ReadAction, scope); err != nil {
		return nil, err
	}
	f := store.ActivityFilter{Subscription: l.SubscriptionID, ResourceGroup: q.ResourceGroup, Scope: q.ResourceID,
		Caller: q.Caller, CorrelationID: q.CorrelationID, Status: q.Status, Since: q.Since, Until: q.Until, Limit: q.MaxEvents}
	if f.Since.IsZero() {
		f.Since = l.now().Add(-DefaultOffset)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	events, err := l.Store.ListActivity(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("read the activity log: %w", err)
	}
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = l.view(e)
	}
	return out, nil
}
