package qemu

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestProbeWithoutKVMDevice(t *testing.T) {
	dir := t.TempDir()
	bootID := filepath.Join(dir, "boot_id")
	os.WriteFile(bootID, []byte("boot-1\n"), 0o644)
	cache := filepath.Join(dir, "cache", "accel.json")
	p := Prober{KVMDevice: filepath.Join(dir, "no-kvm"), BootIDFile: bootID}
	r, err := p.Probe(context.Background(), cache)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accel != AccelTCG || !strings.Contains(r.Reason, "missing") || r.Cached || r.BootID != "boot-1" {
		t.Fatalf("result = %+v", r)
	}
	// Second call is served from the cache, even though the device appears.
	os.WriteFile(filepath.Join(dir, "no-kvm"), nil, 0o644)
	r2, err := p.Probe(context.Background(), cache)
	if err != nil || !r2.Cached || r2.Accel != AccelTCG {
		t.Fatalf("cached result = %+v, %v", r2, err)
	}
	// A new host boot invalidates it.
	os.WriteFile(bootID, []byte("boot-2\n"), 0o644)
	if _, ok := readCache(cache, "boot-2"); ok {
		t.Fatal("cache valid across boots")
	}
}

func TestReadCacheRejectsJunk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	for _, s := range []string{"{", `{"accel":"xen","bootID":"b"}`, `{"accel":"kvm","bootID":"other"}`} {
		os.WriteFile(p, []byte(s), 0o644)
		if _, ok := readCache(p, "b"); ok {
			t.Errorf("accepted %s", s)
		}
	}
	writeCache(p, AccelResult{Accel: AccelKVM, BootID: "b", ProbedAt: time.Now()})
	if r, ok := readCache(p, "b"); !ok || r.Accel != AccelKVM {
		t.Errorf("round trip failed: %+v", r)
	}
}

func TestMadeProgress(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"SeaBIOS (version 1.16.2)\nRunning on KVM\n", false},
		{"...\nBooting from Hard Disk...\n", true},
		{"No bootable device.", true},
		{"", false},
	}
	for _, tt := range tests {
		if got := madeProgress([]byte(tt.out)); got != tt.want {
			t.Errorf("madeProgress(%q) = %v", tt.out, got)
		}
	}
}

func TestConsoleWait(t *testing.T) {
	c := newConsole(nil)
	ok, changed := c.check(Text("login:"))
	if ok {
		t.Fatal("matched empty console")
	}
	go c.Write([]byte("Debian GNU/Linux 12 vm ttyS0\r\n\r\nvm login: "))
	select {
	case <-changed:
	case <-time.After(time.Second):
		t.Fatal("no wake-up")
	}
	if ok, _ := c.check(Text("login:")); !ok {
		t.Fatal("Text did not match")
	}
	if ok, _ := c.check(regexp.MustCompile(`vm login:\s*$`)); !ok {
		t.Fatal("regexp did not match")
	}
	if got := lastLines("a\r\nb\r\nc\r\n", 2); got != "b\nc" {
		t.Fatalf("lastLines = %q", got)
	}
}
