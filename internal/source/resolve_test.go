package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/template"
)

const (
	testMirror = "http://deb.example/debian"
	bookworm   = "Debian GNU/Linux 12 (bookworm)"
)

// cachedAt is when the fixture base in the cache was bootstrapped.
var cachedAt = time.Date(2025, 3, 1, 11, 30, 0, 0, time.UTC)

// lines is a Logger that keeps what it is told.
type lines []string

func (l *lines) Printf(format string, args ...any) { *l = append(*l, fmt.Sprintf(format, args...)) }

func (l lines) contains(s string) bool {
	return slices.ContainsFunc(l, func(line string) bool { return strings.Contains(line, s) })
}

// fakeHost stands in for mmdebstrap and systemctl. Its mmdebstrap writes
// what a real bootstrap leaves behind that kiln reads: os-release and
// apt's InRelease files.
type fakeHost struct {
	calls         []hostexec.Command
	mmdebstrapErr error
	systemctlErr  error
}

func (f *fakeHost) Run(_ context.Context, cmd hostexec.Command) (hostexec.Result, error) {
	f.calls = append(f.calls, cmd)
	switch cmd.Name {
	case "mmdebstrap":
		if f.mmdebstrapErr != nil {
			return hostexec.Result{ExitCode: 1}, f.mmdebstrapErr
		}
		target := cmd.Args[len(cmd.Args)-4] // suite, target, then three sources
		for name, content := range map[string]string{
			"etc/os-release": `PRETTY_NAME="` + bookworm + `"` + "\nID=debian\n",
			"var/lib/apt/lists/deb.example_debian_dists_bookworm_InRelease": inRelease("stable", "bookworm", "Sat, 01 Mar 2025 09:00:00 UTC"),
		} {
			p := filepath.Join(target, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return hostexec.Result{}, err
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return hostexec.Result{}, err
			}
		}
		fmt.Fprintln(cmd.Stdout, "I: fake mmdebstrap: success")
		return hostexec.Result{}, nil
	case "systemctl":
		return hostexec.Result{}, f.systemctlErr
	}
	return hostexec.Result{ExitCode: 127}, fmt.Errorf("unexpected command %s", cmd)
}

// argv lists the calls as name + arguments.
func (f *fakeHost) argv() [][]string {
	var out [][]string
	for _, c := range f.calls {
		out = append(out, append([]string{c.Name}, c.Args...))
	}
	return out
}

// stubMmdebstrapOnPath satisfies bootstrap's check that mmdebstrap is
// installed, whatever the host has; the fake runner is what runs.
func stubMmdebstrapOnPath(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "mmdebstrap"), []byte("#!/bin/sh\nexit 99\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func debian12(version string) template.Source {
	return template.Source{Type: template.SourcePlatformImage, Publisher: "Debian", Offer: "debian-12", Sku: "12-gen2", Version: version}
}

// cachedBase is the fixture base.json of a base bootstrapped at cachedAt
// with the given extra packages.
func cachedBase(extra []string) Base {
	pkgs := packageSet(extra)
	src := debian12("latest")
	src.ExactVersion = "0.20250301.1130"
	return Base{
		Source: src, Suite: "bookworm", Arch: "amd64", Mirror: testMirror,
		ArchiveState: map[string]string{"stable@deb.example_debian_dists_bookworm_InRelease": "Sat, 01 Mar 2025 09:00:00 UTC"},
		Packages:     pkgs, Digest: "debian:" + cacheKey("bookworm", "amd64", testMirror, pkgs),
		OSVersion: bookworm, CreatedAt: cachedAt.Format(time.RFC3339),
	}
}

// writeCachedBase puts b into the cache as a bootstrap would have, with a
// marker file in its root, and returns the base's directory.
func writeCachedBase(t *testing.T, cacheDir string, b Base) string {
	t.Helper()
	dir := filepath.Join(cacheDir, "base", cacheKey(b.Suite, b.Arch, b.Mirror, b.Packages))
	writeTree(t, filepath.Join(dir, "root"), map[string]string{
		"etc/os-release": `PRETTY_NAME="` + b.OSVersion + `"` + "\n",
		"old-marker":     "from the cached base\n",
	})
	meta, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"base.json": string(meta)})
	return dir
}

func newDebian(cacheDir string, host hostexec.Runner, now time.Time) *Debian {
	return &Debian{Runner: host, CacheDir: cacheDir, Mirror: testMirror, MaxAge: 24 * time.Hour,
		Now: func() time.Time { return now }}
}

func TestResolveReusesCache(t *testing.T) {
	tests := []struct {
		name    string
		version string
		age     time.Duration
	}{
		{"latest within MaxAge", "latest", time.Hour},
		{"latest exactly MaxAge old", "latest", 24 * time.Hour},
		{"latest in another letter case", "Latest", time.Hour},
		{"empty version means latest", "", time.Hour},
		{"pinned exactVersion, however old", "0.20250301.1130", 90 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			fixture := cachedBase(nil)
			dir := writeCachedBase(t, cache, fixture)
			host := &fakeHost{}
			var log lines
			d := newDebian(cache, host, cachedAt.Add(tc.age))

			got, err := d.Resolve(t.Context(), Request{Source: debian12(tc.version)}, &log)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			want := fixture
			want.Dir, want.Cached, want.Source.Version = filepath.Join(dir, "root"), true, tc.version
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
			if len(host.calls) != 0 {
				t.Errorf("a cached base ran host commands: %q", host.argv())
			}
			wantLog := fmt.Sprintf("using cached base %s (exactVersion 0.20250301.1130, bootstrapped 2025-03-01T11:30:00Z)", filepath.Base(dir))
			if !log.contains(wantLog) {
				t.Errorf("log %q lacks %q", log, wantLog)
			}
		})
	}
}

// The cache key is the package set, not the request's spelling of it.
func TestResolveSharesCacheAcrossPackageOrder(t *testing.T) {
	cache := t.TempDir()
	writeCachedBase(t, cache, cachedBase([]string{"vim", "curl"}))
	host := &fakeHost{}
	got, err := newDebian(cache, host, cachedAt.Add(time.Hour)).Resolve(t.Context(),
		Request{Source: debian12("latest"), Packages: []string{"curl", "sudo", "vim", "curl"}}, &lines{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cached || len(host.calls) != 0 {
		t.Errorf("Cached = %v with host calls %q; want the cached base for {curl, vim}", got.Cached, host.argv())
	}
}

func TestResolveBootstraps(t *testing.T) {
	tests := []struct {
		name    string
		seed    bool // a cached base from cachedAt exists
		now     time.Time
		req     Request
		mirror  string // the archive the bootstrap must use
		version string // the exactVersion it must get
	}{
		{"latest older than MaxAge", true, cachedAt.Add(25 * time.Hour), Request{Source: debian12("latest")},
			testMirror, "0.20250302.1230"},
		{"Refresh ignores a fresh cache", true, cachedAt.Add(time.Minute), Request{Source: debian12("latest"), Refresh: true},
			testMirror, "0.20250301.1131"},
		{"empty cache", false, time.Date(2025, 3, 1, 9, 5, 0, 0, time.UTC), Request{Source: debian12("")},
			testMirror, "0.20250301.905"},
		{"another mirror is another cache entry", true, cachedAt.Add(time.Hour), Request{Source: debian12("latest"), Mirror: "http://other.example/debian"},
			"http://other.example/debian", "0.20250301.1230"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stubMmdebstrapOnPath(t)
			cache := t.TempDir()
			var seeded string
			if tc.seed {
				seeded = writeCachedBase(t, cache, cachedBase(nil))
			}
			host := &fakeHost{}
			var log lines
			d := newDebian(cache, host, tc.now)

			got, err := d.Resolve(t.Context(), tc.req, &log)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}

			pkgs := packageSet(nil)
			dir := filepath.Join(cache, "base", cacheKey("bookworm", "amd64", tc.mirror, pkgs))
			root := filepath.Join(dir+".tmp", "root") // built aside, then renamed into place
			wantCalls := [][]string{
				append([]string{"mmdebstrap"}, MmdebstrapArgs("bookworm", "amd64", tc.mirror, pkgs, root)...),
				append([]string{"systemctl"}, SystemctlEnableArgs(root,
					"systemd-networkd.service", "systemd-resolved.service", "kiln-ssh-hostkeys.service", "kiln-ssh-hostkey-rsa.service", "kiln-ready.service", "ssh.service")...),
			}
			if diff := cmp.Diff(wantCalls, host.argv()); diff != "" {
				t.Errorf("host commands (-want +got):\n%s", diff)
			}

			wantSrc := tc.req.Source
			wantSrc.ExactVersion = tc.version
			want := Base{
				Dir: filepath.Join(dir, "root"), Source: wantSrc, Suite: "bookworm", Arch: "amd64", Mirror: tc.mirror,
				ArchiveState: map[string]string{"stable@deb.example_debian_dists_bookworm_InRelease": "Sat, 01 Mar 2025 09:00:00 UTC"},
				Packages:     pkgs, Digest: "debian:" + filepath.Base(dir), OSVersion: bookworm,
				CreatedAt: tc.now.Format(time.RFC3339), Cached: false,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}

			// base.json records the same base for later runs.
			meta, err := readBaseMeta(dir)
			if err != nil {
				t.Fatalf("reading the new base.json: %v", err)
			}
			want.Dir = ""
			if diff := cmp.Diff(want, meta); diff != "" {
				t.Errorf("base.json (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(dir + ".tmp"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the staging directory is still there: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "root", "etc", "hostname")); err != nil {
				t.Errorf("the base was not configured: %v", err)
			}
			if seeded == dir {
				if _, err := os.Stat(filepath.Join(dir, "root", "old-marker")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the stale base's files survived the refresh: %v", err)
				}
			} else if seeded != "" {
				if _, err := os.Stat(filepath.Join(seeded, "root", "old-marker")); err != nil {
					t.Errorf("the other mirror's base was touched: %v", err)
				}
			}
			if !log.contains("I: fake mmdebstrap: success") {
				t.Errorf("mmdebstrap's output is not in the log: %q", log)
			}

			// Right away, the same request is served from the cache.
			host.calls = nil
			again, err := d.Resolve(t.Context(), Request{Source: tc.req.Source, Mirror: tc.req.Mirror}, &lines{})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Cached || again.Source.ExactVersion != tc.version || len(host.calls) != 0 {
				t.Errorf("second Resolve: Cached %v, exactVersion %q, host calls %q; want the new base from the cache",
					again.Cached, again.Source.ExactVersion, host.argv())
			}
		})
	}
}

func TestResolveStaleLogsWhy(t *testing.T) {
	stubMmdebstrapOnPath(t)
	cache := t.TempDir()
	dir := writeCachedBase(t, cache, cachedBase(nil))
	var log lines
	if _, err := newDebian(cache, &fakeHost{}, cachedAt.Add(48*time.Hour)).Resolve(t.Context(), Request{Source: debian12("latest")}, &log); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("cached base %s (exactVersion 0.20250301.1130) is older than 24h0m0s; bootstrapping a fresh one", filepath.Base(dir))
	if !log.contains(want) {
		t.Errorf("log %q lacks %q", log, want)
	}
}

func TestResolveFailures(t *testing.T) {
	notCached := func(v string) string {
		return `unsupported source: version "` + v + `" of Debian:debian-12:12-gen2 is not in the local cache; ` +
			`kiln bootstraps the current archive as version "latest" (each base gets an exactVersion you can pin later)`
	}
	tests := []struct {
		name    string
		seed    bool
		host    *fakeHost
		src     template.Source
		want    string
		wantIs  error
		noCache bool // nothing may be created in the cache directory
	}{
		{name: "pinned version not in the cache", seed: true, host: &fakeHost{},
			src: debian12("0.20240101.100"), want: notCached("0.20240101.100"), wantIs: ErrUnsupportedSource},
		{name: "pinned version with an empty cache", host: &fakeHost{},
			src: debian12("0.20250301.1130"), want: notCached("0.20250301.1130"), wantIs: ErrUnsupportedSource},
		{name: "unsupported publisher", host: &fakeHost{}, noCache: true,
			src: template.Source{Type: template.SourcePlatformImage, Publisher: "Canonical", Offer: "ubuntu-24_04-lts", Sku: "server", Version: "latest"},
			want: `unsupported source: publisher "Canonical" cannot be built locally; kiln builds PlatformImage publisher "Debian" (offers debian-12, debian-13), ` +
				`a DiskImage source (a qcow2, raw or VHD file with its sha256) or a SharedImageVersion from a gallery`, wantIs: ErrUnsupportedSource},
		{name: "mmdebstrap fails", seed: true, host: &fakeHost{mmdebstrapErr: errors.New("mmdebstrap: exit status 1")},
			src: debian12("latest"), want: "mmdebstrap bookworm: mmdebstrap: exit status 1 (is " + testMirror +
				" reachable? set build.mirror in kiln.yaml or KILN_MIRROR to use another archive)"},
		{name: "configuring the tree fails", seed: true, host: &fakeHost{systemctlErr: errors.New("systemctl: exit status 1")},
			src: debian12("latest"), want: "configure base tree: enable base services: systemctl: exit status 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stubMmdebstrapOnPath(t)
			cache := t.TempDir()
			var seeded []byte
			var dir string
			if tc.seed {
				dir = writeCachedBase(t, cache, cachedBase(nil))
				seeded, _ = os.ReadFile(filepath.Join(dir, "base.json"))
			}
			// Stale, so that "latest" wants a bootstrap.
			d := newDebian(cache, tc.host, cachedAt.Add(30*time.Hour))
			_, err := d.Resolve(t.Context(), Request{Source: tc.src}, &lines{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Resolve error = %v, want %q", err, tc.want)
			}
			if tc.wantIs != nil {
				if !errors.Is(err, tc.wantIs) {
					t.Errorf("error does not wrap %v", tc.wantIs)
				}
				if len(tc.host.calls) != 0 {
					t.Errorf("host commands ran: %q", tc.host.argv())
				}
			}
			if tc.noCache {
				if entries, _ := os.ReadDir(cache); len(entries) != 0 {
					t.Errorf("the cache directory holds %d entries, want none", len(entries))
				}
			}
			if dir != "" {
				// A failed bootstrap leaves the previous base as it was and no staging directory.
				if now, _ := os.ReadFile(filepath.Join(dir, "base.json")); string(now) != string(seeded) {
					t.Errorf("base.json changed:\n%s", now)
				}
				if _, err := os.Stat(filepath.Join(dir, "root", "old-marker")); err != nil {
					t.Errorf("the previous base's root was touched: %v", err)
				}
				if _, err := os.Stat(dir + ".tmp"); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the staging directory was left behind: %v", err)
				}
			}
		})
	}
}

func TestResolveWithoutMmdebstrap(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if missing := hostexec.Missing("mmdebstrap"); len(missing) == 0 {
		t.Skip("mmdebstrap is in an sbin directory on this host, which is searched whatever PATH says")
	}
	host := &fakeHost{}
	_, err := newDebian(t.TempDir(), host, cachedAt).Resolve(t.Context(), Request{Source: debian12("latest")}, &lines{})
	want := "mmdebstrap is not installed; install it with: apt-get install -y mmdebstrap (kiln doctor lists everything a build needs)"
	if err == nil || err.Error() != want {
		t.Errorf("Resolve error = %v, want %q", err, want)
	}
	if len(host.calls) != 0 {
		t.Errorf("host commands ran: %q", host.argv())
	}
}
