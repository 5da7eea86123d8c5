package source

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// writeTree creates files (path relative to root → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// inRelease is a signed InRelease file as apt keeps it in
// /var/lib/apt/lists: the fields come after the armour header.
func inRelease(suite, codename, date string) string {
	return "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" +
		"Origin: Debian\nLabel: Debian\nSuite: " + suite + "\nVersion: 12.9\nCodename: " + codename + "\n" +
		"Changelogs: https://metadata.ftp-master.debian.org/changelogs/@CHANGEPATH@_changelog\n" +
		"Date: " + date + "\nAcquire-By-Hash: yes\nNo-Support-for-Architecture-all: Packages\n" +
		"Architectures: all amd64 arm64\nComponents: main contrib non-free-firmware non-free\n" +
		"Description: Debian 12.9 Released 11 January 2025\nSHA256:\n" +
		" 0ed6d4c8891eb86358b94bb35d9e4da4eb5b6fb5c2d0b2d7a6a0c9d1e1f2a3b4   1484 contrib/Contents-all\n" +
		"-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n"
}

func TestReleaseDates(t *testing.T) {
	const lists = "var/lib/apt/lists/"
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]string
	}{
		{"no apt lists", nil, map[string]string{}},
		{
			"signed InRelease files, as mmdebstrap leaves them",
			map[string]string{
				lists + "deb.debian.org_debian_dists_bookworm_InRelease":         inRelease("stable", "bookworm", "Sat, 11 Jan 2025 10:50:39 UTC"),
				lists + "deb.debian.org_debian_dists_bookworm-updates_InRelease": inRelease("stable-updates", "bookworm-updates", "Fri, 28 Feb 2025 20:14:11 UTC"),
			},
			map[string]string{
				"stable@deb.debian.org_debian_dists_bookworm_InRelease":                 "Sat, 11 Jan 2025 10:50:39 UTC",
				"stable-updates@deb.debian.org_debian_dists_bookworm-updates_InRelease": "Fri, 28 Feb 2025 20:14:11 UTC",
			},
		},
		{
			"unsigned Release file",
			map[string]string{lists + "mirror_debian_dists_trixie_Release": "Origin: Debian\nSuite: testing\nCodename: trixie\nDate: Sun, 02 Mar 2025 08:00:00 UTC\n"},
			map[string]string{"testing@mirror_debian_dists_trixie_Release": "Sun, 02 Mar 2025 08:00:00 UTC"},
		},
		{
			"Codename stands in for a missing Suite",
			map[string]string{lists + "m_dists_x_Release": "Codename: bookworm\nDate: Mon, 03 Mar 2025 00:00:00 UTC\n"},
			map[string]string{"bookworm@m_dists_x_Release": "Mon, 03 Mar 2025 00:00:00 UTC"},
		},
		{
			"files without a Date or a suite are left out",
			map[string]string{
				lists + "a_Release": "Suite: stable\nCodename: bookworm\n",
				lists + "b_Release": "Origin: Debian\nDate: Mon, 03 Mar 2025 00:00:00 UTC\n",
			},
			map[string]string{},
		},
		{
			"package indexes and other files are not read",
			map[string]string{
				lists + "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages": "Package: sudo\nSuite: nope\nDate: nope\n",
				lists + "lock":    "",
				"etc/apt/Release": "Suite: elsewhere\nDate: nope\n",
			},
			map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			if diff := cmp.Diff(tc.want, releaseDates(root)); diff != "" {
				t.Errorf("releaseDates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOSRelease(t *testing.T) {
	const bookworm = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"
	tests := []struct {
		name    string
		files   map[string]string
		symlink bool // etc/os-release -> ../usr/lib/os-release, as on Debian
		want    string
	}{
		{"etc/os-release", map[string]string{"etc/os-release": bookworm}, false, "Debian GNU/Linux 12 (bookworm)"},
		{"usr/lib/os-release only", map[string]string{"usr/lib/os-release": bookworm}, false, "Debian GNU/Linux 12 (bookworm)"},
		{"Debian's relative symlink", map[string]string{"usr/lib/os-release": bookworm}, true, "Debian GNU/Linux 12 (bookworm)"},
		{"etc wins over usr/lib", map[string]string{
			"etc/os-release":     "PRETTY_NAME=\"Local Build\"\n",
			"usr/lib/os-release": bookworm,
		}, false, "Local Build"},
		{"etc without PRETTY_NAME falls back to usr/lib", map[string]string{
			"etc/os-release":     "NAME=x\n",
			"usr/lib/os-release": bookworm,
		}, false, "Debian GNU/Linux 12 (bookworm)"},
		{"unquoted value", map[string]string{"etc/os-release": "PRETTY_NAME=Alpine\n"}, false, "Alpine"},
		{"PRETTY_NAME not first", map[string]string{"etc/os-release": "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n"}, false, "Debian GNU/Linux trixie/sid"},
		{"no os-release", nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			if tc.symlink {
				if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release")); err != nil {
					t.Fatal(err)
				}
			}
			if got := OSRelease(root); got != tc.want {
				t.Errorf("OSRelease = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSystemctlEnableArgs(t *testing.T) {
	tests := []struct {
		name  string
		root  string
		units []string
		want  []string
	}{
		{"no units", "/r", nil, []string{"--root=/r", "--quiet", "enable"}},
		{"one unit", "/r", []string{"ssh.service"}, []string{"--root=/r", "--quiet", "enable", "ssh.service"}},
		{"several units in order", "/tmp/x/root", []string{"b.service", "a.timer"},
			[]string{"--root=/tmp/x/root", "--quiet", "enable", "b.service", "a.timer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, SystemctlEnableArgs(tc.root, tc.units...)); diff != "" {
				t.Errorf("SystemctlEnableArgs (-want +got):\n%s", diff)
			}
		})
	}
}

// recorder is a hostexec.Runner that records commands and answers with err.
type recorder struct {
	calls []hostexec.Command
	err   error
}

func (r *recorder) Run(_ context.Context, cmd hostexec.Command) (hostexec.Result, error) {
	r.calls = append(r.calls, cmd)
	return hostexec.Result{}, r.err
}

func TestConfigureTree(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root") // ConfigureTree creates what it needs
	rec := &recorder{}
	if err := ConfigureTree(t.Context(), rec, root); err != nil {
		t.Fatalf("ConfigureTree: %v", err)
	}

	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", p, info.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		got[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"etc/hostname", "etc/hosts", "etc/systemd/network/90-kiln-dhcp.network",
		"etc/systemd/system/kiln-ready.service", "etc/systemd/system/kiln-ssh-hostkey-rsa.service", "etc/systemd/system/kiln-ssh-hostkeys.service",
	}
	if diff := cmp.Diff(wantFiles, slices.Sorted(maps.Keys(got))); diff != "" {
		t.Errorf("files written (-want +got):\n%s", diff)
	}
	exact := map[string]string{
		"etc/hostname": "debian\n",
		"etc/hosts":    "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"etc/systemd/network/90-kiln-dhcp.network": "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n",
	}
	for name, want := range exact {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	contains := map[string][]string{
		"etc/systemd/system/kiln-ready.service": {
			"After=ssh.service systemd-user-sessions.service",
			`ExecStart=/bin/sh -c 'echo "` + ReadyMarker + ` $(cat /proc/sys/kernel/random/boot_id)" > /dev/ttyS0'`,
			"WantedBy=multi-user.target",
		},
		"etc/systemd/system/kiln-ssh-hostkeys.service": {
			"ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key",
			"Before=ssh.service",
			`ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key`,
			"WantedBy=multi-user.target",
		},
		// RSA keys take seconds to make: after sshd, which then reloads.
		"etc/systemd/system/kiln-ssh-hostkey-rsa.service": {
			"ConditionPathExists=!/etc/ssh/ssh_host_rsa_key",
			"After=ssh.service",
			`ExecStart=/usr/bin/ssh-keygen -q -t rsa -b 3072 -N "" -f /etc/ssh/ssh_host_rsa_key`,
			"ExecStartPost=-/bin/systemctl reload --no-block ssh.service",
			"WantedBy=multi-user.target",
		},
	}
	for name, lines := range contains {
		for _, line := range lines {
			if !strings.Contains(got[name], line+"\n") {
				t.Errorf("%s lacks the line %q:\n%s", name, line, got[name])
			}
		}
	}

	// One offline systemctl enable of the base units.
	if len(rec.calls) != 1 {
		t.Fatalf("runner calls = %d, want 1: %v", len(rec.calls), rec.calls)
	}
	if rec.calls[0].Name != "systemctl" {
		t.Errorf("ran %q, want systemctl", rec.calls[0].Name)
	}
	wantArgs := []string{"--root=" + root, "--quiet", "enable",
		"systemd-networkd.service", "systemd-resolved.service", "kiln-ssh-hostkeys.service", "kiln-ssh-hostkey-rsa.service", "kiln-ready.service", "ssh.service"}
	if diff := cmp.Diff(wantArgs, rec.calls[0].Args); diff != "" {
		t.Errorf("systemctl args (-want +got):\n%s", diff)
	}
}

func TestConfigureTreeReportsSystemctlFailure(t *testing.T) {
	boom := errors.New("systemctl: exit status 1")
	err := ConfigureTree(t.Context(), &recorder{err: boom}, t.TempDir())
	if want := "enable base services: systemctl: exit status 1"; err == nil || err.Error() != want {
		t.Errorf("ConfigureTree = %v, want %q", err, want)
	}
	if !errors.Is(err, boom) {
		t.Error("error does not wrap the runner's error")
	}
}
