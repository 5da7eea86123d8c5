package disk

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestSHA256FileSparse(t *testing.T) {
	tests := []struct {
		name   string
		size   int64
		chunks map[int64]string
	}{
		{"empty", 0, nil},
		{"all hole", 5 * MiB, nil},
		{"data in middle", 5 * MiB, map[int64]string{2*MiB + 17: "hello"}},
		{"data at ends", 3*MiB + 5, map[int64]string{0: "start", 3 * MiB: "end!!"}},
		{"dense small", 10, map[int64]string{0: "0123456789"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, tt.size)
			for off, s := range tt.chunks {
				f.WriteAt([]byte(s), off)
				copy(want[off:], s)
			}
			f.Truncate(tt.size)
			f.Close()
			sum := sha256.Sum256(want)
			got, err := SHA256File(p)
			if err != nil {
				t.Fatal(err)
			}
			if got != hex.EncodeToString(sum[:]) {
				t.Errorf("sha = %s, want %x", got, sum)
			}
		})
	}
}

func BenchmarkSHA256FileSparse(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	f, _ := os.Create(p)
	f.WriteAt([]byte("data"), 100*MiB)
	f.Truncate(512 * MiB)
	f.Close()
	b.SetBytes(512 * MiB)
	for i := 0; i < b.N; i++ {
		if _, err := SHA256File(p); err != nil {
			b.Fatal(err)
		}
	}
}
