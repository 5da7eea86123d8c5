package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a run live: on a terminal a spinner with the sub-state,
// the elapsed time and the latest log line; otherwise plain lines for each
// step (every log line with --verbose).
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	bar     *progressbar.ProgressBar
	sub     string
	start   time.Time
	closed  bool
}

func newProgress(w io.Writer, verbose bool) *progress {
	p := &progress{w: w, verbose: verbose, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowIts(),
			progressbar.OptionSetDescription("Queued"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// SubState records a runSubState change.
func (p *progress) SubState(sub string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sub = sub
	if p.bar == nil {
		fmt.Fprintf(p.w, "==> %s (%s)\n", sub, time.Since(p.start).Round(time.Second))
	}
}

// Line receives one log line.
func (p *progress) Line(phase, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	important := strings.Contains(line, "(telemetry)") || strings.Contains(line, "failed")
	if p.bar != nil {
		if important {
			p.bar.Clear()
			fmt.Fprintf(p.w, "    %s\n", line)
		}
		d := line
		if len(d) > 60 {
			d = d[:60] + "…"
		}
		p.bar.Describe(fmt.Sprintf("%-12s %s", p.sub, d))
		return
	}
	if important || p.verbose {
		fmt.Fprintf(p.w, "    [%s] %s\n", phase, line)
	}
}

// Close removes the spinner.
func (p *progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if p.bar != nil {
		p.bar.Finish()
	}
}
