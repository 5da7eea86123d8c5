package harden

import (
	"fmt"
	"strconv"
	"strings"
)

// accessControls: CIS sections 5.2 (sudo), 5.3 (PAM) and 5.4 (accounts).
func accessControls() []Control {
	return []Control{
		{
			ID: "sudo-installed", CIS: "5.2.1", NIST: []string{"AC-6", "AC-6(9)"},
			Title:     "Install sudo",
			Rationale: "sudo grants administrative rights per command and logs who used them, instead of a shared root password.",
			Packages:  []string{"sudo"},
			Apply:     ":",
			Audit:     func(fsys Root, _ Params) Result { return auditInstalled(fsys, "sudo") },
		},
		sudoDefault("sudo-use-pty", "5.2.2", "Run sudo commands in a pseudo-terminal",
			"With use_pty a command run through sudo cannot keep running in the background and inject keystrokes "+
				"into the user's terminal after sudo returns.", []string{"AC-6", "CM-6"}, "use_pty", "use_pty"),
		sudoDefault("sudo-logfile", "5.2.3", "Log sudo use to its own file",
			"A dedicated sudo log (/var/log/sudo.log) keeps a record of every privileged command, watched by auditd.",
			[]string{"AU-2", "AU-12", "AC-6(9)"}, "logfile", `logfile="/var/log/sudo.log"`),
		pamPwquality(),
		pwqualitySetting("pwquality-minlen", "5.3.3.2.2", "Require passwords of at least 14 characters",
			"Length is the strongest defence against guessing; CIS asks for at least 14 characters.",
			[]string{"IA-5(1)"}, "kiln_set_kv /etc/security/pwquality.conf minlen ' = ' \"$KILN_PARAM_PASS_MIN_LENGTH\"",
			func(get func(string) (string, bool), p Params) (bool, string) {
				v, _ := get("minlen")
				n, err := strconv.Atoi(v)
				return err == nil && n >= p.Int("passMinLength"), "minlen=" + orNone(v)
			}),
		pwqualitySetting("pwquality-complexity", "5.3.3.2.1, 5.3.3.2.3, 5.3.3.2.4, 5.3.3.2.5, 5.3.3.2.6",
			"Require complex passwords", "Passwords drawn from all four character classes, without long runs, "+
				"sequences or dictionary words, and differing from the old one, resist guessing.", []string{"IA-5(1)"},
			`for kv in difok=2 minclass=4 maxrepeat=3 maxsequence=3 dictcheck=1; do
	kiln_set_kv /etc/security/pwquality.conf "${kv%%=*}" ' = ' "${kv#*=}"
done`, complexityOK),
		pwqualitySetting("pwquality-enforce", "5.3.3.2.7, 5.3.3.2.8", "Enforce password quality, for root too",
			"Quality checks that only warn, or that root can bypass, do not stop weak passwords.",
			[]string{"IA-5(1)"}, `kiln_set_kv /etc/security/pwquality.conf enforcing ' = ' 1
kiln_line /etc/security/pwquality.conf enforce_for_root`,
			func(get func(string) (string, bool), _ Params) (bool, string) {
				e, set := get("enforcing")
				_, root := get("enforce_for_root")
				return (!set || e != "0") && root, fmt.Sprintf("enforcing=%s enforce_for_root=%t", orDefault(e, set, "1 (default)"), root)
			}),
		faillockEnabled(),
		faillockPolicy(),
		loginDefs("pass-max-days", "5.4.1.1", "Expire passwords after at most a year", "PASS_MAX_DAYS", "passMaxDays", 4, false,
			"Expiry bounds how long a stolen password stays useful. Existing accounts with a password get the limit too (chage)."),
		loginDefs("pass-min-days", "5.4.1.2", "Keep a password at least a day before changing it", "PASS_MIN_DAYS", "passMinDays", 3, true,
			"A minimum age stops users cycling through passwords to get back to an old one."),
		loginDefs("pass-warn-age", "5.4.1.3", "Warn users a week before their password expires", "PASS_WARN_AGE", "passWarnAge", 5, true,
			"Warning ahead of expiry lets users choose a good new password instead of a rushed one."),
		passHashing(),
		passInactive(),
		userUmask(),
		shellTimeout(),
	}
}

func orDefault(v string, set bool, def string) string {
	if !set {
		return def
	}
	return v
}

func sudoDefault(id, cis, title, rationale string, nist []string, name, setting string) Control {
	file := "/etc/sudoers.d/60-kiln-cis-" + strings.TrimPrefix(id, "sudo-")
	return Control{
		ID: id, CIS: cis, NIST: nist, Title: title, Rationale: rationale,
		Packages: []string{"sudo"},
		Apply: fmt.Sprintf(`printf '%%s\n' '# Written by kiln (hardening profile, control %s).' %s | kiln_write %s.kiln-check 0440
visudo -cqf %s.kiln-check
mv -f %s.kiln-check %s`, id, shq("Defaults "+setting), file, file, file, file),
		Audit: func(fsys Root, _ Params) Result {
			// sudo applies Defaults in order: the last setting of name wins.
			last, on := "", false
			for _, d := range sudoersDefaults(fsys) {
				src, s, _ := strings.Cut(d, ": ")
				k, _, _ := strings.Cut(s, "=")
				switch strings.TrimSpace(k) {
				case name:
					last, on = s+" ("+src+")", true
				case "!" + name:
					last, on = s+" ("+src+")", false
				}
			}
			switch {
			case last == "":
				return fail("no 'Defaults %s' in /etc/sudoers or its includes", name)
			case !on:
				return fail("Defaults %s", last)
			}
			return pass("Defaults %s", last)
		},
	}
}

func pamPwquality() Control {
	return Control{
		ID: "pam-pwquality", CIS: "5.3.1.3, 5.3.2.3", NIST: []string{"IA-5(1)"},
		Title: "Check new passwords with pam_pwquality",
		Rationale: "pam_pwquality rejects weak passwords when they are set, enforcing the length and " +
			"complexity rules of /etc/security/pwquality.conf.",
		Packages: []string{"libpam-pwquality"},
		Apply:    "pam-auth-update --enable pwquality",
		Audit: func(fsys Root, _ Params) Result {
			if r := auditInstalled(fsys, "libpam-pwquality"); r.Status != StatusPass {
				return r
			}
			return auditPAMModule(fsys, "/etc/pam.d/common-password", "password", "pam_pwquality.so", nil)
		},
	}
}

func auditPAMModule(fsys Root, file, typ, module string, args []string) Result {
	lines, err := readPAM(fsys, file)
	if err != nil {
		return fail("%v", err)
	}
	for _, l := range pamFind(lines, typ, module) {
		ok := true
		for _, a := range args {
			ok = ok && hasArg(l, a)
		}
		if ok {
			return pass("%s: %s", file, l)
		}
	}
	return fail("%s has no '%s %s %s' rule", file, typ, module, strings.Join(args, " "))
}

// pwqualityValues returns a getter for the effective pwquality settings:
// pwquality.conf, then pwquality.conf.d, then arguments of the PAM rule.
func pwqualityValues(fsys Root) func(string) (string, bool) {
	vals := map[string]string{}
	files, _ := fsys.Glob("/etc/security/pwquality.conf.d/*.conf")
	for _, f := range append([]string{"/etc/security/pwquality.conf"}, files...) {
		kvs, err := fsys.KeyValues(f)
		if err != nil {
			continue
		}
		for _, kv := range kvs {
			vals[kv.Key] = kv.Value
		}
	}
	if lines, err := readPAM(fsys, "/etc/pam.d/common-password"); err == nil {
		for _, l := range pamFind(lines, "password", "pam_pwquality.so") {
			for _, a := range l.Args {
				k, v, _ := strings.Cut(a, "=")
				vals[k] = v
			}
		}
	}
	return func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
}

func pwqualitySetting(id, cis, title, rationale string, nist []string, apply string, check func(func(string) (string, bool), Params) (bool, string)) Control {
	return Control{
		ID: id, CIS: cis, NIST: nist, Title: title, Rationale: rationale,
		Packages: []string{"libpam-pwquality"},
		Apply:    apply,
		Audit: func(fsys Root, p Params) Result {
			ok, ev := check(pwqualityValues(fsys), p)
			return verdict(ok, "%s (pwquality.conf, pwquality.conf.d, pam_pwquality arguments)", ev)
		},
	}
}

func complexityOK(get func(string) (string, bool), _ Params) (bool, string) {
	num := func(k string) (int, bool) {
		v, ok := get(k)
		n, err := strconv.Atoi(v)
		return n, ok && err == nil
	}
	var ev []string
	ok := true
	minclass, mcOK := num("minclass")
	credits := true
	for _, k := range []string{"dcredit", "ucredit", "lcredit", "ocredit"} {
		n, set := num(k)
		credits = credits && set && n < 0
	}
	if !(mcOK && minclass >= 4) && !credits {
		ok = false
	}
	ev = append(ev, fmt.Sprintf("minclass=%d", minclass))
	for _, c := range []struct {
		key  string
		good func(n int) bool
		def  int
	}{
		{"difok", func(n int) bool { return n >= 2 }, 1},
		{"maxrepeat", func(n int) bool { return n > 0 && n <= 3 }, 0},
		{"maxsequence", func(n int) bool { return n > 0 && n <= 3 }, 0},
		{"dictcheck", func(n int) bool { return n != 0 }, 1},
	} {
		n, set := num(c.key)
		if !set {
			n = c.def
		}
		ok = ok && c.good(n)
		ev = append(ev, fmt.Sprintf("%s=%d", c.key, n))
	}
	return ok, strings.Join(ev, " ")
}

// pam-auth-update profiles for pam_faillock, as CIS 5.3.2.2 describes:
// preauth before pam_unix, authfail after it, and the account check.
const faillockProfile = `Name: Lock accounts after repeated failed logins (kiln hardening)
Default: yes
Priority: 0
Auth-Type: Primary
Auth:
	[default=die]	pam_faillock.so authfail
`

const faillockNotifyProfile = `Name: Check and reset the failed-login counter (kiln hardening)
Default: yes
Priority: 1024
Auth-Type: Primary
Auth:
	requisite	pam_faillock.so preauth
Account-Type: Primary
Account:
	required	pam_faillock.so
`

func faillockEnabled() Control {
	return Control{
		ID: "pam-faillock-enabled", CIS: "5.3.2.2", NIST: []string{"AC-7"},
		Title:     "Lock accounts after failed logins with pam_faillock",
		Rationale: "Locking an account after a few failed attempts stops online password guessing.",
		Apply: "cat <<'KILN_EOF' | kiln_write /usr/share/pam-configs/kiln-faillock 0644\n" + faillockProfile + "KILN_EOF\n" +
			"cat <<'KILN_EOF' | kiln_write /usr/share/pam-configs/kiln-faillock-notify 0644\n" + faillockNotifyProfile + "KILN_EOF\n" +
			"pam-auth-update --enable kiln-faillock kiln-faillock-notify",
		Audit: func(fsys Root, _ Params) Result {
			var ev []string
			for _, c := range []struct{ file, typ, arg string }{
				{"/etc/pam.d/common-auth", "auth", "preauth"},
				{"/etc/pam.d/common-auth", "auth", "authfail"},
				{"/etc/pam.d/common-account", "account", ""},
			} {
				var args []string
				if c.arg != "" {
					args = []string{c.arg}
				}
				r := auditPAMModule(fsys, c.file, c.typ, "pam_faillock.so", args)
				if r.Status != StatusPass {
					return r
				}
				ev = append(ev, r.Evidence)
			}
			return pass("%s", strings.Join(ev, "; "))
		},
	}
}

func faillockPolicy() Control {
	return Control{
		ID: "pam-faillock-policy", CIS: "5.3.3.1.1, 5.3.3.1.2, 5.3.3.1.3", NIST: []string{"AC-7"},
		Title: "Lock after 5 failures for 15 minutes, root included",
		Rationale: "A low attempt limit with a long enough lock makes guessing impractical; applying it to " +
			"root too (with a shorter unlock) closes the most valuable target.",
		Apply: `kiln_set_kv /etc/security/faillock.conf deny ' = ' "$KILN_PARAM_FAILLOCK_DENY"
kiln_set_kv /etc/security/faillock.conf unlock_time ' = ' "$KILN_PARAM_FAILLOCK_UNLOCK_TIME"
kiln_line /etc/security/faillock.conf even_deny_root
kiln_set_kv /etc/security/faillock.conf root_unlock_time ' = ' 60`,
		Audit: auditFaillock,
	}
}

func auditFaillock(fsys Root, p Params) Result {
	vals := map[string]string{}
	if kvs, err := fsys.KeyValues("/etc/security/faillock.conf"); err == nil {
		for _, kv := range kvs {
			vals[kv.Key] = kv.Value
		}
	}
	if lines, err := readPAM(fsys, "/etc/pam.d/common-auth"); err == nil {
		for _, l := range pamFind(lines, "auth", "pam_faillock.so") {
			for _, a := range l.Args {
				k, v, _ := strings.Cut(a, "=")
				vals[k] = v
			}
		}
	}
	deny, err1 := strconv.Atoi(orDefault(vals["deny"], vals["deny"] != "", "3"))
	unlock, err2 := strconv.Atoi(orDefault(vals["unlock_time"], vals["unlock_time"] != "", "600"))
	_, evenRoot := vals["even_deny_root"]
	rootUnlock, _ := strconv.Atoi(vals["root_unlock_time"])
	ok := err1 == nil && err2 == nil && deny >= 1 && deny <= p.Int("faillockDeny") &&
		(unlock == 0 || unlock >= 900) && (evenRoot || rootUnlock >= 60)
	return verdict(ok, "deny=%d unlock_time=%d even_deny_root=%t root_unlock_time=%s (faillock.conf, pam_faillock arguments)",
		deny, unlock, evenRoot, orNone(vals["root_unlock_time"]))
}

// loginDefs sets a numeric login.defs value and the matching shadow field
// of existing accounts that have a password.
func loginDefs(id, cis, title, key, param string, shadowField int, atLeast bool, rationale string) Control {
	chageFlag := map[int]string{3: "--mindays", 4: "--maxdays", 5: "--warndays"}[shadowField]
	return Control{
		ID: id, CIS: cis, NIST: []string{"IA-5(1)"}, Title: title, Rationale: rationale,
		Apply: fmt.Sprintf(`kiln_set_kv /etc/login.defs %s '		' "$%s"
awk -F: '$2 ~ /^\$/ { print $1 }' /etc/shadow | while read -r u; do chage %s "$%s" "$u"; done`, key, EnvName(param), chageFlag, EnvName(param)),
		Audit: func(fsys Root, p Params) Result {
			want := p.Int(param)
			good := func(n int) bool {
				if atLeast {
					return n >= want
				}
				return n > 0 && n <= want
			}
			kvs, err := fsys.KeyValues("/etc/login.defs")
			if err != nil {
				return fail("%v", err)
			}
			v, _ := lastValue(kvs, "", key)
			n, err := strconv.Atoi(v)
			if err != nil || !good(n) {
				return fail("/etc/login.defs %s %s (want %s %d)", key, orNone(v), map[bool]string{true: "at least", false: "at most"}[atLeast], want)
			}
			bad := shadowViolations(fsys, shadowField, good)
			if len(bad) > 0 {
				return fail("/etc/login.defs %s %d; accounts with a password outside the limit: %s", key, n, strings.Join(bad, ", "))
			}
			return pass("/etc/login.defs %s %d; accounts with a password comply", key, n)
		},
	}
}

// shadowViolations lists accounts with a password hash whose shadow field
// (3 min, 4 max, 5 warn) fails good.
func shadowViolations(fsys Root, field int, good func(int) bool) []string {
	lines, err := fsys.Lines("/etc/shadow")
	if err != nil {
		return nil
	}
	var bad []string
	for _, l := range lines {
		f := strings.Split(l, ":")
		if len(f) <= field || !strings.HasPrefix(f[1], "$") {
			continue
		}
		n, err := strconv.Atoi(f[field])
		if err != nil || !good(n) {
			bad = append(bad, f[0]+"="+orNone(f[field]))
		}
	}
	return bad
}

func passHashing() Control {
	return Control{
		ID: "pass-hashing", CIS: "5.4.1.4", NIST: []string{"IA-5(1)"},
		Title:     "Hash passwords with yescrypt",
		Rationale: "A slow, salted hash (yescrypt, or SHA-512 crypt) makes stolen password hashes expensive to crack.",
		Apply:     `kiln_set_kv /etc/login.defs ENCRYPT_METHOD ' ' YESCRYPT`,
		Audit: func(fsys Root, _ Params) Result {
			kvs, err := fsys.KeyValues("/etc/login.defs")
			if err != nil {
				return fail("%v", err)
			}
			m, _ := lastValue(kvs, "", "ENCRYPT_METHOD")
			if m != "YESCRYPT" && m != "SHA512" {
				return fail("/etc/login.defs ENCRYPT_METHOD %s (want YESCRYPT or SHA512)", orNone(m))
			}
			lines, err := readPAM(fsys, "/etc/pam.d/common-password")
			if err != nil {
				return fail("%v", err)
			}
			for _, l := range pamFind(lines, "password", "pam_unix.so") {
				if !hasArg(l, "yescrypt") && !hasArg(l, "sha512") {
					return fail("ENCRYPT_METHOD %s, but pam_unix hashes otherwise: %s", m, l)
				}
				return pass("ENCRYPT_METHOD %s; %s", m, l)
			}
			return fail("ENCRYPT_METHOD %s; no pam_unix password rule in common-password", m)
		},
	}
}

func passInactive() Control {
	return Control{
		ID: "pass-inactive", CIS: "5.4.1.5", NIST: []string{"AC-2(3)", "IA-4"},
		Title:     "Lock accounts 45 days after their password expires",
		Rationale: "Accounts whose owner no longer uses them get locked instead of staying open to whoever learns the password.",
		Apply: `kiln_set_kv /etc/default/useradd INACTIVE = "$KILN_PARAM_PASS_INACTIVE_DAYS"
awk -F: '$2 ~ /^\$/ { print $1 }' /etc/shadow | while read -r u; do chage --inactive "$KILN_PARAM_PASS_INACTIVE_DAYS" "$u"; done`,
		Audit: func(fsys Root, p Params) Result {
			kvs, err := fsys.KeyValues("/etc/default/useradd")
			if err != nil {
				return fail("%v", err)
			}
			v, _ := lastValue(kvs, "", "INACTIVE")
			n, err := strconv.Atoi(v)
			good := func(n int) bool { return n >= 0 && n <= p.Int("passInactiveDays") }
			if err != nil || !good(n) {
				return fail("/etc/default/useradd INACTIVE=%s (want 0..%d)", orNone(v), p.Int("passInactiveDays"))
			}
			if bad := shadowViolations(fsys, 6, good); len(bad) > 0 {
				return fail("INACTIVE=%d; accounts with a password outside the limit: %s", n, strings.Join(bad, ", "))
			}
			return pass("/etc/default/useradd INACTIVE=%d", n)
		},
	}
}

func userUmask() Control {
	return Control{
		ID: "umask-default", CIS: "5.4.3.3", NIST: []string{"AC-3", "AC-6", "CM-6"},
		Title: "Set the default umask to 027",
		Rationale: "With umask 027 new files are not readable by other users unless made so deliberately, " +
			"so data does not leak through careless defaults.",
		Apply: `kiln_set_kv /etc/login.defs UMASK '		' "$KILN_PARAM_UMASK"
printf '%s\n' '# Written by kiln (hardening profile): default umask for login shells.' "umask $KILN_PARAM_UMASK" | kiln_write /etc/profile.d/60-kiln-umask.sh 0644`,
		Audit: auditUmask,
	}
}

func umaskStrict(v string) bool {
	m, err := strconv.ParseUint(v, 8, 32)
	return err == nil && m&0o027 == 0o027
}

func auditUmask(fsys Root, _ Params) Result {
	kvs, err := fsys.KeyValues("/etc/login.defs")
	if err != nil {
		return fail("%v", err)
	}
	ld, _ := lastValue(kvs, "", "UMASK")
	if !umaskStrict(ld) {
		return fail("/etc/login.defs UMASK %s (want 027 or stricter)", orNone(ld))
	}
	files, _ := fsys.Glob("/etc/profile.d/*.sh")
	files = append([]string{"/etc/profile", "/etc/bash.bashrc"}, files...)
	var set []string
	for _, f := range files {
		lines, _ := fsys.Lines(f)
		for _, l := range lines {
			w := strings.Fields(l)
			if len(w) == 2 && w[0] == "umask" {
				if !umaskStrict(w[1]) {
					return fail("%s sets umask %s (weaker than 027)", f, w[1])
				}
				set = append(set, f+": umask "+w[1])
			}
		}
	}
	if len(set) == 0 {
		return fail("/etc/login.defs UMASK %s, but no shell startup file sets a umask", ld)
	}
	return pass("/etc/login.defs UMASK %s; %s", ld, strings.Join(set, "; "))
}

func shellTimeout() Control {
	return Control{
		ID: "shell-timeout", CIS: "5.4.3.2", NIST: []string{"AC-12", "AC-11"},
		Title:     "End idle interactive shells after 15 minutes",
		Rationale: "An unattended logged-in shell is open to anyone who reaches the terminal; TMOUT logs it out.",
		Apply: `cat <<'KILN_EOF' | kiln_write /etc/profile.d/60-kiln-tmout.sh 0644
# Written by kiln (hardening profile): idle interactive shells end.
KILN_EOF
printf '[ "${TMOUT:-}" = %s ] || { TMOUT=%s; readonly TMOUT; export TMOUT; }\n' "$KILN_PARAM_SHELL_TIMEOUT" "$KILN_PARAM_SHELL_TIMEOUT" >> /etc/profile.d/60-kiln-tmout.sh`,
		Audit: func(fsys Root, p Params) Result {
			files, _ := fsys.Glob("/etc/profile.d/*.sh")
			for _, f := range append([]string{"/etc/profile", "/etc/bash.bashrc"}, files...) {
				data, err := fsys.ReadFile(f)
				if err != nil {
					continue
				}
				m := tmoutRE.FindStringSubmatch(string(data))
				if m == nil {
					continue
				}
				n, _ := strconv.Atoi(m[1])
				s := string(data)
				ok := n > 0 && n <= p.Int("shellTimeout") && strings.Contains(s, "readonly TMOUT") && strings.Contains(s, "export TMOUT")
				return verdict(ok, "%s: TMOUT=%d, readonly=%t, exported=%t", f, n, strings.Contains(s, "readonly TMOUT"), strings.Contains(s, "export TMOUT"))
			}
			return fail("no shell startup file sets TMOUT")
		},
	}
}
