package replicate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// zeros stands in for holes, which read as zeros: hashing a hole needs
// no read.
var zeros = make([]byte, bufferBytes)

// HashFile returns the hex sha256 of a file's content. Holes are hashed
// as the zeros they read as, without reading them.
func HashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	return hashOpen(ctx, f, fi.Size())
}

// hashOpen hashes the first size bytes of an open file, extent by extent;
// when extents cannot be listed it reads everything.
func hashOpen(ctx context.Context, f *os.File, size int64) (string, error) {
	h := sha256.New()
	buf := make([]byte, bufferBytes)
	for off := int64(0); off < size; {
		data, end, err := nextExtent(f, off, size)
		if errors.Is(err, unix.EINVAL) {
			data, end = off, size
		} else if err != nil {
			return "", err
		}
		if err := hashZeros(ctx, h, data-off); err != nil {
			return "", err
		}
		if err := hashRange(ctx, h, f, data, end-data, buf); err != nil {
			return "", err
		}
		off = end
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashZeros(ctx context.Context, h hash.Hash, n int64) error {
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(n, int64(len(zeros)))
		h.Write(zeros[:k])
		n -= k
	}
	return nil
}

func hashRange(ctx context.Context, h hash.Hash, f *os.File, off, n int64, buf []byte) error {
	r := &ctxReader{ctx: ctx, r: io.NewSectionReader(f, off, n)}
	c, err := io.CopyBuffer(h, r, buf)
	if err != nil {
		return fmt.Errorf("read at %d: %w", off, err)
	}
	if c != n {
		return fmt.Errorf("file ended at %d while %d bytes were expected: it changed while it was hashed", off+c, off+n)
	}
	return nil
}
