// Package disk assembles bootable GPT disk images from root filesystem trees
// and converts them between formats.
//
// Assemble writes a raw image without loop devices or mounts: sfdisk writes
// the partition table into the image file, mke2fs -d builds the ext4 root
// straight from the tree at the root partition's offset, mkfs.vfat and mtools
// make the EFI system partition in place, and GRUB core images are generated
// with grub-mkimage and written with plain file I/O (for BIOS, the MBR code
// and core.img blocklist are patched the way grub-setup does). The result
// boots under UEFI (removable-media path \EFI\BOOT\BOOTX64.EFI) and BIOS.
//
// QemuImg converts images to qcow2, raw and fixed VHD; VerifyVHDFooter,
// DetectFormat and SHA256File are pure Go.
package disk

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// AssembleOptions configure Assemble.
type AssembleOptions struct {
	RootDir   string // root filesystem tree; fstab and grub.cfg are written into it
	Output    string // raw image to create (replaced if it exists)
	SizeBytes int64  // whole MiB
	// KernelCmdline holds extra kernel arguments appended after the console ones.
	KernelCmdline []string
	// Seed determines the disk GUID, partition UUIDs and filesystem UUIDs.
	// When empty a random seed is used (and recorded in Layout.Seed).
	Seed string
	// GrubDir holds GRUB's platform directories; default /usr/lib/grub.
	GrubDir string
	// SourceDateEpoch, when non-zero, pins the timestamps Assemble creates
	// (files it writes, filesystem creation times) for reproducible output.
	SourceDateEpoch int64
	Logger          *slog.Logger
}

// StepTiming is how long one assembly step took.
type StepTiming struct {
	Name     string
	Duration time.Duration
}

// RequiredPrograms are the host programs Assemble runs.
var RequiredPrograms = []string{"sfdisk", "mke2fs", "mkfs.vfat", "mmd", "mcopy", "grub-mkimage"}

type assembler struct {
	r   hostexec.Runner
	o   AssembleOptions
	l   *Layout
	k   Kernel
	tmp string
	log *slog.Logger
	env []string
}

// Assemble builds a bootable GPT raw disk image from opts.RootDir.
func Assemble(ctx context.Context, r hostexec.Runner, opts AssembleOptions) (*Layout, error) {
	a, err := newAssembler(r, opts)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kiln-disk-")
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	defer os.RemoveAll(tmp)
	a.tmp = tmp
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"check size", a.checkSize},
		{"write boot files", a.writeTreeFiles},
		{"partition", a.partition},
		{"root filesystem", a.rootFS},
		{"EFI system partition", a.espFS},
		{"grub efi", a.grubEFI},
		{"grub bios", a.grubBIOS},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			os.Remove(opts.Output)
			return nil, fmt.Errorf("assemble %s: %s: %w", opts.Output, s.name, err)
		}
		d := time.Since(start)
		a.l.Timings = append(a.l.Timings, StepTiming{Name: s.name, Duration: d})
		a.log.Debug("disk step done", "step", s.name, "seconds", d.Seconds())
	}
	return a.l, nil
}

func newAssembler(r hostexec.Runner, o AssembleOptions) (*assembler, error) {
	if o.RootDir == "" || o.Output == "" {
		return nil, errors.New("assemble: RootDir and Output are required")
	}
	if st, err := os.Stat(o.RootDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("assemble: root tree %q is not a directory", o.RootDir)
	}
	if o.GrubDir == "" {
		o.GrubDir = "/usr/lib/grub"
	}
	if o.Seed == "" {
		o.Seed = rand.Text()
	}
	if err := validateCmdline(o.KernelCmdline); err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	l, err := PlanLayout(o.SizeBytes, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	l.Path, l.Seed = o.Output, o.Seed
	k, err := FindKernel(o.RootDir)
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	l.Kernel = k.Version
	a := &assembler{r: r, o: o, l: l, k: k, log: o.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	if o.SourceDateEpoch != 0 {
		e := strconv.FormatInt(o.SourceDateEpoch, 10)
		a.env = []string{"SOURCE_DATE_EPOCH=" + e, "E2FSPROGS_FAKE_TIME=" + e}
	}
	return a, nil
}

func (a *assembler) run(ctx context.Context, name string, args []string, stdin []byte) error {
	cmd := hostexec.Command{Name: name, Args: args, Env: a.env}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	_, err := a.r.Run(ctx, cmd)
	return err
}

func (a *assembler) writeTreeFiles(ctx context.Context) error {
	if k := a.k; k.Initrd == "" {
		a.log.Warn("kernel has no initrd; booting with root=PARTUUID", "kernel", k.Version)
	}
	written, err := writeBootFiles(a.o.RootDir, a.l, a.k, a.o.KernelCmdline)
	if err != nil || a.o.SourceDateEpoch == 0 {
		return err
	}
	t := time.Unix(a.o.SourceDateEpoch, 0)
	for _, p := range append(written, filepath.Join(a.o.RootDir, "boot", "efi"),
		filepath.Join(a.o.RootDir, "boot", "grub"), filepath.Join(a.o.RootDir, "boot"),
		filepath.Join(a.o.RootDir, "etc")) {
		if err := os.Chtimes(p, t, t); err != nil {
			return fmt.Errorf("pin timestamp of %s: %w", p, err)
		}
	}
	return nil
}

func (a *assembler) checkSize(ctx context.Context) error {
	usage, err := MeasureTree(ctx, a.o.RootDir)
	if err != nil {
		return err
	}
	return CheckFits(usage, a.l.Root.Size())
}

func (a *assembler) partition(ctx context.Context) error {
	f, err := os.Create(a.o.Output)
	if err != nil {
		return fmt.Errorf("create image: %w", err)
	}
	if err := f.Truncate(a.l.SizeBytes); err != nil {
		f.Close()
		return fmt.Errorf("size image: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create image: %w", err)
	}
	return a.run(ctx, "sfdisk", SfdiskArgs(a.o.Output), []byte(SfdiskScript(a.l)))
}

func (a *assembler) rootFS(ctx context.Context) error {
	err := a.run(ctx, "mke2fs", Mke2fsArgs(Mke2fsOptions{
		Image: a.o.Output, Offset: a.l.Root.Offset(), SizeKiB: a.l.Root.Size() / 1024,
		RootDir: a.o.RootDir, UUID: a.l.RootFSUUID, HashSeed: strings.ToLower(DeriveUUID(a.o.Seed, "fs-root-hash")),
		Label: "root",
	}), nil)
	var xe *hostexec.ExitError
	if errors.As(err, &xe) && isNoSpace(xe.Tail) {
		return fmt.Errorf("root tree %s does not fit in the %d MiB root partition: raise vmProfile.osDiskSizeGB: %w: %w",
			a.o.RootDir, a.l.Root.Size()/MiB, ErrTooSmall, err)
	}
	return err
}

func isNoSpace(s string) bool {
	for _, m := range []string{"Could not allocate", "No space left", "No free space", "Could not allocate inode"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func (a *assembler) espFS(ctx context.Context) error {
	return a.run(ctx, "mkfs.vfat", MkfsVfatArgs(a.o.Output, a.l.ESP.StartSector, a.l.ESP.Size()/1024, a.l.ESPVolumeID, "ESP"), nil)
}

func (a *assembler) writeEarlyConfig() (string, error) {
	p := filepath.Join(a.tmp, "early.cfg")
	if err := os.WriteFile(p, []byte(EarlyConfig(a.l.RootFSUUID)), 0o644); err != nil {
		return "", fmt.Errorf("write early grub config: %w", err)
	}
	return p, nil
}

func (a *assembler) grubEFI(ctx context.Context) error {
	cfg, err := a.writeEarlyConfig()
	if err != nil {
		return err
	}
	efi := filepath.Join(a.tmp, "BOOTX64.EFI")
	if err := a.run(ctx, "grub-mkimage", GrubMkimageArgs(GrubImageOptions{
		Format: "x86_64-efi", ModuleDir: filepath.Join(a.o.GrubDir, "x86_64-efi"),
		Config: cfg, Prefix: "/boot/grub", Output: efi, Modules: EFIGrubModules,
	}), nil); err != nil {
		return err
	}
	if a.o.SourceDateEpoch != 0 {
		t := time.Unix(a.o.SourceDateEpoch, 0)
		if err := os.Chtimes(efi, t, t); err != nil {
			return fmt.Errorf("pin timestamp of BOOTX64.EFI: %w", err)
		}
	}
	off := a.l.ESP.Offset()
	if err := a.run(ctx, "mmd", MmdArgs(a.o.Output, off, "::/EFI", "::/EFI/BOOT"), nil); err != nil {
		return err
	}
	return a.run(ctx, "mcopy", McopyArgs(a.o.Output, off, efi, "::/EFI/BOOT/BOOTX64.EFI"), nil)
}

func (a *assembler) grubBIOS(ctx context.Context) error {
	cfg, err := a.writeEarlyConfig()
	if err != nil {
		return err
	}
	coreFile := filepath.Join(a.tmp, "core.img")
	pcDir := filepath.Join(a.o.GrubDir, "i386-pc")
	if err := a.run(ctx, "grub-mkimage", GrubMkimageArgs(GrubImageOptions{
		Format: "i386-pc", ModuleDir: pcDir, Config: cfg, Prefix: "/boot/grub",
		Output: coreFile, Modules: BIOSGrubModules,
	}), nil); err != nil {
		return err
	}
	return installBIOSBoot(a.o.Output, filepath.Join(pcDir, "boot.img"), coreFile, a.l.BIOSBoot)
}

// installBIOSBoot writes core.img into the BIOS boot partition and boot.img
// into the MBR's code area.
func installBIOSBoot(image, bootImgPath, corePath string, part Partition) error {
	core, err := os.ReadFile(corePath)
	if err != nil {
		return fmt.Errorf("read core.img: %w", err)
	}
	if int64(len(core)) > part.Size() {
		return fmt.Errorf("core.img is %d bytes but the BIOS boot partition holds %d", len(core), part.Size())
	}
	core, err = PatchCoreImage(core, part.StartSector)
	if err != nil {
		return err
	}
	bootImg, err := os.ReadFile(bootImgPath)
	if err != nil {
		return fmt.Errorf("read boot.img: %w (install grub-pc-bin)", err)
	}
	f, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open image: %w", err)
	}
	defer f.Close()
	mbr := make([]byte, SectorSize)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		return fmt.Errorf("read MBR: %w", err)
	}
	code, err := PatchBootImage(bootImg, mbr, part.StartSector)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(core, part.Offset()); err != nil {
		return fmt.Errorf("write core.img: %w", err)
	}
	if _, err := f.WriteAt(code, 0); err != nil {
		return fmt.Errorf("write MBR boot code: %w", err)
	}
	return f.Close()
}
