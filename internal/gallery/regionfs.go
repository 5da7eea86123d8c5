package gallery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/store"
)

// A region directory holds blobs by content (sha256/ab/abcdef..., the
// layout of package blob): the versions' artifact replicas and their
// evidence (signed manifest, tattoo, SBOM, compliance report). Files are
// written to temporary names in their final directory and renamed into
// place, so a file under its digest is always complete.
//
// Crash safety: a publish writes every file before the one store write
// that makes its version visible, so a crash leaves files that no version
// references, never a version without its files. Garbage is collected by
// Recover, under a lock: every writer (publish, region added by update,
// repair) holds .kiln/lock shared and leaves a marker in .kiln/dirty
// while it works, removing the marker when it finishes cleanly (and
// permanent deletions leave one). Recover, when it finds markers, takes
// the lock exclusively without waiting — so it never runs while a writer
// works — and removes temporary files and every blob no stored version
// references (soft-deleted versions keep theirs), then the markers.

const (
	regionMetaDir = ".kiln"
	tempPrefix    = ".replica-" // package replicate's temporary files
	evidenceTemp  = ".evidence-"
)

// regionLock is a held lock on one region directory.
type regionLock struct {
	f      *os.File
	marker string
}

// lockRegion takes the region's lock, shared (writers) or exclusive
// without waiting (the collector: ok false when busy). A shared lock
// leaves a dirty marker, removed by release(true).
func lockRegion(dir string, exclusive bool) (*regionLock, bool, error) {
	meta := filepath.Join(dir, regionMetaDir)
	if err := os.MkdirAll(filepath.Join(meta, "dirty"), 0o755); err != nil {
		return nil, false, fmt.Errorf("region %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(meta, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("region lock: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX | unix.LOCK_NB
	}
	if err := flock(f, how); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock region %s: %w", dir, err)
	}
	l := &regionLock{f: f}
	if !exclusive {
		if l.marker, err = newMarker(meta); err != nil {
			l.release(false)
			return nil, false, err
		}
	}
	return l, true, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func newMarker(meta string) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	path := filepath.Join(meta, "dirty", fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b)))
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return "", fmt.Errorf("region marker: %w", err)
	}
	return path, nil
}

// release unlocks; clean removes the dirty marker (the work finished and
// left nothing behind).
func (l *regionLock) release(clean bool) {
	if l == nil {
		return
	}
	if clean && l.marker != "" {
		os.Remove(l.marker)
	}
	l.f.Close() // closing the descriptor releases the flock
}

// regionLocks are shared locks on several regions, taken in name order.
type regionLocks []*regionLock

func (s *Service) lockRegions(regions []string) (regionLocks, error) {
	sorted := slices.Clone(regions)
	slices.Sort(sorted)
	var ls regionLocks
	for _, r := range slices.Compact(sorted) {
		l, _, err := lockRegion(s.Regions.RegionPath(r), false)
		if err != nil {
			ls.release(false)
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func (ls regionLocks) release(clean bool) {
	for _, l := range ls {
		l.release(clean)
	}
}

// markDirtyFor leaves markers in the regions of permanently deleted
// versions, so that Recover collects their files.
func (s *Service) markDirtyFor(vs []ImageVersion) {
	var regions []string
	for _, v := range vs {
		for _, t := range v.Properties.PublishingProfile.TargetRegions {
			if s.Regions.HasRegion(NormalizeRegion(t.Name)) {
				regions = append(regions, NormalizeRegion(t.Name))
			}
		}
	}
	ls, err := s.lockRegions(regions)
	if err == nil {
		ls.release(false)
	}
}

// putBlob stores data under its sha256 in a region directory and returns
// the digest; a good existing copy is kept.
func putBlob(dir string, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	path, err := replicate.ReplicaPath(dir, sha)
	if err != nil {
		return "", err
	}
	if old, err := os.ReadFile(path); err == nil && sha256.Sum256(old) == sum {
		return sha, nil
	}
	if err := writeAtomic(path, data); err != nil {
		return "", fmt.Errorf("store %s in %s: %w", sha, dir, err)
	}
	return sha, nil
}

// writeAtomic writes data to a temporary file beside path, syncs it,
// makes it read-only and renames it into place, syncing the directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, evidenceTemp+"*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(replicate.ReplicaMode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readBlob reads an evidence file and checks it against its digest.
func readBlob(dir, sha string) ([]byte, error) {
	path, err := replicate.ReplicaPath(dir, sha)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
		return nil, &replicate.DamagedError{Path: path, Want: sha, Got: hex.EncodeToString(sum[:])}
	}
	return data, nil
}

// Recover cleans up after interrupted work: in every configured region
// with dirty markers and no writer at work, it removes temporary files
// and the blobs no stored version references. Regions where a writer is
// at work are left for a later start. It is cheap when nothing was
// interrupted: one directory read per region.
func (s *Service) Recover(ctx context.Context) error {
	if err := s.backfillSortKeys(ctx); err != nil {
		return err
	}
	if s.Regions == nil {
		return nil
	}
	var refs map[string]bool
	for _, name := range s.Regions.RegionNames() {
		dir := s.Regions.RegionPath(name)
		markers, _ := os.ReadDir(filepath.Join(dir, regionMetaDir, "dirty"))
		if len(markers) == 0 {
			continue
		}
		l, ok, err := lockRegion(dir, true)
		if err != nil || !ok {
			continue
		}
		if refs == nil {
			if refs, err = s.referencedBlobs(ctx); err != nil {
				l.release(false)
				return err
			}
		}
		err = collect(ctx, dir, refs)
		if err == nil {
			err = clearMarkers(dir)
		}
		l.release(false)
		if err != nil {
			return fmt.Errorf("recover region %s: %w", name, err)
		}
	}
	return nil
}

// referencedBlobs are the digests of every stored version's artifacts and
// evidence.
func (s *Service) referencedBlobs(ctx context.Context) (map[string]bool, error) {
	vs, err := list[ImageVersion](ctx, s.Store, "image version", store.ListFilter{Type: ImageVersionType})
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for _, v := range vs {
		for _, a := range v.Value.Properties.StorageProfile.Artifacts {
			refs[a.SHA256] = true
		}
		for _, d := range v.Value.Properties.Evidence.digests() {
			refs[d] = true
		}
	}
	return refs, nil
}

// collect removes temporary files and unreferenced blobs under dir/sha256.
func collect(ctx context.Context, dir string, refs map[string]bool) error {
	root := filepath.Join(dir, "sha256")
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e.IsDir() {
			return nil
		}
		if garbage(e.Name(), refs) {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	return err
}

// garbage: a temporary file, or a blob no version references. Other
// names are left alone.
func garbage(name string, refs map[string]bool) bool {
	if strings.HasPrefix(name, tempPrefix) || strings.HasPrefix(name, evidenceTemp) {
		return true
	}
	return len(name) == 64 && isHexDigest(name) && !refs[name]
}

func clearMarkers(dir string) error {
	markers := filepath.Join(dir, regionMetaDir, "dirty")
	es, err := os.ReadDir(markers)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := os.Remove(filepath.Join(markers, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
