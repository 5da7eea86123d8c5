package harden

import (
	"slices"
	"strings"
	"testing"
)

func TestSSHDEffective(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/ssh/sshd_config", "Include sshd_config.d/*.conf\nPermitRootLogin yes\nAllowGroups admins\nMatch User bob\n  PasswordAuthentication yes\n", 0o600)
	tr.write("/etc/ssh/sshd_config.d/10-a.conf", "permitrootlogin=no\nAllowGroups sudo\nMatch Address 10.0.0.0/8\n MaxAuthTries 9\n", 0o600)
	tr.write("/etc/ssh/sshd_config.d/20-b.conf", "MaxAuthTries 3\nBanner \"/etc/issue.net\"\n", 0o600)
	c, err := readSSHD(tr.root())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, want, src string }{
		{"permitrootlogin", "no", "/etc/ssh/sshd_config.d/10-a.conf"}, // first value wins
		{"maxauthtries", "3", "/etc/ssh/sshd_config.d/20-b.conf"},     // Match ends with its file
		{"banner", "/etc/issue.net", "/etc/ssh/sshd_config.d/20-b.conf"},
		{"passwordauthentication", "yes-default", "OpenSSH default"}, // only inside Match
	}
	for _, tc := range tests {
		v, src := c.get(tc.key, "yes-default")
		if v != tc.want || src != tc.src {
			t.Errorf("%s = %q from %s; want %q from %s", tc.key, v, src, tc.want, tc.src)
		}
	}
	if got := c.lists["allowgroups"]; !slices.Equal(got, []string{"sudo", "admins"}) {
		t.Errorf("allowgroups = %v", got)
	}
	tr.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config\n", 0o600)
	if _, err := readSSHD(tr.root()); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("recursive Include: %v", err)
	}
}

func TestSSHTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  bool
	}{{"60", 60, false}, {"1m", 60, false}, {"1m30s", 90, false}, {"2h", 7200, false}, {"1x", 0, true}, {"m", 0, true}} {
		got, err := sshTime(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("sshTime(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func TestSysctlPrecedence(t *testing.T) {
	tr := newTree(t)
	tr.write("/usr/lib/sysctl.d/50-default.conf", "net.ipv4.conf.*.rp_filter = 2\nkernel.a = 1\n", 0o644)
	tr.write("/usr/lib/sysctl.d/60-kiln-cis.conf", "kernel.b = packaged\n", 0o644)
	tr.write("/etc/sysctl.d/60-kiln-cis.conf", "net.ipv4.conf.all.rp_filter = 1\nkernel/c = 3\n-kernel.d=4\n", 0o644)
	tr.write("/etc/sysctl.d/70-late.conf", "kernel.a =  5 \n", 0o644)
	tr.write("/etc/sysctl.conf", "kernel.e = 6\n", 0o644)
	r := tr.root()
	files := sysctlFiles(r)
	tests := []struct{ key, want, src string }{
		{"net.ipv4.conf.all.rp_filter", "1", "/etc/sysctl.d/60-kiln-cis.conf"},
		{"net.ipv4.conf.default.rp_filter", "2", "/usr/lib/sysctl.d/50-default.conf"}, // glob
		{"kernel.a", "5", "/etc/sysctl.d/70-late.conf"},                               // later file wins
		{"kernel.b", "", ""}, // /etc masks /usr/lib of the same name
		{"kernel.c", "3", "/etc/sysctl.d/60-kiln-cis.conf"}, // slash form
		{"kernel.d", "4", "/etc/sysctl.d/60-kiln-cis.conf"}, // '-' prefix
		{"kernel.e", "6", "/etc/sysctl.conf"},
	}
	for _, tc := range tests {
		v, src, _ := sysctlValue(r, files, tc.key)
		if v != tc.want || src != tc.src {
			t.Errorf("%s = %q from %q; want %q from %q", tc.key, v, src, tc.want, tc.src)
		}
	}
}

func TestSystemdConfDropins(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/systemd/journald.conf", "[Journal]\nStorage=auto\nCompress=yes\n", 0o644)
	tr.write("/usr/lib/systemd/journald.conf.d/10-pkg.conf", "[Journal]\nStorage=volatile\n", 0o644)
	tr.write("/etc/systemd/journald.conf.d/20-admin.conf", "[Journal]\nStorage=persistent\n", 0o644)
	tr.write("/etc/systemd/journald.conf.d/10-pkg.conf", "[Journal]\n", 0o644) // masks the packaged one
	r := tr.root()
	if v, src, _ := systemdConf(r, "systemd/journald.conf", "Journal", "Storage"); v != "persistent" || src != "/etc/systemd/journald.conf.d/20-admin.conf" {
		t.Errorf("Storage = %q from %s", v, src)
	}
	if v, _, _ := systemdConf(r, "systemd/journald.conf", "Journal", "Compress"); v != "yes" {
		t.Errorf("Compress = %q", v)
	}
}

func TestReadPAM(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/pam.d/common-auth", "auth\trequisite\tpam_faillock.so preauth\n"+
		"auth [success=2 default=ignore]\tpam_unix.so nullok\n-auth optional /lib/security/pam_x.so a=b\n@include other\nbroken\n", 0o644)
	lines, err := readPAM(tr.root(), "/etc/pam.d/common-auth")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"auth requisite pam_faillock.so preauth", "auth [success=2 default=ignore] pam_unix.so nullok", "auth optional pam_x.so a=b"}
	var got []string
	for _, l := range lines {
		got = append(got, l.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("readPAM = %q\nwant %q", got, want)
	}
	if v, ok := argValue(lines[2], "a"); !ok || v != "b" {
		t.Errorf("argValue = %q, %v", v, ok)
	}
}

func TestNftChains(t *testing.T) {
	conf := nftablesHead + "\t\ttcp dport { 22, 443 } ct state new accept # web\n" + nftablesTail
	chains := nftChains(conf)
	if len(chains) != 3 {
		t.Fatalf("%d chains: %+v", len(chains), chains)
	}
	got := map[string]string{}
	for _, c := range chains {
		got[c.Hook] = c.Policy
	}
	if got["input"] != "drop" || got["forward"] != "drop" || got["output"] != "drop" {
		t.Errorf("policies %v", got)
	}
	if !strings.Contains(chains[0].Body, "iif lo accept") || strings.Contains(chains[0].Body, "web") {
		t.Errorf("input body %q", chains[0].Body)
	}
	if c := nftChains("table inet t { chain c { type filter hook input priority 0; } }"); len(c) != 1 || c[0].Policy != "accept" {
		t.Errorf("implicit policy: %+v", c)
	}
}

func TestSudoersDefaults(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/sudoers", "Defaults env_reset, use_pty\nDefaults:bob !use_pty\nDefaults!/bin/ls !use_pty\n#includedir /etc/sudoers.d\n", 0o440)
	tr.write("/etc/sudoers.d/a", "Defaults logfile=\"/var/log/sudo.log\"\n", 0o440)
	tr.write("/etc/sudoers.d/b.bak", "Defaults !use_pty\n", 0o440)
	got := sudoersDefaults(tr.root())
	want := []string{"/etc/sudoers: env_reset", "/etc/sudoers: use_pty", "/etc/sudoers.d/a: logfile=\"/var/log/sudo.log\""}
	if !slices.Equal(got, want) {
		t.Errorf("sudoersDefaults = %q\nwant %q", got, want)
	}
}

func TestKernelArgs(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/kiln/kernel-cmdline.d/a.conf", "# c\napparmor=1 security=apparmor\n", 0o644)
	tr.write("/boot/grub/grub.cfg", "menuentry x {\n\tlinux /vmlinuz root=UUID=x ro audit=1\n}\n", 0o600)
	args, src := kernelArgs(tr.root())
	if args["apparmor"] != "1" || args["security"] != "apparmor" || args["audit"] != "1" || len(src) != 2 {
		t.Errorf("kernelArgs = %v from %v", args, src)
	}
}

func TestModeMask(t *testing.T) {
	for _, tc := range []struct {
		max  uint32
		want string
	}{{0o600, "u-x,g-rwx,o-rwx,a-st"}, {0o644, "u-x,g-wx,o-wx,a-st"}, {0o700, "g-rwx,o-rwx,a-st"}, {0o640, "u-x,g-wx,o-rwx,a-st"}} {
		if got := modeMask(fsMode(tc.max)); got != tc.want {
			t.Errorf("modeMask(%o) = %s, want %s", tc.max, got, tc.want)
		}
	}
}
