package harden

import (
	"regexp"
	"strings"
	"testing"
)

// sshFirst makes a drop-in that sshd reads before kiln's, so its value wins.
func sshFirst(line string) func(*tree) {
	return func(tr *tree) { tr.write("/etc/ssh/sshd_config.d/00-aaa-test.conf", line+"\n", 0o600) }
}

// laterSysctl overrides a kernel parameter in a file read after kiln's.
func laterSysctl(key, value string) func(*tree) {
	return func(tr *tree) { tr.write("/etc/sysctl.d/99-zz-test.conf", key+" = "+value+"\n", 0o644) }
}

func installed(pkg string) func(*tree) {
	return func(tr *tree) { tr.packages(append(fixturePackages, pkg)...) }
}

func uninstalled(pkg string) func(*tree) {
	return func(tr *tree) {
		var keep []string
		for _, p := range fixturePackages {
			if p != pkg {
				keep = append(keep, p)
			}
		}
		tr.packages(keep...)
	}
}

func removed(p string) func(*tree) { return func(tr *tree) { tr.remove(p) } }

func replaced(p, old, new string) func(*tree) {
	return func(tr *tree) { tr.replace(p, old, new) }
}

func chmodded(p string, mode uint32) func(*tree) {
	return func(tr *tree) { tr.chmod(p, fsMode(mode)) }
}

// breakers holds, for every control, a change to the compliant tree after
// which that control must fail. Controls built by the kmod, sysctl and audit
// rule builders get theirs generated in controlBreaker.
var breakers = map[string]func(*tree){
	"tmp-separate":        removed("/etc/systemd/system/local-fs.target.wants/tmp.mount"),
	"tmp-options":         replaced("/etc/systemd/system/tmp.mount", "nosuid,nodev,noexec,", "nosuid,nodev,"),
	"devshm-options":      replaced("/etc/systemd/system/kiln-dev-shm-options.service", "remount,nodev,nosuid,noexec", "remount,nodev"),
	"unattended-upgrades": replaced("/etc/apt/sources.list", "deb http://deb.debian.org/debian-security", "# deb http://deb.debian.org/debian-security"),
	"apparmor-installed":  uninstalled("apparmor"),
	"apparmor-bootloader": replaced("/etc/kiln/kernel-cmdline.d/apparmor.conf", "security=apparmor", "security=selinux"),
	"apparmor-profiles": func(tr *tree) {
		tr.symlink("/etc/apparmor.d/usr.bin.test", "/etc/apparmor.d/disable/usr.bin.test")
	},
	"boot-config-perms": chmodded("/boot/grub/grub.cfg", 0o644),
	"core-dumps":        replaced("/etc/security/limits.d/60-kiln-cis.conf", "core 0", "core unlimited"),
	"no-prelink":        installed("prelink"),
	"banner-motd":       func(tr *tree) { tr.chmod("/etc/update-motd.d/10-uname", 0o755) },
	"banner-issue":      func(tr *tree) { tr.write("/etc/issue", "Debian GNU/Linux 12 \\n \\l\n", 0o644) },
	"banner-issue-net":  func(tr *tree) { tr.write("/etc/issue.net", "Welcome to \\s \\r\n", 0o644) },
	"banner-perms":      chmodded("/etc/issue.net", 0o664),
	"no-nis-server":     installed("ypserv"),
	"no-legacy-servers": installed("telnetd"),
	"no-nis-client":     installed("nis"),
	"no-rsh-client":     installed("rsh-client"),
	"no-talk-client":    installed("talk"),
	"no-telnet-client":  installed("inetutils-telnet"),
	"cron-enabled":      removed("/etc/systemd/system/multi-user.target.wants/cron.service"),
	"cron-perms":        chmodded("/etc/cron.d", 0o755),
	"cron-restricted":   func(tr *tree) { tr.write("/etc/cron.deny", "", 0o640) },
	"at-restricted":     func(tr *tree) { tr.write("/etc/at.allow", "root\nmallory\n", 0o640) },
	"fw-single":         installed("ufw"),
	"fw-nftables-service": func(tr *tree) {
		tr.symlink("/dev/null", "/etc/systemd/system/nftables.service")
	},
	"fw-nftables-ruleset":        replaced("/etc/nftables.conf", "type filter hook input priority filter; policy drop;", "type filter hook input priority filter; policy accept;"),
	"ssh-config-perms":           chmodded("/etc/ssh/sshd_config", 0o644),
	"ssh-hostkey-perms":          chmodded("/etc/ssh/ssh_host_ed25519_key", 0o640),
	"ssh-hostkey-pub-perms":      chmodded("/etc/ssh/ssh_host_ed25519_key.pub", 0o666),
	"ssh-access":                 replaced("/etc/ssh/sshd_config.d/00-kiln-cis.conf", "AllowGroups sudo\n", ""),
	"ssh-banner":                 sshFirst("Banner none"),
	"ssh-ciphers":                sshFirst("Ciphers aes256-ctr,aes128-cbc"),
	"ssh-idle-timeout":           sshFirst("ClientAliveInterval 0"),
	"ssh-disable-forwarding":     sshFirst("DisableForwarding no"),
	"ssh-gssapi":                 sshFirst("GSSAPIAuthentication yes"),
	"ssh-hostbased":              sshFirst("HostbasedAuthentication yes"),
	"ssh-ignore-rhosts":          sshFirst("IgnoreRhosts no"),
	"ssh-kex":                    sshFirst("KexAlgorithms +diffie-hellman-group1-sha1"),
	"ssh-login-grace":            sshFirst("LoginGraceTime 2m"),
	"ssh-loglevel":               sshFirst("LogLevel QUIET"),
	"ssh-macs":                   sshFirst("MACs hmac-sha2-256,hmac-sha1"),
	"ssh-max-auth-tries":         sshFirst("MaxAuthTries 6"),
	"ssh-max-sessions":           sshFirst("MaxSessions 64"),
	"ssh-max-startups":           sshFirst("MaxStartups 10:30:100"),
	"ssh-permit-empty-passwords": sshFirst("PermitEmptyPasswords yes"),
	"ssh-permit-root-login":      sshFirst("PermitRootLogin yes"),
	"ssh-permit-user-env":        sshFirst("PermitUserEnvironment yes"),
	"ssh-use-pam":                sshFirst("UsePAM no"),
	"ssh-key-only":               sshFirst("PasswordAuthentication yes"),
	"sudo-installed":             uninstalled("sudo"),
	"sudo-use-pty":               func(tr *tree) { tr.write("/etc/sudoers.d/zz-test", "Defaults !use_pty\n", 0o440) },
	"sudo-logfile":               removed("/etc/sudoers.d/60-kiln-cis-logfile"),
	"pam-pwquality":              replaced("/etc/pam.d/common-password", "pam_pwquality.so retry=3", "pam_cracklib.so retry=3"),
	"pwquality-minlen":           func(tr *tree) { tr.write("/etc/security/pwquality.conf.d/50-test.conf", "minlen = 8\n", 0o644) },
	"pwquality-complexity":       replaced("/etc/security/pwquality.conf", "minclass = 4", "minclass = 2"),
	"pwquality-enforce":          replaced("/etc/security/pwquality.conf", "enforce_for_root\n", ""),
	"pam-faillock-enabled":       replaced("/etc/pam.d/common-auth", "auth\trequisite\tpam_faillock.so preauth\n", ""),
	"pam-faillock-policy":        replaced("/etc/pam.d/common-auth", "pam_faillock.so authfail", "pam_faillock.so authfail deny=10"),
	"pass-max-days":              replaced("/etc/shadow", ":1:365:7:45::", ":1:99999:7:45::"),
	"pass-min-days":              replaced("/etc/login.defs", "PASS_MIN_DAYS\t1", "PASS_MIN_DAYS\t0"),
	"pass-warn-age":              replaced("/etc/login.defs", "PASS_WARN_AGE\t7", "PASS_WARN_AGE\t3"),
	"pass-hashing":               replaced("/etc/pam.d/common-password", " yescrypt", " md5"),
	"pass-inactive":              replaced("/etc/default/useradd", "INACTIVE=45", "INACTIVE=-1"),
	"umask-default":              func(tr *tree) { tr.write("/etc/profile.d/zz-test.sh", "umask 022\n", 0o644) },
	"shell-timeout":              replaced("/etc/profile.d/60-kiln-tmout.sh", "readonly TMOUT; ", ""),
	"journald-persistent": func(tr *tree) {
		tr.write("/etc/systemd/journald.conf.d/90-test.conf", "[Journal]\nStorage=volatile\n", 0o644)
	},
	"journald-compress":  replaced("/etc/systemd/journald.conf.d/60-kiln-cis.conf", "Compress=yes", "Compress=no"),
	"auditd-installed":   uninstalled("audispd-plugins"),
	"auditd-enabled":     removed("/etc/systemd/system/multi-user.target.wants/auditd.service"),
	"auditd-boot-params": replaced("/etc/kiln/kernel-cmdline.d/audit.conf", "audit_backlog_limit=8192", "audit_backlog_limit=64"),
	"perm-passwd":        chmodded("/etc/passwd-", 0o666),
	"perm-group":         chmodded("/etc/group", 0o664),
	"perm-shadow":        chmodded("/etc/shadow", 0o644),
	"perm-gshadow":       chmodded("/etc/gshadow-", 0o644),
	"perm-shells":        chmodded("/etc/shells", 0o646),
}

// controlBreaker returns the change that makes control c fail.
func controlBreaker(t *testing.T, c Control) func(*tree) {
	if b, ok := breakers[c.ID]; ok {
		return b
	}
	if m, ok := strings.CutPrefix(c.Apply, "kiln_modprobe_off "); ok {
		return replaced("/etc/modprobe.d/kiln-cis.conf", "install "+m+" /bin/false\n", "")
	}
	if f := strings.Fields(strings.SplitN(c.Apply, "\n", 2)[0]); len(f) == 3 && f[0] == "kiln_sysctl_set" {
		return laterSysctl(f[1], "7")
	}
	for _, a := range auditRuleSpecs() {
		if a.ID == c.ID {
			return func(tr *tree) {
				tr.write("/etc/audit/rules.d/"+a.File, "# emptied\n", 0o640)
			}
		}
	}
	t.Fatalf("control %s has no breaker in the test table", c.ID)
	return nil
}

func TestControlsPassOnCompliantTree(t *testing.T) {
	plan := mustResolve(t, Tailoring{Profile: "cis-debian-l1"})
	rep := plan.auditWith(compliantTree(t).root())
	for _, r := range rep.Results {
		t.Run(r.ControlID, func(t *testing.T) {
			if r.Status != StatusPass {
				t.Errorf("%s: %s: %s", r.ControlID, r.Status, r.Evidence)
			}
			if strings.TrimSpace(r.Evidence) == "" {
				t.Errorf("%s passes without evidence", r.ControlID)
			}
		})
	}
	if !rep.Passed || rep.Score != 100 {
		t.Errorf("report: passed=%v score=%v failing=%v", rep.Passed, rep.Score, rep.Failing)
	}
}

func TestControlsFailOnBrokenTree(t *testing.T) {
	plan := mustResolve(t, Tailoring{Profile: "cis-debian-l1"})
	params := plan.Params()
	for _, c := range plan.Controls() {
		t.Run(c.ID, func(t *testing.T) {
			tr := compliantTree(t)
			controlBreaker(t, c)(tr)
			r := c.Audit(tr.root(), params)
			if r.Status != StatusFail {
				t.Fatalf("after breaking %s: status %s, evidence %q (want fail)", c.ID, r.Status, r.Evidence)
			}
			if strings.TrimSpace(r.Evidence) == "" {
				t.Errorf("%s fails without evidence", c.ID)
			}
		})
	}
}

func TestControlsFailOnEmptyTree(t *testing.T) {
	plan := mustResolve(t, Tailoring{Profile: "cis-debian-l1"})
	rep := plan.auditWith(newTree(t).root())
	for _, r := range rep.Results {
		if r.Status == StatusPass && !emptyTreePasses[r.ControlID] {
			t.Errorf("%s passes on an empty tree: %s", r.ControlID, r.Evidence)
		}
	}
}

// Controls satisfied by the absence of something.
var emptyTreePasses = map[string]bool{
	"ssh-hostkey-perms": true, "ssh-hostkey-pub-perms": true,
}

func TestProfileMetadata(t *testing.T) {
	p, err := Lookup("cis-debian-l1")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Controls) < 40 {
		t.Fatalf("%d controls, want at least 40", len(p.Controls))
	}
	seen := map[string]bool{}
	for _, c := range p.Controls {
		switch {
		case seen[c.ID]:
			t.Errorf("duplicate control ID %s", c.ID)
		case c.Title == "" || c.Rationale == "" || c.CIS == "" || len(c.NIST) == 0:
			t.Errorf("%s: missing title, rationale, CIS section or NIST mapping", c.ID)
		case strings.TrimSpace(c.Apply) == "" || c.Audit == nil:
			t.Errorf("%s: missing apply action or audit check", c.ID)
		}
		seen[c.ID] = true
		for _, n := range c.NIST {
			if !nistRE.MatchString(n) {
				t.Errorf("%s: %q is not a NIST SP 800-53 control identifier", c.ID, n)
			}
		}
		if !cisRE.MatchString(c.CIS) {
			t.Errorf("%s: %q is not a CIS section list", c.ID, c.CIS)
		}
	}
	for _, s := range p.Params {
		if _, err := convertParam(s, s.Default); err != nil {
			t.Errorf("parameter %s: default does not validate: %v", s.Name, err)
		}
	}
}

var (
	nistRE = mustRE(`^[A-Z]{2}-[0-9]{1,2}(\([0-9]{1,2}\))?$`)
	cisRE  = mustRE(`^[1-7](\.[0-9]{1,2})*(, [1-7](\.[0-9]{1,2})*)*$`)
)

func mustResolve(t testing.TB, tl Tailoring) *Plan {
	t.Helper()
	p, err := Resolve(tl)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRE(s string) *regexp.Regexp { return regexp.MustCompile(s) }
