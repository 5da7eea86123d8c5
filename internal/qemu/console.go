package qemu

import (
	"io"
	"strings"
	"sync"
)

// maxConsole bounds the serial output kept in memory for matching.
const maxConsole = 8 << 20

// Matcher recognises text on the serial console; *regexp.Regexp is one.
type Matcher interface {
	Match(b []byte) bool
}

// Text matches a literal substring.
type Text string

// Match reports whether b contains t.
func (t Text) Match(b []byte) bool { return strings.Contains(string(b), string(t)) }

// String returns the text.
func (t Text) String() string { return string(t) }

// console collects serial output, tees it to a log file and wakes waiters.
type console struct {
	mu      sync.Mutex
	buf     []byte
	changed chan struct{} // closed and replaced on every write
	log     io.Writer
}

func newConsole(log io.Writer) *console {
	return &console{changed: make(chan struct{}), log: log}
}

func (c *console) Write(p []byte) (int, error) {
	if c.log != nil {
		c.log.Write(p) // a failing log file must not stop the machine
	}
	c.mu.Lock()
	c.buf = append(c.buf, p...)
	if over := len(c.buf) - maxConsole; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return len(p), nil
}

// check reports whether m matches the output so far, and returns the
// channel closed on the next write.
func (c *console) check(m Matcher) (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m.Match(c.buf), c.changed
}

// Bytes returns a copy of the output kept.
func (c *console) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}

// lastLines returns the last n lines of s without terminal escape noise.
func lastLines(s string, n int) string {
	s = strings.ReplaceAll(s, "\r", "")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
