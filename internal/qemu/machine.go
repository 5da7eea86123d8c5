package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// ConsoleTailLines is how many serial console lines errors carry.
const ConsoleTailLines = 30

// Machine is a running QEMU process.
type Machine struct {
	cfg     MachineConfig
	cmd     *exec.Cmd
	console *console
	stderr  *hostexec.Tail
	qmp     *QMP
	tmpDir  string
	logFile *os.File
	log     *slog.Logger

	done    chan struct{} // closed when the process has exited and output is drained
	waitErr error
	once    sync.Once
}

// DefaultShutdownGrace is how long Shutdown waits for the guest to power
// off before asking QEMU to quit, unless MachineConfig.ShutdownGrace says.
const DefaultShutdownGrace = 60 * time.Second

// Start launches a machine. Its lifetime is bound to ctx: when ctx ends,
// the machine is killed. When cfg.QMPSocket is empty a socket is made in a
// temporary directory; for UEFI without VarsFile the variable template is
// copied there; with Network and no SSHPort a free port is chosen.
func Start(ctx context.Context, cfg MachineConfig) (*Machine, error) {
	m := &Machine{done: make(chan struct{}), stderr: hostexec.NewTail(64 << 10), log: slog.Default()}
	if err := m.prepare(&cfg); err != nil {
		m.cleanup()
		return nil, err
	}
	m.cfg = cfg
	if err := m.launch(ctx); err != nil {
		m.cleanup()
		return nil, err
	}
	if err := m.connectQMP(ctx); err != nil {
		m.Kill()
		return nil, err
	}
	return m, nil
}

func (m *Machine) prepare(cfg *MachineConfig) error {
	dir, err := os.MkdirTemp("", "kiln-qemu-")
	if err != nil {
		return fmt.Errorf("start vm: %w", err)
	}
	m.tmpDir = dir
	if cfg.QMPSocket == "" {
		cfg.QMPSocket = filepath.Join(dir, "qmp.sock")
	}
	if cfg.Boot == BootUEFI && cfg.VarsFile == "" && cfg.Firmware.Vars != "" {
		cfg.VarsFile = filepath.Join(dir, "OVMF_VARS.fd")
		if err := copyFile(cfg.Firmware.Vars, cfg.VarsFile); err != nil {
			return fmt.Errorf("start vm: copy UEFI variables: %w", err)
		}
	}
	if cfg.Network && cfg.SSHPort == 0 {
		if cfg.SSHPort, err = FreePort(); err != nil {
			return fmt.Errorf("start vm: %w", err)
		}
	}
	cfg.SerialStdio = true
	if cfg.SerialLog != "" {
		mode := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if cfg.AppendSerialLog {
			mode = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		if m.logFile, err = os.OpenFile(cfg.SerialLog, mode, 0o644); err != nil {
			return fmt.Errorf("start vm: serial log: %w", err)
		}
	}
	return nil
}

func (m *Machine) launch(ctx context.Context) error {
	bin, err := hostexec.LookPath(m.cfg.binary())
	if err != nil {
		return fmt.Errorf("start vm: %w (install qemu-system-x86)", err)
	}
	cmd := exec.Command(bin, Args(m.cfg)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = m.stderr
	var logW io.Writer
	if m.logFile != nil {
		logW = m.logFile
	}
	m.console = newConsole(logW)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start vm: %w", err)
	}
	m.log.Debug("starting qemu", "cmd", hostexec.Command{Name: bin, Args: cmd.Args[1:]}.String())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start vm: %w", err)
	}
	m.cmd = cmd
	go m.reap(stdout)
	go func() {
		select {
		case <-ctx.Done():
			m.Kill()
		case <-m.done:
		}
	}()
	return nil
}

// reap copies the console until EOF, then waits for the process.
func (m *Machine) reap(stdout io.Reader) {
	io.Copy(m.console, stdout)
	err := m.cmd.Wait()
	if err != nil {
		err = fmt.Errorf("qemu exited: %w: %s", err, lastLines(m.stderr.String(), 10))
	}
	m.waitErr = err
	m.cleanup()
	close(m.done)
}

func (m *Machine) cleanup() {
	if m.logFile != nil {
		m.logFile.Close()
	}
	if m.tmpDir != "" {
		os.RemoveAll(m.tmpDir)
	}
}

func (m *Machine) connectQMP(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		q, err := DialQMP(dctx, m.cfg.QMPSocket)
		cancel()
		if err == nil {
			m.qmp = q
			go func() { <-m.done; q.Close() }()
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("start vm: %w", m.exitError())
		case <-ctx.Done():
			return fmt.Errorf("start vm: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start vm: QMP socket never answered: %w", err)
		}
	}
}

func (m *Machine) exitError() error {
	if m.waitErr != nil {
		return m.waitErr
	}
	return errors.New("qemu exited")
}

// QMP returns the machine's QMP client.
func (m *Machine) QMP() *QMP { return m.qmp }

// SSHPort is the host port forwarded to the guest's port 22 (0 if none).
func (m *Machine) SSHPort() int { return m.cfg.SSHPort }

// Config returns the configuration the machine was started with.
func (m *Machine) Config() MachineConfig { return m.cfg }

// Console returns the serial output seen so far.
func (m *Machine) Console() []byte { return m.console.Bytes() }

// Done is closed when QEMU has exited.
func (m *Machine) Done() <-chan struct{} { return m.done }

// WaitFor returns once the serial console output matches p. If QEMU exits
// or ctx ends first, the error carries the last lines of the console.
func (m *Machine) WaitFor(ctx context.Context, p Matcher) error {
	for {
		ok, changed := m.console.check(p)
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-m.done:
			if ok, _ := m.console.check(p); ok {
				return nil
			}
			return m.consoleError(p, fmt.Errorf("qemu exited: %v", m.exitError()))
		case <-ctx.Done():
			return m.consoleError(p, ctx.Err())
		}
	}
}

func (m *Machine) consoleError(p Matcher, err error) error {
	return fmt.Errorf("waiting for %v on the serial console: %w\n--- last %d console lines ---\n%s",
		p, err, ConsoleTailLines, lastLines(string(m.console.Bytes()), ConsoleTailLines))
}

// Wait blocks until QEMU exits and returns its exit error, if any.
func (m *Machine) Wait() error {
	<-m.done
	return m.waitErr
}

// Kill ends QEMU's process group at once and waits for it.
func (m *Machine) Kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		m.log.Warn("qemu did not exit after SIGKILL", "pid", m.cmd.Process.Pid)
	}
}

// Shutdown asks the guest to power off (ACPI), waits up to the shutdown grace or
// until ctx ends, then asks QEMU to quit, and finally kills it.
func (m *Machine) Shutdown(ctx context.Context) error {
	if m.exited() {
		return nil
	}
	if _, err := m.qmp.Execute(ctx, "system_powerdown", nil); err != nil {
		m.log.Debug("system_powerdown failed", "error", err)
	}
	grace := m.cfg.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	if m.waitExit(ctx, grace) {
		return nil
	}
	qctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.qmp.Execute(qctx, "quit", nil); err != nil {
		m.log.Debug("qmp quit failed", "error", err)
	}
	if m.waitExit(context.Background(), 5*time.Second) {
		return nil
	}
	m.Kill()
	return errors.New("vm shutdown: guest did not power off; killed qemu")
}

func (m *Machine) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

func (m *Machine) waitExit(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
