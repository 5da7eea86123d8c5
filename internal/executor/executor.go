// Package executor runs customizers inside an image. Two executors share one
// interface and one conformance suite: chroot (the default for Linux: the
// image's root tree in its own mount namespace, no services started, the
// host's network for apt) and vm (the image booted under QEMU, commands over
// SSH with an ephemeral key).
package executor

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
)

// Executor runs commands and places files inside the image being built.
type Executor interface {
	// Name is "chroot" or "vm".
	Name() string
	// Run runs a shell script as root inside the image with stdin closed,
	// streaming its output to out. A non-zero exit is an *ExitError.
	Run(ctx context.Context, script string, out io.Writer) error
	// Upload copies the local file src to the absolute path dst in the image.
	Upload(ctx context.Context, src, dst string, mode os.FileMode) error
	// Restart reboots the system and waits for it (a no-op for chroot).
	Restart(ctx context.Context) error
	// Close stops the executor; for vm it shuts the VM down and writes the
	// changed root back to the tree.
	Close(ctx context.Context) error
}

// ExitError is a script that exited non-zero.
type ExitError struct {
	Code int
	Tail string // the last lines of its output
}

func (e *ExitError) Error() string {
	msg := "script exited with code " + strconv.Itoa(e.Code)
	if t := strings.TrimSpace(e.Tail); t != "" {
		msg += "; last output:\n" + t
	}
	return msg
}

// Env is the environment scripts run with: what Azure's build VM gives a
// script, plus a non-interactive apt.
var Env = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"DEBCONF_NONINTERACTIVE_SEEN=true",
	"APT_LISTCHANGES_FRONTEND=none",
	"NEEDRESTART_MODE=a",
}

// tailWriter keeps the last n lines written through it.
type tailWriter struct {
	w     io.Writer
	n     int
	lines []string
	part  string
}

func newTail(w io.Writer, n int) *tailWriter { return &tailWriter{w: w, n: n} }

func (t *tailWriter) Write(p []byte) (int, error) {
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
	if t.w != nil {
		return t.w.Write(p)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	lines := t.lines
	if t.part != "" {
		lines = append(append([]string{}, lines...), t.part)
	}
	if len(lines) > t.n {
		lines = lines[len(lines)-t.n:]
	}
	return strings.Join(lines, "\n")
}
