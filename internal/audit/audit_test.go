package audit_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/audit"
	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

const sub = "00000000-0000-0000-0000-000000000000"

var (
	owner    = authz.Principal{ID: "11111111-0000-0000-0000-000000000001", Name: "admin", Type: authz.TypeUser}
	identity = authz.Principal{ID: "11111111-0000-0000-0000-000000000002", Name: "aib", Type: authz.TypeManagedIdentity}
	image    = "/subscriptions/" + sub + "/resourceGroups/RG/providers/Microsoft.Compute/images/img"
)

func newLog(t *testing.T) *audit.Log {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	checker := authz.OwnerOf{Owners: map[string][]string{owner.ID: {"/subscriptions/" + sub}}}
	return &audit.Log{Store: st, Authz: checker, TenantID: "tenant", SubscriptionID: sub, CorrelationID: "corr"}
}

func TestRecordAndList(t *testing.T) {
	l := newLog(t)
	ctx := t.Context()
	l.Record(ctx, owner, "Microsoft.Compute/images/write", image, nil)
	l.Record(ctx, identity, "Microsoft.Compute/images/write", image,
		&authz.AuthorizationFailedError{Principal: identity, Action: "Microsoft.Compute/images/write", Scope: image})
	l.Record(ctx, owner, "Microsoft.Compute/images/delete", image,
		&authz.ScopeLockedError{Action: "Microsoft.Compute/images/delete", Scope: image})
	l.Record(ctx, owner, "Microsoft.Compute/images/delete", image, fmt.Errorf("gone: %w", store.ErrNotFound))
	l.Record(ctx, owner, "Microsoft.Resources/subscriptions/resourceGroups/write", "/subscriptions/"+sub+"/resourceGroups/other", nil)

	events, err := l.List(ctx, owner, audit.Query{ResourceGroup: "rg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 {
		t.Fatalf("List(rg) = %d events, want 4", len(events))
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Status.Value+"/"+e.SubStatus.Value+"/"+e.Caller)
	}
	want := "Failed/NotFound/admin Failed/Conflict/admin Failed/Forbidden/" + identity.ID + " Succeeded/OK/admin"
	if strings.Join(got, " ") != want {
		t.Errorf("events = %v, want %v (newest first; a managed identity's caller is its object ID)", got, want)
	}
	denied := events[2]
	if denied.Level != "Error" || !strings.Contains(denied.Properties["statusMessage"], "AuthorizationFailed") ||
		denied.Authorization.Action != "Microsoft.Compute/images/write" || denied.ResourceGroupName != "RG" ||
		denied.OperationName.Value != "Microsoft.Compute/images/write" || denied.ResourceType.Value != "Microsoft.Compute/images" ||
		!strings.HasPrefix(denied.ID, image+"/events/") || denied.CorrelationID != "corr" || denied.SubscriptionID != sub {
		t.Errorf("a failed event = %+v", denied)
	}
	if _, err := time.Parse(time.RFC3339Nano, denied.EventTimestamp); err != nil {
		t.Errorf("eventTimestamp %q: %v", denied.EventTimestamp, err)
	}
	mine, _ := l.List(ctx, owner, audit.Query{Caller: identity.ID})
	if len(mine) != 1 {
		t.Errorf("List(--caller identity) = %d events, want 1", len(mine))
	}
	failed, _ := l.List(ctx, owner, audit.Query{Status: "Failed"})
	if len(failed) != 3 {
		t.Errorf("List(--status Failed) = %d events, want 3", len(failed))
	}
	old, _ := l.List(ctx, owner, audit.Query{Until: time.Now().Add(-time.Hour), Since: time.Now().Add(-2 * time.Hour)})
	if len(old) != 0 {
		t.Errorf("an hour-old window holds %d events", len(old))
	}
}

func TestListNeedsRead(t *testing.T) {
	l := newLog(t)
	_, err := l.List(t.Context(), identity, audit.Query{ResourceGroup: "rg"})
	var denied *authz.AuthorizationFailedError
	if !errors.As(err, &denied) || denied.Action != audit.ReadAction {
		t.Errorf("List by a principal without read = %v, want AuthorizationFailed on %s", err, audit.ReadAction)
	}
}

// A nil log records nothing and does not fail the call it records.
func TestNilLog(t *testing.T) {
	var l *audit.Log
	l.Record(t.Context(), owner, "x/write", image, nil)
}
