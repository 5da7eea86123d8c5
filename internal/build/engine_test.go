package build

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/template"
)

type fakeStep struct {
	name, sub string
	err       error
	trace     *[]string
}

func (f *fakeStep) Name() string     { return f.name }
func (f *fakeStep) SubState() string { return f.sub }
func (f *fakeStep) Run(context.Context, *State) error {
	*f.trace = append(*f.trace, "run "+f.name)
	return f.err
}
func (f *fakeStep) Cleanup(*State) { *f.trace = append(*f.trace, "cleanup "+f.name) }

func testState(t *testing.T) *State {
	t.Helper()
	var subs []string
	s := &State{Log: NewLogger(&strings.Builder{}, nil, nil), Job: Job{OnSubState: func(sub string) { subs = append(subs, sub) }}}
	return s
}

func TestRunStepsCleansUpInReverse(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		failAt    int // -1: none
		wantTrace []string
		wantErr   bool
	}{
		{"all succeed", -1, []string{"run a", "run b", "run c", "cleanup c", "cleanup b", "cleanup a"}, false},
		{"second fails", 1, []string{"run a", "run b", "cleanup b", "cleanup a"}, true},
		{"first fails", 0, []string{"run a", "cleanup a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace []string
			var steps []Step
			for i, n := range []string{"a", "b", "c"} {
				st := &fakeStep{name: n, sub: SubBuilding, trace: &trace}
				if i == tt.failAt {
					st.err = boom
				}
				steps = append(steps, st)
			}
			err := runSteps(context.Background(), steps, testState(t))
			if diff := cmp.Diff(tt.wantTrace, trace); diff != "" {
				t.Errorf("trace (-want +got):\n%s", diff)
			}
			var se *StepError
			if tt.wantErr && (!errors.As(err, &se) || !errors.Is(err, boom)) {
				t.Errorf("err = %v, want a StepError wrapping boom", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestRunStepsStopsWhenCanceled(t *testing.T) {
	var trace []string
	ctx, cancel := context.WithCancel(context.Background())
	steps := []Step{&cancelStep{cancel: cancel, trace: &trace}, &fakeStep{name: "never", trace: &trace}}
	err := runSteps(ctx, steps, testState(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff([]string{"run cancel", "cleanup cancel"}, trace); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
}

type cancelStep struct {
	cancel func()
	trace  *[]string
}

func (c *cancelStep) Name() string     { return "cancel" }
func (c *cancelStep) SubState() string { return SubCustomizing }
func (c *cancelStep) Run(context.Context, *State) error {
	*c.trace = append(*c.trace, "run cancel")
	c.cancel()
	return nil
}
func (c *cancelStep) Cleanup(*State) { *c.trace = append(*c.trace, "cleanup cancel") }

func TestInlineScriptStopsAtFirstFailure(t *testing.T) {
	got := inlineScript([]string{"echo a", "false", "echo b"})
	want := "#!/bin/sh -e\necho a\nfalse\necho b\n"
	if got != want {
		t.Errorf("inlineScript = %q, want %q", got, want)
	}
}

func TestUpdateScript(t *testing.T) {
	tests := []struct {
		name     string
		filters  []string
		limit    int
		contains []string
		absent   []string
	}{
		{"no filters, default limit", nil, 0, []string{"apt-get update", "head -n 1000", "--only-upgrade"}, []string{"case"}},
		{"include and exclude", []string{"include:openssl*", "exclude:linux-image-*"}, 5,
			[]string{`case "$p" in openssl*) ;; *) continue ;; esac`, `case "$p" in linux-image-*) continue ;; esac`, "head -n 5"}, nil},
		{"metacharacters are escaped", []string{"exclude:a;rm -rf"}, 1, []string{`a\;rm\ -rf`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UpdateScript(tt.filters, tt.limit)
			for _, c := range tt.contains {
				if !strings.Contains(got, c) {
					t.Errorf("script lacks %q:\n%s", c, got)
				}
			}
			for _, c := range tt.absent {
				if strings.Contains(got, c) {
					t.Errorf("script has %q:\n%s", c, got)
				}
			}
		})
	}
}

func TestCopyTreeArgs(t *testing.T) {
	got := CopyTreeArgs("/cache/root/", "/work/root")
	want := []string{"-a", "--reflink=auto", "--sparse=always", "/cache/root/.", "/work/root"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGeneralize(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/machine-id":                      "0123456789abcdef\n",
		"var/lib/dbus/machine-id":             "0123456789abcdef\n",
		"etc/ssh/ssh_host_ed25519_key":        "secret",
		"etc/ssh/ssh_host_ed25519_key.pub":    "public",
		"etc/ssh/sshd_config":                 "keep",
		"etc/sudoers.d/90-kiln-build":         "Defaults env_keep",
		"usr/sbin/policy-rc.d":                "exit 101",
		"tmp/leftover":                        "x",
		"var/cache/apt/pkgcache.bin":          "x",
		"var/lib/apt/lists/deb_dists_Release": "x",
		"var/log/syslog.log":                  "lots of log",
		"var/log/apt/history.log":             "x",
		"root/.bash_history":                  "history",
		"etc/kiln/tattoo.json":                "{}",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Generalize(root); err != nil {
		t.Fatal(err)
	}
	gone := []string{"var/lib/dbus/machine-id", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub", "etc/sudoers.d/90-kiln-build",
		"usr/sbin/policy-rc.d", "tmp/leftover", "var/cache/apt/pkgcache.bin", "var/lib/apt/lists/deb_dists_Release", "var/log/apt/history.log", "root/.bash_history"}
	for _, p := range gone {
		if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s should be removed (err %v)", p, err)
		}
	}
	kept := map[string]string{"etc/machine-id": "", "etc/ssh/sshd_config": "keep", "var/log/syslog.log": "", "etc/kiln/tattoo.json": "{}"}
	for p, want := range kept {
		got, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", p, got, err, want)
		}
	}
}

func TestLoggerRedactsSecrets(t *testing.T) {
	var b strings.Builder
	var seen []string
	l := NewLogger(&b, []string{"s3cr3t-value", "ab"}, func(line string) { seen = append(seen, line) })
	l.Printf("token is %s", "s3cr3t-value")
	w := l.Writer("  ")
	w.Write([]byte("partial s3cr3t-"))
	w.Write([]byte("value line\nnext ab\n"))
	w.(flusher).Flush()
	out := b.String()
	if strings.Contains(out, "s3cr3t-value") {
		t.Errorf("secret leaked:\n%s", out)
	}
	if !strings.Contains(out, "token is [REDACTED]") || !strings.Contains(out, "partial [REDACTED] line") {
		t.Errorf("redaction missing:\n%s", out)
	}
	if !strings.Contains(out, "next ab") {
		t.Errorf("short values (under 3 characters) must not be redacted:\n%s", out)
	}
	if len(seen) != 3 {
		t.Errorf("observer saw %d lines, want 3: %q", len(seen), seen)
	}
}

func TestKernelArgs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, KernelCmdlineDir)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "20-audit.conf"), []byte("audit=1 # auditing from boot\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "10-apparmor.conf"), []byte("apparmor=1\nsecurity=apparmor\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ignored.txt"), []byte("nope"), 0o644)
	got, err := KernelArgs(root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"apparmor=1", "security=apparmor", "audit=1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScriptCommand(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"echo hi\n", "/bin/sh /tmp/s.sh"},
		{"#!/bin/bash\necho hi\n", "/bin/bash /tmp/s.sh"},
		{"#!/bin/bash -eux\necho hi\n", "/bin/bash '-eux' /tmp/s.sh"},
		{"#! /usr/bin/env python3\nprint(1)\n", "/usr/bin/env 'python3' /tmp/s.sh"},
		{"#!/bin/sh -e -x\n", "/bin/sh '-e -x' /tmp/s.sh"},
		{"#!\necho\n", "/bin/sh /tmp/s.sh"},
		{"", "/bin/sh /tmp/s.sh"},
	} {
		if got := ScriptCommand(tc.script, "/tmp/s.sh"); got != tc.want {
			t.Errorf("ScriptCommand(%q) = %q, want %q", tc.script, got, tc.want)
		}
	}
}

// hangingExecutor runs every script until its context ends.
type hangingExecutor struct{ executor.Executor }

func (hangingExecutor) Name() string { return "vm" }
func (hangingExecutor) Upload(context.Context, string, string, os.FileMode) error {
	return nil
}
func (hangingExecutor) Run(ctx context.Context, _ string, _ io.Writer) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestStepTimeout(t *testing.T) {
	s := testState(t)
	c := template.Customizer{Type: template.CustomizerShell, Name: "hangs", Inline: []string{"sleep infinity"}}

	c.Timeout = "50ms"
	err := runOne(context.Background(), s, hangingExecutor{}, s.Log, "v0", c, time.Hour)
	if err == nil || !strings.Contains(err.Error(), "did not finish within its timeout of 50ms") {
		t.Errorf("step timeout: %v", err)
	}

	c.Timeout = ""
	err = runOne(context.Background(), s, hangingExecutor{}, s.Log, "v0", c, 30*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timeout of 30ms") {
		t.Errorf("default timeout: %v", err)
	}

	// The build's own end (cancel, buildTimeoutInMinutes) is not a step timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = runOne(ctx, s, hangingExecutor{}, s.Log, "v0", c, time.Hour)
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "its timeout") {
		t.Errorf("build deadline reported as %v", err)
	}
}

func TestConsoleLines(t *testing.T) {
	in := "\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001\r\n\r\n[  OK  ] Started \x1b[0;1;39mssh.service\x1b[0m.\r\nKILN-READY 1234\r\n\x00\n"
	want := []string{"BdsDxe: loading Boot0001", "[  OK  ] Started ssh.service.", "KILN-READY 1234"}
	if diff := cmp.Diff(want, consoleLines([]byte(in))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	p := filepath.Join(t.TempDir(), "console.log")
	os.WriteFile(p, []byte("a\nb\nc\nd\n"), 0o644)
	if got := consoleTail(p, 2); got != "  c\n  d" {
		t.Errorf("consoleTail = %q", got)
	}
	if got := consoleTail(filepath.Join(t.TempDir(), "none"), 2); !strings.Contains(got, "no serial console output") {
		t.Errorf("consoleTail of a missing file = %q", got)
	}
}
