package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/store"
)

func testTokens(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seedDirectory(t, s)
	expires := t0.Add(24 * time.Hour)
	tok := store.Token{ID: "tok-1", PrincipalID: aliceID, Name: "ci", Hash: strings.Repeat("a", 64), CreatedBy: adminID, ExpiresAt: expires}
	if _, err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	_, err := s.CreateToken(ctx, store.Token{ID: "tok-2", PrincipalID: adminID, Hash: strings.Repeat("b", 64), ExpiresAt: expires})
	wantErrIs(t, "a token of a missing principal", err, store.ErrNotFound)
	_, err = s.CreateToken(ctx, store.Token{ID: "tok-3", PrincipalID: aliceID, Hash: tok.Hash, ExpiresAt: expires})
	wantErrIs(t, "a token with a taken hash", err, store.ErrConflict)
	time.Sleep(2 * time.Millisecond)
	if _, err := s.CreateToken(ctx, store.Token{ID: "tok-4", PrincipalID: aliceID, Hash: strings.Repeat("c", 64), ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}

	got, err := s.TokenByHash(ctx, tok.Hash)
	if err != nil || got.ID != "tok-1" || !got.ExpiresAt.Equal(expires) || !got.RevokedAt.IsZero() || got.Name != "ci" || got.CreatedBy != adminID {
		t.Errorf("TokenByHash = %+v, %v", got, err)
	}
	_, err = s.TokenByHash(ctx, strings.Repeat("f", 64))
	wantErrIs(t, "TokenByHash of an unknown hash", err, store.ErrNotFound)
	list, err := s.ListTokens(ctx, strings.ToUpper(aliceID))
	if err != nil || len(list) != 2 || list[0].ID != "tok-4" {
		t.Errorf("ListTokens(alice) = %+v, %v; want tok-4 then tok-1", list, err)
	}

	first, err := s.RevokeToken(ctx, "tok-1", t0)
	if err != nil || !first.RevokedAt.Equal(t0) {
		t.Fatalf("RevokeToken = %+v, %v", first, err)
	}
	again, err := s.RevokeToken(ctx, "tok-1", t0.Add(time.Hour))
	if err != nil || !again.RevokedAt.Equal(t0) {
		t.Errorf("a second RevokeToken moved the revocation time to %v (%v)", again.RevokedAt, err)
	}
	_, err = s.RevokeToken(ctx, "missing", t0)
	wantErrIs(t, "RevokeToken of a missing token", err, store.ErrNotFound)

	if err := s.DeletePrincipal(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListTokens(ctx, ""); len(left) != 0 {
		t.Errorf("%d tokens outlive their principal", len(left))
	}
}

func event(i int, group, caller, status string, at time.Time) store.ActivityEvent {
	scope := groupID(subA, group) + "/providers/Microsoft.Compute/images/img" + fmt.Sprint(i)
	return store.ActivityEvent{EventID: fmt.Sprintf("ev-%02d", i), CorrelationID: "corr", Time: at, CallerID: caller + "-id", Caller: caller,
		Operation: "Microsoft.Compute/images/write", Scope: scope, Subscription: subA, ResourceGroup: group, Status: status, SubStatus: "OK"}
}

func eventIDs(es []store.ActivityEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EventID
	}
	return out
}

func testActivityLog(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	for i, e := range []store.ActivityEvent{
		event(0, "rg1", "admin", "Succeeded", t0),
		event(1, "rg1", "alice", "Failed", t0.Add(time.Minute)),
		event(2, "rg2", "admin", "Succeeded", t0.Add(2*time.Minute)),
		event(3, "RG1", "admin", "Succeeded", t0.Add(3*time.Minute)),
	} {
		got, err := s.AppendActivity(ctx, e)
		if err != nil {
			t.Fatalf("AppendActivity(%d): %v", i, err)
		}
		if got.Seq <= 0 {
			t.Errorf("AppendActivity(%d) gave sequence %d", i, got.Seq)
		}
	}
	_, err := s.AppendActivity(ctx, event(0, "rg1", "admin", "Succeeded", t0))
	wantErrIs(t, "an event ID twice", err, store.ErrConflict)

	for name, tc := range map[string]struct {
		f    store.ActivityFilter
		want []string
	}{
		"all, newest first": {store.ActivityFilter{}, []string{"ev-03", "ev-02", "ev-01", "ev-00"}},
		"by group":          {store.ActivityFilter{Subscription: subA, ResourceGroup: "Rg1"}, []string{"ev-03", "ev-01", "ev-00"}},
		"by caller name":    {store.ActivityFilter{Caller: "ALICE"}, []string{"ev-01"}},
		"by caller ID":      {store.ActivityFilter{Caller: "alice-id"}, []string{"ev-01"}},
		"by status":         {store.ActivityFilter{Status: "failed"}, []string{"ev-01"}},
		"by scope":          {store.ActivityFilter{Scope: strings.ToUpper(event(2, "rg2", "", "", t0).Scope)}, []string{"ev-02"}},
		"by time window":    {store.ActivityFilter{Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute)}, []string{"ev-02", "ev-01"}},
		"limited":           {store.ActivityFilter{Limit: 2}, []string{"ev-03", "ev-02"}},
	} {
		got, err := s.ListActivity(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ids := eventIDs(got); !slices.Equal(ids, tc.want) {
			t.Errorf("%s: ListActivity = %v, want %v", name, ids, tc.want)
		}
	}
	got, _ := s.ListActivity(ctx, store.ActivityFilter{Caller: "alice"})
	if len(got) == 1 && (got[0].Status != "Failed" || !got[0].Time.Equal(t0.Add(time.Minute)) || got[0].Operation != "Microsoft.Compute/images/write") {
		t.Errorf("stored event = %+v", got[0])
	}
}
