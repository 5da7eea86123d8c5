package harden

import "slices"

const defaultBanner = "Authorized uses only. All activity may be monitored and reported.\n"

// cisDebianL1 is the built-in profile following the CIS Debian Linux 12
// Benchmark v1.1.0, Level 1 - Server, for Debian 12 and 13.
func cisDebianL1() Profile {
	return Profile{
		ID:      "cis-debian-l1",
		Title:   "CIS Debian Linux 12 Benchmark v1.1.0, Level 1 - Server (kiln selection)",
		Version: "1.0.0",
		Description: "Hardening for Debian 12 and 13 server images following the CIS Debian Linux 12 " +
			"Benchmark v1.1.0 Level 1 - Server, with auditd (Level 2 in CIS) and key-only SSH added. " +
			"Each control names its CIS section and the NIST SP 800-53 rev. 5 controls it supports.",
		Params:   cisParams(),
		Controls: slices.Concat(filesystemControls(), systemControls(), serviceControls(), networkControls(), sshControls(), accessControls(), loggingControls(), permissionControls()),
	}
}

func cisParams() []ParamSpec {
	return []ParamSpec{
		{Name: "sshPermitRootLogin", Type: TypeString, Default: "no", check: oneOf("no", "prohibit-password"),
			Description: `sshd PermitRootLogin: "no" (CIS 5.1.20) or "prohibit-password" (root with a key only, recorded as a deviation; kiln's validation VM logs in as root with a key)`},
		{Name: "sshAllowGroups", Type: TypeStrings, Default: []string{"sudo"}, check: accountNames,
			Description: "groups allowed to log in over SSH (AllowGroups); root is added when sshPermitRootLogin is not \"no\""},
		{Name: "sshAllowUsers", Type: TypeStrings, Default: []string{}, check: accountNames,
			Description: "users allowed to log in over SSH (AllowUsers); empty = no user list"},
		{Name: "sshMaxAuthTries", Type: TypeInt, Default: 4, check: intRange(1, 4),
			Description: "sshd MaxAuthTries (CIS: 4 or less)"},
		{Name: "sshLoginGraceTime", Type: TypeInt, Default: 60, check: intRange(1, 60),
			Description: "sshd LoginGraceTime in seconds (CIS: 1 to 60)"},
		{Name: "sshClientAliveInterval", Type: TypeInt, Default: 15, check: intRange(1, 900),
			Description: "sshd ClientAliveInterval in seconds"},
		{Name: "sshClientAliveCountMax", Type: TypeInt, Default: 3, check: intRange(1, 10),
			Description: "sshd ClientAliveCountMax: unanswered keep-alives before disconnecting"},
		{Name: "firewallAllowTCP", Type: TypeStrings, Default: []string{}, check: ports,
			Description: `TCP ports or ranges accepted inbound besides SSH (22), e.g. ["443", "8000-8010"]`},
		{Name: "firewallAllowUDP", Type: TypeStrings, Default: []string{}, check: ports,
			Description: "UDP ports or ranges accepted inbound"},
		{Name: "passMinLength", Type: TypeInt, Default: 14, check: intRange(14, 128),
			Description: "pam_pwquality minlen (CIS: 14 or more)"},
		{Name: "passMaxDays", Type: TypeInt, Default: 365, check: intRange(1, 365),
			Description: "PASS_MAX_DAYS (CIS: 365 or less)"},
		{Name: "passMinDays", Type: TypeInt, Default: 1, check: intRange(1, 365),
			Description: "PASS_MIN_DAYS (CIS: 1 or more)"},
		{Name: "passWarnAge", Type: TypeInt, Default: 7, check: intRange(7, 365),
			Description: "PASS_WARN_AGE (CIS: 7 or more)"},
		{Name: "passInactiveDays", Type: TypeInt, Default: 45, check: intRange(1, 45),
			Description: "days after password expiry before the account is locked (useradd INACTIVE, CIS: 45 or less)"},
		{Name: "faillockDeny", Type: TypeInt, Default: 5, check: intRange(1, 5),
			Description: "failed logins before pam_faillock locks the account (CIS: 5 or less)"},
		{Name: "faillockUnlockTime", Type: TypeInt, Default: 900, check: unlockTime,
			Description: "seconds until a locked account unlocks (0 = never; CIS: 0 or 900 and more)"},
		{Name: "umask", Type: TypeString, Default: "027", check: umaskValue,
			Description: "default umask for users (CIS: 027 or stricter)"},
		{Name: "shellTimeout", Type: TypeInt, Default: 900, check: intRange(1, 900),
			Description: "TMOUT: idle interactive shells end after this many seconds (CIS: 900 or less)"},
		{Name: "bannerText", Type: TypeString, Default: defaultBanner, check: bannerText,
			Description: "text of /etc/issue, /etc/issue.net and /etc/motd (no OS details)"},
		{Name: "cronAllowUsers", Type: TypeStrings, Default: []string{"root"}, check: accountNames,
			Description: "users in /etc/cron.allow"},
		{Name: "atAllowUsers", Type: TypeStrings, Default: []string{"root"}, check: accountNames,
			Description: "users in /etc/at.allow"},
	}
}

func unlockTime(v any) error {
	if i := v.(int); i != 0 && (i < 900 || i > 86400) {
		return intRange(900, 86400)(v)
	}
	return nil
}
