package policy

import (
	"sort"
	"strings"
	"time"
)

// ComplianceRecord is the compliance state of one resource for one member
// of one assignment. Resources a member does not apply to (or that
// notScopes exclude) have no record.
type ComplianceRecord struct {
	ResourceID            string `json:"resourceId"`
	ResourceType          string `json:"resourceType"`
	AssignmentID          string `json:"policyAssignmentId"`
	DefinitionID          string `json:"policyDefinitionId"`
	DefinitionReferenceID string `json:"policyDefinitionReferenceId,omitempty"`
	SetDefinitionID       string `json:"policySetDefinitionId,omitempty"`
	Effect                string `json:"policyDefinitionAction"`
	State                 string `json:"complianceState"`
	// Reason says why a resource is non-compliant (the deciding
	// conditions, or the evaluation error) or which exemption applies.
	Reason      string `json:"reason,omitempty"`
	ExemptionID string `json:"exemptionId,omitempty"`
}

// ScanOptions tune a compliance scan.
type ScanOptions struct {
	// Now is the scan's time (zero: the current time); it decides which
	// exemptions have expired and what utcNow() returns.
	Now time.Time
	// Related finds the related resources of an auditIfNotExists or
	// deployIfNotExists effect (Result.Details); nil finds none, which
	// makes every such resource whose if holds NonCompliant.
	Related func(q ExistenceDetails, ifResource Resource) ([]Resource, error)
	// Attestation returns the state attested for a manual effect, if any.
	Attestation func(resourceID, assignmentID, referenceID string) (string, bool)
	// Reasons records the deciding conditions of NonCompliant states
	// (slower: every evaluation is traced).
	Reasons bool
	// ResourceGroups gives resourceGroup() per resource group ID (lower
	// case); missing groups are derived from the resource ID.
	ResourceGroups map[string]map[string]any
}

// Scan evaluates every resource (in stored context) against every
// assignment that covers it and returns one record per resource and
// applicable member, in resource order.
func Scan(resources []Resource, assignments []*CompiledAssignment, exemptions []*Exemption, opts ScanOptions) []ComplianceRecord {
	now := opts.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	var out []ComplianceRecord
	prepared := prepareExemptions(exemptions)
	for i := range resources {
		out = scanResource(out, &resources[i], assignments, prepared, &opts, now)
	}
	return out
}

func scanResource(out []ComplianceRecord, res *Resource, assignments []*CompiledAssignment, exemptions exemptionSet, opts *ScanOptions, now time.Time) []ComplianceRecord {
	v := newView(res)
	key := scopeKey(res.ID)
	ctx := EvalContext{Context: ContextStored, Now: now, NoTrace: !opts.Reasons}
	if opts.ResourceGroups != nil {
		sub, rg := resourceGroupOf(res.ID)
		ctx.ResourceGroup = opts.ResourceGroups[strings.ToLower("/subscriptions/"+sub+"/resourceGroups/"+rg)]
	}
	for _, a := range assignments {
		if !a.coversKey(key) || !a.selects(v) {
			continue
		}
		for _, m := range a.Members {
			ctx.Policy = a.policyInfo(m)
			if rec, ok := scanMember(res, v, key, a, m, exemptions, opts, &ctx); ok {
				out = append(out, rec)
			}
		}
	}
	return out
}

// scanMember computes one record; ok is false when the member does not
// apply to the resource.
func scanMember(res *Resource, v *view, key string, a *CompiledAssignment, m *Member, exemptions exemptionSet, opts *ScanOptions, ctx *EvalContext) (ComplianceRecord, bool) {
	def := m.compiledFor(v)
	r := def.evaluate(v, ctx)
	if !r.Applicable {
		return ComplianceRecord{}, false
	}
	rec := ComplianceRecord{ResourceID: res.ID, ResourceType: v.typ, AssignmentID: a.Assignment.ID,
		DefinitionID: m.DefinitionID, DefinitionReferenceID: m.ReferenceID, SetDefinitionID: ctx.Policy.SetDefinitionID,
		Effect: def.Effect()}
	if e := a.exemptionFor(exemptions, key, m, v, ctx.Now); e != nil {
		rec.State, rec.ExemptionID, rec.Reason = StateExempt, e.ID, "exempt ("+e.Category+")"
		return rec, true
	}
	rec.State, rec.Reason = stateOf(res, def, r, a, m, opts, ctx)
	return rec, true
}

// stateOf maps an evaluation to a compliance state: an if that holds is
// NonCompliant (for *IfNotExists only when no related resource satisfies
// the existence condition), a failed evaluation too; manual reports its
// attestation or default state.
func stateOf(res *Resource, def *CompiledDefinition, r Result, a *CompiledAssignment, m *Member, opts *ScanOptions, ctx *EvalContext) (string, string) {
	switch {
	case r.Err != nil:
		return StateNonCompliant, "evaluation error: " + r.Err.Error()
	case def.Effect() == EffectManual:
		if opts.Attestation != nil {
			if s, ok := opts.Attestation(res.ID, a.Assignment.ID, m.ReferenceID); ok {
				return s, "attested"
			}
		}
		if d, ok := r.Details.(ManualDetails); ok {
			return d.DefaultState, "default state"
		}
		return StateUnknown, ""
	case r.Effect == "":
		return StateCompliant, ""
	case r.Effect == EffectAuditIfNotExists || r.Effect == EffectDeployIfNotExists:
		return existenceState(res, def, r, opts, ctx)
	}
	return StateNonCompliant, strings.Join(r.Reasons(), "; ")
}

func existenceState(res *Resource, def *CompiledDefinition, r Result, opts *ScanOptions, ctx *EvalContext) (string, string) {
	q, _ := r.Details.(ExistenceDetails)
	var related []Resource
	if opts.Related != nil {
		var err error
		if related, err = opts.Related(q, *res); err != nil {
			return StateNonCompliant, "related resources: " + err.Error()
		}
	}
	ok, err := def.CheckExistence(*res, related, *ctx)
	switch {
	case err != nil:
		return StateNonCompliant, err.Error()
	case ok:
		return StateCompliant, ""
	}
	return StateNonCompliant, "no related " + q.Type + " satisfies the existence condition"
}

// stateRank orders states for rollups: NonCompliant wins over Compliant,
// Compliant over Conflict, Conflict over Exempt, Exempt over Unknown.
func stateRank(s string) int {
	switch s {
	case StateNonCompliant:
		return 5
	case StateCompliant:
		return 4
	case StateConflict:
		return 3
	case StateExempt:
		return 2
	case StateUnknown:
		return 1
	}
	return 0
}

var rankedStates = []string{"", StateUnknown, StateExempt, StateConflict, StateCompliant, StateNonCompliant}

// Rollup is the state of a set of states (a resource over several
// policies, an initiative over its members): the highest ranked.
func Rollup(states ...string) string {
	best := 0
	for _, s := range states {
		best = max(best, stateRank(s))
	}
	return rankedStates[best]
}

// Tally counts distinct resources by rolled-up state at one level.
type Tally struct {
	Key          string  `json:"key"`
	ReferenceID  string  `json:"policyDefinitionReferenceId,omitempty"`
	Compliant    int     `json:"compliant"`
	NonCompliant int     `json:"nonCompliant"`
	Conflict     int     `json:"conflict"`
	Exempt       int     `json:"exempt"`
	Unknown      int     `json:"unknown"`
	Total        int     `json:"total"`
	Percentage   float64 `json:"percentage"`
}

// Summary is a scan's compliance at each level, each counting distinct
// resources ("19 of 20 applicable resources: 95%").
type Summary struct {
	Overall        Tally   `json:"overall"`
	Assignments    []Tally `json:"assignments"`    // Key: assignment ID
	Definitions    []Tally `json:"definitions"`    // Key: definition ID
	References     []Tally `json:"references"`     // Key: assignment ID, with ReferenceID (a control)
	ResourceGroups []Tally `json:"resourceGroups"` // Key: resource group ID, lower-cased
}

// Summarize rolls records up per assignment, definition, initiative member
// and resource group, and overall. The percentage is Azure's:
// (Compliant + Exempt + Unknown) / (Compliant + NonCompliant + Exempt +
// Conflict + Unknown); Unknown is counted in the total too, so that it
// never exceeds 100%, and 0 resources is 100%.
func Summarize(records []ComplianceRecord) Summary {
	sm := newSummarizer()
	for i := range records {
		sm.add(&records[i])
	}
	return sm.summary()
}

type level uint8

const (
	levelAssignment level = iota
	levelDefinition
	levelReference
	levelResourceGroup
)

type levelKey struct {
	level    level
	key, ref string
}

// summarizer accumulates the highest state rank per resource and per
// (level, resource), numbering resources and levels so that each record
// costs a few integer-keyed map updates.
type summarizer struct {
	resources map[string]int32 // lower-cased ID -> index
	ranks     []uint8          // overall, by resource
	groups    []int32          // resource group level, by resource (-1: none)
	levels    map[levelKey]int32
	keys      []levelKey
	byLevel   map[uint64]uint8 // level<<32 | resource -> rank

	lastID       string
	lastResource int32
	lastLevels   [3]levelKey
	lastLevelIDs [3]int32
}

func newSummarizer() *summarizer {
	return &summarizer{resources: map[string]int32{}, levels: map[levelKey]int32{}, byLevel: map[uint64]uint8{},
		lastResource: -1, lastLevelIDs: [3]int32{-1, -1, -1}}
}

func (sm *summarizer) add(r *ComplianceRecord) {
	rank := uint8(stateRank(r.State))
	if rank == 0 {
		return
	}
	res := sm.resource(r.ResourceID)
	sm.ranks[res] = max(sm.ranks[res], rank)
	keys := [3]levelKey{{level: levelAssignment, key: r.AssignmentID}, {level: levelDefinition, key: r.DefinitionID}}
	n := 2
	if r.DefinitionReferenceID != "" {
		keys[2], n = levelKey{level: levelReference, key: r.AssignmentID, ref: r.DefinitionReferenceID}, 3
	}
	for i := range n {
		k := uint64(sm.levelID(i, keys[i]))<<32 | uint64(res)
		sm.byLevel[k] = max(sm.byLevel[k], rank)
	}
}

// resource numbers a resource (IDs ignore case); consecutive records of
// one resource skip the lookup.
func (sm *summarizer) resource(id string) int32 {
	if sm.lastResource >= 0 && id == sm.lastID {
		return sm.lastResource
	}
	lower := strings.ToLower(id)
	idx, ok := sm.resources[lower]
	if !ok {
		idx = int32(len(sm.ranks))
		sm.resources[lower] = idx
		sm.ranks = append(sm.ranks, 0)
		sm.groups = append(sm.groups, sm.groupOf(id))
	}
	sm.lastID, sm.lastResource = id, idx
	return idx
}

// groupOf numbers the resource group level of a resource, -1 for none.
func (sm *summarizer) groupOf(id string) int32 {
	sub, rg := resourceGroupOf(id)
	if rg == "" {
		return -1
	}
	return sm.levelID(-1, levelKey{level: levelResourceGroup, key: strings.ToLower("/subscriptions/" + sub + "/resourceGroups/" + rg)})
}

// levelID numbers a level; slot caches the last key of one kind (-1: none).
func (sm *summarizer) levelID(slot int, k levelKey) int32 {
	if slot >= 0 && sm.lastLevelIDs[slot] >= 0 && sm.lastLevels[slot] == k {
		return sm.lastLevelIDs[slot]
	}
	id, ok := sm.levels[k]
	if !ok {
		id = int32(len(sm.keys))
		sm.levels[k] = id
		sm.keys = append(sm.keys, k)
	}
	if slot >= 0 {
		sm.lastLevels[slot], sm.lastLevelIDs[slot] = k, id
	}
	return id
}

// summary counts the ranks into tallies.
func (sm *summarizer) summary() Summary {
	counts := make([][6]int, len(sm.keys))
	var overall [6]int
	for res, rank := range sm.ranks {
		overall[rank]++
		if g := sm.groups[res]; g >= 0 {
			counts[g][rank]++
		}
	}
	for k, rank := range sm.byLevel {
		counts[k>>32][rank]++
	}
	s := Summary{Overall: tally(overall)}
	s.Overall.Key = "overall"
	order := make([]int, len(sm.keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return lessLevel(sm.keys[order[i]], sm.keys[order[j]]) })
	for _, i := range order {
		t := tally(counts[i])
		t.Key, t.ReferenceID = sm.keys[i].key, sm.keys[i].ref
		switch sm.keys[i].level {
		case levelAssignment:
			s.Assignments = append(s.Assignments, t)
		case levelDefinition:
			s.Definitions = append(s.Definitions, t)
		case levelReference:
			s.References = append(s.References, t)
		case levelResourceGroup:
			s.ResourceGroups = append(s.ResourceGroups, t)
		}
	}
	return s
}

func lessLevel(a, b levelKey) bool {
	if a.level != b.level {
		return a.level < b.level
	}
	if a.key != b.key {
		return a.key < b.key
	}
	return a.ref < b.ref
}

// tally turns counts by rank into a Tally.
func tally(byRank [6]int) Tally {
	t := Tally{Unknown: byRank[1], Exempt: byRank[2], Conflict: byRank[3], Compliant: byRank[4], NonCompliant: byRank[5]}
	t.Total = t.Compliant + t.NonCompliant + t.Conflict + t.Exempt + t.Unknown
	t.Percentage = Percentage(t.Compliant, t.NonCompliant, t.Conflict, t.Exempt, t.Unknown)
	return t
}

// Percentage is Azure's compliance percentage (see Summarize), 100 for no
// resources.
func Percentage(compliant, nonCompliant, conflict, exempt, unknown int) float64 {
	total := compliant + nonCompliant + conflict + exempt + unknown
	if total == 0 {
		return 100
	}
	return float64(compliant+exempt+unknown) * 100 / float64(total)
}
