package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeQMP serves a scripted QMP session on a unix socket.
func fakeQMP(t *testing.T, handle func(cmd map[string]any, w *json.Encoder)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		w := json.NewEncoder(c)
		w.Encode(map[string]any{"QMP": map[string]any{"version": map[string]any{}, "capabilities": []string{}}})
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			var cmd map[string]any
			if json.Unmarshal(sc.Bytes(), &cmd) != nil {
				return
			}
			handle(cmd, w)
		}
	}()
	return path
}

func TestQMP(t *testing.T) {
	path := fakeQMP(t, func(cmd map[string]any, w *json.Encoder) {
		id := cmd["id"]
		switch cmd["execute"] {
		case "qmp_capabilities":
			w.Encode(map[string]any{"return": map[string]any{}, "id": id})
		case "query-status":
			w.Encode(map[string]any{"event": "RESET", "data": map[string]any{}, "timestamp": map[string]any{"seconds": 1, "microseconds": 2}})
			w.Encode(map[string]any{"return": map[string]any{"status": "running", "running": true}, "id": id})
		case "system_powerdown":
			w.Encode(map[string]any{"return": map[string]any{}, "id": id})
			w.Encode(map[string]any{"event": "POWERDOWN", "timestamp": map[string]any{"seconds": 3, "microseconds": 0}})
		default:
			w.Encode(map[string]any{"error": map[string]any{"class": "CommandNotFound", "desc": "The command nope has not been found"}, "id": id})
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q, err := DialQMP(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ret, err := q.Execute(ctx, "query-status", nil)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Status string }
	if json.Unmarshal(ret, &st); st.Status != "running" {
		t.Errorf("status = %s", ret)
	}
	if _, err := q.Execute(ctx, "system_powerdown", nil); err != nil {
		t.Fatal(err)
	}
	_, err = q.Execute(ctx, "nope", map[string]any{"x": 1})
	if err == nil || !strings.Contains(err.Error(), "CommandNotFound") {
		t.Errorf("err = %v", err)
	}
	var names []string
	for len(names) < 2 {
		select {
		case ev := <-q.Events():
			names = append(names, ev.Name)
		case <-ctx.Done():
			t.Fatalf("events so far %v", names)
		}
	}
	if names[0] != "RESET" || names[1] != "POWERDOWN" {
		t.Errorf("events = %v", names)
	}
}

func TestQMPNoGreeting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("garbage\n"))
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := DialQMP(ctx, path); err == nil {
		t.Fatal("want error")
	}
}
