package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// Chroot runs scripts with chroot in a private mount namespace: /proc, /sys,
// a minimal /dev (no host disks) and a tmpfs /run are mounted for each
// script and vanish with the
// namespace when it exits, even if kiln is killed. Services do not start:
// a policy-rc.d refuses them for the duration of the build.
type Chroot struct {
	Root   string
	Runner hostexec.Runner
}

var _ Executor = (*Chroot)(nil)

const policyRCD = "usr/sbin/policy-rc.d"

// NewChroot prepares root for chroot customization.
func NewChroot(root string, r hostexec.Runner) (*Chroot, error) {
	if _, err := os.Stat(filepath.Join(root, "bin", "sh")); err != nil {
		return nil, fmt.Errorf("chroot executor: %s holds no root filesystem (no /bin/sh): %w", root, err)
	}
	p := filepath.Join(root, policyRCD)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n# written by kiln during the build: no service starts in a chroot\nexit 101\n"), 0o755); err != nil {
		return nil, fmt.Errorf("chroot executor: %w", err)
	}
	return &Chroot{Root: root, Runner: r}, nil
}

// Name implements Executor.
func (c *Chroot) Name() string { return "chroot" }

// ChrootWrapper is the shell program run by unshare that sets up the mounts
// and executes the script inside the root (a pure function of its inputs).
func ChrootWrapper(root string) string {
	q := ShellQuote(root)
	return strings.Join([]string{
		"set -e",
		"R=" + q,
		`hostname "$(cat "$R/etc/hostname" 2>/dev/null || echo localhost)"`,
		`mount -t proc proc "$R/proc"`,
		`mount -t sysfs -o ro sysfs "$R/sys"`,
		// A minimal /dev, not the host's: a script (root in the image) must
		// not reach the host's disks, and through them kiln's database and keys.
		`mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$R/dev"`,
		`for d in null zero full random urandom tty; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done`,
		`mkdir -p "$R/dev/pts" "$R/dev/shm"`,
		`mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"`,
		`ln -s pts/ptmx "$R/dev/ptmx"`,
		`mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"`,
		`ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"`,
		`mount -t tmpfs -o mode=0755 tmpfs "$R/run"`,
		`mkdir -p "$R/run/systemd/resolve" "$R/run/lock"`,
		`cp /etc/resolv.conf "$R/run/systemd/resolve/stub-resolv.conf"`,
		`cp /etc/resolv.conf "$R/run/systemd/resolve/resolv.conf"`,
		`if [ -f "$R/etc/resolv.conf" ] && [ ! -L "$R/etc/resolv.conf" ]; then mount --bind /etc/resolv.conf "$R/etc/resolv.conf"; fi`,
		`exec chroot "$R" /usr/bin/env -i ` + strings.Join(Env, " ") + ` /bin/sh -c "$0" </dev/null`,
	}, "\n")
}

// ChrootArgs is the unshare command line for one script.
func ChrootArgs(root, script string) []string {
	return []string{"--mount", "--uts", "--propagation", "private", "--fork", "--pid", "--mount-proc",
		"/bin/sh", "-c", ChrootWrapper(root), script}
}

// Run implements Executor.
func (c *Chroot) Run(ctx context.Context, script string, out io.Writer) error {
	tail := newTail(out, 25)
	_, err := c.Runner.Run(ctx, hostexec.Command{Name: "unshare", Args: ChrootArgs(c.Root, script), Stdout: tail, Stderr: tail})
	var exit *hostexec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		return &ExitError{Code: exit.ExitCode, Tail: tail.String()}
	}
	return err
}

// Upload implements Executor; dst is resolved inside the root, so symlinks in
// the image cannot make it write outside.
func (c *Chroot) Upload(_ context.Context, src, dst string, mode os.FileMode) error {
	if !path.IsAbs(dst) {
		return fmt.Errorf("destination %q must be an absolute path", dst)
	}
	root, err := os.OpenRoot(c.Root)
	if err != nil {
		return err
	}
	defer root.Close()
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	rel := strings.TrimPrefix(path.Clean(dst), "/")
	if _, err := root.Stat(path.Dir(rel)); err != nil {
		return fmt.Errorf("destination directory %s does not exist in the image (create it in an earlier Shell step): %w", path.Dir(dst), err)
	}
	tmp := rel + ".kiln-upload"
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("create %s in the image: %w", dst, err)
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		root.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := root.Chmod(tmp, mode); err != nil {
		return err
	}
	return root.Rename(tmp, rel)
}

// Restart implements Executor: nothing runs in a chroot, so nothing restarts.
func (c *Chroot) Restart(context.Context) error { return nil }

// Close implements Executor: it removes the policy-rc.d written by NewChroot.
func (c *Chroot) Close(context.Context) error {
	err := os.Remove(filepath.Join(c.Root, policyRCD))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// ShellQuote quotes s as one word for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
