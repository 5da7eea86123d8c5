package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DiskTools assemble and convert disk images (package disk, through qemu-img).
type DiskTools interface {
	// Assemble writes a bootable GPT raw disk of size bytes from a root tree.
	Assemble(ctx context.Context, root, raw string, size int64, seed string) error
	// TreeSize is the space a root tree needs, in bytes.
	TreeSize(ctx context.Context, root string) (int64, error)
	// Convert writes src (raw) as format (qcow2, raw, vhd) to dst.
	Convert(ctx context.Context, src, dst, format string) error
	// SHA256 hashes a (possibly sparse) file.
	SHA256(path string) (string, error)
}

// DefaultDiskGiB is the OS disk size of kiln's Debian platform images, as
// Debian's own cloud images; larger trees get the next whole GiB with room.
const DefaultDiskGiB = 2

// stepAssemble makes the GPT disk and its qcow2, raw and fixed VHD forms.
type stepAssemble struct{}

func (*stepAssemble) Name() string     { return "assemble-disk" }
func (*stepAssemble) SubState() string { return SubOptimizing }

func (*stepAssemble) Cleanup(s *State) {
	if !s.KeepWork {
		for _, f := range []string{"disk.raw", "disk.qcow2", "disk.vhd"} {
			os.Remove(filepath.Join(s.WorkDir, f))
		}
	}
}

func (*stepAssemble) Run(ctx context.Context, s *State) error {
	size, err := diskSize(ctx, s)
	if err != nil {
		return err
	}
	raw := filepath.Join(s.WorkDir, "disk.raw")
	t0 := time.Now()
	if err := s.Engine.Disk.Assemble(ctx, s.RootDir, raw, size, s.Job.RunID); err != nil {
		return err
	}
	s.RawPath = raw
	s.Log.Printf("assembled a %d GiB GPT disk (BIOS boot, EFI system, ext4 root) in %s", size>>30, elapsed(t0))
	for _, f := range []struct{ format, file string }{{"qcow2", "disk.qcow2"}, {"vhd", "disk.vhd"}} {
		t1 := time.Now()
		if err := s.Engine.Disk.Convert(ctx, raw, filepath.Join(s.WorkDir, f.file), f.format); err != nil {
			return fmt.Errorf("convert to %s: %w", f.format, err)
		}
		s.Log.Printf("converted to %s in %s", f.format, elapsed(t1))
	}
	for _, f := range []struct{ format, file string }{{"raw", "disk.raw"}, {"qcow2", "disk.qcow2"}, {"vhd", "disk.vhd"}} {
		p := filepath.Join(s.WorkDir, f.file)
		t1 := time.Now()
		sum, err := s.Engine.Disk.SHA256(p)
		if err != nil {
			return fmt.Errorf("hash %s: %w", f.file, err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		s.Artifacts = append(s.Artifacts, Artifact{Format: f.format, Path: p, SHA256: sum, Size: fi.Size(), VirtualSize: size})
		s.Log.Printf("%s sha256 %s (%d bytes, hashed in %s)", f.file, sum, fi.Size(), elapsed(t1))
	}
	return nil
}

// diskSize honours vmProfile.osDiskSizeGB, else sizes the disk for the tree.
func diskSize(ctx context.Context, s *State) (int64, error) {
	used, err := s.Engine.Disk.TreeSize(ctx, s.RootDir)
	if err != nil {
		return 0, err
	}
	if vp := s.Job.Template.Properties.VMProfile; vp != nil && vp.OSDiskSizeGB > 0 {
		size := int64(vp.OSDiskSizeGB) << 30
		if used+used/5+(200<<20) > size {
			return 0, fmt.Errorf("the image's files need about %d MiB but vmProfile.osDiskSizeGB is %d; raise osDiskSizeGB", (used+used/5+(200<<20))>>20, vp.OSDiskSizeGB)
		}
		return size, nil
	}
	gib := int64(DefaultDiskGiB)
	for gib<<30 < used+used/5+(200<<20) {
		gib++
	}
	return gib << 30, nil
}
