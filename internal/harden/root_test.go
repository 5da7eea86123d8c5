package harden

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRootResolveStaysInside(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/real.conf", "inside\n", 0o644)
	tr.write("/run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n", 0o644)
	tr.symlink("/etc/real.conf", "/etc/abs-link")                             // absolute: into the tree
	tr.symlink("../run/systemd/resolve/stub-resolv.conf", "/etc/resolv.conf") // relative
	tr.symlink("../../../../../../etc/real.conf", "/etc/escape")              // clamps at the root
	tr.symlink("/etc", "/linkdir")
	tr.symlink("/loop-b", "/loop-a")
	tr.symlink("/loop-a", "/loop-b")
	r := tr.root()
	tests := []struct {
		name, path, want, wantErr string
	}{
		{"absolute symlink", "/etc/abs-link", "inside\n", ""},
		{"relative symlink", "/etc/resolv.conf", "nameserver 127.0.0.53\n", ""},
		{"dot-dot clamps at root", "/etc/escape", "inside\n", ""},
		{"symlinked directory", "/linkdir/real.conf", "inside\n", ""},
		{"dot-dot in path", "/etc/../../etc/real.conf", "inside\n", ""},
		{"missing", "/etc/none", "", "no such file"},
		{"loop", "/loop-a", "", "too many levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := r.ReadFile(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadFile(%s) error %v, want %q", tc.path, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), tr.dir) {
					t.Errorf("error %q reveals the host path", err)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("ReadFile(%s) = %q, %v; want %q", tc.path, b, err, tc.want)
			}
		})
	}
	host, err := r.Resolve("/etc/escape")
	if err != nil || !strings.HasPrefix(host, tr.dir+string(filepath.Separator)) {
		t.Errorf("Resolve escaped the tree: %s %v", host, err)
	}
}

func TestRootGlobAndLookups(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a.d/10-x.conf", "", 0o644)
	tr.write("/etc/a.d/20-y.conf", "", 0o644)
	tr.write("/etc/a.d/README", "", 0o644)
	tr.write("/etc/b.d/30-z.conf", "", 0o644)
	tr.write("/etc/group", "root:x:0:\nshadow:x:42:\nbroken\n", 0o644)
	tr.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644)
	tr.symlink("/etc/a.d", "/etc/c.d")
	tr.packages("openssh-server", "sudo")
	r := tr.root()

	got, err := r.Glob("/etc/*.d/*.conf")
	want := []string{"/etc/a.d/10-x.conf", "/etc/a.d/20-y.conf", "/etc/b.d/30-z.conf", "/etc/c.d/10-x.conf", "/etc/c.d/20-y.conf"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Glob = %v, %v; want %v", got, err, want)
	}
	if _, err := r.Glob("relative/*"); err == nil {
		t.Error("Glob accepted a relative pattern")
	}
	if _, err := r.Glob("/etc/[/x"); err == nil {
		t.Error("Glob accepted a malformed pattern")
	}
	if id, ok := r.GroupID("shadow"); !ok || id != 42 {
		t.Errorf("GroupID(shadow) = %d, %v", id, ok)
	}
	if _, ok := r.GroupID("broken"); ok {
		t.Error("GroupID found a malformed line")
	}
	if id, ok := r.UserID("root"); !ok || id != 0 {
		t.Errorf("UserID(root) = %d, %v", id, ok)
	}
	if v, ok, err := r.PackageInstalled("sudo"); err != nil || !ok || v != "1.0-test" {
		t.Errorf("PackageInstalled(sudo) = %q, %v, %v", v, ok, err)
	}
	if _, ok, _ := r.PackageInstalled("removed-pkg"); ok {
		t.Error("a package with only config files counts as installed")
	}
	if _, _, err := NewRoot(t.TempDir()).PackageInstalled("sudo"); err == nil {
		t.Error("no error without a package database")
	}
}

func TestRootModeAndUnits(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/shadow", "", 0o640)
	tr.write("/lib/systemd/system/a.service", "", 0o644)
	tr.symlink("/lib/systemd/system/a.service", "/etc/systemd/system/multi-user.target.wants/a.service")
	tr.symlink("/lib/systemd/system/b.service", "/etc/systemd/system/multi-user.target.wants/b.service")
	tr.symlink("/dev/null", "/etc/systemd/system/b.service")
	r := tr.root()
	m, err := r.Mode("/etc/shadow")
	if err != nil || m.Perm != 0o640 {
		t.Errorf("Mode = %v, %v", m, err)
	}
	if os.Getuid() == 0 && (m.UID != 0 || m.GID != 0) {
		t.Errorf("owner %d:%d", m.UID, m.GID)
	}
	for _, tc := range []struct {
		unit string
		want bool
		ev   string
	}{
		{"a.service", true, "multi-user.target.wants"},
		{"b.service", false, "masked"},
		{"c.service", false, "not enabled"},
	} {
		ok, ev := r.UnitEnabled(tc.unit)
		if ok != tc.want || !strings.Contains(ev, tc.ev) {
			t.Errorf("UnitEnabled(%s) = %v, %q", tc.unit, ok, ev)
		}
	}
}

func TestKeyValues(t *testing.T) {
	data := "# comment\n; also\nPASS_MAX_DAYS\t365\nminlen = 14\n[Journal]\nStorage=persistent\nflag\nQuoted=\"a b\"\n"
	got := parseKV([]byte(data))
	want := []KV{
		{Key: "PASS_MAX_DAYS", Value: "365"}, {Key: "minlen", Value: "14"},
		{Section: "Journal", Key: "Storage", Value: "persistent"}, {Section: "Journal", Key: "flag"},
		{Section: "Journal", Key: "Quoted", Value: "a b"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseKV = %+v\nwant %+v", got, want)
	}
	if v, ok := lastValue(got, "Journal", "Storage"); !ok || v != "persistent" {
		t.Errorf("lastValue = %q, %v", v, ok)
	}
}
