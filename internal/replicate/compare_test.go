package replicate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReplicateVerifySource(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 9*mib, extent{mib, 2 * mib}, extent{6 * mib, mib + 17})
	region := filepath.Join(dir, "region")
	opts := Options{Verify: VerifySource}

	res, err := ReplicateWith(t.Context(), src, region, sha, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method == MethodPresent {
		t.Fatalf("first replication: method %s", res.Method)
	}
	assertSameContent(t, src, res.Path)
	if err := Verify(t.Context(), res.Path, sha); err != nil {
		t.Fatalf("the compared copy does not hash to its digest: %v", err)
	}
	if got := allocated(t, res.Path); got > 4*mib {
		t.Errorf("the copy allocates %d bytes; the holes were filled", got)
	}

	again, err := ReplicateWith(t.Context(), src, region, sha, opts)
	if err != nil || again.Method != MethodPresent {
		t.Fatalf("an existing good replica: method %s, error %v; want present", again.Method, err)
	}

	for _, off := range []int64{mib + 5, 4 * mib} { // in data, then in a hole
		flipByte(t, res.Path, off)
		if err := sameContent(t.Context(), src, res.Path, sha); !errors.Is(err, ErrDamaged) {
			t.Fatalf("replica damaged at %d: sameContent error = %v, want ErrDamaged", off, err)
		}
		fixed, err := ReplicateWith(t.Context(), src, region, sha, opts)
		if err != nil || fixed.Method == MethodPresent {
			t.Fatalf("replicating over a replica damaged at %d: method %s, error %v", off, fixed.Method, err)
		}
		assertSameContent(t, src, res.Path)
	}
}

func TestCopyVerifySourceDetectsAChangedCopy(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 3*mib, extent{0, 3 * mib})
	other, _ := sparseFile(t, t.TempDir(), 3*mib, extent{0, 3 * mib})
	a, _ := os.Open(src)
	defer a.Close()
	b, _ := os.Open(other)
	defer b.Close()
	flipByte(t, other, 2*mib+1)
	if err := compareOpen(t.Context(), a, b, 3*mib); !errors.Is(err, errDiffer) {
		t.Fatalf("compareOpen of different files: %v", err)
	}
	if _, err := CopyWith(t.Context(), src, filepath.Join(dir, "copy"), sha, Options{Verify: VerifySource}); err != nil {
		t.Fatal(err)
	}
}

func TestSameContentMissingAndResized(t *testing.T) {
	dir := t.TempDir()
	src, sha := sparseFile(t, dir, 2*mib, extent{0, mib})
	if err := sameContent(t.Context(), src, filepath.Join(dir, "missing"), sha); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing replica: %v", err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sameContent(t.Context(), src, short, sha); !errors.Is(err, ErrDamaged) {
		t.Errorf("replica of another size: %v", err)
	}
}
