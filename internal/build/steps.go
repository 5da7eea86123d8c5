package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/fetch"
	"github.com/kiln-dev/kiln/internal/harden"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/source"
	"github.com/kiln-dev/kiln/internal/template"
)

// stepFetch downloads every script and file the template references and
// checks their sha256 before anything expensive starts.
type stepFetch struct{}

func (*stepFetch) Name() string     { return "fetch-inputs" }
func (*stepFetch) SubState() string { return SubBuilding }
func (*stepFetch) Cleanup(*State)   {}

func (*stepFetch) Run(ctx context.Context, s *State) error {
	f := &fetch.Fetcher{TemplateDir: s.Job.TemplateDir, Dir: filepath.Join(s.WorkDir, "inputs")}
	get := func(key, path, uri, sum string) error {
		if uri == "" {
			return nil
		}
		local, got, err := f.Fetch(ctx, uri, sum)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		s.Log.Printf("fetched %s (sha256 %s)", uri, got)
		s.Files[key] = fetched{Path: local, SHA256: got}
		return nil
	}
	p := s.Job.Template.Properties
	for i, c := range p.Customize {
		path := fmt.Sprintf("properties.customize[%d]", i)
		if err := get(fmt.Sprintf("c%d", i), path, firstOf(c.ScriptURI, c.SourceURI), c.SHA256Checksum); err != nil {
			return err
		}
	}
	if p.Validate != nil {
		for i, c := range p.Validate.InVMValidations {
			path := fmt.Sprintf("properties.validate.inVMValidations[%d]", i)
			if err := get(fmt.Sprintf("v%d", i), path, firstOf(c.ScriptURI, c.SourceURI), c.SHA256Checksum); err != nil {
				return err
			}
		}
	}
	if p.Kiln != nil && p.Kiln.OpenSCAP != nil {
		const path = "properties.x-kiln.openscap.datastream"
		if err := get(scapKey, path, p.Kiln.OpenSCAP.Datastream, p.Kiln.OpenSCAP.SHA256Checksum); err != nil {
			return err
		}
		if err := sniffXML(s.Files[scapKey].Path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// scapKey is the OpenSCAP datastream's key in State.Files.
const scapKey = "scap"

// sniffXML fails early on a datastream that is not XML at all (an HTML
// error page, a binary), instead of after the disk is built.
func sniffXML(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	text := strings.TrimLeft(strings.TrimPrefix(string(head[:n]), "\ufeff"), " \t\r\n")
	if !strings.HasPrefix(text, "<") {
		return fmt.Errorf("%s is not an XML SCAP datastream (it starts with %q)", path, firstLine(text, 40))
	}
	return nil
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > max {
		s = s[:max]
	}
	return s
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// stepSource resolves the base image and copies its tree into the work directory.
type stepSource struct{}

func (*stepSource) Name() string     { return "source" }
func (*stepSource) SubState() string { return SubBuilding }

func (*stepSource) Run(ctx context.Context, s *State) error {
	src := s.Job.Template.Properties.Source
	r, ok := s.Engine.Sources[src.Type]
	if !ok {
		return fmt.Errorf("%w: source type %q is not available in this installation", source.ErrUnsupportedSource, src.Type)
	}
	req := source.Request{Source: src, TemplateDir: s.Job.TemplateDir, Refresh: s.Job.RefreshBase,
		Identity: s.Job.Identity, Location: s.Job.Template.Location}
	if k := s.Job.Template.Properties.Kiln; k != nil {
		req.Packages, req.Mirror = slices.Clone(k.Packages), k.Mirror
	}
	req.Packages = append(req.Packages, hardeningPackages(s.Job.Template.Properties)...)
	base, err := r.Resolve(ctx, req, s.Log)
	if err != nil {
		return err
	}
	s.Base = base
	t0 := time.Now()
	if err := copyTree(ctx, s.Engine.Runner, base.Dir, s.RootDir); err != nil {
		return fmt.Errorf("copy base tree: %w", err)
	}
	s.Log.Printf("copied base %s into the staging directory in %s", base.Digest, elapsed(t0))
	return nil
}

// hardeningPackages are the packages a Hardening step installs. They go
// into the base bootstrap (and its cache key), so the step finds them
// installed and a rebuild does not download and install them again.
func hardeningPackages(p template.Properties) []string {
	for _, c := range p.Customize {
		if c.Type != template.CustomizerHardening {
			continue
		}
		if plan, err := harden.Resolve(Tailoring(c)); err == nil {
			return plan.Packages()
		}
	}
	return nil
}

func (*stepSource) Cleanup(s *State) {
	if !s.KeepWork {
		os.RemoveAll(s.RootDir)
	}
}

// copyTree copies a root tree preserving owners, modes, links and xattrs,
// with reflinks where the filesystem has them.
func copyTree(ctx context.Context, r hostexec.Runner, src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	_, err := r.Run(ctx, hostexec.Command{Name: "cp", Args: CopyTreeArgs(src, dst)})
	return err
}

// CopyTreeArgs is the cp command line that copies a root tree.
func CopyTreeArgs(src, dst string) []string {
	return []string{"-a", "--reflink=auto", "--sparse=always", strings.TrimRight(src, "/") + "/.", dst}
}

// stepCustomize runs the customizers in order through the chosen executor.
type stepCustomize struct{ closed bool }

func (*stepCustomize) Name() string     { return "customize" }
func (*stepCustomize) SubState() string { return SubCustomizing }

func (st *stepCustomize) Run(ctx context.Context, s *State) error {
	ex, err := s.newExecutor(ctx)
	if err != nil {
		return err
	}
	s.Exec = ex
	if err := prepareBuildConfig(s.RootDir); err != nil {
		return err
	}
	for i, c := range s.Job.Template.Properties.Customize {
		if err := s.runCustomizer(ctx, i, c); err != nil {
			if onError(s.Job.Template.Properties.ErrorHandling, true) == template.ErrorHandlingAbort {
				s.KeepWork = true
			}
			return err
		}
	}
	st.closed = true
	if err := ex.Close(ctx); err != nil {
		return fmt.Errorf("stop the %s executor: %w", ex.Name(), err)
	}
	return nil
}

func (st *stepCustomize) Cleanup(s *State) {
	if s.Exec != nil && !st.closed {
		if err := s.Exec.Close(context.Background()); err != nil {
			s.Log.Printf("cleanup: stop the %s executor: %v", s.Exec.Name(), err)
		}
	}
}

func onError(eh *template.ErrorHandling, customizer bool) string {
	if eh == nil {
		return template.ErrorHandlingCleanup
	}
	v := eh.OnValidationError
	if customizer {
		v = eh.OnCustomizerError
	}
	if v == "" {
		return template.ErrorHandlingCleanup
	}
	return v
}

func (s *State) newExecutor(ctx context.Context) (executor.Executor, error) {
	name := template.ExecutorChroot
	if k := s.Job.Template.Properties.Kiln; k != nil && k.Executor != "" {
		name = k.Executor
	}
	s.Log.Printf("executor: %s", name)
	switch name {
	case template.ExecutorChroot:
		return executor.NewChroot(s.RootDir, s.Engine.Runner)
	case template.ExecutorVM:
		if s.Engine.VM == nil {
			return nil, errors.New("the vm executor is not available in this installation")
		}
		return s.Engine.VM(ctx, s.RootDir, s.WorkDir, s.Log)
	}
	return nil, fmt.Errorf("unknown executor %q (use chroot or vm)", name)
}

// buildSudoers keeps the non-interactive apt environment through sudo, so
// scripts written for Azure ("sudo apt-get install -y ...") never prompt.
const buildSudoers = "etc/sudoers.d/90-kiln-build"

func prepareBuildConfig(root string) error {
	p := filepath.Join(root, buildSudoers)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte("# written by kiln for the build; removed when the image is generalized\nDefaults env_keep += \"DEBIAN_FRONTEND DEBCONF_NONINTERACTIVE_SEEN APT_LISTCHANGES_FRONTEND NEEDRESTART_MODE\"\n"), 0o440)
}

// customizerLabel names a customizer in logs and errors.
func customizerLabel(i int, c template.Customizer) string {
	if c.Name != "" {
		return fmt.Sprintf("%s customizer %q (customize[%d])", c.Type, c.Name, i)
	}
	return fmt.Sprintf("%s customizer customize[%d]", c.Type, i)
}

func (s *State) runCustomizer(ctx context.Context, i int, c template.Customizer) error {
	label := customizerLabel(i, c)
	t0 := time.Now()
	s.Log.Printf("(telemetry) Starting provisioner %s", label)
	err := runOne(ctx, s, s.Exec, s.Log, fmt.Sprintf("c%d", i), c, 0)
	if err != nil {
		s.Log.Printf("(telemetry) %s failed after %s: %v", label, elapsed(t0), err)
		return fmt.Errorf("%s failed: %w", label, err)
	}
	s.Log.Printf("(telemetry) ending %s (%s)", label, elapsed(t0))
	return nil
}

// errStepTimeout is the cause of a step's context when its own timeout ends it.
var errStepTimeout = errors.New("step timeout")

// runOne runs one step with its timeout (c.timeout, else def; 0 is none).
func runOne(ctx context.Context, s *State, ex executor.Executor, log *Logger, key string, c template.Customizer, def time.Duration) error {
	d := def
	if t := c.StepTimeout(); t > 0 {
		d = t
	}
	if d <= 0 {
		return runStep(ctx, s, ex, log, key, c)
	}
	sctx, cancel := context.WithTimeoutCause(ctx, d, errStepTimeout)
	defer cancel()
	err := runStep(sctx, s, ex, log, key, c)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(sctx), errStepTimeout) {
		return fmt.Errorf("did not finish within its timeout of %s (set \"timeout\" on the step to change it; the output so far is in the log above)", d)
	}
	return err
}

func runStep(ctx context.Context, s *State, ex executor.Executor, log *Logger, key string, c template.Customizer) error {
	out := log.Writer("    ")
	defer out.(flusher).Flush()
	switch c.Type {
	case template.CustomizerShell:
		script := inlineScript(c.Inline)
		if c.ScriptURI != "" {
			data, err := os.ReadFile(s.Files[key].Path)
			if err != nil {
				return err
			}
			script = string(data)
		}
		return runScript(ctx, ex, script, out)
	case template.CustomizerFile:
		f := s.Files[key]
		if err := ex.Upload(ctx, f.Path, c.Destination, 0o644); err != nil {
			return fmt.Errorf("upload %s to %s: %w", c.SourceURI, c.Destination, err)
		}
		log.Printf("uploaded %s to %s (sha256 %s)", c.SourceURI, c.Destination, f.SHA256)
		return nil
	case template.CustomizerUpdate:
		return runScript(ctx, ex, UpdateScript(c.Filters, c.UpdateLimit), out)
	case template.CustomizerHardening:
		return runHardening(ctx, s, ex, out, c)
	case template.CustomizerRestart:
		if c.RestartCommand != "" && ex.Name() == template.ExecutorVM {
			log.Printf("restart command %q is replaced by kiln's own reboot", c.RestartCommand)
		}
		if ex.Name() == template.ExecutorChroot {
			log.Printf("Restart: nothing runs in a chroot, so there is nothing to restart (use executor vm to reboot between steps)")
		}
		return ex.Restart(ctx)
	}
	return fmt.Errorf("customizer type %q cannot run in a local Linux build", c.Type)
}

// inlineScript turns inline commands into a script that stops at the first
// failing command, as Packer's shell provisioner does (inline_shebang /bin/sh -e).
func inlineScript(lines []string) string {
	return "#!/bin/sh -e\n" + strings.Join(lines, "\n") + "\n"
}

// runScript uploads script into the image's /tmp and runs it (honouring
// its shebang), like Packer's `chmod +x script; script`.
func runScript(ctx context.Context, ex executor.Executor, script string, out interface{ Write([]byte) (int, error) }) error {
	tmp, err := os.CreateTemp("", "kiln-script-*.sh")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(script); err != nil {
		tmp.Close()
		return err
	}
	tmp.Close()
	dst := "/tmp/kiln-script-" + textSHA256(script)[:12] + ".sh"
	if err := ex.Upload(ctx, tmp.Name(), dst, 0o755); err != nil {
		return err
	}
	return ex.Run(ctx, ScriptCommand(script, dst)+"; rc=$?; rm -f "+dst+"; exit $rc", out)
}

// ScriptCommand runs an uploaded script with the interpreter its shebang
// names (/bin/sh without one) instead of executing the file: a hardened
// image mounts /tmp noexec, which would refuse `chmod +x; ./script`.
func ScriptCommand(script, path string) string {
	line, _, _ := strings.Cut(script, "\n")
	interp, ok := strings.CutPrefix(line, "#!")
	if !ok || strings.TrimSpace(interp) == "" {
		return "/bin/sh " + path
	}
	// The kernel passes everything after the interpreter as one argument.
	prog, arg, _ := strings.Cut(strings.TrimSpace(interp), " ")
	if arg = strings.TrimSpace(arg); arg != "" {
		return prog + " " + executor.ShellQuote(arg) + " " + path
	}
	return prog + " " + path
}

// UpdateScript is the Update customizer: apt upgrades with include/exclude
// filters (shell globs on package names) and a limit, the Linux counterpart
// of WindowsUpdate.
func UpdateScript(filters []string, limit int) string {
	var inc, exc []string
	for _, f := range filters {
		switch {
		case strings.HasPrefix(f, "include:"):
			inc = append(inc, strings.TrimPrefix(f, "include:"))
		case strings.HasPrefix(f, "exclude:"):
			exc = append(exc, strings.TrimPrefix(f, "exclude:"))
		}
	}
	if limit <= 0 {
		limit = 1000
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh -e\napt-get update -q\n")
	b.WriteString("apt list --upgradable 2>/dev/null | sed -n 's,/.*,,p' > /tmp/kiln-upgradable\n")
	b.WriteString(": > /tmp/kiln-upgrade\nwhile read -r p; do\n")
	if len(inc) > 0 {
		b.WriteString("  case \"$p\" in " + strings.Join(quoteAll(inc), "|") + ") ;; *) continue ;; esac\n")
	}
	if len(exc) > 0 {
		b.WriteString("  case \"$p\" in " + strings.Join(quoteAll(exc), "|") + ") continue ;; esac\n")
	}
	b.WriteString("  echo \"$p\" >> /tmp/kiln-upgrade\ndone < /tmp/kiln-upgradable\n")
	fmt.Fprintf(&b, "set -- $(head -n %d /tmp/kiln-upgrade)\nrm -f /tmp/kiln-upgradable /tmp/kiln-upgrade\n", limit)
	b.WriteString("echo \"Update: $# package(s) to upgrade: $*\"\n")
	b.WriteString("if [ $# -gt 0 ]; then apt-get install -y -q --only-upgrade -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \"$@\"; fi\n")
	return b.String()
}

func quoteAll(globs []string) []string {
	out := make([]string, len(globs))
	for i, g := range globs {
		// Globs stay unquoted for case patterns, but shell metacharacters other
		// than glob ones are escaped.
		out[i] = strings.NewReplacer(" ", `\ `, ";", `\;`, "&", `\&`, "|", `\|`, "$", `\$`, "`", "\\`", ")", `\)`, "(", `\(`).Replace(g)
	}
	return out
}

// textSHA256 hashes an inline script.
func textSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
