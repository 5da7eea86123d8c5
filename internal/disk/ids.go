package disk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// DeriveUUID returns a random-looking (version 4 layout) UUID that depends
// only on seed and purpose, so that images built with the same seed get the
// same disk GUID, partition UUIDs and filesystem UUIDs.
func DeriveUUID(seed, purpose string) string {
	sum := sha256.Sum256([]byte("kiln-disk\x00" + seed + "\x00" + purpose))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

// DeriveVolumeID returns a 32-bit FAT volume ID derived from seed, as the
// 8 hex digits mkfs.vfat -i takes. Its fstab form is given by FATUUID.
func DeriveVolumeID(seed string) string {
	sum := sha256.Sum256([]byte("kiln-disk\x00" + seed + "\x00esp-volume-id"))
	return strings.ToUpper(hex.EncodeToString(sum[:4]))
}

// FATUUID renders a volume ID (8 hex digits) the way blkid and fstab show
// it: XXXX-XXXX.
func FATUUID(volumeID string) (string, error) {
	if len(volumeID) != 8 {
		return "", fmt.Errorf("FAT volume ID %q: want 8 hex digits", volumeID)
	}
	if _, err := hex.DecodeString(volumeID); err != nil {
		return "", fmt.Errorf("FAT volume ID %q: %w", volumeID, err)
	}
	v := strings.ToUpper(volumeID)
	return v[:4] + "-" + v[4:], nil
}
