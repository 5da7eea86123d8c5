package doctor

import (
	"fmt"
	"slices"
	"strings"
)

// aptPrefix starts the install line; the packages follow, sorted.
const aptPrefix = "apt-get install -y --no-install-recommends"

// Report is the result of Run, one Check per line of the report.
type Report struct {
	Checks []Check
}

// OK reports whether builds can run: no check is missing or failed.
// Warnings (an optional program, TCG instead of KVM) do not count.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == StatusMissing || c.Status == StatusFail {
			return false
		}
	}
	return true
}

// MissingPackages lists, sorted and without duplicates, the Debian packages
// of every missing check and of every optional one that is absent.
func (r Report) MissingPackages() []string {
	var pkgs []string
	for _, c := range r.Checks {
		if c.Package != "" && (c.Status == StatusMissing || c.Status == StatusWarn) {
			pkgs = append(pkgs, c.Package)
		}
	}
	slices.Sort(pkgs)
	return slices.Compact(pkgs)
}

// AptInstallLine returns the apt-get command that installs every missing
// package, or "" when nothing is missing.
func (r Report) AptInstallLine() string {
	pkgs := r.MissingPackages()
	if len(pkgs) == 0 {
		return ""
	}
	return aptPrefix + " " + strings.Join(pkgs, " ")
}

// Text renders the report for a terminal: one aligned line per check
// (status, name, detail, and the fix when there is one), then the apt-get
// line if something is missing.
func (r Report) Text() string {
	statusWidth, nameWidth := len(StatusWarn), 0
	for _, c := range r.Checks {
		statusWidth = max(statusWidth, len(c.Status))
		nameWidth = max(nameWidth, len(c.Name))
	}
	var b strings.Builder
	for _, c := range r.Checks {
		line := fmt.Sprintf("%-*s %-*s  %s", statusWidth, c.Status, nameWidth, c.Name, c.Detail)
		if c.Fix != "" {
			line += " (fix: " + c.Fix + ")"
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	if apt := r.AptInstallLine(); apt != "" {
		b.WriteString("\nTo install what is missing, run as root:\n  " + apt + "\n")
	}
	return b.String()
}
