package disk

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// VHD footer constants (Microsoft Virtual Hard Disk Image Format Specification).
const (
	VHDFooterSize   = 512
	vhdCookie       = "conectix"
	VHDTypeFixed    = 2
	VHDTypeDynamic  = 3
	VHDTypeDiff     = 4
	vhdChecksumAt   = 64
	vhdEpochSeconds = 946684800 // 2000-01-01T00:00:00Z
)

// VHDInfo is a decoded VHD footer.
type VHDInfo struct {
	Features      uint32
	Version       uint32
	DataOffset    uint64 // 0xFFFFFFFFFFFFFFFF for fixed disks
	Timestamp     time.Time
	CreatorApp    string
	CreatorHostOS string
	OriginalSize  int64
	CurrentSize   int64
	Cylinders     uint16
	Heads         uint8
	SectorsPerTrk uint8
	DiskType      uint32
	Checksum      uint32
	UniqueID      string
	FileSize      int64 // set by VerifyVHDFooter
}

// DiskTypeName names the disk type.
func (v VHDInfo) DiskTypeName() string {
	switch v.DiskType {
	case VHDTypeFixed:
		return "fixed"
	case VHDTypeDynamic:
		return "dynamic"
	case VHDTypeDiff:
		return "differencing"
	}
	return fmt.Sprintf("unknown(%d)", v.DiskType)
}

// VHDChecksum is the one's complement of the byte sum of a footer with its
// checksum field taken as zero.
func VHDChecksum(footer []byte) uint32 {
	var sum uint32
	for i, c := range footer {
		if i >= vhdChecksumAt && i < vhdChecksumAt+4 {
			continue
		}
		sum += uint32(c)
	}
	return ^sum
}

// ParseVHDFooter decodes and checks (cookie, checksum) a 512-byte footer.
func ParseVHDFooter(b []byte) (VHDInfo, error) {
	if len(b) != VHDFooterSize {
		return VHDInfo{}, fmt.Errorf("VHD footer: %d bytes, want %d", len(b), VHDFooterSize)
	}
	if string(b[:8]) != vhdCookie {
		return VHDInfo{}, fmt.Errorf("VHD footer: cookie %q, want %q", bytes.TrimRight(b[:8], "\x00"), vhdCookie)
	}
	be := binary.BigEndian
	v := VHDInfo{
		Features:      be.Uint32(b[8:]),
		Version:       be.Uint32(b[12:]),
		DataOffset:    be.Uint64(b[16:]),
		Timestamp:     time.Unix(vhdEpochSeconds+int64(be.Uint32(b[24:])), 0).UTC(),
		CreatorApp:    string(bytes.TrimRight(b[28:32], "\x00 ")),
		CreatorHostOS: string(bytes.TrimRight(b[36:40], "\x00 ")),
		OriginalSize:  int64(be.Uint64(b[40:])),
		CurrentSize:   int64(be.Uint64(b[48:])),
		Cylinders:     be.Uint16(b[56:]),
		Heads:         b[58],
		SectorsPerTrk: b[59],
		DiskType:      be.Uint32(b[60:]),
		Checksum:      be.Uint32(b[64:]),
		UniqueID:      hex.EncodeToString(b[68:84]),
	}
	if want := VHDChecksum(b); v.Checksum != want {
		return v, fmt.Errorf("VHD footer: checksum %#08x, computed %#08x", v.Checksum, want)
	}
	if v.OriginalSize < 0 || v.CurrentSize < 0 {
		return v, errors.New("VHD footer: negative size")
	}
	return v, nil
}

// VerifyVHDFooter checks that path is a fixed VHD as Azure accepts it: a
// valid footer at the end, disk type fixed, original size equal to current
// size, a whole number of MiB, and a file exactly that size plus the footer.
func VerifyVHDFooter(path string) (VHDInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return VHDInfo{}, fmt.Errorf("verify VHD: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return VHDInfo{}, fmt.Errorf("verify VHD: %w", err)
	}
	if st.Size() < VHDFooterSize {
		return VHDInfo{}, fmt.Errorf("verify VHD %s: file is %d bytes, shorter than a footer", path, st.Size())
	}
	b := make([]byte, VHDFooterSize)
	if _, err := f.ReadAt(b, st.Size()-VHDFooterSize); err != nil && !errors.Is(err, io.EOF) {
		return VHDInfo{}, fmt.Errorf("verify VHD %s: read footer: %w", path, err)
	}
	v, err := ParseVHDFooter(b)
	v.FileSize = st.Size()
	if err != nil {
		return v, fmt.Errorf("verify VHD %s: %w", path, err)
	}
	if err := checkFixed(v); err != nil {
		return v, fmt.Errorf("verify VHD %s: %w", path, err)
	}
	return v, nil
}

func checkFixed(v VHDInfo) error {
	switch {
	case v.DiskType != VHDTypeFixed:
		return fmt.Errorf("disk type %s, want fixed", v.DiskTypeName())
	case v.OriginalSize != v.CurrentSize:
		return fmt.Errorf("original size %d differs from current size %d", v.OriginalSize, v.CurrentSize)
	case v.CurrentSize%MiB != 0:
		return fmt.Errorf("size %d is not a whole number of MiB", v.CurrentSize)
	case v.FileSize != v.CurrentSize+VHDFooterSize:
		return fmt.Errorf("file is %d bytes, want size %d plus a %d-byte footer", v.FileSize, v.CurrentSize, VHDFooterSize)
	}
	return nil
}
