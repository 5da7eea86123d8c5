package disk

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// craftFooter builds a VHD footer the way qemu-img and Hyper-V write them.
func craftFooter(diskType uint32, orig, cur int64) []byte {
	b := make([]byte, VHDFooterSize)
	be := binary.BigEndian
	copy(b, vhdCookie)
	be.PutUint32(b[8:], 2)
	be.PutUint32(b[12:], 0x00010000)
	dataOffset := ^uint64(0)
	if diskType != VHDTypeFixed {
		dataOffset = 512
	}
	be.PutUint64(b[16:], dataOffset)
	be.PutUint32(b[24:], 700000000)
	copy(b[28:], "qemu")
	copy(b[36:], "Wi2k")
	be.PutUint64(b[40:], uint64(orig))
	be.PutUint64(b[48:], uint64(cur))
	be.PutUint16(b[56:], 4161)
	b[58], b[59] = 16, 63
	be.PutUint32(b[60:], diskType)
	copy(b[68:], "0123456789abcdef")
	be.PutUint32(b[64:], VHDChecksum(b))
	return b
}

func TestParseVHDFooter(t *testing.T) {
	valid := craftFooter(VHDTypeFixed, 2<<30, 2<<30)
	badCookie := append([]byte(nil), valid...)
	copy(badCookie, "conectiX")
	badSum := append([]byte(nil), valid...)
	badSum[45] ^= 1
	tests := []struct {
		name    string
		b       []byte
		wantErr string
		typ     string
	}{
		{"valid fixed", valid, "", "fixed"},
		{"dynamic", craftFooter(VHDTypeDynamic, 2<<30, 2<<30), "", "dynamic"},
		{"bad cookie", badCookie, "cookie", ""},
		{"bad checksum", badSum, "checksum", ""},
		{"short", valid[:100], "bytes", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVHDFooter(tt.b)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.DiskTypeName() != tt.typ || v.CurrentSize != 2<<30 || v.CreatorApp != "qemu" || v.Heads != 16 {
				t.Errorf("info = %+v", v)
			}
		})
	}
}

func writeVHD(t *testing.T, size int64, footer []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "d.vhd")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(footer, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyVHDFooter(t *testing.T) {
	tests := []struct {
		name    string
		data    int64
		footer  []byte
		wantErr string
	}{
		{"fixed ok", 4 * MiB, craftFooter(VHDTypeFixed, 4*MiB, 4*MiB), ""},
		{"dynamic refused", 4 * MiB, craftFooter(VHDTypeDynamic, 4*MiB, 4*MiB), "want fixed"},
		{"sizes differ", 4 * MiB, craftFooter(VHDTypeFixed, 3*MiB, 4*MiB), "differs"},
		{"not MiB", 4*MiB + 512, craftFooter(VHDTypeFixed, 4*MiB+512, 4*MiB+512), "MiB"},
		{"file too short", 2 * MiB, craftFooter(VHDTypeFixed, 4*MiB, 4*MiB), "footer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyVHDFooter(writeVHD(t, tt.data, tt.footer))
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	dyn := append(craftFooter(VHDTypeDynamic, MiB, MiB), []byte("cxsparse")...)
	tests := []struct {
		name       string
		head, tail []byte
		want       string
	}{
		{"qcow2", []byte("QFI\xfb\x00\x00\x00\x03"), nil, "qcow2"},
		{"vhdx", []byte("vhdxfile"), nil, "vhdx"},
		{"dynamic vhd", dyn, craftFooter(VHDTypeDynamic, MiB, MiB), "vpc"},
		{"fixed vhd", make([]byte, 512), craftFooter(VHDTypeFixed, MiB, MiB), "vpc"},
		{"raw", make([]byte, 512), make([]byte, 512), "raw"},
		{"empty", nil, nil, "raw"},
	}
	for _, tt := range tests {
		if got := detectFormat(tt.head, tt.tail); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	p := writeVHD(t, MiB, craftFooter(VHDTypeFixed, MiB, MiB))
	if got, err := DetectFormat(p); err != nil || got != "vpc" {
		t.Errorf("DetectFormat(file) = %s, %v", got, err)
	}
	if _, err := DetectFormat(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("no error for a missing file")
	}
}
