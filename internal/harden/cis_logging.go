package harden

import (
	"regexp"
	"strconv"
	"strings"
)

var tmoutRE = regexp.MustCompile(`\bTMOUT=([0-9]+)`)

// loggingControls: CIS section 6, journald and auditd. The auditd items are
// Level 2 in CIS; the issue asks for them in this profile.
func loggingControls() []Control {
	out := []Control{
		journald("journald-persistent", "6.1.2.4", "Keep the journal on disk", "Storage", "persistent",
			"A journal kept only in memory is lost at every reboot, together with the evidence of what happened before it.",
			[]string{"AU-4", "AU-9", "AU-11", "AU-12"}),
		journald("journald-compress", "6.1.2.3", "Compress large journal entries", "Compress", "yes",
			"Compression keeps large journals from filling the disk, which would stop logging.",
			[]string{"AU-4"}),
		{
			ID: "auditd-installed", CIS: "6.2.1.1", NIST: []string{"AU-2", "AU-12"},
			Title:     "Install auditd",
			Rationale: "The kernel audit system records security-relevant events (logins, privilege use, changes to identity and policy files) that ordinary logs miss.",
			Packages:  []string{"auditd", "audispd-plugins"},
			Apply:     ":",
			Audit:     func(fsys Root, _ Params) Result { return auditInstalled(fsys, "auditd", "audispd-plugins") },
		},
		{
			ID: "auditd-enabled", CIS: "6.2.1.2", NIST: []string{"AU-2", "AU-12"},
			Title:     "Start auditd at boot",
			Rationale: "Audit rules are loaded and events written only while auditd runs.",
			Packages:  []string{"auditd"},
			Apply:     "kiln_enable auditd.service",
			Audit: func(fsys Root, _ Params) Result {
				ok, ev := fsys.UnitEnabled("auditd.service")
				return verdict(ok, "%s", ev)
			},
			Runtime: "kiln_active auditd.service",
		},
		{
			ID: "auditd-boot-params", CIS: "6.2.1.3, 6.2.1.4", NIST: []string{"AU-2", "AU-4", "AU-12"},
			Title: "Audit from boot with a sufficient backlog",
			Rationale: "audit=1 makes the kernel audit processes that start before auditd, and a backlog of " +
				"8192 keeps events from being lost while auditd starts. The arguments go to " +
				"/etc/kiln/kernel-cmdline.d/audit.conf for kiln's disk assembler.",
			Packages: []string{"auditd"},
			Apply:    `kiln_cmdline audit "audit=1 audit_backlog_limit=8192"`,
			Audit: func(fsys Root, _ Params) Result {
				return auditKernelArgs(fsys, map[string]func(string) bool{
					"audit":               func(v string) bool { return v == "1" },
					"audit_backlog_limit": func(v string) bool { n, err := strconv.Atoi(v); return err == nil && n >= 8192 },
				})
			},
			Runtime: `c=$(cat /proc/cmdline); b=$(printf '%s\n' $c | sed -n 's/^audit_backlog_limit=//p')
case " $c " in *" audit=1 "*) [ "${b:-0}" -ge 8192 ] && { echo "pass /proc/cmdline: audit=1 audit_backlog_limit=$b"; exit 0; } ;; esac
echo "fail /proc/cmdline lacks audit=1 audit_backlog_limit>=8192: $c"`,
		},
	}
	for _, a := range auditRuleSpecs() {
		out = append(out, auditRulesControl(a))
	}
	return out
}

func slicesConcat(ls ...[]auditRule) []auditRule {
	var out []auditRule
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}

func journald(id, cis, title, key, value, rationale string, nist []string) Control {
	file := "/etc/systemd/journald.conf.d/60-kiln-cis.conf"
	return Control{
		ID: id, CIS: cis, NIST: nist, Title: title, Rationale: rationale,
		Apply: journaldApply(file, key, value),
		Audit: func(fsys Root, _ Params) Result {
			v, src, ok := systemdConf(fsys, "systemd/journald.conf", "Journal", key)
			if !ok {
				return fail("journald %s not set (want %s)", key, value)
			}
			return verdict(strings.EqualFold(v, value), "journald %s=%s (%s)", key, v, src)
		},
		Runtime: journaldRuntime(key, value),
	}
}

func journaldApply(file, key, value string) string {
	apply := "[ -e " + file + " ] || printf '%s\\n' '# Written by kiln (hardening profile).' '[Journal]' | kiln_write " + file + " 0644\n" +
		"kiln_set_kv " + file + " " + key + " = " + value
	if key == "Storage" && value == "persistent" {
		apply += "\ninstall -d -m 2755 -g systemd-journal /var/log/journal 2>/dev/null || mkdir -p /var/log/journal"
	}
	return apply
}

func journaldRuntime(key, value string) string {
	if key == "Storage" {
		return `if ls /var/log/journal/*/system.journal >/dev/null 2>&1; then echo "pass journal files in /var/log/journal: $(ls -d /var/log/journal/*/ | head -n 1)"; else echo "fail no persistent journal in /var/log/journal"; fi`
	}
	return ""
}

// auditRuleSpec is one auditd rules file and the control that writes it.
type auditRuleSpec struct {
	ID, CIS, Title, Rationale string
	NIST                      []string
	File                      string // under /etc/audit/rules.d
	Key                       string // the rules' -k key; "" for control rules
	Rules                     []auditRule
}

func syscallRules(key, names, filter string) []auditRule {
	var out []auditRule
	for _, arch := range []string{"b64", "b32"} {
		out = append(out, auditRule{Text: strings.Join(strings.Fields("-a always,exit -F arch="+arch+" -S "+names+" "+filter+" -k "+key), " ")})
	}
	return out
}

// watchRules are -w rules written whether or not the path exists yet.
func watchRules(key string, paths ...string) []auditRule {
	var out []auditRule
	for _, p := range paths {
		out = append(out, auditRule{Text: "-w " + p + " -p wa -k " + key, Watch: p, Any: true})
	}
	return out
}

// watchIfPresent are -w rules written only for paths the image has (a watch
// on a missing directory makes auditctl refuse the rule).
func watchIfPresent(key string, paths ...string) []auditRule {
	out := watchRules(key, paths...)
	for i := range out {
		out[i].Any = false
	}
	return out
}

// auditRuleSpecs are the audit rules of CIS 6.2.3 the profile installs.
func auditRuleSpecs() []auditRuleSpec {
	nist := []string{"AU-2", "AU-3", "AU-12"}
	users := "-F auid>=1000 -F auid!=unset"
	return []auditRuleSpec{
		{ID: "audit-rules-scope", CIS: "6.2.3.1", Title: "Audit changes to sudoers",
			Rationale: "sudoers decides who may act as root; every change to it must be recorded.",
			NIST:      []string{"AU-2", "AU-12", "CM-5"}, File: "60-kiln-cis-scope.rules", Key: "scope",
			Rules: watchRules("scope", "/etc/sudoers", "/etc/sudoers.d")},
		{ID: "audit-rules-user-emulation", CIS: "6.2.3.2", Title: "Audit commands run as another user",
			Rationale: "Commands run with another user's identity (sudo, su) are recorded with the real user behind them.",
			NIST:      []string{"AU-2", "AU-12", "AC-6(9)"}, File: "60-kiln-cis-user-emulation.rules", Key: "user_emulation",
			Rules: syscallRules("user_emulation", "execve", "-C euid!=uid -F auid!=unset")},
		{ID: "audit-rules-sudo-log", CIS: "6.2.3.3", Title: "Audit changes to the sudo log",
			Rationale: "Tampering with the sudo log to hide privileged commands is itself recorded.",
			NIST:      []string{"AU-2", "AU-9", "AU-12"}, File: "60-kiln-cis-sudo-log.rules", Key: "sudo_log_file",
			Rules: watchRules("sudo_log_file", "/var/log/sudo.log")},
		{ID: "audit-rules-time", CIS: "6.2.3.4", Title: "Audit changes to the date and time",
			Rationale: "Changing the clock can hide or reorder events in the logs; each change is recorded.",
			NIST:      []string{"AU-2", "AU-8", "AU-12"}, File: "60-kiln-cis-time-change.rules", Key: "time-change",
			Rules: slicesConcat(syscallRules("time-change", "adjtimex,settimeofday,clock_settime", ""), watchRules("time-change", "/etc/localtime"))},
		{ID: "audit-rules-network", CIS: "6.2.3.5", Title: "Audit changes to the network environment",
			Rationale: "Changes to the host name, hosts files and network configuration can redirect traffic or disguise the host.",
			NIST:      []string{"AU-2", "AU-12", "CM-6"}, File: "60-kiln-cis-system-locale.rules", Key: "system-locale",
			Rules: slicesConcat(syscallRules("system-locale", "sethostname,setdomainname", ""),
				watchRules("system-locale", "/etc/issue", "/etc/issue.net", "/etc/hosts", "/etc/hostname"),
				watchIfPresent("system-locale", "/etc/networks", "/etc/network", "/etc/netplan", "/etc/systemd/network"))},
		{ID: "audit-rules-identity", CIS: "6.2.3.8", Title: "Audit changes to users and groups",
			Rationale: "Accounts and groups added or changed outside the normal process are a classic persistence technique.",
			NIST:      []string{"AU-2", "AU-12", "AC-2(4)"}, File: "60-kiln-cis-identity.rules", Key: "identity",
			Rules: slicesConcat(watchRules("identity", "/etc/group", "/etc/passwd", "/etc/gshadow", "/etc/shadow", "/etc/security/opasswd"),
				watchIfPresent("identity", "/etc/nsswitch.conf", "/etc/pam.conf", "/etc/pam.d"))},
		{ID: "audit-rules-perm-mod", CIS: "6.2.3.9", Title: "Audit permission and ownership changes",
			Rationale: "Changes of mode, owner or extended attributes by users can open files to others or hide them; each is recorded.",
			NIST:      []string{"AU-2", "AU-12", "AC-3"}, File: "60-kiln-cis-perm-mod.rules", Key: "perm_mod",
			Rules: slicesConcat(syscallRules("perm_mod", "chmod,fchmod,fchmodat", users),
				syscallRules("perm_mod", "chown,fchown,lchown,fchownat", users),
				syscallRules("perm_mod", "setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr", users))},
		{ID: "audit-rules-mounts", CIS: "6.2.3.10", Title: "Audit file system mounts by users",
			Rationale: "Mounts by users can bring in set-user-ID programs or carry data out; each is recorded.",
			NIST:      []string{"AU-2", "AU-12", "MP-7"}, File: "60-kiln-cis-mounts.rules", Key: "mounts",
			Rules: syscallRules("mounts", "mount", users)},
		{ID: "audit-rules-session", CIS: "6.2.3.11", Title: "Audit session initiation",
			Rationale: "Changes to utmp, wtmp and btmp record who was logged in when, and tampering with them.",
			NIST:      nist, File: "60-kiln-cis-session.rules", Key: "session",
			Rules: watchRules("session", "/var/run/utmp", "/var/log/wtmp", "/var/log/btmp")},
		{ID: "audit-rules-logins", CIS: "6.2.3.12", Title: "Audit logins and lockouts",
			Rationale: "The last-login and faillock records show successful and failed logins and lockouts.",
			NIST:      []string{"AU-2", "AU-3", "AU-12", "AC-7"}, File: "60-kiln-cis-logins.rules", Key: "logins",
			Rules: watchRules("logins", "/var/log/lastlog", "/var/run/faillock")},
		{ID: "audit-rules-immutable", CIS: "6.2.3.20", Title: "Make the audit configuration immutable",
			Rationale: "With -e 2 the loaded rules cannot be changed or audit turned off until reboot, so an attacker " +
				"with root cannot silently stop auditing (a reboot, itself logged, is needed).",
			NIST: []string{"AU-9", "AU-12"}, File: "99-kiln-cis-finalize.rules", Key: "",
			Rules: []auditRule{{Text: "-e 2"}}},
	}
}
