// Package replicate copies content-addressed artifacts into region
// directories and keeps the copies honest. A copy is written to a
// temporary file in the destination directory — by reflink when the
// filesystem can share blocks, otherwise by a sparse-aware copy that skips
// holes, otherwise by a plain stream copy — synced, verified (hashed
// against its sha256, or with VerifySource proven equal to a source whose
// digest the caller vouches for) and only then renamed into place, so a
// replica is either complete and verified or absent. Verify detects a
// damaged replica and Repair restores it from a good one.
package replicate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/kiln-dev/kiln/internal/blob"
)

// Method is how the bytes of a replica were produced.
type Method string

// The copy methods, fastest first.
const (
	// MethodPresent: the replica already existed and verified; nothing was copied.
	MethodPresent Method = "present"
	// MethodReflink: the filesystem shares the source's blocks (FICLONE).
	MethodReflink Method = "reflink"
	// MethodSparse: data extents were copied and holes skipped (SEEK_DATA/SEEK_HOLE).
	MethodSparse Method = "sparse"
	// MethodStream: every byte was read and written.
	MethodStream Method = "stream"
)

// Result describes one replication.
type Result struct {
	Path   string // the replica
	SHA256 string
	Size   int64  // apparent size
	Method Method //
	// DataBytes is how many bytes were copied (holes excluded); the size
	// for reflinks, which copy nothing.
	DataBytes int64
	// Time spent copying, syncing and verifying.
	Copy, Sync, Verify time.Duration
}

// ErrDamaged is wrapped by *DamagedError.
var ErrDamaged = errors.New("replica is damaged")

// DamagedError is a file whose content does not hash to its digest.
type DamagedError struct {
	Path string
	Want string
	Got  string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s is damaged: it should have sha256 %s but has %s", e.Path, e.Want, e.Got)
}

// Unwrap makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Unwrap() error { return ErrDamaged }

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func checkDigest(sha string) error {
	if !digestRE.MatchString(sha) {
		return fmt.Errorf("invalid sha256 digest %q: expected 64 lower-case hexadecimal digits", sha)
	}
	return nil
}

// ReplicaPath is where the blob sha lives in a region directory (the
// region is laid out as a blob store: sha256/ab/abcdef...).
func ReplicaPath(regionDir, sha string) (string, error) {
	s := blob.Store{Dir: regionDir}
	return s.Path(sha)
}

// Replicate makes sure regionDir holds a good replica of the blob sha
// whose content is the file src. An existing replica is verified and kept
// when good, replaced when damaged. Copies are verified by rehashing
// (VerifyHash); ReplicateWith chooses.
func Replicate(ctx context.Context, src, regionDir, sha string) (Result, error) {
	return ReplicateWith(ctx, src, regionDir, sha, Options{})
}

// ReplicateWith is Replicate with options. With VerifySource an existing
// replica is compared with src instead of being rehashed.
func ReplicateWith(ctx context.Context, src, regionDir, sha string, o Options) (Result, error) {
	dst, err := ReplicaPath(regionDir, sha)
	if err != nil {
		return Result{}, fmt.Errorf("replicate: %w", err)
	}
	start := time.Now()
	switch err := verifyExisting(ctx, src, dst, sha, o); {
	case err == nil:
		fi, err := os.Stat(dst)
		if err != nil {
			return Result{}, fmt.Errorf("replicate: %w", err)
		}
		return Result{Path: dst, SHA256: sha, Size: fi.Size(), Method: MethodPresent, Verify: time.Since(start)}, nil
	case !errors.Is(err, ErrDamaged) && !errors.Is(err, os.ErrNotExist):
		return Result{}, fmt.Errorf("replicate %s: %w", sha, err)
	}
	return CopyWith(ctx, src, dst, sha, o)
}

func verifyExisting(ctx context.Context, src, dst, sha string, o Options) error {
	if o.Verify == VerifySource {
		return sameContent(ctx, src, dst, sha)
	}
	return Verify(ctx, dst, sha)
}

// Repair replaces the damaged replica at damaged with a verified copy of
// good. The damaged file stays in place until the new copy is complete.
func Repair(ctx context.Context, good, damaged, sha string) (Result, error) {
	r, err := Copy(ctx, good, damaged, sha)
	if err != nil {
		return r, fmt.Errorf("repair %s from %s: %w", damaged, good, err)
	}
	return r, nil
}

// Verify rehashes the file at path and returns a *DamagedError when it
// does not hash to sha (and an error wrapping os.ErrNotExist when it is
// missing).
func Verify(ctx context.Context, path, sha string) error {
	if err := checkDigest(sha); err != nil {
		return err
	}
	got, err := HashFile(ctx, path)
	if err != nil {
		return fmt.Errorf("verify replica: %w", err)
	}
	if got != sha {
		return &DamagedError{Path: path, Want: sha, Got: got}
	}
	return nil
}

// Copy copies src to dst atomically and verifies the copy: it writes a
// temporary file next to dst, syncs it, checks its sha256, renames it over
// dst and syncs the directory. On any error, dst is untouched (absent, or
// its previous content) and the temporary file is removed.
func Copy(ctx context.Context, src, dst, sha string) (Result, error) {
	return CopyWith(ctx, src, dst, sha, Options{})
}

// CopyWith is Copy with options.
func CopyWith(ctx context.Context, src, dst, sha string, o Options) (Result, error) {
	res := Result{Path: dst, SHA256: sha}
	if err := checkDigest(sha); err != nil {
		return res, fmt.Errorf("copy %s: %w", src, err)
	}
	in, err := openRegular(src)
	if err != nil {
		return res, fmt.Errorf("copy: %w", err)
	}
	defer in.Close()
	tmp, err := createTemp(dst)
	if err != nil {
		return res, fmt.Errorf("copy %s: %w", src, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fill(ctx, &res, in, tmp, o.Verify); err != nil {
		return res, fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := commit(tmp, dst); err != nil {
		return res, fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	committed = true
	return res, nil
}

// fill copies, syncs and verifies the temporary file, recording timings.
func fill(ctx context.Context, res *Result, in, tmp *os.File, v Verification) error {
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	res.Size = fi.Size()
	t := time.Now()
	res.Method, res.DataBytes, err = copyData(ctx, in, tmp, res.Size)
	if err != nil {
		return err
	}
	res.Copy = time.Since(t)
	// The copy is verified while it is written back: both read the page
	// cache, and the rename waits for both.
	t = time.Now()
	synced := make(chan time.Duration, 1)
	var syncErr error
	go func() {
		syncErr = tmp.Sync()
		synced <- time.Since(t)
	}()
	err = verifyCopy(ctx, res, in, tmp, v)
	res.Verify = time.Since(t)
	res.Sync = <-synced
	if syncErr != nil {
		return fmt.Errorf("sync: %w", syncErr)
	}
	return err
}

// verifyCopy checks the copy as v says.
func verifyCopy(ctx context.Context, res *Result, in, tmp *os.File, v Verification) error {
	if v == VerifySource {
		if res.Method == MethodReflink {
			return nil // the copy shares the source's blocks
		}
		if err := compareOpen(ctx, in, tmp, res.Size); errors.Is(err, errDiffer) {
			return fmt.Errorf("verify: %w: %w", err, ErrDamaged)
		} else if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		return nil
	}
	got, err := hashOpen(ctx, tmp, res.Size)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if got != res.SHA256 {
		return fmt.Errorf("the copy hashes to %s, not %s: the source is damaged or changed while it was copied: %w", got, res.SHA256, ErrDamaged)
	}
	return nil
}

func openRegular(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}

// createTemp makes the temporary file in dst's directory, so that the
// final rename stays on one filesystem.
func createTemp(dst string) (*os.File, error) {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, ".replica-*.tmp")
}

// ReplicaMode is the permission of replicas: content-addressed files are
// never written in place.
const ReplicaMode = 0o444

// commit makes the temporary file the replica and syncs the directory so
// that the rename survives a crash.
func commit(tmp *os.File, dst string) error {
	if err := tmp.Chmod(ReplicaMode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
