package harden

import (
	"fmt"
	"sort"
	"strings"
)

// shq quotes s for POSIX sh.
func shq(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// oneLine folds s onto one line for comments and messages.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// prelude defines the helpers control Apply fragments use. Each helper is
// idempotent and fails (non-zero) on error, so `set -e` in a control's
// subshell stops that control.
const prelude = `
# kiln_fail ID STATUS: report a failed control and stop.
kiln_fail() {
	echo "kiln-harden: control $1 failed with exit status $2; the image is not hardened" >&2
	exit "$2"
}

# kiln_write FILE MODE: replace FILE with standard input, owned by root.
kiln_write() {
	mkdir -p "$(dirname "$1")"
	cat > "$1.kiln-new"
	chown 0:0 "$1.kiln-new"
	chmod "$2" "$1.kiln-new"
	mv -f "$1.kiln-new" "$1"
}

# kiln_touch FILE MODE: create FILE empty unless it exists.
kiln_touch() {
	[ -e "$1" ] || { mkdir -p "$(dirname "$1")"; : > "$1"; chmod "$2" "$1"; }
}

# kiln_set_kv FILE KEY SEP VALUE: set KEY to VALUE in a key/value file,
# replacing its first uncommented setting and dropping later ones, or
# appending it. Owner and mode of an existing file are kept.
kiln_set_kv() {
	kiln_touch "$1" 0644
	awk -v k="$2" -v line="$2$3$4" '
		{ t = $0; sub(/^[ \t]+/, "", t); n = split(t, a, /[ \t=]+/) }
		n > 0 && a[1] == k { if (!done) print line; done = 1; next }
		{ print }
		END { if (!done) print line }
	' "$1" > "$1.kiln-new"
	cat "$1.kiln-new" > "$1"
	rm -f "$1.kiln-new"
}

# kiln_line FILE LINE: append LINE unless FILE holds it already.
kiln_line() {
	kiln_touch "$1" 0644
	grep -qxF -- "$2" "$1" || printf '%s\n' "$2" >> "$1"
}

# kiln_modprobe_off MODULE: make a kernel module impossible to load.
kiln_modprobe_off() {
	kiln_touch /etc/modprobe.d/kiln-cis.conf 0644
	kiln_line /etc/modprobe.d/kiln-cis.conf "install $1 /bin/false"
	kiln_line /etc/modprobe.d/kiln-cis.conf "blacklist $1"
}

# kiln_sysctl_set KEY VALUE: set a kernel parameter at boot, commenting out
# conflicting settings in other files under /etc.
kiln_sysctl_set() {
	for _f in /etc/sysctl.conf /etc/sysctl.d/*.conf; do
		[ -f "$_f" ] || continue
		[ "$_f" = /etc/sysctl.d/60-kiln-cis.conf ] && continue
		awk -v k="$1" '
			{ t = $0; sub(/^[ \t-]+/, "", t); split(t, a, /[ \t=]+/); gsub("/", ".", a[1]) }
			a[1] == k && $0 !~ /^[ \t]*[#;]/ { print "# " $0 "  # overridden by kiln: see 60-kiln-cis.conf"; next }
			{ print }
		' "$_f" > "$_f.kiln-new"
		cat "$_f.kiln-new" > "$_f"
		rm -f "$_f.kiln-new"
	done
	kiln_set_kv /etc/sysctl.d/60-kiln-cis.conf "$1" " = " "$2"
}

# kiln_sshd_set KEY VALUE: set an sshd option in kiln's drop-in, which sshd
# reads first (sshd keeps the first value it sees), then check the result.
kiln_sshd_set() {
	if [ ! -e /etc/ssh/sshd_config.d/00-kiln-cis.conf ]; then
		mkdir -p /etc/ssh/sshd_config.d
		printf '%s\n' '# Written by kiln (hardening profile). sshd keeps the first value it reads for an' \
			'# option, and this file is read first (sshd_config includes sshd_config.d/*.conf at its top).' > /etc/ssh/sshd_config.d/00-kiln-cis.conf
	fi
	chown 0:0 /etc/ssh/sshd_config.d/00-kiln-cis.conf
	chmod 0600 /etc/ssh/sshd_config.d/00-kiln-cis.conf
	kiln_set_kv /etc/ssh/sshd_config.d/00-kiln-cis.conf "$1" " " "$2"
	if ! grep -Eiq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config; then
		sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config
	fi
	kiln_sshd_check
}

# kiln_sshd_check: have sshd parse its configuration (when host keys exist).
kiln_sshd_check() {
	if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
		mkdir -p /run/sshd
		/usr/sbin/sshd -t || { echo "kiln-harden: sshd rejects its configuration" >&2; return 1; }
	fi
}

# kiln_purge PACKAGE...: purge the packages that are installed.
kiln_purge() {
	_p=''
	for _x in "$@"; do
		_s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$_x" 2>/dev/null || true)
		case "$_s" in ''|?n*) ;; *) _p="$_p $_x" ;; esac
	done
	if [ -n "$_p" ]; then
		echo "purging:$_p"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $_p
	fi
}

# kiln_enable UNIT...: enable systemd units (works offline in a chroot).
kiln_enable() {
	for _u in "$@"; do
		systemctl unmask "$_u" >/dev/null 2>&1 || true
		systemctl enable "$_u"
	done
}

# kiln_cmdline NAME ARGS: kernel arguments for kiln's disk assembler (and for
# update-grub, should the image ever run it).
kiln_cmdline() {
	printf '# Written by kiln (hardening profile): kernel arguments added to the boot entry.\n%s\n' "$2" | kiln_write "/etc/kiln/kernel-cmdline.d/$1.conf" 0644
	if [ -e /etc/default/grub ]; then
		printf 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX %s"\n' "$2" | kiln_write "/etc/default/grub.d/60-kiln-$1.cfg" 0644
	fi
}
`

// ApplyScript is one POSIX sh script that applies every control of the plan
// in order. Each control runs in its own subshell under `set -e`, announced
// by "==> <id> <title>"; the first failing control stops the script with a
// line naming it.
func (p *Plan) ApplyScript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# kiln hardening: profile %s %s (%s)\n", p.profile.ID, p.profile.Version, oneLine(p.profile.Title))
	b.WriteString("# Generated by kiln; runs as root inside the image. Re-running it is harmless.\n")
	for _, d := range p.Deviations() {
		fmt.Fprintf(&b, "# deviation %s: %s\n", d.Control, oneLine(d.Reason))
	}
	b.WriteString("umask 022\nexport DEBIAN_FRONTEND=noninteractive\nexport PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")
	b.WriteString(p.envExports())
	b.WriteString(prelude)
	for _, c := range p.controls {
		fmt.Fprintf(&b, "\necho %s\n(\nset -e\n%s\n)\nkiln_rc=$?\n", shq("==> "+c.ID+" "+c.Title), strings.TrimSpace(c.Apply))
		fmt.Fprintf(&b, "[ \"$kiln_rc\" -eq 0 ] || kiln_fail %s \"$kiln_rc\"\n", shq(c.ID+" ("+c.Title+")"))
	}
	fmt.Fprintf(&b, "\necho %s\n", shq(fmt.Sprintf("==> kiln hardening: %d controls of %s applied", len(p.controls), p.profile.ID)))
	return b.String()
}

func (p *Plan) envExports() string {
	names := make([]string, 0, len(p.params))
	for n := range p.params {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "export %s=%s\n", EnvName(n), shq(envValue(p.params[n])))
	}
	return b.String()
}

// InstallScript installs Packages() inside the image with apt-get, refreshing
// the package lists first when the image has none. Services are not started
// when the caller's chroot refuses them (policy-rc.d), as kiln's does.
func (p *Plan) InstallScript() string {
	pkgs := p.Packages()
	if len(pkgs) == 0 {
		return "#!/bin/sh\n# kiln hardening: no packages needed\n"
	}
	return "#!/bin/sh\nset -e\nexport DEBIAN_FRONTEND=noninteractive\nmissing=''\n" +
		"for p in " + strings.Join(pkgs, " ") + "; do\n" +
		"\tdpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q ' installed$' || missing=\"$missing $p\"\n" +
		"done\n" +
		"if [ -z \"$missing\" ]; then echo 'kiln hardening: the packages are already installed (in the cached base)'; exit 0; fi\n" +
		"if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then apt-get update -q; fi\n" +
		"apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing\n"
}

// RuntimeScript runs, inside the booted VM as root, the Runtime check of every
// applied control that has one, printing one line per control:
// "KILN-CHECK <id> <pass|fail|na|error> <evidence>".
func (p *Plan) RuntimeScript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# kiln compliance checks in the running VM: profile %s %s\n", p.profile.ID, p.profile.Version)
	b.WriteString("export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport LC_ALL=C\n")
	b.WriteString(p.envExports())
	b.WriteString(runtimePrelude)
	for _, c := range p.controls {
		if strings.TrimSpace(c.Runtime) == "" {
			continue
		}
		fmt.Fprintf(&b, "\nkiln_out=$( {\n%s\n} 2>/dev/null )\nkiln_emit %s \"$kiln_out\"\n", strings.TrimSpace(c.Runtime), shq(c.ID))
	}
	return b.String()
}

// runtimePrelude defines the helpers of the runtime checks. Under emulation
// every process costs tens of milliseconds, so the slow or repeated queries
// (sshd -T, auditctl -l, modprobe --showconfig) run once here and
// kiln_emit uses shell builtins only.
const runtimePrelude = `
kiln_cr=$(printf '\r')
# kiln_emit ID OUTPUT: print the verdict line of one check: the last
# non-blank line of its output.
kiln_emit() {
	_l=''
	while IFS= read -r _x; do
		_x=${_x%"$kiln_cr"}
		case "$_x" in *[![:space:]]*) _l=$_x ;; esac
	done <<KILN_EOF
$2
KILN_EOF
	case "$_l" in
	pass|pass\ *|fail|fail\ *|na|na\ *) printf 'KILN-CHECK %s %.500s\n' "$1" "$_l" ;;
	*) printf 'KILN-CHECK %s error the check printed no verdict (last line: %.300s)\n' "$1" "$_l" ;;
	esac
}
# sshd's effective configuration, the audit rules loaded, the modules loaded
# and modprobe's install commands, each read once.
kiln_sshd_config=$(sshd -T 2>/dev/null || true)
kiln_audit_rules=$(auditctl -l 2>/dev/null || true)
kiln_loaded_modules=$(awk '{ printf "%s ", $1 }' /proc/modules 2>/dev/null || true)
kiln_modprobe_install=$(modprobe --showconfig 2>/dev/null | grep '^install ' || true)
kiln_nl='
'
kiln_sshd_all() { printf '%s\n' "$kiln_sshd_config"; }
# kiln_sshd KEY: the effective value of an sshd option (KEY in lower case,
# as sshd -T prints it), from the first line for KEY.
kiln_sshd() {
	case "$kiln_nl$kiln_sshd_config" in
	*"$kiln_nl$1 "*)
		_r=$kiln_nl$kiln_sshd_config
		_r=${_r#*"$kiln_nl$1 "}
		printf '%s\n' "${_r%%"$kiln_nl"*}" ;;
	esac
}
# kiln_has_line TEXT PREFIX...: TEXT has a line starting with one of the prefixes.
kiln_has_line() {
	_t=$kiln_nl$1
	shift
	for _p in "$@"; do
		case "$_t" in *"$kiln_nl$_p"*) return 0 ;; esac
	done
	return 1
}
# kiln_proc_sysctl KEY PATH WANT: compare a kernel parameter in effect,
# read with a builtin; sets r=fail on a mismatch and appends to ev.
kiln_proc_sysctl() {
	if [ ! -e "$2" ]; then ev="$ev $1=absent"; return 0; fi
	_v=''; IFS= read -r _v < "$2" || true # dash returns 1 on /proc files, with the value read
	[ "$_v" = "$3" ] || r=fail
	ev="$ev $1=$_v"
}
# kiln_sysctl KEY WANT: compare a kernel parameter in effect.
kiln_sysctl() {
	_v=$(sysctl -n "$1" 2>/dev/null | tr '\t' ' ') || _v=''
	if [ "$_v" = "$2" ]; then echo "pass $1 = $_v"; else echo "fail $1 = ${_v:-unset} (want $2)"; fi
}
# kiln_active UNIT: a unit is active.
kiln_active() {
	_s=$(systemctl is-active "$1" 2>/dev/null || true)
	if [ "$_s" = active ]; then echo "pass $1 is active"; else echo "fail $1 is ${_s:-unknown}"; fi
}
`
