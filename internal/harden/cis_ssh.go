package harden

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func matchRE(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

// Algorithm lists, strongest first. The Apply script keeps only the names
// the image's OpenSSH supports (ssh -Q), so the same control serves
// OpenSSH 9.2 (Debian 12) and 10.0 (Debian 13).
var (
	sshCiphers = []string{"aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"}
	sshMACs    = []string{"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"}
	sshKex     = []string{"mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
		"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp521", "ecdh-sha2-nistp384", "ecdh-sha2-nistp256",
		"diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"}
)

// Weak algorithm patterns (CIS 5.1.6, 5.1.12, 5.1.15). chacha20-poly1305 is
// left out of the cipher list because of the Terrapin attack (CVE-2023-48795).
var (
	weakCipherRE = `cbc|3des|arcfour|blowfish|cast128|rijndael|chacha20`
	weakMACRE    = `md5|sha1|umac-64|ripemd|-96`
	weakKexRE    = `group1-sha1|group14-sha1|group-exchange-sha1`
)

// sshControls: CIS section 5.1, the SSH server.
func sshControls() []Control {
	remote := []string{"AC-17", "CM-6"}
	return []Control{
		sshConfigPerms(),
		sshHostKeyPerms("ssh-hostkey-perms", "5.1.2", "Restrict access to SSH private host keys", "/etc/ssh/ssh_host_*_key", 0o600),
		sshHostKeyPerms("ssh-hostkey-pub-perms", "5.1.3", "Restrict access to SSH public host keys", "/etc/ssh/ssh_host_*_key.pub", 0o644),
		sshAccess(),
		sshControl("ssh-banner", "5.1.5", "Show the warning banner before SSH login",
			"The banner gives notice that use is authorized and monitored before anyone authenticates.",
			[]string{"AC-8"}, "kiln_sshd_set Banner /etc/issue.net", "banner", "none",
			func(v string, _ Params) bool { return v != "" && !strings.EqualFold(v, "none") },
			`[ -n "$v" ] && [ "$v" != none ]`),
		sshAlgorithms("ssh-ciphers", "5.1.6", "Allow only strong SSH ciphers", "Ciphers", "ciphers", "cipher", sshCiphers, weakCipherRE),
		sshIdleTimeout(),
		sshControl("ssh-disable-forwarding", "5.1.8", "Disable SSH forwarding",
			"Agent, X11 and TCP forwarding let an SSH session tunnel around the firewall and expose the "+
				"client's agent to the server.", []string{"AC-17", "CM-7"},
			"kiln_sshd_set DisableForwarding yes", "disableforwarding", "no", eq("yes"), `[ "$v" = yes ]`),
		sshControl("ssh-gssapi", "5.1.9", "Disable SSH GSSAPI authentication",
			"GSSAPI (Kerberos) authentication is not used on these images; disabled code paths cannot be attacked.",
			[]string{"CM-7", "IA-2"}, "kiln_sshd_set GSSAPIAuthentication no", "gssapiauthentication", "no", eq("no"), `[ "$v" = no ]`),
		sshControl("ssh-hostbased", "5.1.10", "Disable SSH host-based authentication",
			"Host-based authentication trusts a whole client machine instead of a user's key.",
			[]string{"IA-2", "AC-17"}, "kiln_sshd_set HostbasedAuthentication no", "hostbasedauthentication", "no", eq("no"), `[ "$v" = no ]`),
		sshControl("ssh-ignore-rhosts", "5.1.11", "Ignore .rhosts and .shosts files",
			"rhosts files grant password-less access by host name, which is trivially spoofed.",
			[]string{"IA-2", "AC-17"}, "kiln_sshd_set IgnoreRhosts yes", "ignorerhosts", "yes", eq("yes"), `[ "$v" = yes ]`),
		sshAlgorithms("ssh-kex", "5.1.12", "Allow only strong SSH key exchange algorithms", "KexAlgorithms", "kexalgorithms", "kex", sshKex, weakKexRE),
		sshControl("ssh-login-grace", "5.1.13", "Limit the SSH login grace time",
			"A short window to authenticate limits how many unauthenticated connections an attacker can hold open.",
			remote, `kiln_sshd_set LoginGraceTime "$KILN_PARAM_SSH_LOGIN_GRACE_TIME"`, "logingracetime", "120",
			func(v string, p Params) bool {
				n, err := sshTime(v)
				return err == nil && n > 0 && n <= p.Int("sshLoginGraceTime")
			},
			`[ "${v:-0}" -gt 0 ] && [ "$v" -le "$KILN_PARAM_SSH_LOGIN_GRACE_TIME" ]`),
		sshControl("ssh-loglevel", "5.1.14", "Log SSH logins verbosely",
			"LogLevel VERBOSE records the key fingerprint used for each login, which ties sessions to keys.",
			[]string{"AU-2", "AU-3", "AU-12"}, "kiln_sshd_set LogLevel VERBOSE", "loglevel", "INFO",
			func(v string, _ Params) bool { return strings.EqualFold(v, "VERBOSE") || strings.EqualFold(v, "INFO") },
			`[ "$v" = VERBOSE ] || [ "$v" = INFO ]`),
		sshAlgorithms("ssh-macs", "5.1.15", "Allow only strong SSH MACs", "MACs", "macs", "mac", sshMACs, weakMACRE),
		sshControl("ssh-max-auth-tries", "5.1.16", "Limit SSH authentication attempts per connection",
			"Few attempts per connection slow down password and key guessing and make it visible in the logs.",
			[]string{"AC-7", "AC-17"}, `kiln_sshd_set MaxAuthTries "$KILN_PARAM_SSH_MAX_AUTH_TRIES"`, "maxauthtries", "6",
			intAtMost("sshMaxAuthTries"), `[ "${v:-0}" -gt 0 ] && [ "$v" -le "$KILN_PARAM_SSH_MAX_AUTH_TRIES" ]`),
		sshControl("ssh-max-sessions", "5.1.17", "Limit SSH sessions per connection",
			"Limiting multiplexed sessions bounds the resources one connection can take.",
			[]string{"AC-10", "SC-5"}, "kiln_sshd_set MaxSessions 10", "maxsessions", "10",
			func(v string, _ Params) bool { n, err := strconv.Atoi(v); return err == nil && n > 0 && n <= 10 },
			`[ "${v:-0}" -gt 0 ] && [ "$v" -le 10 ]`),
		sshControl("ssh-max-startups", "5.1.18", "Limit concurrent unauthenticated SSH connections",
			"MaxStartups drops excess unauthenticated connections, blunting connection-flood denial of service.",
			[]string{"SC-5", "AC-17"}, "kiln_sshd_set MaxStartups 10:30:60", "maxstartups", "10:30:100", maxStartupsOK,
			`case "$v" in *:*:*) s=${v%%:*}; f=${v##*:}; r=${v#*:}; r=${r%%:*}; [ "$s" -le 10 ] && [ "$r" -ge 30 ] && [ "$f" -le 60 ] ;; *) false ;; esac`),
		sshControl("ssh-permit-empty-passwords", "5.1.19", "Refuse SSH logins to accounts with empty passwords",
			"An account without a password must never be reachable from the network.",
			[]string{"IA-5", "AC-17"}, "kiln_sshd_set PermitEmptyPasswords no", "permitemptypasswords", "no", eq("no"), `[ "$v" = no ]`),
		sshPermitRootLogin(),
		sshControl("ssh-permit-user-env", "5.1.21", "Ignore user-supplied SSH environment",
			"Environment options in authorized_keys can, for example, set LD_PRELOAD and bypass restrictions on the account.",
			[]string{"CM-6", "AC-17"}, "kiln_sshd_set PermitUserEnvironment no", "permituserenvironment", "no", eq("no"), `[ "$v" = no ]`),
		sshControl("ssh-use-pam", "5.1.22", "Use PAM for SSH sessions",
			"With UsePAM, SSH sessions go through the account, lockout and session rules PAM enforces (pam_faillock, limits).",
			[]string{"AC-7", "IA-2"}, "kiln_sshd_set UsePAM yes", "usepam", "no", eq("yes"), `[ "$v" = yes ]`),
		sshKeyOnly(),
	}
}

func intAtMost(param string) sshCheck {
	return func(v string, p Params) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n > 0 && n <= p.Int(param)
	}
}

func maxStartupsOK(v string, _ Params) bool {
	f := strings.Split(v, ":")
	if len(f) != 3 {
		return false
	}
	n := make([]int, 3)
	for i := range f {
		x, err := strconv.Atoi(f[i])
		if err != nil {
			return false
		}
		n[i] = x
	}
	return n[0] <= 10 && n[1] >= 30 && n[2] <= 60
}

func sshConfigPerms() Control {
	return Control{
		ID: "ssh-config-perms", CIS: "5.1.1", NIST: []string{"AC-3", "AC-6"},
		Title:     "Restrict access to the SSH server configuration",
		Rationale: "The sshd configuration decides who may log in and how; only root may read or change it.",
		Packages:  []string{"openssh-server"},
		Apply: `for f in /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf; do
	[ -e "$f" ] || continue
	chown 0:0 "$f"; chmod u-x,go-rwx,a-st "$f"
done`,
		Audit: func(fsys Root, _ Params) Result {
			specs := []permSpec{{Path: "/etc/ssh/sshd_config", Max: 0o600}}
			dropins, _ := fsys.Glob("/etc/ssh/sshd_config.d/*.conf")
			for _, f := range dropins {
				specs = append(specs, permSpec{Path: f, Max: 0o600})
			}
			return auditPerms(fsys, specs)
		},
	}
}

func sshHostKeyPerms(id, cis, title, pattern string, max uint32) Control {
	return Control{
		ID: id, CIS: cis, NIST: []string{"AC-3", "SC-12"}, Title: title,
		Rationale: "A readable private host key lets anyone impersonate the server; a writable public key " +
			"lets a local user swap it. Images without host keys (generalized) pass: keys are made at first boot.",
		Packages: []string{"openssh-server"},
		Apply: `for f in ` + pattern + `; do
	[ -f "$f" ] || continue
	chown 0:0 "$f"; chmod ` + modeMask(fsMode(max)) + ` "$f"
done`,
		Audit: func(fsys Root, _ Params) Result {
			files, _ := fsys.Glob(pattern)
			if !strings.HasSuffix(pattern, ".pub") {
				files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, ".pub") })
			}
			if len(files) == 0 {
				return pass("no host keys in the image (they are generated at first boot)")
			}
			specs := make([]permSpec, len(files))
			for i, f := range files {
				specs[i] = permSpec{Path: f, Max: fsMode(max)}
			}
			return auditPerms(fsys, specs)
		},
	}
}

func sshAccess() Control {
	return Control{
		ID: "ssh-access", CIS: "5.1.4", NIST: []string{"AC-3", "AC-17"},
		Title: "Limit SSH logins to allowed groups and users",
		Rationale: "Listing who may log in over SSH keeps service and unused accounts from being reachable " +
			"remotely even if they get a key or password.",
		Packages: []string{"openssh-server"},
		Apply: `g=$KILN_PARAM_SSH_ALLOW_GROUPS; u=$KILN_PARAM_SSH_ALLOW_USERS
if [ "$KILN_PARAM_SSH_PERMIT_ROOT_LOGIN" != no ]; then
	case " $g " in *" root "*) ;; *) g="root${g:+ $g}" ;; esac
	[ -z "$u" ] || case " $u " in *" root "*) ;; *) u="root $u" ;; esac
fi
kiln_sshd_unset() {
	[ -e /etc/ssh/sshd_config.d/00-kiln-cis.conf ] || return 0
	awk -v k="$1" '{ t = $0; sub(/^[ \t]+/, "", t); split(t, a, /[ \t]+/) } a[1] != k { print }' /etc/ssh/sshd_config.d/00-kiln-cis.conf > /etc/ssh/sshd_config.d/00-kiln-cis.conf.kiln-new
	cat /etc/ssh/sshd_config.d/00-kiln-cis.conf.kiln-new > /etc/ssh/sshd_config.d/00-kiln-cis.conf
	rm -f /etc/ssh/sshd_config.d/00-kiln-cis.conf.kiln-new
}
if [ -n "$g" ]; then kiln_sshd_set AllowGroups "$g"; else kiln_sshd_unset AllowGroups; fi
if [ -n "$u" ]; then kiln_sshd_set AllowUsers "$u"; else kiln_sshd_unset AllowUsers; fi`,
		Audit: func(fsys Root, _ Params) Result {
			c, err := readSSHD(fsys)
			if err != nil {
				return fail("%v", err)
			}
			var seen []string
			for _, k := range []string{"allowgroups", "allowusers", "denygroups", "denyusers"} {
				if l := c.lists[k]; len(l) > 0 {
					seen = append(seen, k+" "+strings.Join(l, " "))
				}
			}
			return verdict(len(seen) > 0, "%s", orNone(strings.Join(seen, "; ")))
		},
		Runtime: `v=$(kiln_sshd_all | grep -Ei '^(allow|deny)(users|groups) ' | tr '\n' ';')
if [ -n "$v" ]; then echo "pass sshd -T: $v"; else echo "fail sshd -T: no AllowUsers, AllowGroups, DenyUsers or DenyGroups"; fi`,
	}
}

func sshAlgorithms(id, cis, title, keyword, key, query string, list []string, weak string) Control {
	weakRE := regexp.MustCompile(weak)
	return Control{
		ID: id, CIS: cis, NIST: []string{"AC-17(2)", "SC-8(1)", "SC-13"}, Title: title,
		Rationale: "Weak ciphers, MACs and key exchanges (CBC modes, SHA-1, small or fixed DH groups) enable " +
			"known attacks on SSH sessions. An explicit list of strong algorithms protects the confidentiality " +
			"and integrity of remote administration.",
		Packages: []string{"openssh-server"},
		Apply: `have=$(ssh -Q ` + query + ` 2>/dev/null || true)
l=''
for a in ` + strings.Join(list, " ") + `; do
	if [ -z "$have" ] || printf '%s\n' "$have" | grep -qxF "$a"; then l="${l:+$l,}$a"; fi
done
kiln_sshd_set ` + keyword + ` "$l"`,
		Audit: func(fsys Root, _ Params) Result {
			c, err := readSSHD(fsys)
			if err != nil {
				return fail("%v", err)
			}
			v, src := c.get(key, "")
			switch {
			case v == "":
				return fail("%s not set: OpenSSH's default list includes algorithms CIS rejects", key)
			case strings.ContainsAny(v[:1], "+-^"):
				return fail("%s %s (%s) edits the default list; set an explicit list", key, v, src)
			case weakRE.MatchString(v):
				return fail("%s %s (%s) includes weak algorithms: %s", key, v, src, strings.Join(weakRE.FindAllString(v, -1), ", "))
			}
			return pass("%s %s (%s)", key, v, src)
		},
		Runtime: `v=$(kiln_sshd ` + key + `)
if [ -z "$v" ]; then echo "fail sshd -T printed no ` + key + `"
elif printf '%s' "$v" | grep -Eq '` + weak + `'; then echo "fail sshd -T: ` + key + ` $v"
else echo "pass sshd -T: ` + key + ` $v"; fi`,
	}
}

func sshIdleTimeout() Control {
	return Control{
		ID: "ssh-idle-timeout", CIS: "5.1.7", NIST: []string{"AC-12", "SC-10"},
		Title: "Disconnect unresponsive SSH sessions",
		Rationale: "Keep-alive probes end sessions whose client has gone away, so that abandoned connections " +
			"do not stay logged in indefinitely.",
		Packages: []string{"openssh-server"},
		Apply: `kiln_sshd_set ClientAliveInterval "$KILN_PARAM_SSH_CLIENT_ALIVE_INTERVAL"
kiln_sshd_set ClientAliveCountMax "$KILN_PARAM_SSH_CLIENT_ALIVE_COUNT_MAX"`,
		Audit: func(fsys Root, p Params) Result {
			c, err := readSSHD(fsys)
			if err != nil {
				return fail("%v", err)
			}
			iv, src := c.get("clientaliveinterval", "0")
			cm, _ := c.get("clientalivecountmax", "3")
			i, err1 := sshTime(iv)
			n, err2 := strconv.Atoi(cm)
			ok := err1 == nil && err2 == nil && i > 0 && i <= p.Int("sshClientAliveInterval") && n > 0 && n <= p.Int("sshClientAliveCountMax")
			return verdict(ok, "clientaliveinterval %s, clientalivecountmax %s (%s)", iv, cm, src)
		},
		Runtime: `i=$(kiln_sshd clientaliveinterval); n=$(kiln_sshd clientalivecountmax)
if [ "${i:-0}" -gt 0 ] && [ "$i" -le "$KILN_PARAM_SSH_CLIENT_ALIVE_INTERVAL" ] && [ "${n:-0}" -gt 0 ] && [ "$n" -le "$KILN_PARAM_SSH_CLIENT_ALIVE_COUNT_MAX" ]; then
	echo "pass sshd -T: clientaliveinterval $i clientalivecountmax $n"
else echo "fail sshd -T: clientaliveinterval ${i:-unset} clientalivecountmax ${n:-unset}"; fi`,
	}
}

func sshPermitRootLogin() Control {
	c := sshControl("ssh-permit-root-login", "5.1.20", "Disable SSH root login",
		"Administrators log in as themselves and use sudo, which leaves an audit trail per person; a direct "+
			"root login is shared and anonymous. Parameter sshPermitRootLogin=prohibit-password allows root "+
			"with a key only (needed by kiln's validation VM) and is reported as a deviation.",
		[]string{"AC-6(2)", "AC-17", "IA-2"}, `kiln_sshd_set PermitRootLogin "$KILN_PARAM_SSH_PERMIT_ROOT_LOGIN"`,
		"permitrootlogin", "prohibit-password",
		func(v string, p Params) bool {
			v = strings.ToLower(v)
			if v == "without-password" { // the old name, and what sshd -T prints
				v = "prohibit-password"
			}
			return v == "no" || v == p.String("sshPermitRootLogin")
		},
		`[ "$v" = without-password ] && v=prohibit-password; [ "$v" = no ] || [ "$v" = "$KILN_PARAM_SSH_PERMIT_ROOT_LOGIN" ]`)
	c.tailor = func(p Params) string {
		if v := p.String("sshPermitRootLogin"); v != "no" {
			return "parameter sshPermitRootLogin=" + v + ": root may log in over SSH with a key (CIS 5.1.20 asks for no)"
		}
		return ""
	}
	return c
}

func sshKeyOnly() Control {
	return Control{
		ID: "ssh-key-only", CIS: "5.1", NIST: []string{"IA-2", "IA-5", "AC-17"},
		Title: "Allow only public-key SSH authentication",
		Rationale: "Password logins over the network invite guessing and credential stuffing; keys cannot be " +
			"guessed. This goes beyond CIS 5.1, which leaves password authentication to site policy.",
		Packages: []string{"openssh-server"},
		Apply: `kiln_sshd_set PubkeyAuthentication yes
kiln_sshd_set PasswordAuthentication no
kiln_sshd_set KbdInteractiveAuthentication no`,
		Audit: func(fsys Root, _ Params) Result {
			c, err := readSSHD(fsys)
			if err != nil {
				return fail("%v", err)
			}
			pk, _ := c.get("pubkeyauthentication", "yes")
			pw, src := c.get("passwordauthentication", "yes")
			kb, _ := c.get("kbdinteractiveauthentication", "yes")
			ok := strings.EqualFold(pk, "yes") && strings.EqualFold(pw, "no") && strings.EqualFold(kb, "no")
			return verdict(ok, "pubkeyauthentication %s, passwordauthentication %s (%s), kbdinteractiveauthentication %s", pk, pw, src, kb)
		},
		Runtime: `k=$(kiln_sshd pubkeyauthentication); p=$(kiln_sshd passwordauthentication); b=$(kiln_sshd kbdinteractiveauthentication)
if [ "$k" = yes ] && [ "$p" = no ] && [ "$b" = no ]; then echo "pass sshd -T: pubkey $k, password $p, kbdinteractive $b"; else echo "fail sshd -T: pubkey ${k:-unset}, password ${p:-unset}, kbdinteractive ${b:-unset}"; fi`,
	}
}
