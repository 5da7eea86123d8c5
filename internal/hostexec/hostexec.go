// Package hostexec runs host programs on behalf of kiln's driver types.
//
// Drivers build their command lines with pure functions and hand them to a
// Runner. The default Runner, Exec, uses os/exec, puts every child in its own
// process group so that cancelling the context kills the whole tree, and turns
// a non-zero exit into an *ExitError that carries the command line, the exit
// code and the last lines the program printed.
package hostexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// TailLines is how many trailing output lines an ExitError keeps.
const TailLines = 20

// Command describes one program invocation.
type Command struct {
	Name  string   // program name (looked up in PATH, then sbin) or path
	Args  []string // arguments, without the program name
	Dir   string   // working directory; empty means the current one
	Env   []string // extra KEY=VALUE pairs appended to the environment
	Stdin io.Reader
	// Stdout and Stderr receive the program's output. When nil, the output
	// is captured into Result instead.
	Stdout, Stderr io.Writer
}

// String renders the command line in a shell-like form for logs and errors.
func (c Command) String() string {
	parts := make([]string, 0, len(c.Args)+1)
	parts = append(parts, quote(c.Name))
	for _, a := range c.Args {
		parts = append(parts, quote(a))
	}
	return strings.Join(parts, " ")
}

func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>(){}*?!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Result is what a finished command left behind.
type Result struct {
	ExitCode int
	Stdout   []byte // captured only when Command.Stdout was nil
	Stderr   []byte // captured only when Command.Stderr was nil
	Duration time.Duration
}

// Runner runs host commands.
type Runner interface {
	Run(ctx context.Context, cmd Command) (Result, error)
}

// RunnerFunc adapts a function to the Runner interface (handy in tests).
type RunnerFunc func(ctx context.Context, cmd Command) (Result, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, cmd Command) (Result, error) { return f(ctx, cmd) }

// ExitError reports a command that ran but exited unsuccessfully.
type ExitError struct {
	Cmdline  string
	ExitCode int
	Tail     string // last TailLines lines of stderr (of stdout if stderr was empty)
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: exit status %d", e.Cmdline, e.ExitCode)
	if e.Tail != "" {
		msg += "\n" + e.Tail
	}
	return msg
}

// Exec is the os/exec based Runner.
type Exec struct {
	// Logger receives one debug line per command; nil uses slog.Default().
	Logger *slog.Logger
	// KillGrace is how long to wait for output pipes after a kill; zero means 5s.
	KillGrace time.Duration
}

// Run starts cmd, waits for it and reports how it ended.
func (e Exec) Run(ctx context.Context, cmd Command) (Result, error) {
	path, err := LookPath(cmd.Name)
	if err != nil {
		return Result{ExitCode: -1}, fmt.Errorf("run %s: %w", cmd.Name, err)
	}
	c := exec.CommandContext(ctx, path, cmd.Args...)
	c.Dir = cmd.Dir
	if len(cmd.Env) > 0 {
		c.Env = append(os.Environ(), cmd.Env...)
	}
	c.Stdin = cmd.Stdin
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = e.KillGrace
	if c.WaitDelay == 0 {
		c.WaitDelay = 5 * time.Second
	}
	var outBuf, errBuf bytes.Buffer
	outTail, errTail := NewTail(64<<10), NewTail(64<<10)
	c.Stdout = io.MultiWriter(pick(cmd.Stdout, &outBuf), outTail)
	c.Stderr = io.MultiWriter(pick(cmd.Stderr, &errBuf), errTail)

	e.logger().Debug("exec", "cmd", cmd.String())
	start := time.Now()
	err = c.Run()
	res := Result{Duration: time.Since(start), ExitCode: c.ProcessState.ExitCode()}
	if cmd.Stdout == nil {
		res.Stdout = outBuf.Bytes()
	}
	if cmd.Stderr == nil {
		res.Stderr = errBuf.Bytes()
	}
	return res, e.wrap(ctx, cmd, err, res.ExitCode, errTail, outTail)
}

func (e Exec) wrap(ctx context.Context, cmd Command, err error, code int, errTail, outTail *Tail) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", cmd.String(), ctxErr)
	}
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		// Programs report failures on stderr; fall back to stdout for the
		// few that do not.
		tail := errTail.Lines(TailLines)
		if tail == "" {
			tail = outTail.Lines(TailLines)
		}
		return &ExitError{Cmdline: cmd.String(), ExitCode: code, Tail: strings.TrimRight(tail, "\n")}
	}
	return fmt.Errorf("%s: %w", cmd.String(), err)
}

func (e Exec) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func pick(w io.Writer, fallback io.Writer) io.Writer {
	if w != nil {
		return w
	}
	return fallback
}

// sbinDirs are searched after PATH: non-root users often lack them in PATH,
// yet mke2fs, sfdisk and mkfs.vfat live there.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// LookPath finds a program in PATH and then in the sbin directories.
func LookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil || strings.Contains(name, "/") {
		return p, err
	}
	for _, dir := range sbinDirs {
		cand := dir + "/" + name
		if st, serr := os.Stat(cand); serr == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return cand, nil
		}
	}
	return "", err
}

// Missing returns the programs that cannot be found, in the order given.
func Missing(programs ...string) []string {
	var out []string
	for _, p := range programs {
		if _, err := LookPath(p); err != nil {
			out = append(out, p)
		}
	}
	return out
}
