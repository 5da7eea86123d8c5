// Package blob is kiln's content-addressed artifact storage: a file is
// stored once under its sha256 (blobs/sha256/ab/abcdef...), written to a
// temporary name and renamed into place, so a blob is either complete or
// absent, never half-written.
package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Store is a directory of blobs.
type Store struct {
	Dir string
}

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ErrNotFound is returned for a missing blob.
var ErrNotFound = errors.New("blob not found")

// Path is where the blob with this sha256 lives.
func (s *Store) Path(sha string) (string, error) {
	if !digestRE.MatchString(sha) {
		return "", fmt.Errorf("invalid sha256 digest %q", sha)
	}
	return filepath.Join(s.Dir, "sha256", sha[:2], sha), nil
}

// Has reports whether the blob is present.
func (s *Store) Has(sha string) bool {
	p, err := s.Path(sha)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// Adopt moves the file at src (whose sha256 the caller computed) into the
// store. If the blob already exists src is removed. src must be on the
// same filesystem as the store; otherwise it is copied.
func (s *Store) Adopt(src, sha string) (string, error) {
	dst, err := s.Path(sha)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if _, err := os.Stat(dst); err == nil {
		os.Remove(src)
		return dst, nil
	}
	if err := os.Rename(src, dst); err == nil {
		return dst, nil
	}
	if err := copyFile(src, dst); err != nil {
		return "", err
	}
	os.Remove(src)
	return dst, nil
}

// Verify rehashes a stored blob.
func (s *Store) Verify(sha string) error {
	p, err := s.Path(sha)
	if err != nil {
		return err
	}
	got, err := FileSHA256(p)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if got != sha {
		return fmt.Errorf("blob %s is damaged: its content hashes to %s", sha, got)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".incoming-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	tmp.Close()
	return os.Rename(tmp.Name(), dst)
}

// FileSHA256 hashes a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
