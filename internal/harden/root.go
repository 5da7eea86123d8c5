package harden

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// maxFileSize bounds what Root.ReadFile reads: configuration files are small,
// and a hostile image must not make the scanner read gigabytes.
const maxFileSize = 32 << 20

// maxLinks bounds symlink hops while resolving one path, as the kernel does.
const maxLinks = 40

// Root is an image's root tree seen from the host. Every path given to its
// methods is a path inside the image ("/etc/passwd"); symlinks are resolved
// inside the tree, so an absolute link in the image points into the image,
// never at the host.
type Root struct {
	dir   string
	cache *rootCache
	// squash reports files owned by the current user as owned by root, so
	// fixture trees built without privileges look like real images.
	squash bool
}

type rootCache struct {
	mu   sync.Mutex
	pkgs map[string]string // package -> version, for installed packages
	err  error
	done bool
}

// NewRoot returns a Root for the tree at dir.
func NewRoot(dir string) Root {
	return Root{dir: dir, cache: &rootCache{}}
}

// Dir is the host path of the tree.
func (r Root) Dir() string { return r.dir }

// Resolve returns the host path of name, following symlinks inside the tree.
// A missing final component is not an error: the returned path then names
// where it would be.
func (r Root) Resolve(name string) (string, error) {
	return r.resolve(name, true)
}

func (r Root) resolve(name string, followLast bool) (string, error) {
	if r.dir == "" {
		return "", errors.New("root tree: no directory given")
	}
	rest := splitPath(name)
	var cur []string
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		if c == ".." {
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			continue
		}
		next := append(append([]string(nil), cur...), c)
		if len(rest) == 0 && !followLast {
			cur = next
			break
		}
		host := filepath.Join(append([]string{r.dir}, next...)...)
		fi, err := os.Lstat(host)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		hops++
		if hops > maxLinks {
			return "", fmt.Errorf("resolve %s in the image: too many levels of symbolic links", name)
		}
		target, err := os.Readlink(host)
		if err != nil {
			return "", fmt.Errorf("resolve %s in the image: %w", name, err)
		}
		if strings.HasPrefix(target, "/") {
			cur = nil
		}
		rest = append(splitPath(target), rest...)
	}
	return filepath.Join(append([]string{r.dir}, cur...)...), nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// ReadFile reads a file of the image.
func (r Root) ReadFile(name string) ([]byte, error) {
	host, err := r.Resolve(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(host)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, unwrapPathError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, unwrapPathError(err))
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, maxFileSize)
	}
	return data, nil
}

// unwrapPathError drops the host path from an error so evidence names only
// paths inside the image.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Stat describes a file of the image, following symlinks.
func (r Root) Stat(name string) (fs.FileInfo, error) {
	host, err := r.Resolve(name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(host)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, unwrapPathError(err))
	}
	return fi, nil
}

// Lstat describes a file of the image without following a final symlink.
func (r Root) Lstat(name string) (fs.FileInfo, error) {
	host, err := r.resolve(name, false)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(host)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, unwrapPathError(err))
	}
	return fi, nil
}

// Readlink returns the target of a symlink of the image, as written.
func (r Root) Readlink(name string) (string, error) {
	host, err := r.resolve(name, false)
	if err != nil {
		return "", err
	}
	t, err := os.Readlink(host)
	if err != nil {
		return "", fmt.Errorf("readlink %s: %w", name, unwrapPathError(err))
	}
	return t, nil
}

// Exists reports whether name exists in the image (after symlinks).
func (r Root) Exists(name string) bool {
	_, err := r.Stat(name)
	return err == nil
}

// FileMode is the permission and ownership of one file.
type FileMode struct {
	Perm     fs.FileMode
	UID, GID int
	IsDir    bool
}

func (m FileMode) String() string {
	return fmt.Sprintf("%04o %d:%d", uint32(m.Perm), m.UID, m.GID)
}

// Mode returns the permission bits and owner of name (after symlinks).
func (r Root) Mode(name string) (FileMode, error) {
	fi, err := r.Stat(name)
	if err != nil {
		return FileMode{}, err
	}
	m := FileMode{Perm: fi.Mode().Perm() | fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), IsDir: fi.IsDir()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		m.UID, m.GID = int(st.Uid), int(st.Gid)
	}
	if r.squash {
		if m.UID == os.Getuid() {
			m.UID = 0
		}
		if m.GID == os.Getgid() {
			m.GID = 0
		}
	}
	return m, nil
}

// Glob returns the paths inside the image matching pattern (path.Match
// syntax in any component), sorted. Symlinked directories are followed.
func (r Root) Glob(pattern string) ([]string, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Errorf("glob %q: pattern must be an absolute path inside the image", pattern)
	}
	matches := []string{"/"}
	for _, c := range splitPath(pattern) {
		var next []string
		for _, m := range matches {
			found, err := r.globOne(m, c)
			if err != nil {
				return nil, fmt.Errorf("glob %q: %w", pattern, err)
			}
			next = append(next, found...)
		}
		matches = next
		if len(matches) == 0 {
			return nil, nil
		}
	}
	sort.Strings(matches)
	return matches, nil
}

func (r Root) globOne(dir, comp string) ([]string, error) {
	if !hasMeta(comp) {
		p := path.Join(dir, comp)
		if _, err := r.Lstat(p); err != nil {
			return nil, nil
		}
		return []string{p}, nil
	}
	if _, err := path.Match(comp, ""); err != nil {
		return nil, err
	}
	host, err := r.Resolve(dir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(host)
	if err != nil {
		return nil, nil
	}
	var out []string
	for _, e := range ents {
		if ok, _ := path.Match(comp, e.Name()); ok {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[\\") }

// Lines returns the lines of a file with comments ('#' to the end of a line
// that starts with it) and blank lines removed, each trimmed.
func (r Root) Lines(name string) ([]string, error) {
	data, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return contentLines(data), nil
}

func contentLines(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxFileSize)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// KV is one key/value line of a configuration file.
type KV struct {
	Section string // INI section ("Journal"), empty outside any
	Key     string
	Value   string
}

// KeyValues parses a file of "key value", "key=value" or "key = value"
// lines (login.defs, pwquality.conf, journald.conf, sysctl.conf), with
// '#' and ';' comments and optional [Section] headers.
func (r Root) KeyValues(name string) ([]KV, error) {
	data, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseKV(data), nil
}

func parseKV(data []byte) []KV {
	var out []KV
	section := ""
	for _, l := range contentLines(data) {
		if strings.HasPrefix(l, ";") {
			continue
		}
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			section = strings.TrimSpace(l[1 : len(l)-1])
			continue
		}
		i := strings.IndexAny(l, "= \t")
		if i < 0 {
			out = append(out, KV{Section: section, Key: l})
			continue
		}
		v := strings.TrimSpace(l[i:])
		v = strings.TrimSpace(strings.TrimPrefix(v, "="))
		out = append(out, KV{Section: section, Key: l[:i], Value: unquote(v)})
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

// lastValue returns the last value given to key (case-sensitive) in
// section ("" for any).
func lastValue(kvs []KV, section, key string) (string, bool) {
	v, ok := "", false
	for _, kv := range kvs {
		if kv.Key == key && (section == "" || kv.Section == section) {
			v, ok = kv.Value, true
		}
	}
	return v, ok
}

// PackageInstalled reports whether a Debian package is installed in the
// image (dpkg status "install ok installed") and its version.
func (r Root) PackageInstalled(name string) (version string, ok bool, err error) {
	pkgs, err := r.packages()
	if err != nil {
		return "", false, err
	}
	v, ok := pkgs[name]
	return v, ok, nil
}

func (r Root) packages() (map[string]string, error) {
	c := r.cache
	if c == nil {
		c = &rootCache{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		c.pkgs, c.err = r.readDpkgStatus()
		c.done = true
	}
	return c.pkgs, c.err
}

func (r Root) readDpkgStatus() (map[string]string, error) {
	data, err := r.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return nil, fmt.Errorf("package database: %w", err)
	}
	pkgs := map[string]string{}
	for _, stanza := range strings.Split(string(data), "\n\n") {
		var name, status, version string
		for _, l := range strings.Split(stanza, "\n") {
			switch {
			case strings.HasPrefix(l, "Package:"):
				name = strings.TrimSpace(l[len("Package:"):])
			case strings.HasPrefix(l, "Status:"):
				status = strings.TrimSpace(l[len("Status:"):])
			case strings.HasPrefix(l, "Version:"):
				version = strings.TrimSpace(l[len("Version:"):])
			}
		}
		if name != "" && strings.HasSuffix(status, " installed") && strings.HasPrefix(status, "install ") {
			pkgs[name] = version
		}
	}
	return pkgs, nil
}

// unitDirs are where systemd looks for enablement symlinks, most specific
// first.
var unitDirs = []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// UnitEnabled reports whether a systemd unit is enabled in the image (a
// symlink to it in some *.wants or *.requires directory) and not masked.
// The evidence names where it was found.
func (r Root) UnitEnabled(unit string) (bool, string) {
	if t, err := r.Readlink("/etc/systemd/system/" + unit); err == nil && t == "/dev/null" {
		return false, unit + " is masked"
	}
	for _, d := range unitDirs {
		for _, kind := range []string{"wants", "requires"} {
			m, _ := r.Glob(d + "/*." + kind + "/" + unit)
			if len(m) > 0 {
				return true, unit + " enabled (" + m[0] + ")"
			}
		}
	}
	return false, unit + " not enabled"
}

// GroupID looks a group up in the image's /etc/group.
func (r Root) GroupID(name string) (int, bool) {
	return r.dbID("/etc/group", name)
}

// UserID looks a user up in the image's /etc/passwd.
func (r Root) UserID(name string) (int, bool) {
	return r.dbID("/etc/passwd", name)
}

func (r Root) dbID(file, name string) (int, bool) {
	lines, err := r.Lines(file)
	if err != nil {
		return 0, false
	}
	for _, l := range lines {
		f := strings.Split(l, ":")
		if len(f) >= 3 && f[0] == name {
			id, err := strconv.Atoi(f[2])
			return id, err == nil
		}
	}
	return 0, false
}
