package doctor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeHost is a host made of a set of existing paths and a PATH.
type fakeHost struct {
	uid    int
	files  map[string]bool // existing paths
	denied map[string]bool // paths whose Stat fails with a permission error
	accel  string
	reason string
	err    error
	probes int
}

var pathDirs = []string{"/usr/bin", "/bin"}

func (h *fakeHost) env() Env {
	return Env{
		LookPath: func(name string) (string, error) {
			for _, d := range pathDirs {
				if h.files[d+"/"+name] {
					return d + "/" + name, nil
				}
			}
			return "", exec.ErrNotFound
		},
		Getuid: func() int { return h.uid },
		Stat: func(name string) (os.FileInfo, error) {
			if h.denied[name] {
				return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrPermission}
			}
			if h.files[name] {
				return nil, nil // the checks only look at the error
			}
			return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
		},
		ProbeAccel: func(context.Context) (string, string, error) {
			h.probes++
			return h.accel, h.reason, h.err
		},
	}
}

// fullHost has everything kiln needs, installed where Debian puts it.
func fullHost() *fakeHost {
	files := map[string]bool{}
	for _, p := range []string{
		"/usr/bin/mmdebstrap", "/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-img",
		"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/sbin/mke2fs", "/usr/sbin/mkfs.vfat",
		"/usr/bin/mcopy", "/usr/sbin/sfdisk", "/usr/bin/grub-mkimage",
		"/usr/lib/grub/x86_64-efi", "/usr/lib/grub/i386-pc", "/usr/bin/oscap",
		"/usr/bin/unshare", "/dev/loop-control",
	} {
		files[p] = true
	}
	return &fakeHost{uid: 0, files: files, accel: "kvm"}
}

func (h *fakeHost) without(paths ...string) *fakeHost {
	for _, p := range paths {
		delete(h.files, p)
	}
	return h
}

func statuses(r Report) map[string]string {
	m := map[string]string{}
	for _, c := range r.Checks {
		m[c.Name] = c.Status
	}
	return m
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		host    *fakeHost
		ok      bool
		apt     string
		changed map[string]string // statuses that differ from all-ok
	}{
		{
			name: "all present",
			host: fullHost(),
			ok:   true,
		},
		{
			name: "some missing",
			host: fullHost().without("/usr/bin/mmdebstrap", "/usr/share/OVMF/OVMF_CODE_4M.fd",
				"/usr/lib/grub/i386-pc", "/usr/bin/oscap", "/usr/sbin/sfdisk"),
			ok:  false,
			apt: "apt-get install -y --no-install-recommends fdisk grub-pc-bin mmdebstrap openscap-scanner ovmf",
			changed: map[string]string{
				"mmdebstrap": StatusMissing, "ovmf": StatusMissing, "grub-bios": StatusMissing,
				"sfdisk": StatusMissing, "oscap": StatusWarn,
			},
		},
		{
			name:    "only the optional scanner missing",
			host:    fullHost().without("/usr/bin/oscap"),
			ok:      true,
			apt:     "apt-get install -y --no-install-recommends openscap-scanner",
			changed: map[string]string{"oscap": StatusWarn},
		},
		{
			name: "older OVMF file name",
			host: func() *fakeHost {
				h := fullHost().without("/usr/share/OVMF/OVMF_CODE_4M.fd")
				h.files["/usr/share/OVMF/OVMF_CODE.fd"] = true
				return h
			}(),
			ok:      true,
			changed: map[string]string{},
		},
		{
			name:    "not root",
			host:    func() *fakeHost { h := fullHost(); h.uid = 1000; return h }(),
			ok:      false,
			changed: map[string]string{"root": StatusFail},
		},
		{
			name: "tcg fallback",
			host: func() *fakeHost {
				h := fullHost()
				h.accel, h.reason = "tcg", "kvm probe VM did not boot within 60s"
				return h
			}(),
			ok:      true,
			changed: map[string]string{"accelerator": StatusWarn},
		},
		{
			name:    "probe error",
			host:    func() *fakeHost { h := fullHost(); h.err = errors.New("qemu exited with status 1"); return h }(),
			ok:      false,
			changed: map[string]string{"accelerator": StatusFail},
		},
		{
			name:    "qemu missing skips the probe",
			host:    fullHost().without("/usr/bin/qemu-system-x86_64"),
			ok:      false,
			apt:     "apt-get install -y --no-install-recommends qemu-system-x86",
			changed: map[string]string{"qemu-system-x86_64": StatusMissing, "accelerator": StatusWarn},
		},
		{
			name:    "no loop devices",
			host:    fullHost().without("/dev/loop-control"),
			ok:      false,
			changed: map[string]string{"loop-devices": StatusFail},
		},
		{
			name: "unreadable grub directory",
			host: func() *fakeHost {
				h := fullHost()
				h.denied = map[string]bool{"/usr/lib/grub/x86_64-efi": true}
				return h
			}(),
			ok:      false,
			changed: map[string]string{"grub-efi": StatusFail},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Run(context.Background(), tc.host.env())
			if r.OK() != tc.ok {
				t.Errorf("OK() = %v, want %v\n%s", r.OK(), tc.ok, r.Text())
			}
			if got := r.AptInstallLine(); got != tc.apt {
				t.Errorf("AptInstallLine() = %q, want %q", got, tc.apt)
			}
			want := statuses(Run(context.Background(), fullHost().env()))
			for name, s := range tc.changed {
				want[name] = s
			}
			if diff := cmp.Diff(want, statuses(r)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunAllPresentIsAllOK(t *testing.T) {
	r := Run(context.Background(), fullHost().env())
	for _, c := range r.Checks {
		if c.Status != StatusOK || c.Fix != "" {
			t.Errorf("check %s = %+v, want ok without fix", c.Name, c)
		}
	}
	if len(r.Checks) != len(requirements)+3 {
		t.Errorf("%d checks, want root, %d requirements, loop and accelerator", len(r.Checks), len(requirements))
	}
}

func TestDetails(t *testing.T) {
	h := fullHost().without("/usr/bin/mmdebstrap")
	h.accel, h.reason = "tcg", "/dev/kvm exists but the guest hung"
	h.uid = 1000
	r := Run(context.Background(), h.env())
	byName := map[string]Check{}
	for _, c := range r.Checks {
		byName[c.Name] = c
	}
	wants := map[string][]string{
		"root":        {"uid 1000", "root"},
		"mmdebstrap":  {"not found", "install package mmdebstrap"},
		"mke2fs":      {"/usr/sbin/mke2fs"},
		"ovmf":        {"/usr/share/OVMF/OVMF_CODE_4M.fd"},
		"accelerator": {"tcg", "/dev/kvm exists but the guest hung"},
	}
	for name, parts := range wants {
		c := byName[name]
		text := c.Detail + " " + c.Fix
		for _, p := range parts {
			if !strings.Contains(text, p) {
				t.Errorf("check %s: %q does not mention %q", name, text, p)
			}
		}
	}
	if byName["mmdebstrap"].Package != "mmdebstrap" {
		t.Errorf("mmdebstrap check names package %q", byName["mmdebstrap"].Package)
	}
}

func TestNilFunctionsDoNotPanic(t *testing.T) {
	r := Run(context.Background(), Env{})
	if len(r.Checks) == 0 {
		t.Fatal("no checks")
	}
	last := r.Checks[len(r.Checks)-1]
	if last.Name != "accelerator" || last.Status != StatusWarn {
		t.Errorf("accelerator without a probe = %+v, want a warning", last)
	}
}

func TestProbeGetsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := fullHost().env()
	var got context.Context
	env.ProbeAccel = func(c context.Context) (string, string, error) {
		got = c
		return "kvm", "", nil
	}
	Run(ctx, env)
	if got != ctx {
		t.Error("ProbeAccel did not get Run's context")
	}
}

func TestProbePanicIsAFailure(t *testing.T) {
	env := fullHost().env()
	env.ProbeAccel = func(context.Context) (string, string, error) { panic("boom") }
	r := Run(context.Background(), env)
	if s := statuses(r)["accelerator"]; s != StatusFail {
		t.Errorf("accelerator status = %q, want fail", s)
	}
}

func TestAptInstallLineDeduplicates(t *testing.T) {
	r := Report{Checks: []Check{
		{Name: "b", Status: StatusMissing, Package: "zz"},
		{Name: "a", Status: StatusMissing, Package: "aa"},
		{Name: "c", Status: StatusMissing, Package: "zz"},
		{Name: "d", Status: StatusOK, Package: "ok-pkg"},
		{Name: "e", Status: StatusFail, Package: "failed-pkg"},
		{Name: "f", Status: StatusWarn},
	}}
	want := "apt-get install -y --no-install-recommends aa zz"
	if got := r.AptInstallLine(); got != want {
		t.Errorf("AptInstallLine() = %q, want %q", got, want)
	}
	if (Report{}).AptInstallLine() != "" || !(Report{}).OK() {
		t.Error("an empty report must be OK with no apt line")
	}
}

func TestHostPackages(t *testing.T) {
	want := []string{
		"dosfstools", "e2fsprogs", "fdisk", "grub-common", "grub-efi-amd64-bin", "grub-pc-bin",
		"mmdebstrap", "mtools", "openscap-scanner", "ovmf", "qemu-system-x86", "qemu-utils", "util-linux",
	}
	if diff := cmp.Diff(want, HostPackages); diff != "" {
		t.Errorf("HostPackages (-want +got):\n%s", diff)
	}
	// Everything the checks can ask for is in HostPackages.
	empty := &fakeHost{uid: 0, files: map[string]bool{}, accel: "kvm"}
	for _, p := range Run(context.Background(), empty.env()).MissingPackages() {
		if !slices.Contains(HostPackages, p) {
			t.Errorf("package %q is not in HostPackages", p)
		}
	}
}

func TestText(t *testing.T) {
	h := fullHost().without("/usr/bin/mmdebstrap")
	h.accel, h.reason = "tcg", "no /dev/kvm"
	got := Run(context.Background(), h.env()).Text()
	wantLines := []string{
		"ok      root                running as root",
		"missing mmdebstrap          mmdebstrap not found in PATH or /usr/sbin, /sbin (builds Debian base images) (fix: install package mmdebstrap)",
		"ok      qemu-system-x86_64  /usr/bin/qemu-system-x86_64",
		"ok      mke2fs              /usr/sbin/mke2fs",
		"warn    accelerator         tcg (software emulation, slow): no /dev/kvm (fix: for speed, make KVM usable: load kvm_intel or kvm_amd, give access to /dev/kvm, or enable nested virtualization)",
		"  apt-get install -y --no-install-recommends mmdebstrap",
	}
	for _, l := range wantLines {
		if !strings.Contains(got, l+"\n") {
			t.Errorf("report lacks line %q:\n%s", l, got)
		}
	}
	allOK := Run(context.Background(), fullHost().env()).Text()
	if !strings.Contains(allOK, "ok   mmdebstrap          /usr/bin/mmdebstrap\n") || strings.Contains(allOK, "apt-get") {
		t.Errorf("all-ok report:\n%s", allOK)
	}
}
