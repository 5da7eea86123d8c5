package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DiskTools assemble and convert disk images (package disk, through qemu-img).
type DiskTools interface {
	// Assemble writes a bootable GPT raw disk of size bytes from a root
	// tree, with extra kernel command-line arguments.
	Assemble(ctx context.Context, root, raw string, size int64, seed string, cmdline []string) error
	// TreeSize is the space a root tree needs, in bytes.
	TreeSize(ctx context.Context, root string) (int64, error)
	// Convert writes src (raw) as format (qcow2, raw, vhd) to dst.
	Convert(ctx context.Context, src, dst, format string) error
	// SHA256 hashes a (possibly sparse) file.
	SHA256(path string) (string, error)
	// SHA256WithTrailer hashes path and path followed by the last n bytes of other.
	SHA256WithTrailer(path, other string, n int64) (string, string, error)
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
	cmdline, err := KernelArgs(s.RootDir)
	if err != nil {
		return err
	}
	if err := s.Engine.Disk.Assemble(ctx, s.RootDir, raw, size, s.Job.RunID, cmdline); err != nil {
		return err
	}
	s.RawPath = raw
	s.Log.Printf("assembled a %d GiB GPT disk (BIOS boot, EFI system, ext4 root) in %s", size>>30, elapsed(t0))
	vhd, qcow := filepath.Join(s.WorkDir, "disk.vhd"), filepath.Join(s.WorkDir, "disk.qcow2")
	if err := timed(s, "converted to a fixed VHD", func() error { return s.Engine.Disk.Convert(ctx, raw, vhd, "vhd") }); err != nil {
		return fmt.Errorf("convert to vhd: %w", err)
	}
	// The raw and VHD digests come from one pass over the raw disk while
	// the other core compresses the qcow2.
	var rawSum, vhdSum, qcowSum string
	hashed := make(chan error, 1)
	go func() {
		hashed <- timed(s, "hashed raw and vhd", func() (err error) {
			rawSum, vhdSum, err = s.Engine.Disk.SHA256WithTrailer(raw, vhd, 512)
			return err
		})
	}()
	convErr := timed(s, "converted to a compressed qcow2", func() error {
		if err := s.Engine.Disk.Convert(ctx, raw, qcow, "qcow2"); err != nil {
			return fmt.Errorf("convert to qcow2: %w", err)
		}
		var err error
		qcowSum, err = s.Engine.Disk.SHA256(qcow)
		return err
	})
	if err := errors.Join(<-hashed, convErr); err != nil {
		return err
	}
	for _, a := range []Artifact{{Format: "raw", Path: raw, SHA256: rawSum}, {Format: "qcow2", Path: qcow, SHA256: qcowSum}, {Format: "vhd", Path: vhd, SHA256: vhdSum}} {
		fi, err := os.Stat(a.Path)
		if err != nil {
			return err
		}
		a.Size, a.VirtualSize = fi.Size(), size
		s.Artifacts = append(s.Artifacts, a)
		s.Log.Printf("%s: sha256 %s, %d bytes", filepath.Base(a.Path), a.SHA256, a.Size)
	}
	return nil
}

// timed runs f and logs how long it took.
func timed(s *State, what string, f func() error) error {
	t0 := time.Now()
	err := f()
	if err == nil {
		s.Log.Printf("%s in %s", what, elapsed(t0))
	}
	return err
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

// KernelCmdlineDir holds files of extra kernel arguments inside an image
// (one or more per line, # comments): customizers and hardening profiles
// add arguments there because kiln writes the bootloader configuration.
const KernelCmdlineDir = "etc/kiln/kernel-cmdline.d"

// KernelArgs reads the extra kernel arguments of a root tree, in file-name order.
func KernelArgs(root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, KernelCmdlineDir, "*.conf"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var args []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read kernel arguments: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line, _, _ = strings.Cut(line, "#")
			args = append(args, strings.Fields(line)...)
		}
	}
	return args, nil
}
