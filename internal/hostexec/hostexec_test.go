package hostexec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCommandString(t *testing.T) {
	tests := []struct {
		cmd  Command
		want string
	}{
		{Command{Name: "echo", Args: []string{"a", "b"}}, "echo a b"},
		{Command{Name: "sh", Args: []string{"-c", "echo 'x y'"}}, `sh -c 'echo '\''x y'\'''`},
		{Command{Name: "x", Args: []string{""}}, "x ''"},
	}
	for _, tt := range tests {
		if got := tt.cmd.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestTail(t *testing.T) {
	tl := NewTail(10)
	fmt.Fprint(tl, "0123456789abc")
	if got := tl.String(); got != "3456789abc" {
		t.Fatalf("tail = %q", got)
	}
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"", 3, ""},
		{"\n\n", 3, ""},
	}
	for _, tt := range tests {
		if got := lastLines(tt.in, tt.n); got != tt.want {
			t.Errorf("lastLines(%q,%d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestExecCapturesOutput(t *testing.T) {
	res, err := Exec{}.Run(context.Background(), Command{Name: "sh", Args: []string{"-c", "echo out; echo err >&2"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 0 {
		t.Fatalf("res = %+v", res)
	}
}

func TestExecExitError(t *testing.T) {
	script := "for i in $(seq 1 30); do echo line$i >&2; done; exit 3"
	_, err := Exec{}.Run(context.Background(), Command{Name: "sh", Args: []string{"-c", script}})
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v, want *ExitError", err)
	}
	if xe.ExitCode != 3 || !strings.Contains(xe.Cmdline, "sh -c") {
		t.Fatalf("bad ExitError %+v", xe)
	}
	if strings.Contains(xe.Tail, "line10\n") || !strings.Contains(xe.Tail, "line30") || !strings.Contains(xe.Tail, "line11") {
		t.Fatalf("tail = %q", xe.Tail)
	}
}

func TestExecCancelKillsGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The grandchild sleep would keep the pipes open if only sh were killed.
	_, err := Exec{}.Run(ctx, Command{Name: "sh", Args: []string{"-c", "sleep 30 & sleep 30"}})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cancel took %v", d)
	}
}

func TestMissing(t *testing.T) {
	got := Missing("sh", "kiln-no-such-program")
	if len(got) != 1 || got[0] != "kiln-no-such-program" {
		t.Fatalf("Missing = %v", got)
	}
}
