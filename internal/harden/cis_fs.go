package harden

import (
	"fmt"
	"strings"
)

// filesystemControls: CIS section 1.1, unused filesystem modules and the
// mount options of /tmp and /dev/shm.
func filesystemControls() []Control {
	fsRationale := func(fs string) string {
		return fmt.Sprintf("The %s filesystem is not needed on a server image. Removing the ability to load "+
			"its module shrinks the kernel's attack surface: filesystem drivers parse untrusted on-disk "+
			"data and have a history of memory-safety bugs.", fs)
	}
	return []Control{
		kmodControl("kmod-cramfs", "cramfs", "1.1.1.1", "Disable the cramfs filesystem module", fsRationale("cramfs"), "CM-7"),
		kmodControl("kmod-freevxfs", "freevxfs", "1.1.1.2", "Disable the freevxfs filesystem module", fsRationale("freevxfs (Veritas)"), "CM-7"),
		kmodControl("kmod-hfs", "hfs", "1.1.1.3", "Disable the hfs filesystem module", fsRationale("hfs (Apple)"), "CM-7"),
		kmodControl("kmod-hfsplus", "hfsplus", "1.1.1.4", "Disable the hfsplus filesystem module", fsRationale("hfsplus (Apple)"), "CM-7"),
		kmodControl("kmod-jffs2", "jffs2", "1.1.1.5", "Disable the jffs2 filesystem module", fsRationale("jffs2 (flash)"), "CM-7"),
		kmodControl("kmod-udf", "udf", "1.1.1.8", "Disable the udf filesystem module",
			fsRationale("udf (optical media)")+" Note: Microsoft Azure hands provisioning data to a VM on a "+
				"UDF-formatted virtual DVD, so images meant for Azure must record a deviation for this control.", "CM-7"),
		kmodControl("kmod-usb-storage", "usb-storage", "1.1.1.9", "Disable the usb-storage module",
			"USB mass storage is a path for data exfiltration and for introducing malware; a virtual "+
				"server has no use for it.", "CM-7", "MP-7"),
		tmpSeparate(),
		tmpOptions(),
		devShmOptions(),
	}
}

const tmpMountUnit = `[Unit]
Description=Temporary Directory /tmp (kiln hardening, CIS 1.1.2.1)
Documentation=man:file-hierarchy(7)
ConditionPathIsSymbolicLink=!/tmp
DefaultDependencies=no
Conflicts=umount.target
Before=local-fs.target umount.target
After=swap.target

[Mount]
What=tmpfs
Where=/tmp
Type=tmpfs
Options=mode=1777,strictatime,nosuid,nodev,noexec,size=50%%,nr_inodes=1m

[Install]
WantedBy=local-fs.target
`

// tmpApply writes a tmp.mount that takes precedence over any packaged one,
// and points apt's template extraction away from the noexec /tmp.
var tmpApply = "cat <<'KILN_EOF' | kiln_write /etc/systemd/system/tmp.mount 0644\n" + tmpMountUnit + "KILN_EOF\n" +
	"kiln_enable tmp.mount\n" +
	"printf '%s\\n' '// Written by kiln: /tmp is mounted noexec, so debconf templates are extracted elsewhere.' " +
	"'APT::ExtractTemplates::TempDir \"/var/tmp\";' | kiln_write /etc/apt/apt.conf.d/60kiln-tmp-noexec 0644\n"

func tmpSeparate() Control {
	return Control{
		ID: "tmp-separate", CIS: "1.1.2.1.1", NIST: []string{"CM-7", "SC-5"},
		Title: "Mount /tmp as a separate tmpfs",
		Rationale: "A separate /tmp keeps world-writable temporary files from filling the root filesystem " +
			"and lets /tmp carry restrictive mount options. kiln writes /etc/fstab at assembly, so the mount " +
			"is a systemd unit (/etc/systemd/system/tmp.mount) rather than an fstab line.",
		Apply: tmpApply,
		Audit: func(fsys Root, _ Params) Result {
			m := findMount(fsys, "/tmp", "tmp.mount")
			return verdict(m.found && m.enabled, "%s", m.evidence)
		},
		Runtime: `o=$(findmnt -kn -o SOURCE,FSTYPE /tmp 2>/dev/null | tail -n 1 | tr -s ' ')
if [ -n "$o" ]; then echo "pass /tmp mounted: $o"; else echo "fail /tmp is not a separate mount"; fi`,
	}
}

func tmpOptions() Control {
	return Control{
		ID: "tmp-options", CIS: "1.1.2.1.2, 1.1.2.1.3, 1.1.2.1.4", NIST: []string{"AC-3", "CM-7", "MP-2"},
		Title: "Mount /tmp with nodev, nosuid and noexec",
		Rationale: "Anyone can write to /tmp: nodev stops device files there, nosuid stops set-user-ID " +
			"programs, and noexec stops running programs dropped there by an attacker.",
		Apply: tmpApply,
		Audit: func(fsys Root, _ Params) Result {
			return auditMountOptions(findMount(fsys, "/tmp", "tmp.mount"), "nodev", "nosuid", "noexec")
		},
		Runtime: runtimeMountOptions("/tmp"),
	}
}

const devShmUnit = `[Unit]
Description=Remount /dev/shm with nodev,nosuid,noexec (kiln hardening, CIS 1.1.2.2)
DefaultDependencies=no
After=systemd-remount-fs.service
Before=local-fs.target shutdown.target
Conflicts=shutdown.target
ConditionPathIsMountPoint=/dev/shm

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount -o remount,nodev,nosuid,noexec /dev/shm

[Install]
WantedBy=local-fs.target
`

func devShmOptions() Control {
	return Control{
		ID: "devshm-options", CIS: "1.1.2.2.2, 1.1.2.2.3, 1.1.2.2.4", NIST: []string{"AC-3", "CM-7", "MP-2"},
		Title: "Mount /dev/shm with nodev, nosuid and noexec",
		Rationale: "/dev/shm is world-writable shared memory; without noexec, nosuid and nodev it is a " +
			"convenient place to stage and run attack tools. systemd mounts it early, so a oneshot unit " +
			"remounts it with the options (kiln owns /etc/fstab).",
		Apply: "cat <<'KILN_EOF' | kiln_write /etc/systemd/system/kiln-dev-shm-options.service 0644\n" + devShmUnit + "KILN_EOF\nkiln_enable kiln-dev-shm-options.service",
		Audit: func(fsys Root, _ Params) Result {
			if opts, ok := fstabOptions(fsys, "/dev/shm"); ok {
				return auditMountOptions(mountInfo{found: true, enabled: true, options: opts, evidence: "/etc/fstab /dev/shm " + opts}, "nodev", "nosuid", "noexec")
			}
			unit := "/etc/systemd/system/kiln-dev-shm-options.service"
			kvs, err := fsys.KeyValues(unit)
			if err != nil {
				return fail("no fstab entry for /dev/shm and no remount unit: %v", err)
			}
			exec, _ := lastValue(kvs, "Service", "ExecStart")
			enabled, ev := fsys.UnitEnabled("kiln-dev-shm-options.service")
			return auditMountOptions(mountInfo{found: true, enabled: enabled, options: remountOptions(exec), evidence: unit + ": ExecStart=" + exec + "; " + ev}, "nodev", "nosuid", "noexec")
		},
		Runtime: runtimeMountOptions("/dev/shm"),
	}
}

type mountInfo struct {
	found, enabled bool
	options        string
	evidence       string
}

// findMount looks for a mount point in /etc/fstab, then in a mount unit.
func findMount(fsys Root, where, unit string) mountInfo {
	if opts, ok := fstabOptions(fsys, where); ok {
		return mountInfo{found: true, enabled: true, options: opts, evidence: "/etc/fstab: " + where + " " + opts}
	}
	f, ok := unitFile(fsys, unit)
	if !ok {
		return mountInfo{evidence: "no fstab entry and no " + unit + " unit for " + where}
	}
	kvs, err := fsys.KeyValues(f)
	if err != nil {
		return mountInfo{evidence: err.Error()}
	}
	typ, _ := lastValue(kvs, "Mount", "Type")
	opts, _ := lastValue(kvs, "Mount", "Options")
	enabled, ev := fsys.UnitEnabled(unit)
	return mountInfo{found: true, enabled: enabled, options: opts, evidence: fmt.Sprintf("%s: Type=%s Options=%s; %s", f, typ, opts, ev)}
}

func fstabOptions(fsys Root, where string) (string, bool) {
	lines, err := fsys.Lines("/etc/fstab")
	if err != nil {
		return "", false
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 4 && f[1] == where {
			return f[3], true
		}
	}
	return "", false
}

func auditMountOptions(m mountInfo, want ...string) Result {
	if !m.found {
		return fail("%s", m.evidence)
	}
	have := map[string]bool{}
	for _, o := range strings.Split(m.options, ",") {
		have[strings.TrimSpace(o)] = true
	}
	var missing []string
	for _, w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	switch {
	case len(missing) > 0:
		return fail("%s (missing %s)", m.evidence, strings.Join(missing, ","))
	case !m.enabled:
		return fail("%s (not enabled)", m.evidence)
	}
	return pass("%s", m.evidence)
}

func runtimeMountOptions(where string) string {
	return fmt.Sprintf(`o=$(findmnt -kn -o OPTIONS %s 2>/dev/null | tail -n 1)
r=pass
for w in nodev nosuid noexec; do case ",$o," in *",$w,"*) ;; *) r=fail ;; esac; done
echo "$r %s ${o:-not mounted}"`, where, where)
}

// remountOptions returns the options of a "mount -o remount,..." command.
func remountOptions(exec string) string {
	f := strings.Fields(exec)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-o" {
			return f[i+1]
		}
	}
	return ""
}
