package qemu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

func needQEMU(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts QEMU; skipped with -short")
	}
	if m := hostexec.Missing("qemu-system-x86_64"); len(m) > 0 {
		t.Skip("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
	}
}

func TestStartFailureReportsQEMUError(t *testing.T) {
	needQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, MachineConfig{CPUs: 1, MemoryMiB: 64,
		Disk: Drive{Path: filepath.Join(t.TempDir(), "missing.raw"), Format: "raw"}})
	if err == nil || !strings.Contains(err.Error(), "missing.raw") {
		t.Fatalf("err = %v, want QEMU's complaint about the missing disk", err)
	}
	t.Log(err)
}

// A diskless SeaBIOS guest never prints a login prompt and ignores ACPI
// power-down: WaitFor must time out with context, and Shutdown must fall
// back to QMP quit.
func TestWaitForTimeoutAndShutdownFallback(t *testing.T) {
	needQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := filepath.Join(t.TempDir(), "serial.log")
	m, err := Start(ctx, MachineConfig{CPUs: 1, MemoryMiB: 64, SerialLog: log, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Kill()
	if _, err := m.QMP().Execute(ctx, "query-status", nil); err != nil {
		t.Fatalf("query-status: %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	defer wcancel()
	err = m.WaitFor(wctx, Text("login:"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "console lines") {
		t.Fatalf("WaitFor err = %v", err)
	}
	start := time.Now()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	select {
	case <-m.Done():
	default:
		t.Fatal("machine still running after Shutdown")
	}
	if _, err := os.Stat(log); err != nil {
		t.Errorf("serial log: %v", err)
	}
	if err := m.WaitFor(ctx, Text("login:")); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitFor after exit = %v", err)
	}
}

func TestStartBoundToContext(t *testing.T) {
	needQEMU(t)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Start(ctx, MachineConfig{CPUs: 1, MemoryMiB: 64})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-m.Done():
	case <-time.After(15 * time.Second):
		m.Kill()
		t.Fatal("machine outlived its context")
	}
}
