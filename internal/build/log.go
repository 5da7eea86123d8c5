package build

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Logger writes timestamped lines to a phase log (customization.log or
// validation.log), redacting secure values, and forwards each line to an
// optional observer (the terminal's progress display).
type Logger struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
	observe func(line string)
	now     func() time.Time
	partial string
}

// NewLogger returns a logger writing to w.
func NewLogger(w io.Writer, secrets []string, observe func(string)) *Logger {
	var s []string
	for _, v := range secrets {
		if len(v) >= 3 {
			s = append(s, v)
		}
	}
	return &Logger{w: w, secrets: s, observe: observe, now: time.Now}
}

// Printf logs one formatted line.
func (l *Logger) Printf(format string, args ...any) {
	l.line(fmt.Sprintf(format, args...))
}

func (l *Logger) line(msg string) {
	msg = l.redact(msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "[%s] %s\n", l.now().UTC().Format("2006-01-02T15:04:05.000Z"), msg)
	if l.observe != nil {
		l.observe(msg)
	}
}

func (l *Logger) redact(s string) string {
	for _, v := range l.secrets {
		s = strings.ReplaceAll(s, v, "[REDACTED]")
	}
	return s
}

// Writer returns an io.Writer that logs each written line with prefix.
func (l *Logger) Writer(prefix string) io.Writer { return &lineWriter{l: l, prefix: prefix} }

type lineWriter struct {
	l      *Logger
	prefix string
	buf    string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf += string(p)
	for {
		i := strings.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.l.line(w.prefix + strings.TrimRight(w.buf[:i], "\r"))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 {
		w.l.line(w.prefix + w.buf)
		w.buf = ""
	}
	return len(p), nil
}

// Flush logs a trailing partial line, if any.
func (w *lineWriter) Flush() {
	if w.buf != "" {
		w.l.line(w.prefix + w.buf)
		w.buf = ""
	}
}

// flusher is implemented by the writers of Logger.Writer.
type flusher interface{ Flush() }
