package replicate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const mib = 1 << 20

// extent is a run of random data in a sparse test file.
type extent struct{ off, n int64 }

// sparseFile writes a file of size bytes with random data in the given
// extents and holes elsewhere, and returns its path and sha256 computed by
// reading every byte (independently of HashFile).
func sparseFile(t testing.TB, dir string, size int64, extents ...extent) (string, string) {
	t.Helper()
	path := filepath.Join(dir, "src.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(size), 42))
	for _, e := range extents {
		buf := make([]byte, e.n)
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf, e.off); err != nil {
			t.Fatal(err)
		}
	}
	return path, plainSHA256(t, path)
}

func plainSHA256(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// allocated is the space a file occupies on disk.
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

func assertSameContent(t *testing.T, a, b string) {
	t.Helper()
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Fatalf("%s and %s differ", a, b)
	}
}

// noTemps fails when a temporary file was left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".replica-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestHashFileMatchesPlainHash(t *testing.T) {
	tests := map[string]struct {
		size    int64
		extents []extent
	}{
		"empty":                     {0, nil},
		"all hole":                  {5 * mib, nil},
		"all data":                  {3*mib + 17, []extent{{0, 3*mib + 17}}},
		"leading hole":              {8 * mib, []extent{{6 * mib, 2 * mib}}},
		"trailing hole":             {8 * mib, []extent{{0, mib + 5}}},
		"several extents, odd size": {20*mib + 3, []extent{{0, 4096}, {5 * mib, mib}, {12*mib + 7, 3 * mib}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			path, want := sparseFile(t, t.TempDir(), tt.size, tt.extents...)
			got, err := HashFile(t.Context(), path)
			if err != nil || got != want {
				t.Fatalf("HashFile = %s, %v; want %s", got, err, want)
			}
		})
	}
}

func TestCopyIsIdenticalAndSparse(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 64*mib, extent{0, mib}, extent{32 * mib, 2 * mib}, extent{64*mib - 4096, 4096})
	if allocated(t, src) > 16*mib {
		t.Skip("the filesystem of the test directory does not keep holes")
	}
	dst := filepath.Join(dir, "region", "copy.img")
	res, err := Copy(t.Context(), src, dst, sha)
	if err != nil {
		t.Fatal(err)
	}
	assertSameContent(t, src, dst)
	if res.Size != 64*mib || res.SHA256 != sha || res.Path != dst {
		t.Errorf("result %+v", res)
	}
	if res.Method == MethodSparse && res.DataBytes > 8*mib {
		t.Errorf("copied %d bytes of data, the file has 3 MiB", res.DataBytes)
	}
	if got := allocated(t, dst); got > 16*mib {
		t.Errorf("the copy occupies %d bytes: holes were filled", got)
	}
	fd, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if hole, err := unix.Seek(int(fd.Fd()), 0, unix.SEEK_HOLE); err != nil || hole > 2*mib {
		t.Errorf("first hole of the copy at %d (%v), want just after the first megabyte", hole, err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != ReplicaMode {
		t.Errorf("mode %v", fi.Mode())
	}
	noTemps(t, filepath.Dir(dst))
	t.Logf("method %s, %d data bytes", res.Method, res.DataBytes)
}

func TestCopyFallbacks(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 9*mib, extent{mib, 3 * mib})
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	t.Run("stream", func(t *testing.T) {
		out, err := os.Create(filepath.Join(dir, "stream.img"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if n, err := streamCopy(t.Context(), in, out); err != nil || n != 9*mib {
			t.Fatalf("streamCopy = %d, %v", n, err)
		}
		if got := plainSHA256(t, out.Name()); got != sha {
			t.Fatal("stream copy differs")
		}
	})
	t.Run("buffer instead of copy_file_range", func(t *testing.T) {
		out, err := os.Create(filepath.Join(dir, "buffer.img"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		out.Truncate(9 * mib)
		if err := bufferCopy(t.Context(), in, out, mib, 3*mib); err != nil {
			t.Fatal(err)
		}
		if got := plainSHA256(t, out.Name()); got != sha {
			t.Fatal("buffer copy differs")
		}
	})
	t.Run("reflink refused", func(t *testing.T) {
		saved := reflink
		reflink = func(_, _ *os.File) error { return unix.EOPNOTSUPP }
		defer func() { reflink = saved }()
		res, err := Copy(t.Context(), src, filepath.Join(dir, "noreflink.img"), sha)
		if err != nil || res.Method != MethodSparse {
			t.Fatalf("%+v %v", res, err)
		}
	})
}

func TestCopyIsAtomic(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 4*mib, extent{0, 4 * mib})
	region := filepath.Join(dir, "region")
	dst := filepath.Join(region, "copy.img")
	wrong := strings.Repeat("0", 64)

	t.Run("verification fails: nothing appears", func(t *testing.T) {
		_, err := Copy(t.Context(), src, dst, wrong)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "the copy hashes to "+sha+", not "+wrong) {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a replica appeared: %v", err)
		}
		noTemps(t, region)
	})
	t.Run("canceled: nothing appears", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := Copy(ctx, src, dst, sha); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a replica appeared: %v", err)
		}
		noTemps(t, region)
	})
	t.Run("a failed replacement keeps the old file", func(t *testing.T) {
		if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Copy(t.Context(), src, dst, wrong); err == nil {
			t.Fatal("expected an error")
		}
		if b, _ := os.ReadFile(dst); string(b) != "old" {
			t.Errorf("old replica changed to %d bytes", len(b))
		}
		noTemps(t, region)
	})
	t.Run("bad digest and bad source", func(t *testing.T) {
		if _, err := Copy(t.Context(), src, dst, "ABC"); err == nil || !strings.Contains(err.Error(), "invalid sha256 digest") {
			t.Errorf("got %v", err)
		}
		if _, err := Copy(t.Context(), dir, dst, sha); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("got %v", err)
		}
	})
}

func TestVerifyAndRepair(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 16*mib, extent{2 * mib, 5 * mib})
	region := filepath.Join(dir, "regions", "westeurope")
	res, err := Replicate(t.Context(), src, region, sha)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := ReplicaPath(region, sha); res.Path != want || !strings.Contains(want, filepath.Join("sha256", sha[:2], sha)) {
		t.Fatalf("replica at %s, want the blob layout %s", res.Path, want)
	}
	if err := Verify(t.Context(), res.Path, sha); err != nil {
		t.Fatal(err)
	}
	again, err := Replicate(t.Context(), src, region, sha)
	if err != nil || again.Method != MethodPresent {
		t.Fatalf("second replication: %+v %v", again, err)
	}

	flipByte(t, res.Path, 3*mib+123)
	err = Verify(t.Context(), res.Path, sha)
	var de *DamagedError
	if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) || de.Want != sha || de.Got == sha || de.Path != res.Path {
		t.Fatalf("Verify after a flipped byte: %v", err)
	}

	if _, err := Repair(t.Context(), src, res.Path, sha); err != nil {
		t.Fatal(err)
	}
	if err := Verify(t.Context(), res.Path, sha); err != nil {
		t.Fatalf("after repair: %v", err)
	}
	assertSameContent(t, src, res.Path)

	flipByte(t, res.Path, 0) // in a hole: the flip allocates a block
	if r, err := Replicate(t.Context(), src, region, sha); err != nil || r.Method == MethodPresent {
		t.Fatalf("Replicate must repair a damaged replica: %+v %v", r, err)
	}
	assertSameContent(t, src, res.Path)

	if err := Verify(t.Context(), filepath.Join(region, "missing"), sha); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing replica: %v", err)
	}
}

func TestRepairFromDamagedSourceFails(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 2*mib, extent{0, 2 * mib})
	replica := filepath.Join(dir, "replica.img")
	if _, err := Copy(t.Context(), src, replica, sha); err != nil {
		t.Fatal(err)
	}
	flipByte(t, src, 10)
	before, _ := os.ReadFile(replica)
	if _, err := Repair(t.Context(), src, replica, sha); !errors.Is(err, ErrDamaged) {
		t.Fatalf("got %v", err)
	}
	if after, _ := os.ReadFile(replica); !bytes.Equal(before, after) {
		t.Error("a failed repair changed the replica")
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCopy replicates a 256 MiB file with 64 MiB of data (the shape
// of bench/replicate.sh, scaled down); bytes/s count the apparent size.
func BenchmarkCopy(b *testing.B) {
	dir := b.TempDir()
	var extents []extent
	for i := range int64(4) {
		extents = append(extents, extent{i * 64 * mib, 16 * mib})
	}
	src, sha := sparseFile(b, dir, 256*mib, extents...)
	dst := filepath.Join(dir, "region", "copy.img")
	b.SetBytes(256 * mib)
	for b.Loop() {
		if _, err := Copy(b.Context(), src, dst, sha); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReflink needs a directory on a filesystem with reflinks (XFS with
// reflink=1, btrfs), given in KILN_TEST_REFLINK_DIR; it skips otherwise.
func TestReflink(t *testing.T) {
	base := os.Getenv("KILN_TEST_REFLINK_DIR")
	if base == "" {
		t.Skip("set KILN_TEST_REFLINK_DIR to a directory on XFS (reflink=1) or btrfs")
	}
	dir, err := os.MkdirTemp(base, "reflink-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src, sha := sparseFile(t, dir, 32*mib, extent{0, 8 * mib}, extent{20 * mib, mib})
	res, err := Replicate(t.Context(), src, filepath.Join(dir, "region"), sha)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != MethodReflink {
		t.Fatalf("method %s, want reflink", res.Method)
	}
	assertSameContent(t, src, res.Path)
	flipByte(t, res.Path, 5)
	if err := Verify(t.Context(), src, sha); err != nil {
		t.Fatalf("writing the replica changed the source: %v", err)
	}
	if _, err := Repair(t.Context(), src, res.Path, sha); err != nil {
		t.Fatal(err)
	}
}
