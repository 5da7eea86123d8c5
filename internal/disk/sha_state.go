package disk

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// SHA256WithTrailer hashes path, and also path's content followed by the
// last trailerLen bytes of other: the digest of a fixed VHD made from a raw
// disk is the raw content plus the 512-byte footer, so both digests come
// from one pass over the raw file. It checks that other is exactly the size
// of path plus trailerLen.
func SHA256WithTrailer(path, other string, trailerLen int64) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("sha256: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", "", err
	}
	o, err := os.Open(other)
	if err != nil {
		return "", "", fmt.Errorf("sha256: %w", err)
	}
	defer o.Close()
	ost, err := o.Stat()
	if err != nil {
		return "", "", err
	}
	if ost.Size() != st.Size()+trailerLen {
		return "", "", fmt.Errorf("sha256: %s is %d bytes, expected %d (%s plus %d)", other, ost.Size(), st.Size()+trailerLen, path, trailerLen)
	}
	h := sha256.New()
	if err := hashSparse(h, f, st.Size()); err != nil {
		return "", "", fmt.Errorf("sha256 %s: %w", path, err)
	}
	h2, err := cloneHash(h)
	if err != nil {
		return "", "", err
	}
	trailer := make([]byte, trailerLen)
	if _, err := o.ReadAt(trailer, st.Size()); err != nil && err != io.EOF {
		return "", "", err
	}
	h2.Write(trailer)
	return hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(h2.Sum(nil)), nil
}

func cloneHash(h hash.Hash) (hash.Hash, error) {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, err
	}
	return c, nil
}
