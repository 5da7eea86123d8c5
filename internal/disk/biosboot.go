package disk

import (
	"encoding/binary"
	"fmt"
)

// Offsets inside GRUB's i386-pc boot.img (the MBR code) and diskboot.img (the
// first sector of core.img), as grub-setup patches them.
const (
	bootBPBStart      = 0x03  // BIOS parameter block kept from the existing sector
	bootBPBEnd        = 0x5a  //
	bootKernelSector  = 0x5c  // 64-bit LBA of core.img's first sector
	bootDrive         = 0x64  // 0xff: use the drive the BIOS passed in %dl
	bootDriveCheck    = 0x66  // 2-byte jmp that grub-setup turns into nops for hard disks
	mbrCodeSize       = 440   // boot code area before the disk signature
	blocklistStart    = 0x1f4 // first blocklist entry at the end of diskboot.img: 64-bit start LBA
	blocklistLen      = 0x1fc // 16-bit sector count
	blocklistSegment  = 0x1fe // 16-bit load segment
	diskbootSegment   = 0x820 // where diskboot.img loads the rest of core.img
	maxCoreImageBytes = 0xffff * SectorSize
)

// PatchCoreImage fills the first blocklist of core.img (diskboot.img) so it
// loads the remaining sectors, stored contiguously after its first sector at
// coreLBA. It returns the image padded to whole sectors.
func PatchCoreImage(core []byte, coreLBA int64) ([]byte, error) {
	if len(core) < SectorSize {
		return nil, fmt.Errorf("core.img is %d bytes: shorter than one sector", len(core))
	}
	if len(core) > maxCoreImageBytes {
		return nil, fmt.Errorf("core.img is %d bytes: too large for one blocklist", len(core))
	}
	sectors := (len(core) + SectorSize - 1) / SectorSize
	out := make([]byte, sectors*SectorSize)
	copy(out, core)
	if seg := binary.LittleEndian.Uint16(out[blocklistSegment:]); seg != diskbootSegment {
		return nil, fmt.Errorf("core.img blocklist segment is %#x, want %#x: not an i386-pc core image", seg, diskbootSegment)
	}
	binary.LittleEndian.PutUint64(out[blocklistStart:], uint64(coreLBA+1))
	binary.LittleEndian.PutUint16(out[blocklistLen:], uint16(sectors-1))
	return out, nil
}

// PatchBootImage returns the 440 bytes of MBR boot code to write over the
// start of mbr: boot.img with the BIOS parameter block of mbr kept, the LBA
// of core.img set, the boot drive taken from the BIOS and the floppy drive
// check disabled, as grub-setup does for a hard disk.
func PatchBootImage(bootImg, mbr []byte, coreLBA int64) ([]byte, error) {
	if len(bootImg) != SectorSize {
		return nil, fmt.Errorf("boot.img is %d bytes, want %d", len(bootImg), SectorSize)
	}
	if len(mbr) < SectorSize {
		return nil, fmt.Errorf("MBR is %d bytes, want %d", len(mbr), SectorSize)
	}
	out := make([]byte, mbrCodeSize)
	copy(out, bootImg[:mbrCodeSize])
	copy(out[bootBPBStart:bootBPBEnd], mbr[bootBPBStart:bootBPBEnd])
	binary.LittleEndian.PutUint64(out[bootKernelSector:], uint64(coreLBA))
	out[bootDrive] = 0xff
	out[bootDriveCheck], out[bootDriveCheck+1] = 0x90, 0x90
	return out, nil
}
