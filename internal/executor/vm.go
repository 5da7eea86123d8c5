package executor

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kiln-dev/kiln/internal/qemu"
)

// ReadyPattern matches the readiness line kiln-ready.service prints on the
// serial console ("KILN-READY <boot id>").
var ReadyPattern = regexp.MustCompile(`KILN-READY ([0-9a-f-]{36})`)

// Key is an ephemeral SSH key for one build or validation VM.
type Key struct {
	Signer        ssh.Signer
	AuthorizedKey string // one authorized_keys line
}

// NewKey makes an ed25519 key that lives only in memory.
func NewKey() (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return Key{}, err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " kiln-ephemeral\n"
	return Key{Signer: signer, AuthorizedKey: line}, nil
}

// VMConfig describes how to boot a VM executor.
type VMConfig struct {
	Disk         string // the disk to boot; it is written to
	DiskFormat   string // raw or qcow2
	Accel        string // kvm or tcg
	Firmware     qemu.Firmware
	CPUs         int
	MemoryMiB    int
	SerialLog    string
	ReadyTimeout time.Duration
	Key          Key
	// BIOS boots with SeaBIOS instead of UEFI.
	BIOS bool
	// User logs in over SSH (default root); other users run commands through sudo -n.
	User string
	// Logf receives progress lines.
	Logf func(format string, args ...any)
}

// VM runs commands over SSH in a QEMU guest.
type VM struct {
	cfg VMConfig
	mc  qemu.MachineConfig
	// life bounds the machine's lifetime (BootVM's context): a restarted
	// machine lives as long as the first, not as long as Restart's caller.
	life    context.Context
	machine *qemu.Machine
	client  *ssh.Client
	bootID  string
}

var _ Executor = (*VM)(nil)

// BootVM starts the machine, waits for the readiness signal and connects.
func BootVM(ctx context.Context, cfg VMConfig) (*VM, error) {
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 5 * time.Minute
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	mc := qemu.MachineConfig{
		Name: "kiln-build", Accel: cfg.Accel, CPUs: cfg.CPUs, MemoryMiB: cfg.MemoryMiB,
		Boot: qemu.BootUEFI, Firmware: cfg.Firmware,
		Disk:        qemu.Drive{Path: cfg.Disk, Format: cfg.DiskFormat, Cache: "unsafe"},
		SerialStdio: true, SerialLog: cfg.SerialLog, Network: true,
	}
	if cfg.BIOS {
		mc.Boot, mc.Firmware = qemu.BootBIOS, qemu.Firmware{}
	}
	m, err := qemu.Start(ctx, mc)
	if err != nil {
		return nil, fmt.Errorf("start QEMU: %w", err)
	}
	v := &VM{cfg: cfg, mc: mc, life: ctx, machine: m}
	cfg.Logf("QEMU started (%s, %s); waiting for the readiness signal on the serial console", cfg.Accel, mc.Boot)
	if err := v.waitReady(ctx, ""); err != nil {
		m.Kill()
		return nil, err
	}
	if err := v.connect(ctx); err != nil {
		m.Kill()
		return nil, err
	}
	return v, nil
}

// waitReady waits for a readiness line whose boot ID differs from prev.
func (v *VM) waitReady(ctx context.Context, prev string) error {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.ReadyTimeout)
	defer cancel()
	m := readyAfter{prev: prev}
	if err := v.machine.WaitFor(ctx, &m); err != nil {
		return fmt.Errorf("the VM did not become ready within %s: %w", v.cfg.ReadyTimeout, err)
	}
	v.bootID = m.found
	return nil
}

// readyAfter matches a readiness line with a boot ID other than prev.
type readyAfter struct{ prev, found string }

func (r *readyAfter) Match(b []byte) bool {
	for _, m := range ReadyPattern.FindAllSubmatch(b, -1) {
		if id := string(m[1]); id != r.prev {
			r.found = id
			return true
		}
	}
	return false
}

func (r *readyAfter) String() string { return "KILN-READY (a new boot)" }

// connect dials SSH on the forwarded port. The guest is on loopback and
// its host keys were made at first boot, so there is nothing to pin them to.
func (v *VM) connect(ctx context.Context) error {
	conf := &ssh.ClientConfig{
		User: v.user(), Auth: []ssh.AuthMethod{ssh.PublicKeys(v.cfg.Key.Signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(v.machine.SSHPort()))
	var last error
	for i := 0; i < 30; i++ {
		c, err := ssh.Dial("tcp", addr, conf)
		if err == nil {
			v.client = c
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("ssh to the VM at %s: %w", addr, last)
}

// Kill stops the VM at once (for throwaway disks).
func (v *VM) Kill() {
	if v.client != nil {
		v.client.Close()
	}
	v.machine.Kill()
}

// Name implements Executor.
func (v *VM) Name() string { return "vm" }

func (v *VM) user() string {
	if v.cfg.User == "" {
		return "root"
	}
	return v.cfg.User
}

// asRoot prefixes a command with sudo when the login user is not root.
func (v *VM) asRoot(cmd string) string {
	if v.user() == "root" {
		return cmd
	}
	return "sudo -n /bin/sh -c " + ShellQuote(cmd)
}

// ownsUploads reports whether an upload to dst belongs to the login user,
// as with Packer's uploads over SSH: files in /tmp, /var/tmp and the user's
// home; elsewhere they are written as root.
func (v *VM) ownsUploads(dst string) bool {
	if v.user() == "root" {
		return false
	}
	for _, dir := range []string{"/tmp/", "/var/tmp/", "/home/" + v.user() + "/"} {
		if strings.HasPrefix(path.Clean(dst), dir) {
			return true
		}
	}
	return false
}

// Console returns what the VM printed on its serial console.
func (v *VM) Console() []byte { return v.machine.Console() }

// Run implements Executor.
func (v *VM) Run(ctx context.Context, script string, out io.Writer) error {
	sess, err := v.client.NewSession()
	if err != nil {
		return fmt.Errorf("ssh session: %w", err)
	}
	defer sess.Close()
	tail := newTail(out, 25)
	sess.Stdout, sess.Stderr = tail, tail
	done := make(chan error, 1)
	go func() {
		done <- sess.Run("env " + strings.Join(Env, " ") + " /bin/sh -c " + ShellQuote(script) + " </dev/null")
	}()
	select {
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		return ctx.Err()
	case err := <-done:
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			return &ExitError{Code: exit.ExitStatus(), Tail: tail.String()}
		}
		return err
	}
}

// Upload implements Executor.
func (v *VM) Upload(ctx context.Context, src, dst string, mode os.FileMode) error {
	if !path.IsAbs(dst) {
		return fmt.Errorf("destination %q must be an absolute path", dst)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	sess, err := v.client.NewSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	sess.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	tmp := dst + ".kiln-upload"
	cmd := fmt.Sprintf("cat > %s && chmod %o %s", ShellQuote(tmp), mode, ShellQuote(tmp))
	if v.ownsUploads(dst) {
		cmd += fmt.Sprintf(" && chown %s: %s", ShellQuote(v.user()), ShellQuote(tmp))
	}
	cmd += fmt.Sprintf(" && mv %s %s", ShellQuote(tmp), ShellQuote(dst))
	if err := sess.Run(v.asRoot(cmd)); err != nil {
		return fmt.Errorf("upload to %s: %v: %s", dst, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Restart implements Executor: a cold restart, that is a clean power-off
// and a new QEMU process on the same disk, then the next readiness
// signal. (A warm reset through the UEFI firmware under TCG sometimes
// stalled in GRUB for minutes.)
func (v *VM) Restart(ctx context.Context) error {
	prev := v.bootID
	if err := v.Close(ctx); err != nil {
		return fmt.Errorf("restart: power off: %w", err)
	}
	v.client = nil
	mc := v.mc
	mc.AppendSerialLog = true
	m, err := qemu.Start(v.life, mc)
	if err != nil {
		return fmt.Errorf("restart: start QEMU: %w", err)
	}
	v.machine = m
	v.cfg.Logf("QEMU restarted; waiting for the readiness signal on the serial console")
	if err := v.waitReady(ctx, prev); err != nil {
		m.Kill()
		return err
	}
	return v.connect(ctx)
}

// Close implements Executor: power the VM off cleanly (the disk is reused).
func (v *VM) Close(ctx context.Context) error {
	if v.client != nil {
		if sess, err := v.client.NewSession(); err == nil {
			_ = sess.Start(v.asRoot("sync; systemctl poweroff"))
			sess.Close()
		}
		v.client.Close()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
	defer cancel()
	return v.machine.Shutdown(sctx)
}
