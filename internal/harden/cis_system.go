package harden

import (
	"fmt"
	"strings"
)

// systemControls: CIS sections 1.2 (updates), 1.3 (AppArmor), 1.4 (boot
// loader), 1.5 (process hardening) and 1.6 (banners).
func systemControls() []Control {
	return []Control{
		unattendedUpgrades(),
		apparmorInstalled(),
		apparmorBootloader(),
		apparmorProfiles(),
		bootConfigPerms(),
		sysctlControl("aslr", "1.5.1", "Enable full address space layout randomization",
			"Randomizing the placement of the stack, heap, libraries and executable makes memory-corruption "+
				"exploits much harder to write reliably.", []string{"SI-16", "CM-6"}, "kernel.randomize_va_space=2"),
		sysctlControl("ptrace-scope", "1.5.2", "Restrict ptrace to descendant processes",
			"With Yama ptrace_scope 1 a compromised process cannot attach to, read the memory of, or inject "+
				"code into other processes of the same user that it did not start.", []string{"AC-6", "SI-16"}, "kernel.yama.ptrace_scope=1"),
		coreDumps(),
		packagesAbsentControl("no-prelink", "1.5.4", "Remove prelink",
			"prelink rewrites binaries in place, which breaks integrity checking and can undo ASLR for "+
				"prelinked libraries.", []string{"CM-7", "SI-7"}, "prelink"),
		bannerFile("banner-motd", "1.6.1", "Set a message of the day without system details", "/etc/motd"),
		bannerFile("banner-issue", "1.6.2", "Set a local login warning banner", "/etc/issue"),
		bannerFile("banner-issue-net", "1.6.3", "Set a remote login warning banner", "/etc/issue.net"),
		permControl("banner-perms", "1.6.4, 1.6.5, 1.6.6", "Restrict access to /etc/motd, /etc/issue and /etc/issue.net",
			"Banner files readable by all but writable only by root cannot be changed to mislead users or to "+
				"remove the legal notice.", []string{"AC-3", "AC-8"},
			permSpec{Path: "/etc/motd", Max: 0o644, Optional: true},
			permSpec{Path: "/etc/issue", Max: 0o644},
			permSpec{Path: "/etc/issue.net", Max: 0o644}),
	}
}

func unattendedUpgrades() Control {
	return Control{
		ID: "unattended-upgrades", CIS: "1.2.2.1", NIST: []string{"SI-2", "SI-2(5)"},
		Title: "Install security updates automatically",
		Rationale: "Security fixes that are published but not installed leave known vulnerabilities open. " +
			"unattended-upgrades installs updates from the Debian security archive daily; the control also " +
			"adds the security archive to the package sources when the image lacks it.",
		Packages: []string{"unattended-upgrades"},
		Apply: `printf '%s\n' '// Written by kiln (hardening profile): daily package lists and unattended security upgrades.' \
	'APT::Periodic::Update-Package-Lists "1";' 'APT::Periodic::Unattended-Upgrade "1";' | kiln_write /etc/apt/apt.conf.d/20auto-upgrades 0644
printf '%s\n' '// Written by kiln (hardening profile): always take updates from the Debian security archive.' \
	'Unattended-Upgrade::Origins-Pattern { "origin=Debian,codename=${distro_codename}-security,label=Debian-Security"; };' | kiln_write /etc/apt/apt.conf.d/52kiln-unattended-upgrades 0644
if ! cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v '^[[:space:]]*#' | grep -q -- '-security'; then
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	[ -n "$codename" ] || { echo "cannot tell the Debian release from /etc/os-release" >&2; exit 1; }
	printf 'deb http://deb.debian.org/debian-security %s-security main\n' "$codename" | kiln_write /etc/apt/sources.list.d/kiln-debian-security.list 0644
fi
kiln_enable apt-daily.timer apt-daily-upgrade.timer`,
		Audit: auditUnattended,
		Runtime: `a=$(apt-config dump APT::Periodic::Unattended-Upgrade 2>/dev/null | tail -n 1)
t=$(systemctl is-enabled apt-daily-upgrade.timer 2>/dev/null)
case "$a" in *'"1"'*) [ "$t" = enabled ] && { echo "pass $a; apt-daily-upgrade.timer $t"; exit 0; } ;; esac
echo "fail ${a:-APT::Periodic::Unattended-Upgrade unset}; apt-daily-upgrade.timer ${t:-unknown}"`,
	}
}

func auditUnattended(fsys Root, _ Params) Result {
	if r := auditInstalled(fsys, "unattended-upgrades"); r.Status != StatusPass {
		return r
	}
	files, _ := fsys.Glob("/etc/apt/apt.conf.d/*")
	settings := map[string]string{}
	for _, f := range files {
		data, err := fsys.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			for _, k := range []string{"APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade"} {
				if rest, ok := strings.CutPrefix(l, k+" "); ok {
					settings[k] = strings.Trim(strings.TrimSpace(rest), `";`)
				}
			}
		}
	}
	src := securitySource(fsys)
	enabled, ev := fsys.UnitEnabled("apt-daily-upgrade.timer")
	ok := settings["APT::Periodic::Update-Package-Lists"] == "1" && settings["APT::Periodic::Unattended-Upgrade"] == "1" && src != "" && enabled
	return verdict(ok, "Update-Package-Lists=%q Unattended-Upgrade=%q; security source: %s; %s",
		settings["APT::Periodic::Update-Package-Lists"], settings["APT::Periodic::Unattended-Upgrade"], orNone(src), ev)
}

func securitySource(fsys Root) string {
	files := []string{"/etc/apt/sources.list"}
	for _, pat := range []string{"/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		m, _ := fsys.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		lines, err := fsys.Lines(f)
		if err != nil {
			continue
		}
		for _, l := range lines {
			if strings.Contains(l, "-security") {
				return f + ": " + l
			}
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func apparmorInstalled() Control {
	return Control{
		ID: "apparmor-installed", CIS: "1.3.1.1", NIST: []string{"AC-3(3)", "AC-6"},
		Title: "Install AppArmor",
		Rationale: "AppArmor confines programs to the files and capabilities their profiles allow, " +
			"limiting what an attacker gains by compromising one service.",
		Packages: []string{"apparmor"},
		Apply:    "kiln_enable apparmor.service",
		Audit:    func(fsys Root, _ Params) Result { return auditInstalled(fsys, "apparmor") },
	}
}

func apparmorBootloader() Control {
	return Control{
		ID: "apparmor-bootloader", CIS: "1.3.1.2", NIST: []string{"AC-3(3)", "CM-6"},
		Title: "Enable AppArmor on the kernel command line",
		Rationale: "Naming AppArmor on the kernel command line (apparmor=1 security=apparmor) guarantees " +
			"it is the active security module from the first process on. kiln writes its own grub.cfg: " +
			"the arguments go to /etc/kiln/kernel-cmdline.d/apparmor.conf for the disk assembler.",
		Packages: []string{"apparmor"},
		Apply:    `kiln_cmdline apparmor "apparmor=1 security=apparmor"`,
		Audit: func(fsys Root, _ Params) Result {
			return auditKernelArgs(fsys, map[string]func(string) bool{
				"apparmor": func(v string) bool { return v == "1" },
				"security": func(v string) bool { return v == "apparmor" },
			})
		},
		Runtime: `c=$(cat /proc/cmdline)
e=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)
case " $c " in *" apparmor=1 "*) case " $c " in *" security=apparmor "*) echo "pass /proc/cmdline: $c; enabled=$e"; exit 0 ;; esac ;; esac
echo "fail /proc/cmdline lacks apparmor=1 security=apparmor (AppArmor enabled=$e): $c"`,
	}
}

// auditKernelArgs checks the kernel arguments the image requests.
func auditKernelArgs(fsys Root, want map[string]func(string) bool) Result {
	args, sources := kernelArgs(fsys)
	var seen, bad []string
	for _, k := range sortedKeys(want) {
		v, ok := args[k]
		if !ok || !want[k](v) {
			bad = append(bad, k)
			continue
		}
		seen = append(seen, k+"="+v)
	}
	if len(bad) > 0 {
		return fail("kernel arguments missing or wrong: %s (sources: %s)", strings.Join(bad, ", "), orNone(strings.Join(sources, ", ")))
	}
	return pass("%s (%s)", strings.Join(seen, " "), strings.Join(sources, ", "))
}

func apparmorProfiles() Control {
	return Control{
		ID: "apparmor-profiles", CIS: "1.3.1.3", NIST: []string{"AC-3(3)", "AC-6"},
		Title: "Load AppArmor profiles at boot, none disabled",
		Rationale: "Profiles protect only when they are loaded in enforce or complain mode; the apparmor " +
			"service loads them at boot, and a profile linked into /etc/apparmor.d/disable is not loaded at all.",
		Packages: []string{"apparmor"},
		Apply: `kiln_enable apparmor.service
for f in /etc/apparmor.d/disable/*; do [ -L "$f" ] || [ -f "$f" ] || continue; echo "re-enabling AppArmor profile $(basename "$f")"; rm -f "$f"; done`,
		Audit: func(fsys Root, _ Params) Result {
			enabled, ev := fsys.UnitEnabled("apparmor.service")
			profiles, _ := fsys.Glob("/etc/apparmor.d/*")
			n := 0
			for _, p := range profiles {
				if fi, err := fsys.Stat(p); err == nil && !fi.IsDir() {
					n++
				}
			}
			disabled, _ := fsys.Glob("/etc/apparmor.d/disable/*")
			ok := enabled && len(disabled) == 0
			return verdict(ok, "%s; %d profiles in /etc/apparmor.d; disabled: %s", ev, n, orNone(strings.Join(disabled, ", ")))
		},
		Runtime: `if ! aa-enabled >/dev/null 2>&1; then echo "fail AppArmor is not enabled in the kernel"; exit 0; fi
l=$(aa-status --profiled 2>/dev/null); e=$(aa-status --enforced 2>/dev/null); c=$(aa-status --complaining 2>/dev/null)
if [ -n "$l" ] && [ "$l" -eq $((e + c)) ]; then echo "pass $l profiles loaded: $e enforce, $c complain"; else echo "fail profiles loaded=$l enforce=$e complain=$c"; fi`,
	}
}

func bootConfigPerms() Control {
	spec := []permSpec{{Path: "/boot/grub/grub.cfg", Max: 0o600}}
	return Control{
		ID: "boot-config-perms", CIS: "1.4.2", NIST: []string{"AC-3", "CM-6"},
		Title: "Restrict access to the boot loader configuration",
		Rationale: "grub.cfg reveals boot parameters and, if writable, lets a local user change them (for " +
			"example to disable AppArmor or auditing at the next boot). kiln's assembler writes grub.cfg " +
			"after customization: the file is created here with mode 0600 so that the write keeps it.",
		Apply: `mkdir -p /boot/grub
[ -e /boot/grub/grub.cfg ] || printf '# Placeholder written by kiln; the disk assembler writes the real boot configuration here.\n' > /boot/grub/grub.cfg
chown 0:0 /boot/grub/grub.cfg
chmod 0600 /boot/grub/grub.cfg`,
		Audit: func(fsys Root, _ Params) Result { return auditPerms(fsys, spec) },
		Runtime: `f=/boot/grub/grub.cfg; [ -e "$f" ] || f=$(ls /boot/efi/EFI/*/grub.cfg 2>/dev/null | head -n 1)
[ -n "$f" ] && [ -e "$f" ] || { echo "na no grub.cfg on this system"; exit 0; }
s=$(stat -Lc '%a %u %g' "$f"); set -- $s
if [ $((0$1 & 0177)) -eq 0 ] && [ "$2" = 0 ] && [ "$3" = 0 ]; then echo "pass $f $s"; else echo "fail $f mode/uid/gid $s (want 600 0 0 or stricter)"; fi`,
	}
}

func coreDumps() Control {
	return Control{
		ID: "core-dumps", CIS: "1.5.3", NIST: []string{"CM-6", "SC-4"},
		Title: "Restrict core dumps",
		Rationale: "Core dumps copy process memory, including passwords and keys, to disk. A hard limit of " +
			"zero, no dumps from set-user-ID programs and no systemd-coredump storage keep them from being written.",
		Apply: `printf '%s\n' '# Written by kiln (hardening profile): no core dumps.' '* hard core 0' | kiln_write /etc/security/limits.d/60-kiln-cis.conf 0644
kiln_sysctl_set fs.suid_dumpable 0
printf '%s\n' '# Written by kiln (hardening profile): no core dumps.' '[Coredump]' 'Storage=none' 'ProcessSizeMax=0' | kiln_write /etc/systemd/coredump.conf.d/60-kiln-cis.conf 0644`,
		Audit: auditCoreDumps,
		Runtime: `v=$(sysctl -n fs.suid_dumpable 2>/dev/null)
if [ "$v" = 0 ]; then echo "pass fs.suid_dumpable = 0"; else echo "fail fs.suid_dumpable = ${v:-unset}"; fi`,
	}
}

func auditCoreDumps(fsys Root, _ Params) Result {
	limit := ""
	files, _ := fsys.Glob("/etc/security/limits.d/*.conf")
	for _, f := range append([]string{"/etc/security/limits.conf"}, files...) {
		lines, _ := fsys.Lines(f)
		for _, l := range lines {
			w := strings.Fields(l)
			if len(w) >= 4 && w[0] == "*" && w[1] == "hard" && w[2] == "core" {
				limit = w[3] + " (" + f + ")"
			}
		}
	}
	v, src, _ := sysctlValue(fsys, sysctlFiles(fsys), "fs.suid_dumpable")
	ok := strings.HasPrefix(limit, "0 ") && v == "0"
	ev := fmt.Sprintf("hard core limit %s; fs.suid_dumpable = %s (%s)", orNone(limit), orNone(v), orNone(src))
	if _, installed, _ := fsys.PackageInstalled("systemd-coredump"); installed {
		st, _, _ := systemdConf(fsys, "systemd/coredump.conf", "Coredump", "Storage")
		ps, _, _ := systemdConf(fsys, "systemd/coredump.conf", "Coredump", "ProcessSizeMax")
		ok = ok && st == "none" && ps == "0"
		ev += fmt.Sprintf("; systemd-coredump Storage=%s ProcessSizeMax=%s", st, ps)
	}
	return verdict(ok, "%s", ev)
}

// bannerFile writes the banner text and checks it reveals nothing about the
// system.
func bannerFile(id, cis, title, file string) Control {
	c := Control{
		ID: id, CIS: cis, NIST: []string{"AC-8"}, Title: title,
		Rationale: "A login banner states that use is authorized and monitored, which supports legal action " +
			"against misuse; it must not name the OS or its version, which would help an attacker pick exploits.",
		Apply: fmt.Sprintf("printf '%%s\\n' \"$KILN_PARAM_BANNER_TEXT\" | sed -e '${/^$/d}' | kiln_write %s 0644", file),
		Audit: func(fsys Root, _ Params) Result { return auditBanner(fsys, file) },
	}
	if file == "/etc/motd" {
		c.Apply += "\n# The dynamic motd prints uname output: keep it from running.\n[ ! -e /etc/update-motd.d/10-uname ] || chmod a-x /etc/update-motd.d/10-uname"
	}
	return c
}

func auditBanner(fsys Root, file string) Result {
	data, err := fsys.ReadFile(file)
	if err != nil {
		return fail("%v", err)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return fail("%s is empty", file)
	}
	for _, esc := range []string{`\m`, `\r`, `\s`, `\v`} {
		if strings.Contains(text, esc) {
			return fail("%s contains %s, which reveals system details: %q", file, esc, clip(text, 120))
		}
	}
	if id := osID(fsys); id != "" && strings.Contains(strings.ToLower(text), strings.ToLower(id)) {
		return fail("%s names the OS (%s): %q", file, id, clip(text, 120))
	}
	if file == "/etc/motd" {
		if fi, err := fsys.Stat("/etc/update-motd.d/10-uname"); err == nil && fi.Mode().Perm()&0o111 != 0 {
			return fail("/etc/update-motd.d/10-uname is executable and prints the kernel version at login")
		}
	}
	return pass("%s: %q", file, clip(text, 120))
}

// osID is the ID of /etc/os-release ("debian").
func osID(fsys Root) string {
	for _, f := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if kvs, err := fsys.KeyValues(f); err == nil {
			if v, ok := lastValue(kvs, "", "ID"); ok {
				return v
			}
		}
	}
	return ""
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
