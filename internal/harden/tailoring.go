package harden

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Tailoring selects a profile and adapts it: parameter values, controls
// excluded with a reason (deviations) and an optional pass threshold.
type Tailoring struct {
	Profile    string         `json:"profile"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Exclude    []Deviation    `json:"exclude,omitempty"`
	Threshold  *float64       `json:"threshold,omitempty"` // percent 0-100; nil = every non-deviated control must pass
}

// Deviation records that a control is not applied, and why.
type Deviation struct {
	Control string `json:"control"`
	Reason  string `json:"reason"`
}

// TailoringError lists every problem found in a tailoring.
type TailoringError struct {
	Problems []string
}

func (e *TailoringError) Error() string {
	if len(e.Problems) == 1 {
		return "hardening tailoring: " + e.Problems[0]
	}
	return fmt.Sprintf("hardening tailoring: %d problems:\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// Plan is a validated tailoring: the controls to apply, with parameters.
type Plan struct {
	profile   Profile
	params    Params
	controls  []Control         // applied, in profile order
	excluded  map[string]string // control ID -> reason
	tailored  map[string]string // control ID -> reason (applied with weaker parameters)
	threshold *float64
}

// Resolve validates a tailoring against its profile and returns the plan.
// It reports every problem at once.
func Resolve(t Tailoring) (*Plan, error) {
	prof, err := Lookup(strings.TrimSpace(t.Profile))
	if t.Profile == "" {
		err = fmt.Errorf("profile is required (available: %s)", strings.Join(builtinIDs(), ", "))
	}
	if err != nil {
		return nil, &TailoringError{Problems: []string{err.Error()}}
	}
	var probs []string
	params, pp := resolveParams(prof, t.Parameters)
	probs = append(probs, pp...)
	excluded, ep := resolveExclusions(prof, t.Exclude)
	probs = append(probs, ep...)
	if t.Threshold != nil && (*t.Threshold < 0 || *t.Threshold > 100) {
		probs = append(probs, fmt.Sprintf("threshold: %v is not a percentage between 0 and 100", *t.Threshold))
	}
	if len(probs) > 0 {
		return nil, &TailoringError{Problems: probs}
	}
	return newPlan(prof, params, excluded, t.Threshold), nil
}

func newPlan(prof Profile, params Params, excluded map[string]string, threshold *float64) *Plan {
	p := &Plan{profile: prof, params: params, excluded: excluded, tailored: map[string]string{}}
	if threshold != nil {
		th := *threshold
		p.threshold = &th
	}
	for _, c := range prof.Controls {
		if _, ok := excluded[c.ID]; ok {
			continue
		}
		p.controls = append(p.controls, c)
		if c.tailor != nil {
			if why := c.tailor(params); why != "" {
				p.tailored[c.ID] = why
			}
		}
	}
	return p
}

func builtinIDs() []string {
	var ids []string
	for _, p := range Builtin() {
		ids = append(ids, p.ID)
	}
	return ids
}

func resolveParams(prof Profile, given map[string]any) (Params, []string) {
	params := Params{}
	for _, s := range prof.Params {
		params[s.Name] = cloneValue(s.Default)
	}
	var probs []string
	for _, name := range slices.Sorted(maps.Keys(given)) {
		spec, ok := paramSpec(prof, name)
		if !ok {
			msg := fmt.Sprintf("parameters.%s: unknown parameter of profile %s", name, prof.ID)
			if n := nearest(name, prof.paramNames()); n != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", n)
			}
			probs = append(probs, msg)
			continue
		}
		v, err := convertParam(spec, given[name])
		if err != nil {
			probs = append(probs, fmt.Sprintf("parameters.%s: %v", name, err))
			continue
		}
		params[name] = v
	}
	return params, probs
}

func cloneValue(v any) any {
	if l, ok := v.([]string); ok {
		return slices.Clone(l)
	}
	return v
}

func paramSpec(prof Profile, name string) (ParamSpec, bool) {
	for _, s := range prof.Params {
		if s.Name == name {
			return s, true
		}
	}
	return ParamSpec{}, false
}

func resolveExclusions(prof Profile, devs []Deviation) (map[string]string, []string) {
	excluded := map[string]string{}
	var probs []string
	for i, d := range devs {
		where := fmt.Sprintf("exclude[%d]", i)
		id := strings.TrimSpace(d.Control)
		if _, ok := prof.Control(id); !ok {
			msg := fmt.Sprintf("%s: unknown control %q in profile %s", where, d.Control, prof.ID)
			if n := nearest(id, prof.controlIDs()); n != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", n)
			}
			probs = append(probs, msg)
			continue
		}
		if strings.TrimSpace(d.Reason) == "" {
			probs = append(probs, fmt.Sprintf("%s: control %s is excluded without a reason; a deviation must say why", where, id))
			continue
		}
		if _, dup := excluded[id]; dup {
			probs = append(probs, fmt.Sprintf("%s: control %s is excluded twice", where, id))
			continue
		}
		excluded[id] = strings.TrimSpace(d.Reason)
	}
	return excluded, probs
}

// Profile is the plan's profile.
func (p *Plan) Profile() Profile { return p.profile }

// Params returns a copy of the plan's parameter values.
func (p *Plan) Params() Params {
	out := Params{}
	for k, v := range p.params {
		out[k] = cloneValue(v)
	}
	return out
}

// Controls returns the controls the plan applies, in order.
func (p *Plan) Controls() []Control { return slices.Clone(p.controls) }

// Deviations lists every deviation: excluded controls and controls applied
// with parameters weaker than the benchmark, in profile order.
func (p *Plan) Deviations() []Deviation {
	var out []Deviation
	for _, c := range p.profile.Controls {
		if r, ok := p.excluded[c.ID]; ok {
			out = append(out, Deviation{Control: c.ID, Reason: r})
		} else if r, ok := p.tailored[c.ID]; ok {
			out = append(out, Deviation{Control: c.ID, Reason: r})
		}
	}
	return out
}

// Packages is the sorted, de-duplicated list of Debian packages the plan's
// controls need installed before ApplyScript runs.
func (p *Plan) Packages() []string {
	set := map[string]bool{}
	for _, c := range p.controls {
		for _, pkg := range c.Packages {
			set[pkg] = true
		}
	}
	out := slices.Collect(maps.Keys(set))
	sort.Strings(out)
	return out
}
