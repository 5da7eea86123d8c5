// Package doctor checks that a host can run kiln builds: root, the host
// programs and firmware kiln drives (each with the Debian package that
// provides it), loop devices, mount namespaces and a working accelerator.
//
// Every probe of the host goes through Env, so the checks are tested with
// fakes. The Report says what is missing and gives the one apt-get line that
// installs it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Check statuses.
const (
	StatusOK      = "ok"      // present and usable
	StatusMissing = "missing" // not installed; Package installs it
	StatusWarn    = "warn"    // builds work, but something is degraded or optional
	StatusFail    = "fail"    // builds cannot work until this is fixed
)

// Check is the outcome of one host check.
type Check struct {
	Name    string // what was checked, e.g. "mmdebstrap"
	Status  string // one of StatusOK, StatusMissing, StatusWarn, StatusFail
	Detail  string // what was found (a path) or what is wrong
	Fix     string // what to do about it; empty when ok
	Package string // the Debian package that provides it, if any
}

// Env is how the checks see the host. Nil fields fall back to the real
// functions, except ProbeAccel, without which the accelerator is not probed.
type Env struct {
	LookPath func(file string) (string, error)
	Getuid   func() int
	Stat     func(name string) (os.FileInfo, error)
	// ProbeAccel boots a probe VM and reports the accelerator that works:
	// "kvm", or "tcg" with the reason KVM was not usable.
	ProbeAccel func(ctx context.Context) (accel string, reason string, err error)
}

// DefaultEnv returns the real host functions; the caller sets ProbeAccel.
func DefaultEnv() Env {
	return Env{LookPath: exec.LookPath, Getuid: os.Getuid, Stat: os.Stat}
}

func (e Env) withDefaults() Env {
	d := DefaultEnv()
	if e.LookPath == nil {
		e.LookPath = d.LookPath
	}
	if e.Getuid == nil {
		e.Getuid = d.Getuid
	}
	if e.Stat == nil {
		e.Stat = d.Stat
	}
	return e
}

// requirement is one thing kiln needs from the host.
type requirement struct {
	name     string   // check name
	program  string   // a program looked up in PATH (and sbin), or
	paths    []string // files or directories of which one must exist
	pkg      string   // Debian package providing it
	purpose  string   // why kiln needs it, for the report
	optional bool     // missing is a warning, not a failure
}

// requirements lists, in report order, what kiln builds use on the host.
var requirements = []requirement{
	{name: "mmdebstrap", program: "mmdebstrap", pkg: "mmdebstrap", purpose: "builds Debian base images"},
	{name: "qemu-system-x86_64", program: "qemu-system-x86_64", pkg: "qemu-system-x86", purpose: "boots images for validation and the vm executor"},
	{name: "qemu-img", program: "qemu-img", pkg: "qemu-utils", purpose: "converts disks to qcow2 and VHD"},
	{name: "ovmf", paths: []string{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd"}, pkg: "ovmf", purpose: "UEFI firmware for booting images"},
	{name: "mke2fs", program: "mke2fs", pkg: "e2fsprogs", purpose: "creates the ext4 root filesystem"},
	{name: "mkfs.vfat", program: "mkfs.vfat", pkg: "dosfstools", purpose: "creates the EFI system partition"},
	{name: "mcopy", program: "mcopy", pkg: "mtools", purpose: "fills the EFI system partition"},
	{name: "sfdisk", program: "sfdisk", pkg: "fdisk", purpose: "writes the GPT partition table"},
	{name: "grub-mkimage", program: "grub-mkimage", pkg: "grub-common", purpose: "builds the bootloader"},
	{name: "grub-efi", paths: []string{"/usr/lib/grub/x86_64-efi"}, pkg: "grub-efi-amd64-bin", purpose: "GRUB modules for UEFI boot"},
	{name: "grub-bios", paths: []string{"/usr/lib/grub/i386-pc"}, pkg: "grub-pc-bin", purpose: "GRUB modules for BIOS boot"},
	{name: "oscap", program: "oscap", pkg: "openscap-scanner", purpose: "OpenSCAP compliance scans", optional: true},
	{name: "unshare", program: "unshare", pkg: "util-linux", purpose: "runs customizers in their own mount namespace"},
}

// HostPackages is every Debian package kiln needs on the host, sorted, for
// setup scripts and CI to install.
var HostPackages = hostPackages()

func hostPackages() []string {
	pkgs := make([]string, 0, len(requirements))
	for _, r := range requirements {
		pkgs = append(pkgs, r.pkg)
	}
	slices.Sort(pkgs)
	return slices.Compact(pkgs)
}

// sbinDirs are searched when a program is not in PATH: Debian keeps mke2fs,
// mkfs.vfat and sfdisk there, outside an ordinary user's PATH.
var sbinDirs = []string{"/usr/sbin", "/sbin"}

// Run performs every check and returns the report. It does not stop at the
// first problem; ctx bounds the accelerator probe.
func Run(ctx context.Context, env Env) Report {
	env = env.withDefaults()
	checks := []Check{checkRoot(env)}
	for _, r := range requirements {
		checks = append(checks, checkRequirement(env, r))
	}
	checks = append(checks, checkLoop(env), checkAccel(ctx, env, checks))
	return Report{Checks: checks}
}

func checkRoot(env Env) Check {
	c := Check{Name: "root"}
	if uid := env.Getuid(); uid != 0 {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("running as uid %d; builds need root for chroot, mounts and loop devices", uid)
		c.Fix = "run builds as root (sudo kiln ...)"
		return c
	}
	c.Status, c.Detail = StatusOK, "running as root"
	return c
}

func checkRequirement(env Env, r requirement) Check {
	c := Check{Name: r.name, Package: r.pkg}
	var found string
	var err error
	if r.program != "" {
		found, err = findProgram(env, r.program)
	} else {
		found, err = findPath(env, r.paths)
	}
	switch {
	case err == nil:
		c.Status, c.Detail = StatusOK, found
	case errors.Is(err, fs.ErrNotExist):
		c.Status = StatusMissing
		if r.optional {
			c.Status = StatusWarn
		}
		c.Detail = fmt.Sprintf("%s (%s)", err, r.purpose)
		c.Fix = "install package " + r.pkg
	default:
		c.Status, c.Detail = StatusFail, err.Error()
		c.Fix = "check the permissions of " + describe(r)
	}
	return c
}

func describe(r requirement) string {
	if r.program != "" {
		return r.program
	}
	return strings.Join(r.paths, " and ")
}

// errNotFound wraps fs.ErrNotExist with a readable message.
type errNotFound struct{ msg string }

func (e errNotFound) Error() string { return e.msg }
func (e errNotFound) Unwrap() error { return fs.ErrNotExist }

func findProgram(env Env, name string) (string, error) {
	if p, err := env.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range sbinDirs {
		p := dir + "/" + name
		if fi, err := env.Stat(p); err == nil && (fi == nil || !fi.IsDir()) {
			return p, nil
		}
	}
	return "", errNotFound{fmt.Sprintf("%s not found in PATH or %s", name, strings.Join(sbinDirs, ", "))}
}

func findPath(env Env, paths []string) (string, error) {
	for _, p := range paths {
		_, err := env.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	if len(paths) == 1 {
		return "", errNotFound{paths[0] + " does not exist"}
	}
	return "", errNotFound{"none of " + strings.Join(paths, ", ") + " exists"}
}

const loopControl = "/dev/loop-control"

func checkLoop(env Env) Check {
	c := Check{Name: "loop-devices"}
	_, err := env.Stat(loopControl)
	switch {
	case err == nil:
		c.Status, c.Detail = StatusOK, loopControl
	case errors.Is(err, fs.ErrNotExist):
		c.Status, c.Detail = StatusFail, loopControl+" does not exist; builds attach disk images to loop devices"
		c.Fix = "load the loop module (modprobe loop); in a container, give it access to the loop devices"
	default:
		c.Status, c.Detail = StatusFail, err.Error()
		c.Fix = "check the permissions of " + loopControl
	}
	return c
}

// checkAccel probes the accelerator unless QEMU itself is missing, which the
// qemu-system-x86_64 check already reports.
func checkAccel(ctx context.Context, env Env, earlier []Check) Check {
	c := Check{Name: "accelerator"}
	if env.ProbeAccel == nil {
		c.Status, c.Detail = StatusWarn, "not probed"
		return c
	}
	if qemuMissing(earlier) {
		c.Status, c.Detail = StatusWarn, "not probed: qemu-system-x86_64 is missing"
		return c
	}
	accel, reason, err := probe(ctx, env.ProbeAccel)
	return accelCheck(c, accel, reason, err)
}

func qemuMissing(checks []Check) bool {
	for _, c := range checks {
		if c.Name == "qemu-system-x86_64" {
			return c.Status != StatusOK
		}
	}
	return false
}

func probe(ctx context.Context, fn func(context.Context) (string, string, error)) (accel, reason string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("accelerator probe failed: %v", r)
		}
	}()
	return fn(ctx)
}

func accelCheck(c Check, accel, reason string, err error) Check {
	switch {
	case err != nil:
		c.Status, c.Detail = StatusFail, "no accelerator works: "+err.Error()
		c.Fix = "check that QEMU can start a VM (kiln needs kvm or tcg)"
	case accel == "tcg":
		c.Status, c.Detail = StatusWarn, withReason("tcg (software emulation, slow)", reason)
		c.Fix = "for speed, make KVM usable: load kvm_intel or kvm_amd, give access to /dev/kvm, or enable nested virtualization"
	case accel == "":
		c.Status, c.Detail = StatusWarn, withReason("the probe named no accelerator", reason)
	default:
		c.Status, c.Detail = StatusOK, withReason(accel, reason)
	}
	return c
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}
