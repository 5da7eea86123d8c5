package harden

import (
	"fmt"
	"sort"
	"strings"
)

// Profile is a named, versioned set of controls with the parameters they
// take.
type Profile struct {
	ID, Title, Version, Description string
	Controls                        []Control
	Params                          []ParamSpec
}

// ParamSpec declares one parameter of a profile.
type ParamSpec struct {
	Name        string
	Type        string // "string", "int", "bool" or "[]string"
	Description string
	Default     any

	// check validates a value already converted to Type.
	check func(v any) error
}

// Parameter types.
const (
	TypeString  = "string"
	TypeInt     = "int"
	TypeBool    = "bool"
	TypeStrings = "[]string"
)

// Control is one hardening recommendation: how to apply it to an image, how
// to check it offline and, optionally, how to check it on the running system.
type Control struct {
	ID, Title, Rationale, CIS string   // CIS = benchmark section, e.g. "1.1.1.1"
	NIST                      []string // NIST SP 800-53 rev. 5, e.g. ["CM-7", "AC-17(2)"]
	Packages                  []string // Debian packages Apply needs, installed before the script

	// Apply is POSIX sh run as root inside the image (chroot, no services
	// running); it is idempotent. Parameters come as KILN_PARAM_<NAME>
	// environment variables (lists space separated), and the helper
	// functions of the script prelude (kiln_set_kv, kiln_sshd_set, ...) are
	// available.
	Apply string

	// Audit checks the root tree offline.
	Audit func(fsys Root, p Params) Result

	// Runtime is optional POSIX sh run in the booted VM; its last line is
	// "pass <evidence>", "fail <evidence>" or "na <why>".
	Runtime string

	// tailor returns a deviation reason when the parameters weaken the
	// control below the benchmark (the control is still applied, with the
	// weaker value, and reported as deviated).
	tailor func(p Params) string
}

// Status is the outcome of one control.
type Status string

// Statuses of a Result.
const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusNotApplicable Status = "notapplicable"
	StatusDeviated      Status = "deviated"
	StatusError         Status = "error"
)

// Phases of a Result.
const (
	PhaseOffline = "offline"
	PhaseRuntime = "runtime"
)

// Result is the outcome of one control's check.
type Result struct {
	ControlID string   `json:"control"`
	Title     string   `json:"title,omitempty"`
	CIS       string   `json:"cis,omitempty"`
	NIST      []string `json:"nist,omitempty"`
	Status    Status   `json:"status"`
	Evidence  string   `json:"evidence"`
	Phase     string   `json:"phase"`
}

func pass(format string, a ...any) Result {
	return Result{Status: StatusPass, Evidence: fmt.Sprintf(format, a...)}
}

func fail(format string, a ...any) Result {
	return Result{Status: StatusFail, Evidence: fmt.Sprintf(format, a...)}
}

func notApplicable(format string, a ...any) Result {
	return Result{Status: StatusNotApplicable, Evidence: fmt.Sprintf(format, a...)}
}

func errored(err error) Result {
	return Result{Status: StatusError, Evidence: err.Error()}
}

// verdict turns a condition into pass or fail with the same evidence.
func verdict(ok bool, format string, a ...any) Result {
	if ok {
		return pass(format, a...)
	}
	return fail(format, a...)
}

// Builtin returns the built-in profiles.
func Builtin() []Profile {
	return []Profile{cisDebianL1()}
}

// Lookup returns the built-in profile with the given ID.
func Lookup(id string) (Profile, error) {
	var ids []string
	for _, p := range Builtin() {
		if p.ID == id {
			return p, nil
		}
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	msg := fmt.Sprintf("unknown hardening profile %q (available: %s)", id, strings.Join(ids, ", "))
	if n := nearest(id, ids); n != "" {
		msg = fmt.Sprintf("unknown hardening profile %q: did you mean %q? (available: %s)", id, n, strings.Join(ids, ", "))
	}
	return Profile{}, fmt.Errorf("%s", msg)
}

// Control returns the control with the given ID.
func (p Profile) Control(id string) (Control, bool) {
	for _, c := range p.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}

func (p Profile) controlIDs() []string {
	ids := make([]string, len(p.Controls))
	for i, c := range p.Controls {
		ids[i] = c.ID
	}
	return ids
}

func (p Profile) paramNames() []string {
	n := make([]string, len(p.Params))
	for i, s := range p.Params {
		n[i] = s.Name
	}
	return n
}

// nearest returns the candidate closest to s by edit distance, or "" when
// none is close enough to be a plausible typo.
func nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(s)/3 + 1
	if limit < 2 {
		limit = 2
	}
	if bestD >= 0 && (bestD <= limit || strings.Contains(strings.ToLower(best), strings.ToLower(s)) && len(s) >= 3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
