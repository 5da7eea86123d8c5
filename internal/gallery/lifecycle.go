package gallery

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// LifecycleState is kiln's lifecycle state of a version. States only move
// forward: active → deprecated → eol (active → eol too). Deprecated and
// end-of-life versions stay deployable; the states feed compliance reports
// and the lifecycle rules that eventually delete versions.
type LifecycleState string

// The lifecycle states.
const (
	StateActive     LifecycleState = "active"
	StateDeprecated LifecycleState = "deprecated"
	StateEndOfLife  LifecycleState = "eol"
)

func (s LifecycleState) valid() bool {
	return s == StateActive || s == StateDeprecated || s == StateEndOfLife
}

func (s LifecycleState) rank() int {
	switch s {
	case StateDeprecated:
		return 1
	case StateEndOfLife:
		return 2
	}
	return 0
}

// CheckTransition allows forward moves only.
func CheckTransition(from, to LifecycleState) error {
	if from == "" {
		from = StateActive
	}
	if !from.valid() || !to.valid() || to.rank() <= from.rank() {
		return fmt.Errorf("%w: a version cannot go from %s to %s; lifecycle states only move forward: active → deprecated → eol", ErrState, from, to)
	}
	return nil
}

// State is the version's effective lifecycle state at now: eol once its
// end-of-life date has passed, otherwise the stored state (empty: active).
func (v *ImageVersion) State(now time.Time) LifecycleState {
	if eol := v.Properties.PublishingProfile.EndOfLifeDate; eol != nil && !now.Before(*eol) {
		return StateEndOfLife
	}
	return v.storedState()
}

func (v *ImageVersion) storedState() LifecycleState {
	if v.Properties.LifecycleState == "" {
		return StateActive
	}
	return v.Properties.LifecycleState
}

// LifecycleRules are kiln's per-definition retention rules, after EC2
// Image Builder's lifecycle policies. All counts are off when zero.
type LifecycleRules struct {
	// KeepNewest protects the N highest versions that are neither revoked
	// nor excluded: no rule deprecates, ends or deletes them. Without
	// DeprecateAfterDays every other active version is deprecated.
	KeepNewest int `json:"keepNewest,omitempty"`
	// DeprecateAfterDays deprecates active versions (outside the newest
	// KeepNewest) published more than this many days ago.
	DeprecateAfterDays int `json:"deprecateAfterDays,omitempty"`
	// EndOfLifeAfterDays moves deprecated versions to eol this many days
	// after they were deprecated.
	EndOfLifeAfterDays int `json:"endOfLifeAfterDays,omitempty"`
	// DeleteAfterDays deletes eol versions this many days after their
	// end-of-life date.
	DeleteAfterDays int `json:"deleteAfterDays,omitempty"`
	// ExcludeTags leaves alone versions that carry any of these tags; the
	// value "*" matches any value of the tag.
	ExcludeTags map[string]string `json:"excludeTags,omitempty"`
}

// Validate checks that no count is negative.
func (r LifecycleRules) Validate() error {
	var es Errors
	for _, f := range []struct {
		name string
		v    int
	}{{"keepNewest", r.KeepNewest}, {"deprecateAfterDays", r.DeprecateAfterDays}, {"endOfLifeAfterDays", r.EndOfLifeAfterDays}, {"deleteAfterDays", r.DeleteAfterDays}} {
		if f.v < 0 {
			es.add(f.name, fmt.Sprintf("%d is negative", f.v), "use 0 to turn the rule off")
		}
	}
	return es.err()
}

// excludedBy returns the tag that exempts a version, or "".
func (r LifecycleRules) excludedBy(tags map[string]string) string {
	keys := make([]string, 0, len(r.ExcludeTags))
	for k := range r.ExcludeTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := r.ExcludeTags[k]
		if got, ok := tags[k]; ok && (want == "*" || got == want) {
			return k + "=" + got
		}
	}
	return ""
}

// Action is what a lifecycle plan does to a version.
type Action string

// The actions, in lifecycle order.
const (
	ActionDeprecate Action = "deprecate"
	ActionEndOfLife Action = "endOfLife"
	ActionDelete    Action = "delete"
	ActionPurge     Action = "purge"
)

// PlannedAction is one action of a plan and why it is taken.
type PlannedAction struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Action  Action `json:"action"`
	Reason  string `json:"reason"`
}

// SkippedVersion is a version the rules leave alone, and why.
type SkippedVersion struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

// LifecyclePlan is the report of Plan.
type LifecyclePlan struct {
	At      time.Time        `json:"at"`
	Actions []PlannedAction  `json:"actions"`
	Skipped []SkippedVersion `json:"skipped,omitempty"`
}

// Plan decides, at now, what the rules do to one definition's versions.
// It moves each version at most one step (deprecate, endOfLife, delete),
// so a plan is applied and planned again on the next run; soft-deleted
// versions past their retention are purged. Versions are reported from
// the highest down.
func Plan(versions []ImageVersion, rules LifecycleRules, now time.Time) (LifecyclePlan, error) {
	plan := LifecyclePlan{At: now, Actions: []PlannedAction{}}
	if err := rules.Validate(); err != nil {
		return plan, fmt.Errorf("lifecycle rules: %w", err)
	}
	managed := planCandidates(&plan, versions, rules, now)
	protected := protectedVersions(managed, rules.KeepNewest, now)
	for i := range managed {
		v := &managed[i]
		action, reason, skip := planOne(v, rules, protected[i], now)
		switch {
		case action != "":
			plan.Actions = append(plan.Actions, PlannedAction{ID: v.ID, Version: v.Name, Action: action, Reason: reason})
		case skip != "":
			plan.Skipped = append(plan.Skipped, SkippedVersion{ID: v.ID, Version: v.Name, Reason: skip})
		}
	}
	return plan, nil
}

// planCandidates plans purges, reports excluded and unparsable versions,
// and returns the rest sorted from the highest version down.
func planCandidates(plan *LifecyclePlan, versions []ImageVersion, rules LifecycleRules, now time.Time) []ImageVersion {
	sorted := slices.Clone(versions)
	slices.SortStableFunc(sorted, func(a, b ImageVersion) int { return CompareVersionNames(b.Name, a.Name) })
	var managed []ImageVersion
	for _, v := range sorted {
		switch tag := rules.excludedBy(v.Tags); {
		case v.Deleted():
			if Purgeable(v, now) {
				plan.Actions = append(plan.Actions, PlannedAction{ID: v.ID, Version: v.Name, Action: ActionPurge,
					Reason: fmt.Sprintf("soft-deleted on %s; recoverable until %s", day(v.Properties.Deletion.DeletedAt), day(v.Properties.Deletion.PurgeAt))})
			}
		case tag != "":
			plan.Skipped = append(plan.Skipped, SkippedVersion{ID: v.ID, Version: v.Name, Reason: "excluded by tag " + tag})
		default:
			if _, ok := parseVersion(v.Name); !ok {
				plan.Skipped = append(plan.Skipped, SkippedVersion{ID: v.ID, Version: v.Name, Reason: "the name is not a Major.Minor.Patch version"})
				continue
			}
			managed = append(managed, v)
		}
	}
	return managed
}

// protectedVersions marks the newest n versions of sorted (highest first)
// that are not revoked at now.
func protectedVersions(sorted []ImageVersion, n int, now time.Time) []bool {
	out := make([]bool, len(sorted))
	kept := 0
	for i := range sorted {
		if kept == n {
			break
		}
		if !sorted[i].Revoked(now) {
			out[i] = true
			kept++
		}
	}
	return out
}

// planOne returns the version's next action and reason, or why it is
// skipped; all empty when nothing is due.
func planOne(v *ImageVersion, r LifecycleRules, protected bool, now time.Time) (Action, string, string) {
	pp := &v.Properties.PublishingProfile
	effective, stored := v.State(now), v.storedState()
	if effective == StateEndOfLife && !protected && r.DeleteAfterDays > 0 && pp.EndOfLifeDate != nil {
		if due := pp.EndOfLifeDate.Add(days(r.DeleteAfterDays)); !now.Before(due) {
			if err := CheckDelete(*v, now); err != nil {
				return "", "", err.Error()
			}
			return ActionDelete, fmt.Sprintf("end of life since %s, more than %d day(s) ago", day(*pp.EndOfLifeDate), r.DeleteAfterDays), ""
		}
	}
	if effective == StateEndOfLife && stored != StateEndOfLife {
		return ActionEndOfLife, fmt.Sprintf("its end-of-life date %s has passed", day(*pp.EndOfLifeDate)), ""
	}
	if protected {
		return "", "", ""
	}
	switch stored {
	case StateDeprecated:
		return planEndOfLife(v, r, now)
	case StateActive:
		return planDeprecation(v, r, now)
	}
	return "", "", ""
}

func planEndOfLife(v *ImageVersion, r LifecycleRules, now time.Time) (Action, string, string) {
	at := v.Properties.DeprecatedAt
	if r.EndOfLifeAfterDays == 0 || at == nil || now.Before(at.Add(days(r.EndOfLifeAfterDays))) {
		return "", "", ""
	}
	if err := checkEndOfLifeMove(v, now); err != nil {
		return "", "", err.Error()
	}
	return ActionEndOfLife, fmt.Sprintf("deprecated on %s, more than %d day(s) ago", day(*at), r.EndOfLifeAfterDays), ""
}

func planDeprecation(v *ImageVersion, r LifecycleRules, now time.Time) (Action, string, string) {
	outside := "not among the newest versions kept"
	if r.KeepNewest > 0 {
		outside = fmt.Sprintf("not among the newest %d", r.KeepNewest)
	}
	if v.Revoked(now) {
		outside = "revoked, so not kept by keepNewest"
	}
	switch {
	case r.DeprecateAfterDays > 0:
		pub := v.Properties.PublishingProfile.PublishedDate
		if pub == nil {
			return "", "", "it has no publishedDate, so deprecateAfterDays cannot apply"
		}
		if now.Before(pub.Add(days(r.DeprecateAfterDays))) {
			return "", "", ""
		}
		return ActionDeprecate, fmt.Sprintf("published on %s, more than %d day(s) ago, and %s", day(*pub), r.DeprecateAfterDays, outside), ""
	case r.KeepNewest > 0:
		return ActionDeprecate, outside, ""
	}
	return "", "", ""
}

// checkEndOfLifeMove refuses to bring a protected end-of-life date forward:
// with blockDeletionBeforeEndOfLife the date is the owner's promise.
func checkEndOfLifeMove(v *ImageVersion, now time.Time) error {
	sp, eol := v.Properties.SafetyProfile, v.Properties.PublishingProfile.EndOfLifeDate
	if sp != nil && sp.BlockDeletionBeforeEndOfLife && eol != nil && eol.After(now) {
		return fmt.Errorf("%w: its end of life is fixed at %s by safetyProfile.blockDeletionBeforeEndOfLife", ErrDeletionBlocked, day(*eol))
	}
	return nil
}

// Deprecate returns v deprecated at now; only active versions can be.
func Deprecate(v ImageVersion, now time.Time) (ImageVersion, error) {
	if err := checkLive(v); err != nil {
		return v, err
	}
	if err := CheckTransition(v.storedState(), StateDeprecated); err != nil {
		return v, fmt.Errorf("deprecate %s: %w", v.Name, err)
	}
	v.Properties.LifecycleState = StateDeprecated
	v.Properties.DeprecatedAt = &now
	return v, nil
}

// EndOfLife returns v at end of life from now: its end-of-life date
// becomes now unless it has already passed. A later date protected by
// blockDeletionBeforeEndOfLife is not brought forward.
func EndOfLife(v ImageVersion, now time.Time) (ImageVersion, error) {
	if err := checkLive(v); err != nil {
		return v, err
	}
	if err := CheckTransition(v.storedState(), StateEndOfLife); err != nil {
		return v, fmt.Errorf("end of life of %s: %w", v.Name, err)
	}
	if err := checkEndOfLifeMove(&v, now); err != nil {
		return v, fmt.Errorf("end of life of %s: %w", v.Name, err)
	}
	pp := &v.Properties.PublishingProfile
	if pp.EndOfLifeDate == nil || pp.EndOfLifeDate.After(now) {
		pp.EndOfLifeDate = &now
	}
	v.Properties.LifecycleState = StateEndOfLife
	return v, nil
}

func checkLive(v ImageVersion) error {
	if v.Deleted() {
		return fmt.Errorf("%w: image version %s is deleted; undelete it first", ErrState, v.Name)
	}
	return nil
}

// CheckDelete refuses to delete a version whose safety profile blocks
// deletion before its end of life when that has not been reached.
func CheckDelete(v ImageVersion, now time.Time) error {
	sp := v.Properties.SafetyProfile
	if sp == nil || !sp.BlockDeletionBeforeEndOfLife {
		return nil
	}
	eol := v.Properties.PublishingProfile.EndOfLifeDate
	switch {
	case eol == nil:
		return fmt.Errorf("%w: image version %s blocks deletion before its end of life and has no end-of-life date; set publishingProfile.endOfLifeDate, or set safetyProfile.blockDeletionBeforeEndOfLife to false", ErrDeletionBlocked, v.Name)
	case now.Before(*eol):
		return fmt.Errorf("%w: image version %s blocks deletion before its end of life on %s; wait, or set safetyProfile.blockDeletionBeforeEndOfLife to false", ErrDeletionBlocked, v.Name, eol.UTC().Format(time.RFC3339))
	}
	return nil
}

// SoftDelete returns v deleted at now and recoverable for retention.
func SoftDelete(v ImageVersion, now time.Time, retention time.Duration) (ImageVersion, error) {
	if v.Deleted() {
		return v, fmt.Errorf("%w: image version %s is already deleted", ErrState, v.Name)
	}
	if retention <= 0 {
		return v, fmt.Errorf("%w: soft-delete retention %s must be positive", ErrInvalid, retention)
	}
	if err := CheckDelete(v, now); err != nil {
		return v, err
	}
	v.Properties.Deletion = &Deletion{DeletedAt: now, PurgeAt: now.Add(retention)}
	return v, nil
}

// Undelete returns v restored from soft delete; it fails once the
// retention window has ended.
func Undelete(v ImageVersion, now time.Time) (ImageVersion, error) {
	d := v.Properties.Deletion
	switch {
	case d == nil:
		return v, fmt.Errorf("%w: image version %s is not deleted", ErrState, v.Name)
	case !now.Before(d.PurgeAt):
		return v, fmt.Errorf("%w: image version %s was deleted on %s and could be recovered until %s; it is gone", ErrState, v.Name, d.DeletedAt.UTC().Format(time.RFC3339), d.PurgeAt.UTC().Format(time.RFC3339))
	}
	v.Properties.Deletion = nil
	return v, nil
}

// Purgeable reports whether a soft-deleted version's retention has ended.
func Purgeable(v ImageVersion, now time.Time) bool {
	d := v.Properties.Deletion
	return d != nil && !now.Before(d.PurgeAt)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// String renders a plan as lines for a terminal.
func (p LifecyclePlan) String() string {
	var sb strings.Builder
	for _, a := range p.Actions {
		fmt.Fprintf(&sb, "%-10s %s: %s\n", a.Action, a.Version, a.Reason)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&sb, "%-10s %s: %s\n", "skip", s.Version, s.Reason)
	}
	return sb.String()
}
