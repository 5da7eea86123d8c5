// Package executortest is the conformance suite every executor passes:
// chroot and vm run the same specification.
package executortest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/executor"
)

// Run runs the suite against ex, an executor over a Debian root with sudo.
// restart says whether Restart really reboots (vm) or is a no-op (chroot).
func Run(t *testing.T, ex executor.Executor, restart bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(t *testing.T, script string) (string, error) {
		t.Helper()
		var out strings.Builder
		err := ex.Run(ctx, script, &out)
		return out.String(), err
	}

	t.Run("runs as root with a non-interactive environment", func(t *testing.T) {
		out, err := run(t, `id -u; echo "$DEBIAN_FRONTEND"; sudo -n true && echo sudo-ok; cat /etc/os-release | grep -c Debian`)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"0\n", "noninteractive\n", "sudo-ok\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("a failing script reports its exit code and output tail", func(t *testing.T) {
		_, err := run(t, "echo first; echo last words >&2; exit 42")
		var exit *executor.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("err = %v, want *ExitError", err)
		}
		if exit.Code != 42 || !strings.Contains(exit.Tail, "last words") {
			t.Errorf("ExitError = %+v", exit)
		}
	})
	t.Run("stdin is closed", func(t *testing.T) {
		out, err := run(t, "cat; echo done")
		if err != nil || !strings.Contains(out, "done") {
			t.Errorf("out %q err %v", out, err)
		}
	})
	t.Run("upload places a file with its mode", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(src, []byte("payload\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := ex.Upload(ctx, src, "/tmp/kiln-conformance", 0o640); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, "cat /tmp/kiln-conformance; stat -c %a /tmp/kiln-conformance; rm /tmp/kiln-conformance")
		if err != nil || out != "payload\n640\n" {
			t.Errorf("out %q err %v", out, err)
		}
	})
	t.Run("upload into a missing directory fails", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "f")
		os.WriteFile(src, []byte("x"), 0o600)
		if err := ex.Upload(ctx, src, "/no/such/dir/f", 0o644); err == nil {
			t.Error("upload into a missing directory succeeded")
		}
	})
	t.Run("upload needs an absolute destination", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "f")
		os.WriteFile(src, []byte("x"), 0o600)
		if err := ex.Upload(ctx, src, "relative/f", 0o644); err == nil {
			t.Error("upload to a relative path succeeded")
		}
	})
	t.Run("changes persist between scripts", func(t *testing.T) {
		if _, err := run(t, "echo kept > /etc/kiln-conformance"); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, "cat /etc/kiln-conformance && rm /etc/kiln-conformance")
		if err != nil || out != "kept\n" {
			t.Errorf("out %q err %v", out, err)
		}
	})
	t.Run("restart", func(t *testing.T) {
		before, _ := run(t, "cat /proc/sys/kernel/random/boot_id")
		if err := ex.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		after, err := run(t, "cat /proc/sys/kernel/random/boot_id")
		if err != nil {
			t.Fatal(err)
		}
		if rebooted := before != after; rebooted != restart {
			t.Errorf("rebooted = %v, want %v", rebooted, restart)
		}
	})
	t.Run("a canceled script stops", func(t *testing.T) {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		defer ccancel()
		start := time.Now()
		err := ex.Run(cctx, "sleep 60", &strings.Builder{})
		if err == nil || time.Since(start) > 30*time.Second {
			t.Errorf("err %v after %s", err, time.Since(start))
		}
	})
}
