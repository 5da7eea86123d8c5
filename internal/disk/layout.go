package disk

import (
	"errors"
	"fmt"
	"strings"
)

// Sizes and GPT partition type GUIDs of the layout kiln writes.
const (
	SectorSize = 512
	MiB        = 1 << 20

	BIOSBootSize = 1 * MiB
	ESPSize      = 64 * MiB
	// MinRootSize is the smallest root partition Assemble accepts.
	MinRootSize = 64 * MiB

	TypeBIOSBoot  = "21686148-6449-6E6F-744E-656564454649"
	TypeESP       = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	TypeRootX8664 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
)

// ErrTooSmall is wrapped by errors about a disk that cannot hold the tree.
var ErrTooSmall = errors.New("disk too small")

// Partition is one GPT entry.
type Partition struct {
	Number      int
	Name        string // GPT partition name
	Type        string // type GUID
	UUID        string // unique partition GUID
	StartSector int64
	Sectors     int64
}

// Offset is the partition's byte offset in the image.
func (p Partition) Offset() int64 { return p.StartSector * SectorSize }

// Size is the partition's size in bytes.
func (p Partition) Size() int64 { return p.Sectors * SectorSize }

// Layout describes an assembled (or planned) disk image.
type Layout struct {
	Path        string
	Seed        string // the seed the IDs were derived from
	SizeBytes   int64
	DiskGUID    string
	BIOSBoot    Partition
	ESP         Partition
	Root        Partition
	RootFSUUID  string // ext4 UUID of the root filesystem
	ESPVolumeID string // FAT volume ID, 8 hex digits
	ESPUUID     string // the same as blkid shows it (XXXX-XXXX)
	Kernel      string // kernel version booted by grub.cfg
	Timings     []StepTiming
}

// Partitions returns the partitions in table order.
func (l *Layout) Partitions() []Partition { return []Partition{l.BIOSBoot, l.ESP, l.Root} }

// PlanLayout computes the partition table for a disk of sizeBytes with IDs
// derived from seed. The size must be a whole number of MiB.
func PlanLayout(sizeBytes int64, seed string) (*Layout, error) {
	if sizeBytes <= 0 || sizeBytes%MiB != 0 {
		return nil, fmt.Errorf("disk size %d bytes: must be a positive whole number of MiB", sizeBytes)
	}
	// 1 MiB for the GPT at the start and 1 MiB holding the backup GPT at the end.
	rootSize := sizeBytes - MiB - BIOSBootSize - ESPSize - MiB
	if rootSize < MinRootSize {
		return nil, fmt.Errorf("disk size %d MiB leaves %d MiB for the root filesystem (minimum %d MiB): raise vmProfile.osDiskSizeGB: %w",
			sizeBytes/MiB, rootSize/MiB, MinRootSize/MiB, ErrTooSmall)
	}
	const s = SectorSize
	volID := DeriveVolumeID(seed)
	espUUID, err := FATUUID(volID)
	if err != nil {
		return nil, err
	}
	return &Layout{
		SizeBytes: sizeBytes,
		DiskGUID:  DeriveUUID(seed, "disk"),
		BIOSBoot: Partition{Number: 1, Name: "bios", Type: TypeBIOSBoot, UUID: DeriveUUID(seed, "part-bios"),
			StartSector: MiB / s, Sectors: BIOSBootSize / s},
		ESP: Partition{Number: 2, Name: "esp", Type: TypeESP, UUID: DeriveUUID(seed, "part-esp"),
			StartSector: (MiB + BIOSBootSize) / s, Sectors: ESPSize / s},
		Root: Partition{Number: 3, Name: "root", Type: TypeRootX8664, UUID: DeriveUUID(seed, "part-root"),
			StartSector: (MiB + BIOSBootSize + ESPSize) / s, Sectors: rootSize / s},
		RootFSUUID:  strings.ToLower(DeriveUUID(seed, "fs-root")),
		ESPVolumeID: volID,
		ESPUUID:     espUUID,
	}, nil
}

// SfdiskScript renders the layout as sfdisk script input.
func SfdiskScript(l *Layout) string {
	var b strings.Builder
	b.WriteString("label: gpt\n")
	fmt.Fprintf(&b, "label-id: %s\n", l.DiskGUID)
	b.WriteString("unit: sectors\nfirst-lba: 2048\nsector-size: 512\n\n")
	for _, p := range l.Partitions() {
		fmt.Fprintf(&b, "start=%d, size=%d, type=%s, uuid=%s, name=%q\n",
			p.StartSector, p.Sectors, p.Type, p.UUID, p.Name)
	}
	return b.String()
}
