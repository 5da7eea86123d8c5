package source

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/template"
)

func TestMmdebstrapArgs(t *testing.T) {
	// What every bootstrap passes, in order, before the suite.
	fixed := func(arch, include string) []string {
		return []string{
			"--mode=root", "--variant=apt", "--format=directory", "--skip=cleanup/apt/lists",
			"--architectures=" + arch,
			"--include=" + include,
			`--aptopt=Acquire::Retries "3"`,
			"--dpkgopt=path-exclude=/usr/share/doc/*",
			"--dpkgopt=path-include=/usr/share/doc/*/copyright",
			"--dpkgopt=path-exclude=/usr/share/man/*",
			"--dpkgopt=path-exclude=/usr/share/locale/*",
			"--dpkgopt=path-include=/usr/share/locale/locale.alias",
		}
	}
	tests := []struct {
		name           string
		suite, arch    string
		mirror, target string
		packages       []string
		want           []string
	}{
		{
			name: "Debian's own mirror", suite: "bookworm", arch: "amd64",
			mirror: "http://deb.debian.org/debian", target: "/cache/base/k.tmp/root",
			packages: []string{"ca-certificates", "sudo"},
			want: append(fixed("amd64", "ca-certificates,sudo"),
				"bookworm", "/cache/base/k.tmp/root",
				"deb http://deb.debian.org/debian bookworm main",
				"deb http://deb.debian.org/debian bookworm-updates main",
				"deb http://deb.debian.org/debian-security bookworm-security main"),
		},
		{
			name: "trailing slashes of the mirror are dropped", suite: "trixie", arch: "amd64",
			mirror: "https://deb.debian.org/debian//", target: "/t",
			packages: []string{"sudo"},
			want: append(fixed("amd64", "sudo"),
				"trixie", "/t",
				"deb https://deb.debian.org/debian trixie main",
				"deb https://deb.debian.org/debian trixie-updates main",
				"deb https://deb.debian.org/debian-security trixie-security main"),
		},
		{
			name: "caching proxy: the security archive is the sibling of /debian", suite: "bookworm", arch: "arm64",
			mirror: "http://127.0.0.1:3142/deb.debian.org/debian", target: "/root dir",
			packages: []string{"a", "b", "c"},
			want: append(fixed("arm64", "a,b,c"),
				"bookworm", "/root dir",
				"deb http://127.0.0.1:3142/deb.debian.org/debian bookworm main",
				"deb http://127.0.0.1:3142/deb.debian.org/debian bookworm-updates main",
				"deb http://127.0.0.1:3142/deb.debian.org/debian-security bookworm-security main"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MmdebstrapArgs(tc.suite, tc.arch, tc.mirror, tc.packages, tc.target)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MmdebstrapArgs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDebianSuite(t *testing.T) {
	tests := []struct {
		name, publisher, offer, sku string
		want                        string // the suite, or the error
		wantErr                     bool
	}{
		{"Debian 12", "Debian", "debian-12", "12", "bookworm", false},
		{"Debian 12 gen2", "Debian", "debian-12", "12-gen2", "bookworm", false},
		{"Debian 13", "Debian", "debian-13", "13", "trixie", false},
		{"Debian 13 gen2", "Debian", "debian-13", "13-gen2", "trixie", false},
		{"names in other letter case", "debian", "Debian-12", "12-GEN2", "bookworm", false},

		{"Canonical", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2",
			`unsupported source: publisher "Canonical" cannot be built locally; kiln builds PlatformImage publisher "Debian" (offers debian-12, debian-13), a DiskImage source (a qcow2, raw or VHD file with its sha256) or a SharedImageVersion from a gallery`, true},
		{"Windows Server", "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition",
			`unsupported source: publisher "MicrosoftWindowsServer" cannot be built locally; kiln builds PlatformImage publisher "Debian" (offers debian-12, debian-13), a DiskImage source (a qcow2, raw or VHD file with its sha256) or a SharedImageVersion from a gallery`, true},
		{"empty publisher", "", "debian-12", "12",
			`unsupported source: publisher "" cannot be built locally; kiln builds PlatformImage publisher "Debian" (offers debian-12, debian-13), a DiskImage source (a qcow2, raw or VHD file with its sha256) or a SharedImageVersion from a gallery`, true},
		{"old Debian offer", "Debian", "debian-11", "11",
			`unsupported source: offer "debian-11" of publisher Debian is not available; use one of debian-12, debian-13`, true},
		{"daily offer", "Debian", "debian-12-daily", "12",
			`unsupported source: offer "debian-12-daily" of publisher Debian is not available; use one of debian-12, debian-13`, true},
		{"arm64 sku", "Debian", "debian-12", "12-arm64",
			`unsupported source: sku "12-arm64" of offer debian-12 is not available; use one of 12, 12-gen2`, true},
		{"sku of the other offer", "Debian", "debian-13", "12",
			`unsupported source: sku "12" of offer debian-13 is not available; use one of 13, 13-gen2`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DebianSuite(template.Source{Type: template.SourcePlatformImage, Publisher: tc.publisher, Offer: tc.offer, Sku: tc.sku, Version: "latest"})
			if !tc.wantErr {
				if err != nil || got != tc.want {
					t.Errorf("DebianSuite = %q, %v; want %q, nil", got, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("DebianSuite = %q, %v; want error %q", got, err, tc.want)
			}
			if !errors.Is(err, ErrUnsupportedSource) {
				t.Error("error does not wrap ErrUnsupportedSource")
			}
		})
	}
}

func TestPackageSet(t *testing.T) {
	base := []string{"apt-utils", "ca-certificates", "dbus", "e2fsprogs", "iproute2", "kmod", "less",
		"linux-image-cloud-amd64", "netbase", "openssh-server", "procps", "sudo", "systemd-resolved", "systemd-sysv", "udev"}
	with := func(extra ...string) []string {
		out := append(slices.Clone(base), extra...)
		slices.Sort(out)
		return out
	}
	baseBefore := slices.Clone(BasePackages)
	tests := []struct {
		name  string
		extra []string
		want  []string
	}{
		{"no extras: the base packages, sorted", nil, base},
		{"extras are merged in order", []string{"vim", "curl"}, with("curl", "vim")},
		{"duplicate extras appear once", []string{"curl", "curl", "vim", "curl"}, with("curl", "vim")},
		{"extras already in the base appear once", []string{"sudo", "openssh-server", "jq"}, with("jq")},
		{"empty names are dropped", []string{"", "jq", ""}, with("jq")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, packageSet(tc.extra)); diff != "" {
				t.Errorf("packageSet(%q) (-want +got):\n%s", tc.extra, diff)
			}
		})
	}
	if diff := cmp.Diff(baseBefore, BasePackages); diff != "" {
		t.Errorf("packageSet changed BasePackages (-before +after):\n%s", diff)
	}
}

func TestCacheKey(t *testing.T) {
	pkgs := []string{"ca-certificates", "sudo"}
	key := cacheKey("bookworm", "amd64", "http://deb.debian.org/debian", pkgs)

	// The key names cached bases on disk: changing how it is computed
	// silently orphans every user's cache, so it is pinned here.
	if want := "a9f4ae5901ba32fdedc8"; key != want {
		t.Errorf("cacheKey = %q, want %q (if the change is deliberate, bump the version prefix and this value)", key, want)
	}
	if again := cacheKey("bookworm", "amd64", "http://deb.debian.org/debian", slices.Clone(pkgs)); again != key {
		t.Errorf("cacheKey is not stable: %q then %q", key, again)
	}

	tests := []struct {
		name                string
		suite, arch, mirror string
		packages            []string
	}{
		{"another suite", "trixie", "amd64", "http://deb.debian.org/debian", pkgs},
		{"another architecture", "bookworm", "arm64", "http://deb.debian.org/debian", pkgs},
		{"another mirror", "bookworm", "amd64", "http://mirror.internal/debian", pkgs},
		{"the mirror with a trailing slash", "bookworm", "amd64", "http://deb.debian.org/debian/", pkgs},
		{"one package more", "bookworm", "amd64", "http://deb.debian.org/debian", []string{"ca-certificates", "sudo", "vim"}},
		{"one package less", "bookworm", "amd64", "http://deb.debian.org/debian", []string{"sudo"}},
		{"no packages", "bookworm", "amd64", "http://deb.debian.org/debian", nil},
		{"fields shifted between arguments", "bookwor", "mamd64", "http://deb.debian.org/debian", pkgs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cacheKey(tc.suite, tc.arch, tc.mirror, tc.packages)
			if got == key {
				t.Errorf("cacheKey(%q, %q, %q, %q) = %q, the same as the reference key", tc.suite, tc.arch, tc.mirror, tc.packages, got)
			}
			if len(got) != 20 {
				t.Errorf("cacheKey length = %d, want 20", len(got))
			}
		})
	}
}
