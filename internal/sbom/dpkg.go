package sbom

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Package is one binary package of a dpkg database.
type Package struct {
	Name         string
	Version      string
	Architecture string
	// Status is dpkg's "want flag status", e.g. "install ok installed".
	Status string
	// Source and SourceVersion name the source package. dpkg omits them
	// when they equal the binary's name and version; they are filled in
	// from Name and Version then.
	Source        string
	SourceVersion string
	Homepage      string
}

// Installed reports whether dpkg's status says the package is installed
// (the third word of Status is "installed").
func (p Package) Installed() bool {
	f := strings.Fields(p.Status)
	return len(f) == 3 && f[2] == "installed"
}

// maxLine bounds one line of the status file (Depends lines can be long).
const maxLine = 1 << 20

// ParseStatus reads a dpkg status file (/var/lib/dpkg/status): stanzas of
// "Field: value" lines separated by blank lines, continuation lines
// starting with a space or tab. Field names match case-insensitively.
// Every stanza is returned, installed or not.
func ParseStatus(r io.Reader) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var (
		pkgs   []Package
		fields = map[string]string{}
		start  int
		last   string
	)
	flush := func() error {
		if len(fields) == 0 {
			return nil
		}
		p, err := packageOf(fields)
		if err != nil {
			return fmt.Errorf("stanza at line %d: %w", start, err)
		}
		pkgs = append(pkgs, p)
		clear(fields)
		return nil
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, err
			}
			last = ""
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("line %d: continuation line outside a field", n)
			}
			// Continuations (descriptions, conffiles) are not used.
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return nil, fmt.Errorf("line %d: %q is not a \"Field: value\" line", n, line)
			}
			if len(fields) == 0 {
				start = n
			}
			last = strings.ToLower(strings.TrimSpace(name))
			fields[last] = strings.TrimSpace(value)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dpkg status: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

func packageOf(f map[string]string) (Package, error) {
	p := Package{
		Name: f["package"], Version: f["version"], Architecture: f["architecture"],
		Status: f["status"], Homepage: f["homepage"],
	}
	if p.Name == "" {
		return p, fmt.Errorf("it has no Package field")
	}
	p.Source, p.SourceVersion = parseSource(f["source"], p.Name, p.Version)
	return p, nil
}

// parseSource reads "Source: name" or "Source: name (version)".
func parseSource(s, name, version string) (string, string) {
	if s == "" {
		return name, version
	}
	src, rest, ok := strings.Cut(s, " ")
	if !ok {
		return src, version
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		return src, strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return src, version
}

// ParseOSRelease reads an os-release file: KEY=value lines, values
// optionally in single or double quotes (with backslash escapes in double
// quotes); comments and lines that do not fit are ignored, as os-release(5)
// asks.
func ParseOSRelease(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		out[key] = unquote(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read os-release: %w", err)
	}
	return out, nil
}

func unquote(v string) string {
	if len(v) < 2 {
		return v
	}
	switch q := v[0]; {
	case q == '\'' && v[len(v)-1] == '\'':
		return v[1 : len(v)-1]
	case q == '"' && v[len(v)-1] == '"':
		var sb strings.Builder
		inner := v[1 : len(v)-1]
		for i := 0; i < len(inner); i++ {
			if inner[i] == '\\' && i+1 < len(inner) {
				i++
			}
			sb.WriteByte(inner[i])
		}
		return sb.String()
	}
	return v
}
