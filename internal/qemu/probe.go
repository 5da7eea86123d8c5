package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// AccelResult is the outcome of ProbeAccel.
type AccelResult struct {
	Accel    string    `json:"accel"`  // kvm or tcg
	Reason   string    `json:"reason"` // why, in words for the user
	BootID   string    `json:"bootID"` // host boot the result is valid for
	ProbedAt time.Time `json:"probedAt"`
	Cached   bool      `json:"-"`
}

// Prober decides which accelerator works on this host.
type Prober struct {
	Binary     string        // default qemu-system-x86_64
	KVMDevice  string        // default /dev/kvm
	Timeout    time.Duration // how long the probe guest gets; default 5s
	BootIDFile string        // default /proc/sys/kernel/random/boot_id
	Logger     *slog.Logger
}

// probeProgress is what SeaBIOS prints on its debug console once POST is
// over; a guest that reaches it runs fine under the accelerator.
var probeProgress = []string{"Booting from", "No bootable device"}

// ProbeAccel probes with default settings, caching the result in cacheFile
// (ignored when empty) for as long as the host stays up.
func ProbeAccel(ctx context.Context, cacheFile string) (AccelResult, error) {
	return Prober{}.Probe(ctx, cacheFile)
}

// Probe returns the cached result for this host boot, or probes: KVM is
// chosen only when /dev/kvm opens and a probe guest (SeaBIOS, no disk) gets
// through POST under KVM within the timeout.
func (p Prober) Probe(ctx context.Context, cacheFile string) (AccelResult, error) {
	p = p.withDefaults()
	bootID := p.bootID()
	if r, ok := readCache(cacheFile, bootID); ok {
		return r, nil
	}
	r, err := p.probe(ctx)
	if err != nil {
		return r, err
	}
	r.BootID, r.ProbedAt = bootID, time.Now().UTC()
	p.Logger.Info("accelerator chosen", "accel", r.Accel, "reason", r.Reason)
	if cacheFile != "" {
		if err := writeCache(cacheFile, r); err != nil {
			p.Logger.Warn("cannot cache accelerator probe", "file", cacheFile, "error", err)
		}
	}
	return r, nil
}

func (p Prober) withDefaults() Prober {
	if p.Binary == "" {
		p.Binary = "qemu-system-x86_64"
	}
	if p.KVMDevice == "" {
		p.KVMDevice = "/dev/kvm"
	}
	if p.Timeout == 0 {
		p.Timeout = 5 * time.Second
	}
	if p.BootIDFile == "" {
		p.BootIDFile = "/proc/sys/kernel/random/boot_id"
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	return p
}

func (p Prober) bootID() string {
	b, err := os.ReadFile(p.BootIDFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func tcg(reason string) AccelResult { return AccelResult{Accel: AccelTCG, Reason: reason} }

func (p Prober) probe(ctx context.Context) (AccelResult, error) {
	f, err := os.OpenFile(p.KVMDevice, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return tcg(p.KVMDevice + " is missing (no hardware virtualization, or the kvm module is not loaded); using TCG"), nil
	case err != nil:
		return tcg(fmt.Sprintf("cannot open %s: %v (join the kvm group?); using TCG", p.KVMDevice, err)), nil
	}
	f.Close()
	bin, err := hostexec.LookPath(p.Binary)
	if err != nil {
		return AccelResult{}, fmt.Errorf("probe accelerator: %w (install qemu-system-x86)", err)
	}
	dir, err := os.MkdirTemp("", "kiln-probe-")
	if err != nil {
		return AccelResult{}, fmt.Errorf("probe accelerator: %w", err)
	}
	defer os.RemoveAll(dir)
	return p.bootProbe(ctx, bin, filepath.Join(dir, "debugcon.log"))
}

// ProbeArgs builds the command line of the probe guest.
func ProbeArgs(debugCon string) []string {
	return Args(MachineConfig{Name: "kiln-kvm-probe", Accel: AccelKVM, CPUs: 1, MemoryMiB: 64,
		Boot: BootBIOS, DebugCon: debugCon})
}

func (p Prober) bootProbe(ctx context.Context, bin, debugCon string) (AccelResult, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(bin, ProbeArgs(debugCon)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return AccelResult{}, fmt.Errorf("probe accelerator: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stopProbe(cmd, exited)

	deadline := time.NewTimer(p.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return AccelResult{}, fmt.Errorf("probe accelerator: %w", ctx.Err())
		case err := <-exited:
			exited <- err // for stopProbe
			return tcg(fmt.Sprintf("%s present but a KVM probe guest failed (%v: %s); using TCG",
				p.KVMDevice, err, strings.TrimSpace(stderr.String()))), nil
		case <-deadline.C:
			return tcg(fmt.Sprintf("%s present but a probe guest made no progress in %v: nested virtualization hang; using TCG",
				p.KVMDevice, p.Timeout)), nil
		case <-tick.C:
			if out, _ := os.ReadFile(debugCon); madeProgress(out) {
				return AccelResult{Accel: AccelKVM, Reason: "a KVM probe guest booted through firmware"}, nil
			}
		}
	}
}

func madeProgress(debugOut []byte) bool {
	for _, s := range probeProgress {
		if bytes.Contains(debugOut, []byte(s)) {
			return true
		}
	}
	return false
}

// stopProbe kills the probe's process group without waiting forever: a
// guest stuck inside KVM can take a while to die.
func stopProbe(cmd *exec.Cmd, exited chan error) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
	}
}

func readCache(path, bootID string) (AccelResult, bool) {
	if path == "" || bootID == "" {
		return AccelResult{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return AccelResult{}, false
	}
	var r AccelResult
	if json.Unmarshal(b, &r) != nil || r.BootID != bootID || (r.Accel != AccelKVM && r.Accel != AccelTCG) {
		return AccelResult{}, false
	}
	r.Cached = true
	return r, true
}

func writeCache(path string, r AccelResult) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
