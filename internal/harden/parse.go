package harden

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ---- sshd ----------------------------------------------------------------

// sshdConfig is sshd's effective global configuration as read from the
// tree: for most keywords the first value wins, as in sshd; the access
// lists accumulate.
type sshdConfig struct {
	values  map[string]string // lower-case keyword -> first value
	sources map[string]string // lower-case keyword -> file it came from
	lists   map[string][]string
}

var sshdListKeys = map[string]bool{"allowusers": true, "allowgroups": true, "denyusers": true, "denygroups": true}

func readSSHD(fsys Root) (*sshdConfig, error) {
	c := &sshdConfig{values: map[string]string{}, sources: map[string]string{}, lists: map[string][]string{}}
	if err := c.parseFile(fsys, "/etc/ssh/sshd_config", 0); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *sshdConfig) parseFile(fsys Root, name string, depth int) error {
	if depth > 16 {
		return fmt.Errorf("sshd configuration: Include nested too deeply at %s", name)
	}
	lines, err := fsys.Lines(name)
	if err != nil {
		return fmt.Errorf("sshd configuration: %w", err)
	}
	inMatch := false
	for _, l := range lines {
		key, val := splitSSHD(l)
		switch {
		case key == "match":
			inMatch = true
		case inMatch:
		case key == "include":
			if err := c.include(fsys, val, depth); err != nil {
				return err
			}
		case sshdListKeys[key]:
			c.lists[key] = append(c.lists[key], strings.Fields(val)...)
		default:
			if _, seen := c.values[key]; !seen {
				c.values[key], c.sources[key] = val, name
			}
		}
	}
	return nil
}

func (c *sshdConfig) include(fsys Root, val string, depth int) error {
	for _, pat := range strings.Fields(val) {
		if !strings.HasPrefix(pat, "/") {
			pat = "/etc/ssh/" + pat
		}
		files, err := fsys.Glob(pat)
		if err != nil {
			return fmt.Errorf("sshd configuration: %w", err)
		}
		for _, f := range files {
			if err := c.parseFile(fsys, f, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitSSHD splits "Keyword value" or "Keyword=value".
func splitSSHD(l string) (string, string) {
	i := strings.IndexAny(l, " \t=")
	if i < 0 {
		return strings.ToLower(l), ""
	}
	v := strings.TrimSpace(l[i:])
	v = strings.TrimSpace(strings.TrimPrefix(v, "="))
	return strings.ToLower(l[:i]), unquote(v)
}

// get returns the effective value of keyword (lower case) or def.
func (c *sshdConfig) get(key, def string) (string, string) {
	if v, ok := c.values[key]; ok {
		return v, c.sources[key]
	}
	return def, "OpenSSH default"
}

// sshTime parses sshd's time format ("60", "1m", "1m30s") into seconds.
func sshTime(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	total, num := 0, ""
	for _, r := range strings.ToLower(s) {
		if r >= '0' && r <= '9' {
			num += string(r)
			continue
		}
		mult := map[rune]int{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[r]
		n, err := strconv.Atoi(num)
		if mult == 0 || err != nil {
			return 0, fmt.Errorf("%q is not an sshd time value", s)
		}
		total, num = total+n*mult, ""
	}
	if num != "" {
		n, _ := strconv.Atoi(num)
		total += n
	}
	return total, nil
}

// ---- sysctl --------------------------------------------------------------

var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// sysctlFiles lists the files systemd-sysctl reads, in the order it applies
// them: by file name, a name in an earlier directory masking later ones.
func sysctlFiles(fsys Root) []string {
	byName := map[string]string{}
	for _, d := range sysctlDirs {
		m, _ := fsys.Glob(d + "/*.conf")
		for _, f := range m {
			if _, ok := byName[path.Base(f)]; !ok {
				byName[path.Base(f)] = f
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	files := make([]string, 0, len(names)+1)
	for _, n := range names {
		files = append(files, byName[n])
	}
	if _, ok := byName["99-sysctl.conf"]; !ok && fsys.Exists("/etc/sysctl.conf") {
		files = append(files, "/etc/sysctl.conf")
	}
	return files
}

// sysctlValue is the value a kernel parameter gets at boot, and the file
// that sets it last.
func sysctlValue(fsys Root, files []string, key string) (string, string, bool) {
	val, src, ok := "", "", false
	for _, f := range files {
		lines, err := fsys.Lines(f)
		if err != nil {
			continue
		}
		for _, l := range lines {
			k, v, found := strings.Cut(strings.TrimPrefix(l, "-"), "=")
			if !found || strings.HasPrefix(l, ";") {
				continue
			}
			k = normalizeSysctlKey(strings.TrimSpace(k))
			if k == key || hasMeta(k) && globMatch(k, key) {
				val, src, ok = strings.Join(strings.Fields(v), " "), f, true
			}
		}
	}
	return val, src, ok
}

func normalizeSysctlKey(k string) string {
	if i := strings.IndexAny(k, "./"); i >= 0 && k[i] == '/' {
		return strings.ReplaceAll(k, "/", ".")
	}
	return k
}

func globMatch(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// ---- systemd configuration files with drop-ins --------------------------

// systemdConf returns the effective value of key in section of a systemd
// configuration file such as "systemd/journald.conf": the main file, then
// drop-ins ordered by name (later wins).
func systemdConf(fsys Root, conf, section, key string) (string, string, bool) {
	var files []string
	if fsys.Exists("/etc/" + conf) {
		files = append(files, "/etc/"+conf)
	} else {
		files = append(files, "/usr/lib/"+conf)
	}
	byName := map[string]string{}
	for _, d := range []string{"/etc/", "/run/", "/usr/lib/"} {
		m, _ := fsys.Glob(d + conf + ".d/*.conf")
		for _, f := range m {
			if _, ok := byName[path.Base(f)]; !ok {
				byName[path.Base(f)] = f
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, byName[n])
	}
	val, src, ok := "", "", false
	for _, f := range files {
		kvs, err := fsys.KeyValues(f)
		if err != nil {
			continue
		}
		if v, found := lastValue(kvs, section, key); found {
			val, src, ok = v, f, true
		}
	}
	return val, src, ok
}

// unitFile returns the path of the unit file systemd would load for unit.
func unitFile(fsys Root, unit string) (string, bool) {
	for _, d := range []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		if fsys.Exists(d + "/" + unit) {
			return d + "/" + unit, true
		}
	}
	return "", false
}

// ---- PAM -----------------------------------------------------------------

// pamLine is one rule of a PAM stack file.
type pamLine struct {
	Type, Control, Module string
	Args                  []string
}

func readPAM(fsys Root, name string) ([]pamLine, error) {
	lines, err := fsys.Lines(name)
	if err != nil {
		return nil, err
	}
	var out []pamLine
	for _, l := range lines {
		if strings.HasPrefix(l, "@include") {
			continue
		}
		i := strings.IndexAny(l, " \t")
		if i < 0 {
			continue
		}
		typ, rest := strings.TrimPrefix(l[:i], "-"), strings.TrimSpace(l[i:])
		var control string
		if strings.HasPrefix(rest, "[") {
			end := strings.Index(rest, "]")
			if end < 0 {
				continue
			}
			control, rest = rest[:end+1], strings.TrimSpace(rest[end+1:])
		} else {
			f := strings.Fields(rest)
			if len(f) == 0 {
				continue
			}
			control, rest = f[0], strings.TrimSpace(strings.TrimPrefix(rest, f[0]))
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		out = append(out, pamLine{Type: typ, Control: control, Module: path.Base(f[0]), Args: f[1:]})
	}
	return out, nil
}

// pamFind returns the rules of type using module (e.g. "pam_faillock.so").
func pamFind(lines []pamLine, typ, module string) []pamLine {
	var out []pamLine
	for _, l := range lines {
		if l.Type == typ && l.Module == module {
			out = append(out, l)
		}
	}
	return out
}

func hasArg(l pamLine, arg string) bool {
	for _, a := range l.Args {
		if a == arg {
			return true
		}
	}
	return false
}

// argValue returns the value of "name=value" among a rule's arguments.
func argValue(l pamLine, name string) (string, bool) {
	for _, a := range l.Args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func (l pamLine) String() string {
	return strings.TrimSpace(l.Type + " " + l.Control + " " + l.Module + " " + strings.Join(l.Args, " "))
}

// ---- sudoers -------------------------------------------------------------

// sudoersDefaults returns the Defaults settings of /etc/sudoers and the
// files it includes, each as "file: setting".
func sudoersDefaults(fsys Root) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(name string, depth int)
	walk = func(name string, depth int) {
		if depth > 8 || seen[name] {
			return
		}
		seen[name] = true
		data, err := fsys.ReadFile(name)
		if err != nil {
			return
		}
		for _, raw := range strings.Split(string(data), "\n") {
			l := strings.TrimSpace(raw)
			if dir, ok := sudoIncludeDir(l); ok {
				files, _ := fsys.Glob(strings.TrimSuffix(dir, "/") + "/*")
				for _, f := range files {
					if b := path.Base(f); !strings.Contains(b, ".") && !strings.HasSuffix(b, "~") {
						walk(f, depth+1)
					}
				}
				continue
			}
			if rest, ok := strings.CutPrefix(l, "Defaults"); ok {
				if rest == "" || strings.ContainsRune(":@>!", rune(rest[0])) {
					continue // scoped to users, hosts, runas or commands
				}
				for _, s := range splitSudoDefaults(strings.TrimSpace(rest)) {
					out = append(out, name+": "+s)
				}
			}
		}
	}
	walk("/etc/sudoers", 0)
	return out
}

func sudoIncludeDir(l string) (string, bool) {
	for _, p := range []string{"#includedir ", "@includedir "} {
		if d, ok := strings.CutPrefix(l, p); ok {
			return strings.TrimSpace(d), true
		}
	}
	return "", false
}

func splitSudoDefaults(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ---- kernel command line -------------------------------------------------

// kernelArgs collects the kernel arguments the image asks for: kiln's
// /etc/kiln/kernel-cmdline.d files and, when present, the linux lines of
// /boot/grub/grub.cfg.
func kernelArgs(fsys Root) (map[string]string, []string) {
	args := map[string]string{}
	var sources []string
	files, _ := fsys.Glob("/etc/kiln/kernel-cmdline.d/*.conf")
	for _, f := range files {
		lines, err := fsys.Lines(f)
		if err != nil {
			continue
		}
		sources = append(sources, f)
		for _, l := range lines {
			addArgs(args, strings.Fields(l))
		}
	}
	if lines, err := fsys.Lines("/boot/grub/grub.cfg"); err == nil {
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 2 && (f[0] == "linux" || f[0] == "linuxefi") {
				addArgs(args, f[2:])
				sources = appendOnce(sources, "/boot/grub/grub.cfg")
			}
		}
	}
	return args, sources
}

func addArgs(m map[string]string, fields []string) {
	for _, a := range fields {
		k, v, _ := strings.Cut(a, "=")
		m[k] = v
	}
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// ---- nftables ------------------------------------------------------------

// nftChain is one chain of an nftables configuration file.
type nftChain struct {
	Name, Hook, Policy string
	Body               string // normalized: single spaces, no quotes
}

var (
	nftChainRE  = regexp.MustCompile(`\bchain\s+([A-Za-z0-9_-]+)\s*\{`)
	nftHookRE   = regexp.MustCompile(`\bhook\s+(\w+)`)
	nftPolicyRE = regexp.MustCompile(`\bpolicy\s+(\w+)`)
)

// nftChains extracts the chains of an nft script (comments removed).
func nftChains(text string) []nftChain {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		b.WriteString(l + "\n")
	}
	src := b.String()
	var out []nftChain
	for _, m := range nftChainRE.FindAllStringSubmatchIndex(src, -1) {
		body := braceBody(src[m[1]:])
		norm := strings.Join(strings.Fields(strings.NewReplacer(`"`, "", ";", " ; ").Replace(body)), " ")
		ch := nftChain{Name: src[m[2]:m[3]], Body: norm}
		if h := nftHookRE.FindStringSubmatch(norm); h != nil {
			ch.Hook = h[1]
		}
		if p := nftPolicyRE.FindStringSubmatch(norm); p != nil {
			ch.Policy = p[1]
		} else if ch.Hook != "" {
			ch.Policy = "accept"
		}
		out = append(out, ch)
	}
	return out
}

// braceBody returns the text up to the brace closing an already opened one.
func braceBody(s string) string {
	depth := 1
	for i, r := range s {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[:i]
			}
		}
	}
	return s
}

// SSHDAccess returns the AllowGroups and AllowUsers lists of the sshd
// configuration in the root tree at dir (empty when sshd admits everyone).
// kiln's validation VM uses it to let its throwaway user in.
func SSHDAccess(dir string) (groups, users []string, err error) {
	c, err := readSSHD(NewRoot(dir))
	if err != nil {
		return nil, nil, err
	}
	return c.lists["allowgroups"], c.lists["allowusers"], nil
}
