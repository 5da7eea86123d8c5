package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// Kernel is a kernel found in a root tree, with paths relative to the root.
type Kernel struct {
	Version string
	Image   string // /boot/vmlinuz-<version>
	Initrd  string // /boot/initrd.img-<version>, or "" when there is none
}

// FindKernel returns the newest kernel in rootDir/boot.
func FindKernel(rootDir string) (Kernel, error) {
	matches, err := filepath.Glob(filepath.Join(rootDir, "boot", "vmlinuz-*"))
	if err != nil {
		return Kernel{}, fmt.Errorf("find kernel in %s: %w", rootDir, err)
	}
	var versions []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			versions = append(versions, strings.TrimPrefix(filepath.Base(m), "vmlinuz-"))
		}
	}
	v := NewestVersion(versions)
	if v == "" {
		return Kernel{}, fmt.Errorf("no kernel (boot/vmlinuz-*) in root tree %s: install a kernel package such as linux-image-cloud-amd64", rootDir)
	}
	k := Kernel{Version: v, Image: "/boot/vmlinuz-" + v}
	if _, err := os.Stat(filepath.Join(rootDir, "boot", "initrd.img-"+v)); err == nil {
		k.Initrd = "/boot/initrd.img-" + v
	}
	return k, nil
}

// NewestVersion returns the highest version, comparing runs of digits as
// numbers ("6.1.0-10" > "6.1.0-9"); "" for an empty list.
func NewestVersion(versions []string) string {
	best := ""
	for _, v := range versions {
		if best == "" || CompareVersions(v, best) > 0 {
			best = v
		}
	}
	return best
}

// CompareVersions orders kernel version strings: -1, 0 or 1.
func CompareVersions(a, b string) int {
	for a != "" && b != "" {
		ca, ra := splitRun(a)
		cb, rb := splitRun(b)
		if c := compareRun(ca, cb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

func splitRun(s string) (string, string) {
	digit := unicode.IsDigit(rune(s[0]))
	i := 1
	for i < len(s) && unicode.IsDigit(rune(s[i])) == digit {
		i++
	}
	return s[:i], s[i:]
}

func compareRun(a, b string) int {
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	if ea == nil && eb == nil {
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// GrubConfig renders /boot/grub/grub.cfg: no menu, one entry booting k from
// the root filesystem, console on both the screen and the first serial port.
func GrubConfig(k Kernel, rootFSUUID, rootPartUUID string, extraCmdline []string) string {
	root := "root=UUID=" + rootFSUUID
	if k.Initrd == "" {
		// Without an initramfs only the kernel itself can find the root, and
		// it understands PARTUUID but not filesystem UUIDs.
		root = "root=PARTUUID=" + strings.ToLower(rootPartUUID)
	}
	args := append([]string{root, "ro", "console=tty0", "console=ttyS0,115200n8"}, extraCmdline...)
	var b strings.Builder
	b.WriteString("# Written by kiln. Regenerated on every image build.\n")
	b.WriteString("set default=0\nset timeout=0\nset timeout_style=hidden\n")
	// UEFI firmware already mirrors its console on the serial port; BIOS
	// needs GRUB's own serial terminal.
	b.WriteString("if [ \"$grub_platform\" = pc ]; then\n")
	b.WriteString("\tserial --unit=0 --speed=115200\n")
	b.WriteString("\tterminal_input serial console\n\tterminal_output serial console\nfi\n\n")
	b.WriteString("menuentry 'Debian GNU/Linux' --id kiln {\n")
	fmt.Fprintf(&b, "\tsearch --no-floppy --fs-uuid --set=root %s\n", rootFSUUID)
	fmt.Fprintf(&b, "\techo 'Loading Linux %s ...'\n", k.Version)
	fmt.Fprintf(&b, "\tlinux %s %s\n", k.Image, strings.Join(args, " "))
	if k.Initrd != "" {
		fmt.Fprintf(&b, "\tinitrd %s\n", k.Initrd)
	}
	b.WriteString("}\n")
	return b.String()
}

// EarlyConfig renders the configuration embedded in the GRUB core image: find
// the root filesystem and take grub.cfg from its /boot/grub.
func EarlyConfig(rootFSUUID string) string {
	return fmt.Sprintf("search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\n", rootFSUUID)
}

// Fstab renders /etc/fstab for the layout.
func Fstab(rootFSUUID, espUUID string) string {
	return "# Written by kiln.\n" +
		"# <file system> <mount point> <type> <options> <dump> <pass>\n" +
		fmt.Sprintf("UUID=%s / ext4 errors=remount-ro 0 1\n", rootFSUUID) +
		fmt.Sprintf("UUID=%s /boot/efi vfat umask=0077,noauto,nofail 0 2\n", espUUID)
}

// validateCmdline refuses kernel arguments that would break grub.cfg.
func validateCmdline(args []string) error {
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, "\n\r\"'{};$\\") {
			return fmt.Errorf("kernel command line argument %q: empty or contains a character grub.cfg cannot hold", a)
		}
	}
	return nil
}

// writeBootFiles writes fstab and grub.cfg into the tree.
func writeBootFiles(rootDir string, l *Layout, k Kernel, extra []string) ([]string, error) {
	files := map[string]string{
		"etc/fstab":          Fstab(l.RootFSUUID, l.ESPUUID),
		"boot/grub/grub.cfg": GrubConfig(k, l.RootFSUUID, l.Root.UUID, extra),
	}
	if err := os.MkdirAll(filepath.Join(rootDir, "boot", "efi"), 0o755); err != nil {
		return nil, fmt.Errorf("create /boot/efi mount point: %w", err)
	}
	var written []string
	for _, rel := range []string{"etc/fstab", "boot/grub/grub.cfg"} {
		p := filepath.Join(rootDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("write %s into the tree: %w", rel, err)
		}
		if err := removeIfSymlink(p); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(files[rel]), 0o644); err != nil {
			return nil, fmt.Errorf("write %s into the tree: %w", rel, err)
		}
		written = append(written, p)
	}
	return written, nil
}

// removeIfSymlink keeps a symlink planted in the tree from redirecting a
// write to a host file.
func removeIfSymlink(p string) error {
	st, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if st.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("replace symlink %s: %w", p, err)
		}
	}
	return nil
}
