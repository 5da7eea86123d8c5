package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/executor/executortest"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/qemu"
)

// baseTree returns a copy of the cached Debian base, building it if needed.
func baseTree(t *testing.T, e *env) string {
	t.Helper()
	roots, _ := filepath.Glob(filepath.Join(e.home, "cache", "base", "*", "root"))
	if len(roots) == 0 {
		e.mustKiln("group", "create", "-n", "BaseRG", "-l", "eastus", "-o", "none")
		e.mustKiln("build", "internal/e2e/testdata/minimal.json", "-g", "BaseRG", "-o", "none")
		roots, _ = filepath.Glob(filepath.Join(e.home, "cache", "base", "*", "root"))
	}
	if len(roots) == 0 {
		t.Fatal("no cached base after a build")
	}
	dst := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-a", roots[0], dst).CombinedOutput(); err != nil {
		t.Fatalf("copy base: %v\n%s", err, out)
	}
	return dst
}

func TestExecutorConformance(t *testing.T) {
	e := setup(t)
	t.Run("chroot", func(t *testing.T) {
		root := baseTree(t, e)
		ex, err := executor.NewChroot(root, hostexec.Exec{})
		if err != nil {
			t.Fatal(err)
		}
		executortest.Run(t, ex, false)
		if err := ex.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "usr/sbin/policy-rc.d")); !os.IsNotExist(err) {
			t.Error("policy-rc.d left in the tree after Close")
		}
	})
	t.Run("vm", func(t *testing.T) {
		root := baseTree(t, e)
		q := &build.QEMU{Runner: hostexec.Exec{}, Accel: func(ctx context.Context) (string, string) {
			r, err := qemu.ProbeAccel(ctx, "")
			if err != nil {
				return "tcg", err.Error()
			}
			return r.Accel, r.Reason
		}}
		var log bytes.Buffer
		ex, err := q.StartVMExecutor(context.Background(), root, t.TempDir(), build.NewLogger(&log, nil, nil))
		if err != nil {
			t.Fatalf("start vm executor: %v\n%s", err, log.String())
		}
		executortest.Run(t, ex, true)
		if err := ex.Run(context.Background(), "echo from-the-vm > /etc/kiln-vm-marker", &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if err := ex.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if data, err := os.ReadFile(filepath.Join(root, "etc/kiln-vm-marker")); err != nil || string(data) != "from-the-vm\n" {
			t.Errorf("the VM's changes were not written back to the tree: %q %v", data, err)
		}
		if data, _ := os.ReadFile(filepath.Join(root, "root/.ssh/authorized_keys")); strings.Contains(string(data), "kiln-ephemeral") {
			t.Error("the ephemeral build key was left in the tree")
		}
	})
}

// startBuild runs kiln build in the background.
func (e *env) startBuild(t *testing.T, file, name string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(e.bin, "build", file, "-g", "RunRG", "-n", name, "-o", "none")
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "KILN_HOME="+e.home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitSubState polls until the template's run reaches sub.
func (e *env) waitSubState(t *testing.T, name, sub string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		out, _, _ := e.kiln("image", "builder", "show", "-g", "RunRG", "-n", name, "--query", "properties.lastRunStatus.runSubState", "-o", "tsv")
		if strings.TrimSpace(out) == sub {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("run of %s never reached %s", name, sub)
}

func TestCancelAndCrash(t *testing.T) {
	e := setup(t)
	baseTree(t, e)
	e.mustKiln("group", "create", "-n", "RunRG", "-l", "eastus", "-o", "none")

	t.Run("cancel stops a running build", func(t *testing.T) {
		cmd, stderr := e.startBuild(t, "internal/e2e/testdata/slow.json", "slow")
		e.waitSubState(t, "slow", "Customizing")
		time.Sleep(time.Second)
		out := e.mustKiln("image", "builder", "cancel", "-g", "RunRG", "-n", "slow", "--query", "properties.lastRunStatus.runState", "-o", "tsv")
		if strings.TrimSpace(out) != "Canceling" {
			t.Errorf("state after cancel = %q, want Canceling", out)
		}
		err := cmd.Wait()
		if err == nil {
			t.Fatalf("canceled build exited 0: %s", stderr)
		}
		state := strings.TrimSpace(e.mustKiln("image", "builder", "show", "-g", "RunRG", "-n", "slow", "--query", "properties.lastRunStatus.runState", "-o", "tsv"))
		if state != "Canceled" {
			t.Errorf("runState = %q, want Canceled\n%s", state, stderr)
		}
	})
	t.Run("a killed kiln leaves the run Failed, not Running", func(t *testing.T) {
		cmd, _ := e.startBuild(t, "internal/e2e/testdata/slow.json", "crash")
		e.waitSubState(t, "crash", "Customizing")
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		out := e.mustKiln("image", "builder", "show", "-g", "RunRG", "-n", "crash", "--query", "properties.lastRunStatus.[runState, message]", "-o", "tsv")
		if !strings.HasPrefix(out, "Failed\n") || !strings.Contains(out, "kiln stopped while this run was in progress") {
			t.Errorf("after the crash: %q", out)
		}
		runs, _ := filepath.Glob(filepath.Join(e.home, "runs", "*", "work", "root"))
		for _, r := range runs {
			t.Errorf("staging tree left behind: %s", r)
		}
	})
}

func TestAbortKeepsWorkAndSecretsAreRedacted(t *testing.T) {
	e := setup(t)
	baseTree(t, e)
	e.mustKiln("group", "create", "-n", "RunRG", "-l", "eastus", "-o", "none")

	t.Run("errorHandling abort keeps the staging tree and says how to enter it", func(t *testing.T) {
		_, stderr, code := e.kiln("build", "internal/e2e/testdata/abort.json", "-g", "RunRG", "-n", "abort", "-o", "none")
		if code == 0 {
			t.Fatal("a failing build exited 0")
		}
		i := strings.Index(stderr, "sudo chroot ")
		if i < 0 {
			t.Fatalf("no chroot hint in:\n%s", stderr)
		}
		dir := strings.Fields(stderr[i+len("sudo chroot "):])[0]
		if _, err := os.Stat(filepath.Join(dir, "etc", "abort-marker")); err != nil {
			t.Errorf("the kept tree %s lacks the work done before the failure: %v", dir, err)
		}
		os.RemoveAll(filepath.Dir(dir))
	})
	t.Run("securestring parameters never reach the logs", func(t *testing.T) {
		e.mustKiln("deployment", "group", "create", "-g", "RunRG", "--template-file", "internal/e2e/testdata/secure-deploy.json",
			"--parameters", "token=s3cr3t-t0ken-value")
		_, stderr, code := e.kiln("image", "builder", "run", "-g", "RunRG", "-n", "secure", "-o", "none")
		if strings.Contains(stderr, "s3cr3t-t0ken-value") {
			t.Errorf("the secret is in the run's message:\n%s", stderr)
		}
		logs := e.mustKiln("image", "builder", "logs", "-g", "RunRG", "-n", "secure")
		if strings.Contains(logs, "s3cr3t-t0ken-value") {
			t.Errorf("the secret is in customization.log")
		}
		if !strings.Contains(logs, "token=[REDACTED]") {
			t.Errorf("customization.log lacks the redacted line (run exit %d):\n%s", code, logs)
		}
	})
}
