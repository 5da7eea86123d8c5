package blob_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/blob"
)

// Digests of known contents (sha256sum).
const (
	helloSHA = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" // "hello\n"
	emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // ""
	worldSHA = "e258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317" // "world\n"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileSHA256(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"hello", "hello\n", helloSHA},
		{"empty", "", emptySHA},
		{"world", "world\n", worldSHA},
		{"larger than a read buffer", strings.Repeat("a", 1<<20), "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			writeFile(t, p, tc.content)
			got, err := blob.FileSHA256(p)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("FileSHA256 = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := blob.FileSHA256(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FileSHA256 of a missing file = %v, want os.ErrNotExist", err)
	}
}

func TestPath(t *testing.T) {
	s := &blob.Store{Dir: "/data/kiln/blobs"}
	got, err := s.Path(helloSHA)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/data/kiln/blobs/sha256/58/" + helloSHA; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}

	bad := []struct{ name, digest string }{
		{"empty", ""},
		{"upper-case hex", strings.ToUpper(helloSHA)},
		{"63 characters", helloSHA[:63]},
		{"65 characters", helloSHA + "0"},
		{"not hex", strings.Repeat("g", 64)},
		{"algorithm prefix", "sha256:" + helloSHA[:57]},
		{"path traversal", "../../../../etc/passwd" + strings.Repeat("0", 42)},
		{"trailing newline", helloSHA + "\n"},
	}
	for _, tc := range bad {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			p, err := s.Path(tc.digest)
			want := `invalid sha256 digest "` + strings.ReplaceAll(tc.digest, "\n", `\n`) + `"`
			if err == nil || err.Error() != want {
				t.Errorf("Path(%q) = %q, %v; want error %q", tc.digest, p, err, want)
			}
			if s.Has(tc.digest) {
				t.Errorf("Has(%q) = true", tc.digest)
			}
		})
	}
}

func TestAdoptMovesTheFileIn(t *testing.T) {
	s := &blob.Store{Dir: filepath.Join(t.TempDir(), "blobs")} // not created yet
	src := filepath.Join(t.TempDir(), "disk.qcow2")
	writeFile(t, src, "hello\n")

	if s.Has(helloSHA) {
		t.Fatal("Has before Adopt = true")
	}
	dst, err := s.Adopt(src, helloSHA)
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if want, _ := s.Path(helloSHA); dst != want {
		t.Errorf("Adopt returned %q, want Path %q", dst, want)
	}
	if got := readFile(t, dst); got != "hello\n" {
		t.Errorf("blob content = %q, want %q", got, "hello\n")
	}
	if _, err := os.Stat(src); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("src after Adopt: %v, want it gone", err)
	}
	if !s.Has(helloSHA) {
		t.Error("Has after Adopt = false")
	}
	if err := s.Verify(helloSHA); err != nil {
		t.Errorf("Verify after Adopt: %v", err)
	}
}

func TestAdoptOfAnExistingBlobRemovesSrc(t *testing.T) {
	s := &blob.Store{Dir: t.TempDir()}
	first := filepath.Join(t.TempDir(), "first")
	writeFile(t, first, "hello\n")
	dst, err := s.Adopt(first, helloSHA)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}

	second := filepath.Join(t.TempDir(), "second")
	writeFile(t, second, "hello\n")
	dst2, err := s.Adopt(second, helloSHA)
	if err != nil {
		t.Fatalf("second Adopt: %v", err)
	}
	if dst2 != dst {
		t.Errorf("second Adopt returned %q, want %q", dst2, dst)
	}
	if _, err := os.Stat(second); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("second src after Adopt: %v, want it removed", err)
	}
	after, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the stored blob was replaced; an existing blob must be kept")
	}
}

func TestAdoptRejectsABadDigestAndKeepsSrc(t *testing.T) {
	s := &blob.Store{Dir: t.TempDir()}
	src := filepath.Join(t.TempDir(), "disk.raw")
	writeFile(t, src, "hello\n")
	_, err := s.Adopt(src, "HELLO")
	if want := `invalid sha256 digest "HELLO"`; err == nil || err.Error() != want {
		t.Errorf("Adopt error = %v, want %q", err, want)
	}
	if got := readFile(t, src); got != "hello\n" {
		t.Errorf("src content after refused Adopt = %q", got)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string)
		want    string
		wantErr error
	}{
		{"intact blob", func(*testing.T, string) {}, "", nil},
		{"changed content", func(t *testing.T, p string) { writeFile(t, p, "world\n") },
			"blob " + helloSHA + " is damaged: its content hashes to " + worldSHA, nil},
		{"truncated", func(t *testing.T, p string) {
			if err := os.Truncate(p, 0); err != nil {
				t.Fatal(err)
			}
		}, "blob " + helloSHA + " is damaged: its content hashes to " + emptySHA, nil},
		{"removed", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, helloSHA + ": blob not found", blob.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &blob.Store{Dir: t.TempDir()}
			src := filepath.Join(t.TempDir(), "f")
			writeFile(t, src, "hello\n")
			p, err := s.Adopt(src, helloSHA)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, p)
			err = s.Verify(helloSHA)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Verify = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("Verify = %v, want %q", err, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Verify error does not wrap %v", tc.wantErr)
			}
		})
	}

	s := &blob.Store{Dir: t.TempDir()}
	if err := s.Verify("nope"); err == nil || err.Error() != `invalid sha256 digest "nope"` {
		t.Errorf("Verify of a bad digest = %v", err)
	}
}
