package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// DetectFormat names the format of the image at path from its contents:
// qcow2, vhdx, vpc (VHD, fixed or dynamic) or raw.
func DetectFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("detect image format: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("detect image format: %w", err)
	}
	head := make([]byte, 1024)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("detect image format of %s: %w", path, err)
	}
	head = head[:n]
	var tail []byte
	if st.Size() >= VHDFooterSize {
		tail = make([]byte, VHDFooterSize)
		if _, err := f.ReadAt(tail, st.Size()-VHDFooterSize); err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("detect image format of %s: %w", path, err)
		}
	}
	return detectFormat(head, tail), nil
}

// detectFormat decides from the first bytes and the last 512 bytes.
func detectFormat(head, tail []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		return FormatQcow2
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		return FormatVHDX
	case bytes.HasPrefix(head, []byte(vhdCookie)):
		// A dynamic VHD starts with a footer copy followed by "cxsparse".
		return FormatVHD
	case bytes.HasPrefix(tail, []byte(vhdCookie)):
		return FormatVHD
	}
	return FormatRaw
}
