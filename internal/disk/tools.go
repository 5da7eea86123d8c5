package disk

import (
	"fmt"
	"strconv"
)

// GRUB module sets embedded in the core images. Everything grub.cfg needs is
// built in, so nothing is loaded from the root filesystem at boot.
var (
	commonGrubModules = []string{
		"part_gpt", "part_msdos", "ext2", "fat", "normal", "linux", "search",
		"search_fs_uuid", "search_label", "configfile", "echo", "gzio", "test",
		"serial", "terminal", "boot", "minicmd", "all_video", "sleep", "halt", "reboot",
	}
	// EFIGrubModules are embedded in BOOTX64.EFI.
	EFIGrubModules = append(append([]string(nil), commonGrubModules...), "efi_gop")
	// BIOSGrubModules are embedded in the i386-pc core.img.
	BIOSGrubModules = append([]string{"biosdisk"}, commonGrubModules...)
)

// SfdiskArgs returns the sfdisk arguments that write a partition table read
// from standard input into an image file.
func SfdiskArgs(image string) []string {
	return []string{"--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always", image}
}

// Mke2fsOptions describe an ext4 filesystem populated from a tree and written
// at an offset into an image file.
type Mke2fsOptions struct {
	Image    string
	Offset   int64 // bytes
	SizeKiB  int64
	RootDir  string
	UUID     string
	HashSeed string
	Label    string
}

// Mke2fsArgs builds the mke2fs command line.
func Mke2fsArgs(o Mke2fsOptions) []string {
	ext := "offset=" + strconv.FormatInt(o.Offset, 10)
	if o.HashSeed != "" {
		ext += ",hash_seed=" + o.HashSeed
	}
	args := []string{"-q", "-F", "-t", "ext4", "-E", ext}
	if o.RootDir != "" {
		args = append(args, "-d", o.RootDir)
	}
	if o.UUID != "" {
		args = append(args, "-U", o.UUID)
	}
	if o.Label != "" {
		args = append(args, "-L", o.Label)
	}
	return append(args, o.Image, strconv.FormatInt(o.SizeKiB, 10)+"k")
}

// MkfsVfatArgs builds the mkfs.vfat command line for a FAT32 filesystem at
// offsetSectors (512-byte sectors) in image, sizeKiB long.
func MkfsVfatArgs(image string, offsetSectors, sizeKiB int64, volumeID, label string) []string {
	return []string{
		"-F", "32", "-s", "1", "--invariant", "-i", volumeID, "-n", label,
		"--offset=" + strconv.FormatInt(offsetSectors, 10),
		image, strconv.FormatInt(sizeKiB, 10),
	}
}

// MtoolsImage is the mtools -i argument for a FAT filesystem at a byte
// offset inside an image.
func MtoolsImage(image string, offset int64) string {
	return fmt.Sprintf("%s@@%d", image, offset)
}

// MmdArgs builds an mmd command line creating dirs (::/path form).
func MmdArgs(image string, offset int64, dirs ...string) []string {
	return append([]string{"-i", MtoolsImage(image, offset)}, dirs...)
}

// McopyArgs builds an mcopy command line copying a host file to dst (::/path
// form), keeping the host file's modification time.
func McopyArgs(image string, offset int64, src, dst string) []string {
	return []string{"-i", MtoolsImage(image, offset), "-m", "-o", src, dst}
}

// GrubImageOptions describe one grub-mkimage run.
type GrubImageOptions struct {
	Format    string // x86_64-efi or i386-pc
	ModuleDir string // e.g. /usr/lib/grub/x86_64-efi
	Config    string // path of the embedded early config
	Prefix    string
	Output    string
	Modules   []string
}

// GrubMkimageArgs builds the grub-mkimage command line.
func GrubMkimageArgs(o GrubImageOptions) []string {
	args := []string{"-O", o.Format, "-d", o.ModuleDir, "-o", o.Output, "-p", o.Prefix}
	if o.Config != "" {
		args = append(args, "-c", o.Config)
	}
	return append(args, o.Modules...)
}
