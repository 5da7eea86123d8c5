package executor

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChrootArgs(t *testing.T) {
	got := ChrootArgs("/work/root", "echo hi")
	want := []string{"--mount", "--uts", "--propagation", "private", "--fork", "--pid", "--mount-proc", "/bin/sh", "-c", ChrootWrapper("/work/root"), "echo hi"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestChrootWrapper(t *testing.T) {
	w := ChrootWrapper("/runs/it's here/root")
	for _, want := range []string{
		`R='/runs/it'\''s here/root'`,
		`mount -t proc proc "$R/proc"`,
		`mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$R/dev"`,
		`mount --bind "/dev/$d" "$R/dev/$d"`,
		`mount -t tmpfs -o mode=0755 tmpfs "$R/run"`,
		`exec chroot "$R" /usr/bin/env -i PATH=`,
		"DEBIAN_FRONTEND=noninteractive",
		`/bin/sh -c "$0" </dev/null`,
	} {
		if !strings.Contains(w, want) {
			t.Errorf("wrapper lacks %q:\n%s", want, w)
		}
	}
	if strings.Contains(w, "rbind /dev") {
		t.Error("the host's /dev (its disks) must not be visible in the chroot")
	}
}

func TestExitErrorMessage(t *testing.T) {
	e := &ExitError{Code: 7, Tail: "a\nb\n"}
	if got, want := e.Error(), "script exited with code 7; last output:\na\nb"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestTailWriterKeepsLastLines(t *testing.T) {
	var sink strings.Builder
	tw := newTail(&sink, 2)
	tw.Write([]byte("one\ntwo\nthr"))
	tw.Write([]byte("ee\nfour"))
	if got := tw.String(); got != "three\nfour" {
		t.Errorf("tail = %q", got)
	}
	if sink.String() != "one\ntwo\nthree\nfour" {
		t.Errorf("sink = %q", sink.String())
	}
}
