package harden

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Builders for the common shapes of controls. Each returns a complete
// Control; the profile file only fills in what differs.

// kmodControl disables a kernel module with modprobe configuration.
func kmodControl(id, module, cis, title, rationale string, nist ...string) Control {
	return Control{
		ID: id, Title: title, CIS: cis, NIST: nist, Rationale: rationale,
		Apply:   "kiln_modprobe_off " + module,
		Audit:   func(fsys Root, _ Params) Result { return auditModuleOff(fsys, module) },
		Runtime: kmodRuntime(module),
	}
}

var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"}

func auditModuleOff(fsys Root, module string) Result {
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	var install, blacklist string
	for _, d := range modprobeDirs {
		files, _ := fsys.Glob(d + "/*.conf")
		for _, f := range files {
			lines, err := fsys.Lines(f)
			if err != nil {
				continue
			}
			for _, l := range lines {
				w := strings.Fields(l)
				if len(w) < 2 || norm(w[1]) != norm(module) {
					continue
				}
				switch {
				case w[0] == "install" && len(w) >= 3 && isFalseCmd(w[2]) && install == "":
					install = l + " (" + f + ")"
				case w[0] == "blacklist" && blacklist == "":
					blacklist = l + " (" + f + ")"
				}
			}
		}
	}
	switch {
	case install == "" && blacklist == "":
		return fail("no modprobe configuration disables %s", module)
	case install == "":
		return fail("%s is blacklisted but can still be loaded explicitly: no 'install %s /bin/false' line", module, module)
	case blacklist == "":
		return fail("%s; but no 'blacklist %s' line", install, module)
	}
	return pass("%s; %s", install, blacklist)
}

func isFalseCmd(s string) bool {
	switch s {
	case "/bin/false", "/usr/bin/false", "/bin/true", "/usr/bin/true":
		return true
	}
	return false
}

// sysctlControl sets kernel parameters at boot.
func sysctlControl(id, cis, title, rationale string, nist []string, settings ...string) Control {
	var apply, want []string
	for _, s := range settings {
		k, v, _ := strings.Cut(s, "=")
		apply = append(apply, fmt.Sprintf("kiln_sysctl_set %s %s", k, v))
		want = append(want, fmt.Sprintf("kiln_proc_sysctl %s %s %s", shq(k), shq("/proc/sys/"+strings.ReplaceAll(k, ".", "/")), shq(v)))
	}
	return Control{
		ID: id, Title: title, CIS: cis, NIST: nist, Rationale: rationale,
		Apply:   strings.Join(apply, "\n"),
		Audit:   func(fsys Root, _ Params) Result { return auditSysctl(fsys, settings) },
		Runtime: "r=pass; ev=''\n" + strings.Join(want, "\n") + "\necho \"$r$ev\"",
	}
}

func auditSysctl(fsys Root, settings []string) Result {
	files := sysctlFiles(fsys)
	var seen []string
	ok := true
	for _, s := range settings {
		k, want, _ := strings.Cut(s, "=")
		v, src, found := sysctlValue(fsys, files, k)
		switch {
		case !found:
			ok = false
			seen = append(seen, fmt.Sprintf("%s not set (want %s)", k, want))
		case v != want:
			ok = false
			seen = append(seen, fmt.Sprintf("%s = %s in %s (want %s)", k, v, src, want))
		default:
			seen = append(seen, fmt.Sprintf("%s = %s (%s)", k, v, src))
		}
	}
	return verdict(ok, "%s", strings.Join(seen, "; "))
}

// sshCheck decides whether an effective sshd value is compliant.
type sshCheck func(v string, p Params) bool

// sshControl sets one sshd option. apply is the shell that sets it (usually
// kiln_sshd_set); key is sshd's lower-case keyword; def is OpenSSH's default
// when the configuration does not set it; rt is a shell condition on $v for
// the runtime check.
func sshControl(id, cis, title, rationale string, nist []string, apply, key, def string, ok sshCheck, rt string) Control {
	return Control{
		ID: id, Title: title, CIS: cis, NIST: nist, Rationale: rationale,
		Packages: []string{"openssh-server"},
		Apply:    apply,
		Audit: func(fsys Root, p Params) Result {
			c, err := readSSHD(fsys)
			if err != nil {
				return fail("%v", err)
			}
			v, src := c.get(key, def)
			return verdict(ok(v, p), "%s %s (%s)", key, v, src)
		},
		Runtime: fmt.Sprintf("v=$(kiln_sshd %s)\nif %s; then echo \"pass sshd -T: %s $v\"; else echo \"fail sshd -T: %s ${v:-unset}\"; fi", key, rt, key, key),
	}
}

func eq(want string) sshCheck {
	return func(v string, _ Params) bool { return strings.EqualFold(v, want) }
}

// packagesAbsentControl purges packages that must not be installed.
func packagesAbsentControl(id, cis, title, rationale string, nist []string, pkgs ...string) Control {
	return Control{
		ID: id, Title: title, CIS: cis, NIST: nist, Rationale: rationale,
		Apply: "kiln_purge " + strings.Join(pkgs, " "),
		Audit: func(fsys Root, _ Params) Result {
			var found []string
			for _, p := range pkgs {
				v, ok, err := fsys.PackageInstalled(p)
				if err != nil {
					return errored(err)
				}
				if ok {
					found = append(found, p+" "+v)
				}
			}
			if len(found) > 0 {
				return fail("installed: %s", strings.Join(found, ", "))
			}
			return pass("none installed of: %s", strings.Join(pkgs, ", "))
		},
	}
}

// packageInstalled checks that each package is installed.
func auditInstalled(fsys Root, pkgs ...string) Result {
	var seen []string
	for _, p := range pkgs {
		v, ok, err := fsys.PackageInstalled(p)
		if err != nil {
			return errored(err)
		}
		if !ok {
			return fail("package %s is not installed", p)
		}
		seen = append(seen, p+" "+v)
	}
	return pass("installed: %s", strings.Join(seen, ", "))
}

// permSpec is the most a file's permissions may allow and who may own it.
type permSpec struct {
	Path     string
	Max      fs.FileMode
	Groups   []string // allowed group names; empty = root only
	Optional bool     // absent is fine
}

// auditPerms checks files against their specs.
func auditPerms(fsys Root, specs []permSpec) Result {
	var seen []string
	ok := true
	for _, s := range specs {
		m, err := fsys.Mode(s.Path)
		if err != nil {
			if s.Optional {
				seen = append(seen, s.Path+" absent")
				continue
			}
			ok = false
			seen = append(seen, s.Path+" missing")
			continue
		}
		good := m.Perm&^s.Max == 0 && m.UID == 0 && groupAllowed(fsys, m.GID, s.Groups)
		if !good {
			ok = false
			seen = append(seen, fmt.Sprintf("%s %s (want at most %04o, owner root, group %s)", s.Path, m, uint32(s.Max), groupNames(s.Groups)))
			continue
		}
		seen = append(seen, fmt.Sprintf("%s %s", s.Path, m))
	}
	return verdict(ok, "%s", strings.Join(seen, "; "))
}

func groupAllowed(fsys Root, gid int, groups []string) bool {
	if gid == 0 {
		return true
	}
	for _, g := range groups {
		if id, ok := fsys.GroupID(g); ok && id == gid {
			return true
		}
	}
	return false
}

func groupNames(groups []string) string {
	return strings.Join(append([]string{"root"}, groups...), " or ")
}

// permApply renders shell that sets owner and mode on existing files.
func permApply(specs []permSpec) string {
	var b strings.Builder
	for _, s := range specs {
		grp := "0"
		if len(s.Groups) > 0 {
			grp = fmt.Sprintf("$(getent group %s >/dev/null && echo %s || echo 0)", s.Groups[0], s.Groups[0])
		}
		fmt.Fprintf(&b, "if [ -e %s ]; then chown 0:%s %s; chmod %s %s; fi\n", s.Path, grp, s.Path, modeMask(s.Max), s.Path)
	}
	return b.String()
}

// modeMask renders a chmod that removes every bit beyond max (keeping a
// file that is already stricter as it is).
func modeMask(max fs.FileMode) string {
	deny := ^max & 0o7777
	var parts []string
	for i, who := range []string{"u", "g", "o"} {
		shift := uint(6 - 3*i)
		bits := (deny >> shift) & 7
		if bits == 0 {
			continue
		}
		p := ""
		for j, c := range "rwx" {
			if bits&(4>>j) != 0 {
				p += string(c)
			}
		}
		parts = append(parts, who+"-"+p)
	}
	parts = append(parts, "a-st")
	return strings.Join(parts, ",")
}

// permControl keeps files to a maximum mode and root ownership.
func permControl(id, cis, title, rationale string, nist []string, specs ...permSpec) Control {
	return Control{
		ID: id, Title: title, CIS: cis, NIST: nist, Rationale: rationale,
		Apply: permApply(specs),
		Audit: func(fsys Root, _ Params) Result { return auditPerms(fsys, specs) },
	}
}

// auditRule is one audit rule; Watch names the path of a -w rule, which is
// only required when it exists in the image (besides the Always ones).
type auditRule struct {
	Text  string
	Watch string
	Any   bool // watch rules on paths that may not exist yet are still written
}

// auditRulesControl writes one rules.d file.
func auditRulesControl(a auditRuleSpec) Control {
	var b strings.Builder
	fmt.Fprintf(&b, "{\nprintf '%%s\\n' '# Written by kiln (hardening profile, control %s).'\n", a.ID)
	for _, r := range a.Rules {
		if r.Watch != "" && !r.Any {
			fmt.Fprintf(&b, "[ ! -e %s ] || printf '%%s\\n' %s\n", r.Watch, shq(r.Text))
		} else {
			fmt.Fprintf(&b, "printf '%%s\\n' %s\n", shq(r.Text))
		}
	}
	fmt.Fprintf(&b, "} | kiln_write /etc/audit/rules.d/%s 0640\n", a.File)
	rules := a.Rules
	return Control{
		ID: a.ID, Title: a.Title, CIS: a.CIS, NIST: a.NIST, Rationale: a.Rationale,
		Packages: []string{"auditd"},
		Apply:    b.String(),
		Audit:    func(fsys Root, _ Params) Result { return auditRulesPresent(fsys, rules) },
		Runtime:  auditRuntime(a.Key, rules),
	}
}

// kmodRuntime checks in the running system that the module is not loaded
// and that modprobe's configuration refuses to load it (from the caches
// the runtime prelude fills once).
func kmodRuntime(module string) string {
	under := strings.ReplaceAll(module, "-", "_")
	var prefixes []string
	for _, name := range slices.Compact([]string{module, under}) {
		for _, cmd := range []string{"/bin/false", "/usr/bin/false", "/bin/true", "/usr/bin/true"} {
			prefixes = append(prefixes, shq("install "+name+" "+cmd))
		}
	}
	return fmt.Sprintf(`case " $kiln_loaded_modules " in *" %[2]s "*) echo "fail %[1]s is loaded"; exit 0 ;; esac
if kiln_has_line "$kiln_modprobe_install" %[3]s; then echo "pass %[1]s not loaded; modprobe --showconfig: install %[1]s /bin/false"
else echo "fail modprobe --showconfig has no 'install %[1]s /bin/false'"; fi`, module, under, strings.Join(prefixes, " "))
}

func auditRuntime(key string, rules []auditRule) string {
	if key == "" {
		return `if auditctl -s 2>/dev/null | grep -q '^enabled 2'; then echo "pass audit configuration is immutable (enabled 2)"; else echo "fail $(auditctl -s 2>/dev/null | grep '^enabled' || echo 'auditctl -s failed')"; fi`
	}
	return fmt.Sprintf(`case "$kiln_audit_rules$kiln_nl" in
*"-k %[1]s$kiln_nl"*|*"-k %[1]s "*|*"key=%[1]s$kiln_nl"*|*"key=%[1]s "*) echo "pass audit rules with key %[1]s are loaded" ;;
*) echo "fail no loaded audit rule with key %[1]s" ;;
esac`, key)
}

func auditRulesPresent(fsys Root, rules []auditRule) Result {
	files, _ := fsys.Glob("/etc/audit/rules.d/*.rules")
	have := map[string]string{}
	for _, f := range files {
		lines, err := fsys.Lines(f)
		if err != nil {
			continue
		}
		for _, l := range lines {
			have[strings.Join(strings.Fields(l), " ")] = f
		}
	}
	var missing, found []string
	n := 0
	for _, r := range rules {
		if r.Watch != "" && !r.Any && !fsys.Exists(r.Watch) {
			continue
		}
		if f, ok := have[r.Text]; ok {
			found = appendOnce(found, f)
			n++
		} else {
			missing = append(missing, r.Text)
		}
	}
	if len(missing) > 0 {
		return fail("missing audit rules: %s", strings.Join(missing, " | "))
	}
	return pass("%d rules present in %s", n, strings.Join(found, ", "))
}

func fsMode(m uint32) fs.FileMode { return fs.FileMode(m) }
