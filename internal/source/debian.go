package source

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/template"
)

// BasePackages are installed into every Debian base: a kernel, systemd,
// networking, SSH and sudo, which is what a cloud image needs.
var BasePackages = []string{
	"linux-image-cloud-amd64", "systemd-sysv", "systemd-resolved", "udev", "dbus",
	"openssh-server", "sudo", "ca-certificates", "netbase", "iproute2",
	"procps", "less", "apt-utils", "e2fsprogs", "kmod",
}

// Debian bootstraps Debian bases with mmdebstrap and caches them.
type Debian struct {
	Runner   hostexec.Runner
	CacheDir string        // bases live in CacheDir/base/<key>/
	Mirror   string        // default archive URL
	MaxAge   time.Duration // reuse of a "latest" base
	Now      func() time.Time
}

// MmdebstrapArgs builds the mmdebstrap command line (a pure function).
func MmdebstrapArgs(suite, arch, mirror string, packages []string, target string) []string {
	mirror = strings.TrimRight(mirror, "/")
	security := strings.TrimSuffix(mirror, "/debian") + "/debian-security"
	args := []string{
		"--mode=root", "--variant=apt", "--format=directory", "--skip=cleanup/apt/lists",
		"--architectures=" + arch,
		"--include=" + strings.Join(packages, ","),
		"--aptopt=Acquire::Retries \"3\"",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-include=/usr/share/doc/*/copyright",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-include=/usr/share/locale/locale.alias",
		suite, target,
		fmt.Sprintf("deb %s %s main", mirror, suite),
		fmt.Sprintf("deb %s %s-updates main", mirror, suite),
		fmt.Sprintf("deb %s %s-security main", security, suite),
	}
	return args
}

// cacheKey identifies a base by suite, architecture, package set and archive.
func cacheKey(suite, arch, mirror string, packages []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "v3\n%s\n%s\n%s\n%s\n", suite, arch, mirror, strings.Join(packages, ","))
	return hex.EncodeToString(h.Sum(nil))[:20]
}

func packageSet(extra []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(append([]string{}, BasePackages...), extra...) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Resolve returns a cached base or bootstraps one.
func (d *Debian) Resolve(ctx context.Context, req Request, log Logger) (Base, error) {
	suite, err := DebianSuite(req.Source)
	if err != nil {
		return Base{}, err
	}
	mirror := d.Mirror
	if req.Mirror != "" {
		mirror = req.Mirror
	}
	pkgs := packageSet(req.Packages)
	key := cacheKey(suite, "amd64", mirror, pkgs)
	dir := filepath.Join(d.CacheDir, "base", key)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return Base{}, err
	}
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return Base{}, err
	}
	defer unlock()
	if base, ok := d.cached(dir, req, log); ok {
		return base, nil
	}
	if v := req.Source.Version; v != "" && !strings.EqualFold(v, "latest") {
		return Base{}, fmt.Errorf("%w: version %q of %s:%s:%s is not in the local cache; kiln bootstraps the current archive as version \"latest\" (each base gets an exactVersion you can pin later)",
			ErrUnsupportedSource, v, req.Source.Publisher, req.Source.Offer, req.Source.Sku)
	}
	return d.bootstrap(ctx, dir, suite, mirror, pkgs, req, log)
}

func (d *Debian) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// cached returns the cached base in dir if it satisfies req.
func (d *Debian) cached(dir string, req Request, log Logger) (Base, bool) {
	b, err := readBaseMeta(dir)
	if err != nil {
		return Base{}, false
	}
	v := req.Source.Version
	if v != "" && !strings.EqualFold(v, "latest") {
		if v != b.Source.ExactVersion {
			return Base{}, false
		}
	} else {
		created, _ := time.Parse(time.RFC3339, b.CreatedAt)
		if req.Refresh || d.now().Sub(created) > d.MaxAge {
			log.Printf("cached base %s (exactVersion %s) is older than %s; bootstrapping a fresh one", filepath.Base(dir), b.Source.ExactVersion, d.MaxAge)
			return Base{}, false
		}
	}
	b.Dir, b.Cached = filepath.Join(dir, "root"), true
	b.Source.Version = req.Source.Version
	log.Printf("using cached base %s (exactVersion %s, bootstrapped %s)", filepath.Base(dir), b.Source.ExactVersion, b.CreatedAt)
	return b, true
}

func readBaseMeta(dir string) (Base, error) {
	data, err := os.ReadFile(filepath.Join(dir, "base.json"))
	if err != nil {
		return Base{}, err
	}
	var b Base
	if err := json.Unmarshal(data, &b); err != nil {
		return Base{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, "root", "etc", "os-release")); err != nil {
		return Base{}, err
	}
	return b, nil
}

func (d *Debian) bootstrap(ctx context.Context, dir, suite, mirror string, pkgs []string, req Request, log Logger) (Base, error) {
	if missing := hostexec.Missing("mmdebstrap"); len(missing) > 0 {
		return Base{}, fmt.Errorf("mmdebstrap is not installed; install it with: apt-get install -y mmdebstrap (kiln doctor lists everything a build needs)")
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return Base{}, fmt.Errorf("remove stale %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return Base{}, err
	}
	root := filepath.Join(tmp, "root")
	started := d.now()
	log.Printf("bootstrapping Debian %s from %s with mmdebstrap (%d packages requested)", suite, mirror, len(pkgs))
	w := logWriter{log}
	_, err := d.Runner.Run(ctx, hostexec.Command{Name: "mmdebstrap", Args: MmdebstrapArgs(suite, "amd64", mirror, pkgs, root), Stdout: w, Stderr: w})
	if err != nil {
		os.RemoveAll(tmp)
		return Base{}, fmt.Errorf("mmdebstrap %s: %w (is %s reachable? set build.mirror in kiln.yaml or KILN_MIRROR to use another archive)", suite, err, mirror)
	}
	if err := ConfigureTree(ctx, d.Runner, root); err != nil {
		os.RemoveAll(tmp)
		return Base{}, fmt.Errorf("configure base tree: %w", err)
	}
	b := Base{
		Source: req.Source, Suite: suite, Arch: "amd64", Mirror: mirror, Packages: pkgs,
		ArchiveState: releaseDates(root), OSVersion: OSRelease(root),
		Digest: "debian:" + filepath.Base(dir), CreatedAt: started.UTC().Format(time.RFC3339),
	}
	b.Source.ExactVersion = fmt.Sprintf("0.%s.%d", started.UTC().Format("20060102"), started.UTC().Hour()*100+started.UTC().Minute())
	meta, _ := json.MarshalIndent(b, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "base.json"), meta, 0o600); err != nil {
		os.RemoveAll(tmp)
		return Base{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return Base{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Base{}, fmt.Errorf("publish cached base: %w", err)
	}
	log.Printf("bootstrapped %s (exactVersion %s) in %s", b.OSVersion, b.Source.ExactVersion, d.now().Sub(started).Round(time.Millisecond))
	b.Dir = filepath.Join(dir, "root")
	return b, nil
}

// releaseDates reads the Date of each suite's Release file from apt's lists.
func releaseDates(root string) map[string]string {
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(root, "var/lib/apt/lists/*Release"))
	for _, f := range files {
		suite, date := "", ""
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		armourHeader := false // InRelease is clear-signed: skip "Hash: ..." up to its blank line
		for sc.Scan() {
			line := sc.Text()
			if line == "-----BEGIN PGP SIGNED MESSAGE-----" {
				armourHeader = true
				continue
			}
			if armourHeader {
				armourHeader = line != ""
				continue
			}
			if v, ok := strings.CutPrefix(line, "Suite: "); ok {
				suite = v
			}
			if v, ok := strings.CutPrefix(line, "Codename: "); ok && suite == "" {
				suite = v
			}
			if v, ok := strings.CutPrefix(line, "Date: "); ok {
				date = v
			}
			if line == "" || strings.HasPrefix(line, "-----BEGIN PGP SIGNATURE") {
				break
			}
		}
		fh.Close()
		if suite != "" && date != "" {
			out[suite+"@"+filepath.Base(f)] = date
		}
	}
	return out
}

// OSRelease returns PRETTY_NAME from the tree's os-release.
func OSRelease(root string) string {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				return strings.Trim(v, `"`)
			}
		}
	}
	return ""
}

// lockFile takes an exclusive flock, waiting until ctx is done.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logWriter turns written bytes into log lines.
type logWriter struct{ log Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			w.log.Printf("%s", line)
		}
	}
	return len(p), nil
}

var _ Resolver = (*Debian)(nil)
var _ = template.SourcePlatformImage
