package disk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"syscall"
)

// lseek whence values for sparse files (Linux).
const (
	seekData = 3
	seekHole = 4
)

// zeros stands in for the holes of sparse files while hashing.
var zeros = make([]byte, 1<<20)

// SHA256File returns the hex SHA-256 of a file's contents. Holes of sparse
// files are found with SEEK_DATA/SEEK_HOLE and hashed from a static zero
// buffer instead of being read.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("sha256: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("sha256: %w", err)
	}
	h := sha256.New()
	if err := hashSparse(h, f, st.Size()); err != nil {
		return "", fmt.Errorf("sha256 %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashSparse(h hash.Hash, f *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		data, err := f.Seek(off, seekData)
		switch {
		case errors.Is(err, syscall.ENXIO): // only a hole remains
			data = size
		case errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP):
			return hashRange(h, f, buf, off, size) // no sparse support
		case err != nil:
			return err
		}
		hashZeros(h, data-off)
		if data >= size {
			return nil
		}
		hole, err := f.Seek(data, seekHole)
		if err != nil || hole > size {
			hole = size
		}
		if err := hashRange(h, f, buf, data, hole); err != nil {
			return err
		}
		off = hole
	}
	return nil
}

func hashRange(h hash.Hash, f *os.File, buf []byte, from, to int64) error {
	n, err := io.CopyBuffer(h, io.NewSectionReader(f, from, to-from), buf)
	if err != nil {
		return err
	}
	if n != to-from {
		return fmt.Errorf("short read at %d: %d of %d bytes", from, n, to-from)
	}
	return nil
}

func hashZeros(h hash.Hash, n int64) {
	for n > 0 {
		c := min(n, int64(len(zeros)))
		h.Write(zeros[:c])
		n -= c
	}
}
