package harden

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// tree builds a small root tree for offline checks.
type tree struct {
	t   testing.TB
	dir string
}

func newTree(t testing.TB) *tree {
	t.Helper()
	return &tree{t: t, dir: t.TempDir()}
}

func (tr *tree) host(p string) string { return filepath.Join(tr.dir, filepath.FromSlash(p)) }

func (tr *tree) write(p, content string, mode fs.FileMode) {
	tr.t.Helper()
	h := tr.host(p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	_ = os.Remove(h)
	if err := os.WriteFile(h, []byte(content), mode); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(h, mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) mkdir(p string, mode fs.FileMode) {
	tr.t.Helper()
	if err := os.MkdirAll(tr.host(p), mode); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(tr.host(p), mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) symlink(target, p string) {
	tr.t.Helper()
	if err := os.MkdirAll(filepath.Dir(tr.host(p)), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	_ = os.Remove(tr.host(p))
	if err := os.Symlink(target, tr.host(p)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) remove(p string) {
	tr.t.Helper()
	if err := os.RemoveAll(tr.host(p)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) chmod(p string, mode fs.FileMode) {
	tr.t.Helper()
	if err := os.Chmod(tr.host(p), mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) read(p string) string {
	tr.t.Helper()
	b, err := os.ReadFile(tr.host(p))
	if err != nil {
		tr.t.Fatal(err)
	}
	return string(b)
}

// replace swaps old for new in a file, failing the test if old is absent.
func (tr *tree) replace(p, old, new string) {
	tr.t.Helper()
	s := tr.read(p)
	if !strings.Contains(s, old) {
		tr.t.Fatalf("fixture %s has no %q", p, old)
	}
	fi, _ := os.Stat(tr.host(p))
	tr.write(p, strings.Replace(s, old, new, 1), fi.Mode().Perm())
}

// packages writes the dpkg status database with these packages installed.
func (tr *tree) packages(names ...string) {
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nVersion: 1.0-test\n\n", n)
	}
	b.WriteString("Package: removed-pkg\nStatus: deinstall ok config-files\nVersion: 1\n")
	tr.write("/var/lib/dpkg/status", b.String(), 0o644)
}

func (tr *tree) root() Root {
	r := NewRoot(tr.dir)
	r.squash = os.Getuid() != 0
	return r
}

var fixturePackages = []string{"apparmor", "audispd-plugins", "auditd", "cron", "libpam-pwquality", "nftables",
	"openssh-server", "sudo", "unattended-upgrades", "base-files"}

// compliantTree is a root tree that passes every control of cis-debian-l1
// with default parameters.
func compliantTree(t testing.TB) *tree {
	tr := newTree(t)
	tr.packages(fixturePackages...)
	tr.write("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n", 0o644)
	tr.write("/etc/group", "root:x:0:\ndaemon:x:1:\nshadow:x:42:\ncrontab:x:101:\nsudo:x:27:\n", 0o644)
	tr.write("/etc/group-", "root:x:0:\n", 0o644)
	tr.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644)
	tr.write("/etc/passwd-", "root:x:0:0:root:/root:/bin/bash\n", 0o600)
	tr.write("/etc/shadow", "root:$y$j9T$salt$hash:19000:1:365:7:45::\ndaemon:*:19000:0:99999:7:::\n", 0o640)
	tr.write("/etc/gshadow", "root:*::\n", 0o640)
	tr.write("/etc/gshadow-", "root:*::\n", 0o600)
	tr.write("/etc/shadow-", "root:*:19000:1:365:7:45::\n", 0o600)
	tr.write("/etc/shells", "/bin/sh\n/bin/bash\n", 0o644)

	var mods strings.Builder
	for _, m := range []string{"cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf", "usb-storage", "dccp", "tipc", "rds", "sctp"} {
		fmt.Fprintf(&mods, "install %s /bin/false\nblacklist %s\n", m, m)
	}
	tr.write("/etc/modprobe.d/kiln-cis.conf", mods.String(), 0o644)

	tr.write("/etc/systemd/system/tmp.mount", tmpMountUnit, 0o644)
	tr.symlink("/etc/systemd/system/tmp.mount", "/etc/systemd/system/local-fs.target.wants/tmp.mount")
	tr.write("/etc/systemd/system/kiln-dev-shm-options.service", devShmUnit, 0o644)
	tr.symlink("/etc/systemd/system/kiln-dev-shm-options.service", "/etc/systemd/system/local-fs.target.wants/kiln-dev-shm-options.service")
	for unit, target := range map[string]string{
		"apt-daily-upgrade.timer": "timers.target", "apparmor.service": "sysinit.target", "cron.service": "multi-user.target",
		"nftables.service": "sysinit.target", "auditd.service": "multi-user.target",
	} {
		tr.symlink("/lib/systemd/system/"+unit, "/etc/systemd/system/"+target+".wants/"+unit)
	}

	tr.write("/etc/apt/apt.conf.d/20auto-upgrades", "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n", 0o644)
	tr.write("/etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\n", 0o644)
	tr.write("/etc/kiln/kernel-cmdline.d/apparmor.conf", "# test\napparmor=1 security=apparmor\n", 0o644)
	tr.write("/etc/kiln/kernel-cmdline.d/audit.conf", "audit=1 audit_backlog_limit=8192\n", 0o644)
	tr.write("/etc/apparmor.d/usr.bin.test", "profile test {}\n", 0o644)
	tr.write("/boot/grub/grub.cfg", "menuentry x {\n\tlinux /vmlinuz root=UUID=1 ro\n}\n", 0o600)

	var sysctl strings.Builder
	for _, c := range cisDebianL1().Controls {
		for _, l := range strings.Split(c.Apply, "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "kiln_sysctl_set" {
				fmt.Fprintf(&sysctl, "%s = %s\n", f[1], f[2])
			}
		}
	}
	tr.write("/etc/sysctl.d/60-kiln-cis.conf", sysctl.String(), 0o644)
	tr.write("/usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n", 0o644)
	tr.write("/etc/security/limits.d/60-kiln-cis.conf", "* hard core 0\n", 0o644)

	banner := strings.TrimSpace(defaultBanner) + "\n"
	for _, f := range []string{"/etc/motd", "/etc/issue", "/etc/issue.net"} {
		tr.write(f, banner, 0o644)
	}
	tr.write("/etc/update-motd.d/10-uname", "#!/bin/sh\nuname -snrvm\n", 0o644)

	tr.write("/etc/crontab", "# crontab\n", 0o600)
	for _, d := range []string{"/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly", "/etc/cron.d"} {
		tr.mkdir(d, 0o700)
	}
	tr.write("/etc/cron.allow", "root\n", 0o640)
	tr.write("/etc/at.allow", "root\n", 0o640)

	tr.write("/etc/nftables.conf", nftablesHead+"\t\ttcp dport { 22 } ct state new accept\n"+nftablesTail, 0o755)

	tr.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\n", 0o600)
	tr.write("/etc/ssh/sshd_config.d/00-kiln-cis.conf", strings.Join([]string{
		"AllowGroups sudo", "Banner /etc/issue.net",
		"Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr",
		"ClientAliveInterval 15", "ClientAliveCountMax 3", "DisableForwarding yes", "GSSAPIAuthentication no",
		"HostbasedAuthentication no", "IgnoreRhosts yes", "KexAlgorithms curve25519-sha256,diffie-hellman-group16-sha512",
		"LoginGraceTime 60", "LogLevel VERBOSE", "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256",
		"MaxAuthTries 4", "MaxSessions 10", "MaxStartups 10:30:60", "PermitEmptyPasswords no", "PermitRootLogin no",
		"PermitUserEnvironment no", "UsePAM yes", "PubkeyAuthentication yes", "PasswordAuthentication no",
		"KbdInteractiveAuthentication no", "Match User nobody", "PermitRootLogin yes",
	}, "\n")+"\n", 0o600)
	tr.write("/etc/ssh/ssh_host_ed25519_key", "key\n", 0o600)
	tr.write("/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA\n", 0o644)

	tr.write("/etc/sudoers", "Defaults\tenv_reset\nDefaults\tuse_pty\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n", 0o440)
	tr.write("/etc/sudoers.d/60-kiln-cis-logfile", "Defaults logfile=\"/var/log/sudo.log\"\n", 0o440)
	tr.write("/etc/sudoers.d/README.txt", "Defaults !use_pty\n", 0o440) // names with a dot are ignored by sudo

	tr.write("/etc/pam.d/common-password", "password\trequisite\t\t\tpam_pwquality.so retry=3\n"+
		"password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt\n", 0o644)
	tr.write("/etc/pam.d/common-auth", "auth\trequisite\tpam_faillock.so preauth\n"+
		"auth\t[success=2 default=ignore]\tpam_unix.so nullok try_first_pass\n"+
		"auth\t[default=die]\tpam_faillock.so authfail\nauth\trequisite\t\t\tpam_deny.so\n", 0o644)
	tr.write("/etc/pam.d/common-account", "account\trequired\tpam_faillock.so\naccount\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so\n", 0o644)
	tr.write("/etc/security/pwquality.conf", "# minlen = 8\nminlen = 14\ndifok = 2\nminclass = 4\nmaxrepeat = 3\nmaxsequence = 3\ndictcheck = 1\nenforcing = 1\nenforce_for_root\n", 0o644)
	tr.write("/etc/security/faillock.conf", "deny = 5\nunlock_time = 900\neven_deny_root\nroot_unlock_time = 60\n", 0o644)
	tr.write("/etc/login.defs", "PASS_MAX_DAYS\t365\nPASS_MIN_DAYS\t1\nPASS_WARN_AGE\t7\nENCRYPT_METHOD YESCRYPT\nUMASK\t\t027\n", 0o644)
	tr.write("/etc/default/useradd", "SHELL=/bin/sh\nINACTIVE=45\n", 0o644)
	tr.write("/etc/profile", "if [ \"$(id -u)\" -eq 0 ]; then PATH=/usr/sbin; fi\n", 0o644)
	tr.write("/etc/profile.d/60-kiln-umask.sh", "umask 027\n", 0o644)
	tr.write("/etc/profile.d/60-kiln-tmout.sh", "[ \"${TMOUT:-}\" = 900 ] || { TMOUT=900; readonly TMOUT; export TMOUT; }\n", 0o644)

	tr.write("/etc/systemd/journald.conf", "[Journal]\n#Storage=auto\n", 0o644)
	tr.write("/etc/systemd/journald.conf.d/60-kiln-cis.conf", "[Journal]\nStorage=persistent\nCompress=yes\n", 0o644)
	for _, a := range auditRuleSpecs() {
		var b strings.Builder
		for _, r := range a.Rules {
			b.WriteString(r.Text + "\n")
		}
		tr.write("/etc/audit/rules.d/"+a.File, b.String(), 0o640)
	}
	return tr
}
