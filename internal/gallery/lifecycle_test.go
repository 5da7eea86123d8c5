package gallery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		rules    LifecycleRules
		versions []ImageVersion
		// actions are "version action: reason substring"; skipped are
		// "version: reason substring". Both in plan order.
		actions []string
		skipped []string
	}{
		{
			name:     "no rules, nothing to do",
			versions: []ImageVersion{ver("1.0.0", published(at(-400)))},
		},
		{
			name:     "count rule keeps the newest N",
			rules:    LifecycleRules{KeepNewest: 2},
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0"), ver("1.10.0"), ver("1.2.0")},
			actions:  []string{"1.2.0 deprecate: not among the newest 2", "1.0.0 deprecate: not among the newest 2"},
		},
		{
			name:     "age rule",
			rules:    LifecycleRules{DeprecateAfterDays: 30},
			versions: []ImageVersion{ver("1.0.0", published(at(-31))), ver("1.1.0", published(at(-29)))},
			actions:  []string{"1.0.0 deprecate: published on 2025-05-01, more than 30 day(s) ago"},
		},
		{
			name:     "age rule never touches the newest N",
			rules:    LifecycleRules{KeepNewest: 1, DeprecateAfterDays: 30},
			versions: []ImageVersion{ver("1.0.0", published(at(-90))), ver("1.1.0", published(at(-60))), ver("1.2.0", published(at(-40)))},
			actions:  []string{"1.1.0 deprecate: more than 30 day(s) ago, and not among the newest 1", "1.0.0 deprecate: not among the newest 1"},
		},
		{
			name:     "age rule without a published date",
			rules:    LifecycleRules{DeprecateAfterDays: 30},
			versions: []ImageVersion{ver("1.0.0", func(v *ImageVersion) { v.Properties.PublishingProfile.PublishedDate = nil })},
			skipped:  []string{"1.0.0: it has no publishedDate"},
		},
		{
			name:     "revoked versions are not kept",
			rules:    LifecycleRules{KeepNewest: 2},
			versions: []ImageVersion{ver("3.0.0", revoked(at(-1))), ver("2.0.0"), ver("1.0.0")},
			actions:  []string{"3.0.0 deprecate: revoked, so not kept by keepNewest"},
		},
		{
			name:     "a scheduled revocation still counts as kept",
			rules:    LifecycleRules{KeepNewest: 1},
			versions: []ImageVersion{ver("2.0.0", revoked(at(1))), ver("1.0.0")},
			actions:  []string{"1.0.0 deprecate: not among the newest 1"},
		},
		{
			name:     "excluded by tag, not counted in keepNewest",
			rules:    LifecycleRules{KeepNewest: 1, ExcludeTags: map[string]string{"keep": "*"}},
			versions: []ImageVersion{ver("3.0.0"), ver("2.0.0", tagged("keep", "forever")), ver("1.0.0")},
			actions:  []string{"1.0.0 deprecate: not among the newest 1"},
			skipped:  []string{"2.0.0: excluded by tag keep=forever"},
		},
		{
			name:     "exclusion tag value must match",
			rules:    LifecycleRules{KeepNewest: 1, ExcludeTags: map[string]string{"env": "prod"}},
			versions: []ImageVersion{ver("2.0.0"), ver("1.0.0", tagged("env", "dev"))},
			actions:  []string{"1.0.0 deprecate: not among the newest 1"},
		},
		{
			name:     "deprecated to end of life after D days",
			rules:    LifecycleRules{KeepNewest: 1, EndOfLifeAfterDays: 10},
			versions: []ImageVersion{ver("3.0.0"), ver("2.0.0", state(StateDeprecated, at(-5))), ver("1.0.0", state(StateDeprecated, at(-11)))},
			actions:  []string{"1.0.0 endOfLife: deprecated on 2025-05-21, more than 10 day(s) ago"},
		},
		{
			name:     "end of life fixed by blockDeletionBeforeEndOfLife",
			rules:    LifecycleRules{KeepNewest: 1, EndOfLifeAfterDays: 1},
			versions: []ImageVersion{ver("2.0.0"), ver("1.0.0", state(StateDeprecated, at(-5)), blockDeletion, endOfLife(at(30)))},
			skipped:  []string{"1.0.0: its end of life is fixed at 2025-07-01 by safetyProfile.blockDeletionBeforeEndOfLife"},
		},
		{
			name:     "an end-of-life date that passed is recorded, even for kept versions",
			rules:    LifecycleRules{KeepNewest: 5},
			versions: []ImageVersion{ver("1.0.0", endOfLife(at(-1)))},
			actions:  []string{"1.0.0 endOfLife: its end-of-life date 2025-05-31 has passed"},
		},
		{
			name:     "delete D days after end of life",
			rules:    LifecycleRules{KeepNewest: 1, DeleteAfterDays: 7},
			versions: []ImageVersion{ver("3.0.0"), ver("2.0.0", state(StateEndOfLife, at(-3))), ver("1.0.0", state(StateEndOfLife, at(-8)))},
			actions:  []string{"1.0.0 delete: end of life since 2025-05-24, more than 7 day(s) ago"},
		},
		{
			name:     "delete when the end-of-life date passed without bookkeeping",
			rules:    LifecycleRules{DeleteAfterDays: 7},
			versions: []ImageVersion{ver("1.0.0", endOfLife(at(-8)), blockDeletion)},
			actions:  []string{"1.0.0 delete: end of life since 2025-05-24"},
		},
		{
			name:     "kept versions are never deleted",
			rules:    LifecycleRules{KeepNewest: 1, DeleteAfterDays: 1},
			versions: []ImageVersion{ver("1.0.0", state(StateEndOfLife, at(-30)))},
		},
		{
			name:  "purge after retention",
			rules: LifecycleRules{},
			versions: []ImageVersion{
				ver("2.0.0", softDeleted(at(-3), at(4))),
				ver("1.0.0", softDeleted(at(-8), at(-1))),
			},
			actions: []string{"1.0.0 purge: soft-deleted on 2025-05-24; recoverable until 2025-05-31"},
		},
		{
			name:     "names that are not versions are reported",
			rules:    LifecycleRules{KeepNewest: 1},
			versions: []ImageVersion{ver("1.0.0"), ver("1.0")},
			skipped:  []string{"1.0: the name is not a Major.Minor.Patch version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := Plan(tt.versions, tt.rules, t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Actions) != len(tt.actions) || len(plan.Skipped) != len(tt.skipped) {
				t.Fatalf("plan:\n%s\nwant actions %q\nskipped %q", plan, tt.actions, tt.skipped)
			}
			for i, a := range plan.Actions {
				checkLine(t, a.Version+" "+string(a.Action)+": "+a.Reason, tt.actions[i])
			}
			for i, s := range plan.Skipped {
				checkLine(t, s.Version+": "+s.Reason, tt.skipped[i])
			}
		})
	}
}

// checkLine compares "head: reason" with "head: reason substring".
func checkLine(t *testing.T, got, want string) {
	t.Helper()
	gh, gr, _ := strings.Cut(got, ": ")
	wh, wr, _ := strings.Cut(want, ": ")
	if gh != wh || !strings.Contains(gr, wr) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPlanRejectsNegativeRules(t *testing.T) {
	_, err := Plan(nil, LifecycleRules{KeepNewest: -1}, t0)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "keepNewest: -1 is negative") {
		t.Fatalf("got %v", err)
	}
}

func TestTransitions(t *testing.T) {
	v, err := Deprecate(ver("1.0.0"), t0)
	if err != nil || v.Properties.LifecycleState != StateDeprecated || !v.Properties.DeprecatedAt.Equal(t0) {
		t.Fatalf("Deprecate: %+v, %v", v.Properties, err)
	}
	if _, err := Deprecate(v, t0); !errors.Is(err, ErrState) {
		t.Errorf("deprecating twice: %v", err)
	}
	v, err = EndOfLife(v, at(1))
	if err != nil || v.Properties.LifecycleState != StateEndOfLife || !v.Properties.PublishingProfile.EndOfLifeDate.Equal(at(1)) {
		t.Fatalf("EndOfLife: %+v, %v", v.Properties, err)
	}
	past, err := EndOfLife(ver("1.0.0", endOfLife(at(-3))), t0)
	if err != nil || !past.Properties.PublishingProfile.EndOfLifeDate.Equal(at(-3)) {
		t.Errorf("EndOfLife must keep a date that has passed: %v %v", past.Properties.PublishingProfile.EndOfLifeDate, err)
	}
	if _, err := EndOfLife(ver("1.0.0", blockDeletion, endOfLife(at(10))), t0); !errors.Is(err, ErrDeletionBlocked) {
		t.Errorf("EndOfLife must not bring a protected date forward: %v", err)
	}
	if err := CheckTransition(StateEndOfLife, StateActive); !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "only move forward") {
		t.Errorf("eol → active: %v", err)
	}
	if err := CheckTransition("", StateEndOfLife); err != nil {
		t.Errorf("active → eol: %v", err)
	}
	if _, err := Deprecate(ver("1.0.0", softDeleted(t0, at(7))), t0); !errors.Is(err, ErrState) {
		t.Errorf("deprecating a deleted version: %v", err)
	}
}

func TestEffectiveState(t *testing.T) {
	for _, tt := range []struct {
		v    ImageVersion
		want LifecycleState
	}{
		{ver("1.0.0"), StateActive},
		{ver("1.0.0", state(StateDeprecated, at(-1))), StateDeprecated},
		{ver("1.0.0", endOfLife(t0)), StateEndOfLife},
		{ver("1.0.0", endOfLife(at(1))), StateActive},
	} {
		if got := tt.v.State(t0); got != tt.want {
			t.Errorf("%+v: state %s, want %s", tt.v.Properties, got, tt.want)
		}
	}
}

func TestSoftDelete(t *testing.T) {
	week := DefaultSoftDeleteRetention
	v, err := SoftDelete(ver("1.0.0"), t0, week)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Deletion{DeletedAt: t0, PurgeAt: at(7)}, v.Properties.Deletion); diff != "" {
		t.Fatalf("deletion (-want +got):\n%s", diff)
	}
	if _, err := SoftDelete(v, t0, week); !errors.Is(err, ErrState) {
		t.Errorf("deleting twice: %v", err)
	}
	if Purgeable(v, at(7).Add(-time.Second)) || !Purgeable(v, at(7)) {
		t.Error("purgeable exactly when the retention ends")
	}
	back, err := Undelete(v, at(6))
	if err != nil || back.Deleted() {
		t.Fatalf("undelete within retention: %v", err)
	}
	if _, err := Undelete(v, at(7)); !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "it is gone") {
		t.Errorf("undelete after retention: %v", err)
	}
	if _, err := Undelete(ver("1.0.0"), t0); !errors.Is(err, ErrState) {
		t.Errorf("undelete a live version: %v", err)
	}
	if _, err := SoftDelete(ver("1.0.0"), t0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero retention: %v", err)
	}
}

func TestCheckDelete(t *testing.T) {
	tests := []struct {
		name    string
		v       ImageVersion
		wantErr string
	}{
		{"no safety profile", ver("1.0.0"), ""},
		{"blocked without a date", ver("1.0.0", blockDeletion), "has no end-of-life date"},
		{"blocked before the date", ver("1.0.0", blockDeletion, endOfLife(at(1))), "before its end of life on 2025-06-02T12:00:00Z"},
		{"allowed on the date", ver("1.0.0", blockDeletion, endOfLife(t0)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDelete(tt.v, t0)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrDeletionBlocked) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			if _, err := SoftDelete(tt.v, t0, time.Hour); !errors.Is(err, ErrDeletionBlocked) {
				t.Errorf("SoftDelete must refuse too: %v", err)
			}
		})
	}
}
