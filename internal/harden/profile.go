package harden

import (
	"github.com/kiln-dev/kiln/internal/suggest"

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

// nearest returns the candidate closest to s: a plausible typo, or a
// candidate that contains s (a control named by part of its ID).
func nearest(s string, candidates []string) string {
	if n := suggest.Nearest(s, candidates); n != "" {
		return n
	}
	if len(s) < 3 {
		return ""
	}
	for _, c := range candidates {
		if strings.Contains(strings.ToLower(c), strings.ToLower(s)) {
			return c
		}
	}
	return ""
}
