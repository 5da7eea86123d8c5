package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFetcher(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "script.sh"), []byte("echo hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const sum = "f2b8b2c9e4ac9df8ddfdc3c7bd4d32d3d4bd1ba3e23e07cd1ac6e69c31b5a6c0"
	realSum, _ := FileSHA256(filepath.Join(dir, "script.sh"))
	fails := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky.sh":
			if fails < 1 {
				fails++
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("echo hi\n"))
		case "/script.sh":
			w.Write([]byte("echo hi\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name, uri, sum string
		wantErr        string
	}{
		{"relative path", "script.sh", realSum, ""},
		{"file URI", "file://" + filepath.Join(dir, "script.sh"), "", ""},
		{"http", srv.URL + "/script.sh", realSum, ""},
		{"http retried", srv.URL + "/flaky.sh", realSum, ""},
		{"checksum mismatch names both hashes", "script.sh", sum, "the template expects " + sum + " but the file has " + realSum},
		{"uppercase checksum accepted", "script.sh", strings.ToUpper(realSum), ""},
		{"missing file", "nope.sh", "", "no such file"},
		{"http 404", srv.URL + "/missing.sh", "", "404"},
		{"unsupported scheme", "s3://bucket/x.sh", "", `unsupported URI scheme "s3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Fetcher{TemplateDir: dir, Dir: t.TempDir()}
			path, got, err := f.Fetch(context.Background(), tt.uri, tt.sum)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != realSum {
				t.Errorf("sha256 = %s, want %s", got, realSum)
			}
			if data, _ := os.ReadFile(path); string(data) != "echo hi\n" {
				t.Errorf("fetched content %q", data)
			}
		})
	}
}
