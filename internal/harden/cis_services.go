package harden

import (
	"slices"
	"sort"
	"strings"
)

// serviceControls: CIS section 2, legacy network services and clients, and
// the job schedulers.
func serviceControls() []Control {
	cleartext := "It sends credentials and data in clear text and authenticates hosts by address; SSH replaces it."
	return []Control{
		packagesAbsentControl("no-nis-server", "2.1.10", "Remove the NIS server",
			"NIS serves password maps over an unauthenticated, unencrypted RPC protocol. "+cleartext,
			[]string{"CM-7", "IA-5(1)"}, "ypserv", "nis"),
		packagesAbsentControl("no-legacy-servers", "2.1.22", "Remove telnet, rsh and talk servers",
			"telnetd, rshd/rlogind and talkd are unneeded network listeners with clear-text protocols; CIS "+
				"asks that only approved services listen (2.1.22).",
			[]string{"CM-7", "SC-8"}, "telnetd", "inetutils-telnetd", "telnetd-ssl", "rsh-server", "rsh-redone-server", "talkd", "inetutils-talkd"),
		packagesAbsentControl("no-nis-client", "2.2.1", "Remove the NIS client",
			"The NIS client trusts account data from an unauthenticated network service. "+cleartext,
			[]string{"CM-7", "IA-5(1)"}, "nis", "ypbind-mt", "yp-tools"),
		packagesAbsentControl("no-rsh-client", "2.2.2", "Remove the rsh client",
			"rsh, rcp and rlogin pass credentials unencrypted. "+cleartext, []string{"CM-7", "SC-8"}, "rsh-client", "rsh-redone-client"),
		packagesAbsentControl("no-talk-client", "2.2.3", "Remove the talk client",
			"talk sends messages unencrypted to other hosts and is not needed on servers.", []string{"CM-7"}, "talk", "inetutils-talk"),
		packagesAbsentControl("no-telnet-client", "2.2.4", "Remove the telnet client",
			"telnet sends everything, passwords included, in clear text. "+cleartext, []string{"CM-7", "SC-8"}, "telnet", "inetutils-telnet"),
		cronEnabled(),
		cronPerms(),
		cronRestricted(),
		atRestricted(),
	}
}

func cronEnabled() Control {
	return Control{
		ID: "cron-enabled", CIS: "2.4.1.1", NIST: []string{"CM-6"},
		Title: "Enable the cron daemon",
		Rationale: "Periodic maintenance (log rotation, package updates, integrity checks) runs from cron; " +
			"with cron installed, its access and file permissions can be controlled as the following controls require.",
		Packages: []string{"cron"},
		Apply:    "kiln_enable cron.service",
		Audit: func(fsys Root, _ Params) Result {
			if r := auditInstalled(fsys, "cron"); r.Status != StatusPass {
				return r
			}
			ok, ev := fsys.UnitEnabled("cron.service")
			return verdict(ok, "%s", ev)
		},
		Runtime: "kiln_active cron.service",
	}
}

var cronPaths = []permSpec{
	{Path: "/etc/crontab", Max: 0o600},
	{Path: "/etc/cron.hourly", Max: 0o700},
	{Path: "/etc/cron.daily", Max: 0o700},
	{Path: "/etc/cron.weekly", Max: 0o700},
	{Path: "/etc/cron.monthly", Max: 0o700},
	{Path: "/etc/cron.yearly", Max: 0o700, Optional: true},
	{Path: "/etc/cron.d", Max: 0o700},
}

func cronPerms() Control {
	c := permControl("cron-perms", "2.4.1.2, 2.4.1.3, 2.4.1.4, 2.4.1.5, 2.4.1.6, 2.4.1.7",
		"Restrict access to the cron configuration",
		"Jobs in /etc/crontab and the /etc/cron.* directories run as root; if others can read them they "+
			"learn what runs when, and if they can write them they become root.",
		[]string{"AC-3", "AC-6", "CM-6"}, cronPaths...)
	c.Packages = []string{"cron"}
	return c
}

func cronRestricted() Control {
	return Control{
		ID: "cron-restricted", CIS: "2.4.1.8", NIST: []string{"AC-3", "AC-6"},
		Title: "Restrict crontab to authorized users",
		Rationale: "With /etc/cron.allow only the users it lists can schedule jobs, which limits persistence " +
			"mechanisms for an attacker with a user account.",
		Packages: []string{"cron"},
		Apply: `printf '%s\n' $KILN_PARAM_CRON_ALLOW_USERS | kiln_write /etc/cron.allow 0640
if getent group crontab >/dev/null; then chgrp crontab /etc/cron.allow; fi
rm -f /etc/cron.deny`,
		Audit: func(fsys Root, p Params) Result {
			return auditAllowFile(fsys, "/etc/cron.allow", "/etc/cron.deny", []string{"crontab"}, p.List("cronAllowUsers"))
		},
	}
}

func atRestricted() Control {
	return Control{
		ID: "at-restricted", CIS: "2.4.2.1", NIST: []string{"AC-3", "AC-6"},
		Title: "Restrict at to authorized users",
		Rationale: "With /etc/at.allow only the users it lists can schedule one-off jobs. The file is written " +
			"even when at is not installed, so installing it later keeps the restriction.",
		Apply: `printf '%s\n' $KILN_PARAM_AT_ALLOW_USERS | kiln_write /etc/at.allow 0640
if getent group daemon >/dev/null; then chgrp daemon /etc/at.allow; fi
rm -f /etc/at.deny`,
		Audit: func(fsys Root, p Params) Result {
			return auditAllowFile(fsys, "/etc/at.allow", "/etc/at.deny", []string{"daemon"}, p.List("atAllowUsers"))
		},
	}
}

// auditAllowFile checks an allow file: present, at most 0640, root-owned,
// listing exactly the wanted users, and no deny file beside it.
func auditAllowFile(fsys Root, allow, deny string, groups, want []string) Result {
	r := auditPerms(fsys, []permSpec{{Path: allow, Max: 0o640, Groups: groups}})
	if r.Status != StatusPass {
		return r
	}
	if fsys.Exists(deny) {
		return fail("%s exists beside %s", deny, allow)
	}
	users, _ := fsys.Lines(allow)
	sort.Strings(users)
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(users, w) {
		return fail("%s lists %s (want %s)", allow, orNone(strings.Join(users, " ")), orNone(strings.Join(w, " ")))
	}
	return pass("%s; users: %s; %s absent", r.Evidence, orNone(strings.Join(users, " ")), deny)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
