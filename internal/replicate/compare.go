package replicate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Verification says how a copy is checked before it is renamed into place.
type Verification int

const (
	// VerifyHash rehashes the copy, which proves its digest on its own but
	// costs a sha256 pass over the whole apparent size (holes included):
	// about 230 MB/s, so 9 s for 2 GiB, on CPUs without SHA extensions.
	VerifyHash Verification = iota
	// VerifySource takes the caller's word that src has the digest (a
	// verified, read-only, content-addressed blob or replica) and proves
	// that the copy equals src. A reflink shares src's blocks, so it needs
	// no check at all; any other copy is compared with src byte for byte
	// over src's data extents, and checked to hold no data where src has
	// holes. Both files are in the page cache right after the copy, so the
	// comparison runs at memory speed. What it cannot see is a source that
	// no longer matches its digest: `verify` rehashes replicas for that.
	VerifySource
)

// Options tune Copy and Replicate.
type Options struct {
	Verify Verification
}

// errDiffer says that a copy's bytes differ from its source's.
var errDiffer = errors.New("the copy differs from its source")

// sameContent compares an existing replica with src (VerifySource): a
// *DamagedError when they differ, an error wrapping os.ErrNotExist when
// the replica is missing.
func sameContent(ctx context.Context, src, replica, sha string) error {
	if err := checkDigest(sha); err != nil {
		return err
	}
	r, err := os.Open(replica)
	if err != nil {
		return fmt.Errorf("verify replica: %w", err)
	}
	defer r.Close()
	s, err := openRegular(src)
	if err != nil {
		return fmt.Errorf("verify replica against %s: %w", src, err)
	}
	defer s.Close()
	si, err := s.Stat()
	if err != nil {
		return err
	}
	ri, err := r.Stat()
	if err != nil {
		return err
	}
	if si.Size() != ri.Size() {
		return &DamagedError{Path: replica, Want: sha, Got: fmt.Sprintf("(size %d, its source has %d)", ri.Size(), si.Size())}
	}
	if err := compareOpen(ctx, s, r, si.Size()); errors.Is(err, errDiffer) {
		return &DamagedError{Path: replica, Want: sha, Got: "(content differs from " + src + ")"}
	} else if err != nil {
		return err
	}
	return nil
}

// compareOpen checks that the first size bytes of dst equal src's:
// src's data extents byte for byte, src's holes as holes or zeros in dst.
// When extents cannot be listed every byte is compared.
func compareOpen(ctx context.Context, src, dst *os.File, size int64) error {
	bufA, bufB := make([]byte, bufferBytes), make([]byte, bufferBytes)
	for off := int64(0); off < size; {
		data, end, err := nextExtent(src, off, size)
		if errors.Is(err, unix.EINVAL) {
			data, end = off, size
		} else if err != nil {
			return err
		}
		if err := checkHole(ctx, dst, off, data, bufB); err != nil {
			return err
		}
		if err := compareRange(ctx, src, dst, data, end-data, bufA, bufB); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// compareRange compares n bytes at off of a and b.
func compareRange(ctx context.Context, a, b *os.File, off, n int64, bufA, bufB []byte) error {
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(n-done, int64(len(bufA)))
		if err := readFull(a, bufA[:k], off+done); err != nil {
			return err
		}
		if err := readFull(b, bufB[:k], off+done); err != nil {
			return err
		}
		if !bytes.Equal(bufA[:k], bufB[:k]) {
			return fmt.Errorf("%w at offset %d", errDiffer, off+done)
		}
		done += k
	}
	return nil
}

// checkHole checks that [from, to) of f reads as zeros, skipping f's own
// holes without reading them.
func checkHole(ctx context.Context, f *os.File, from, to int64, buf []byte) error {
	for off := from; off < to; {
		data, end, err := nextExtent(f, off, to)
		if errors.Is(err, unix.EINVAL) {
			data, end = off, to
		} else if err != nil {
			return err
		}
		if data >= to {
			return nil
		}
		if err := checkZeros(ctx, f, data, end-data, buf); err != nil {
			return err
		}
		off = end
	}
	return nil
}

func checkZeros(ctx context.Context, f *os.File, off, n int64, buf []byte) error {
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(n-done, int64(len(buf)))
		if err := readFull(f, buf[:k], off+done); err != nil {
			return err
		}
		if !bytes.Equal(buf[:k], zeros[:k]) {
			return fmt.Errorf("%w at offset %d: data where the source has a hole", errDiffer, off+done)
		}
		done += k
	}
	return nil
}

func readFull(f *os.File, buf []byte, off int64) error {
	n, err := f.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s ended at %d while %d bytes were expected: it changed during the copy", f.Name(), off+int64(n), off+int64(len(buf)))
	}
	return fmt.Errorf("read %s at %d: %w", f.Name(), off, err)
}
