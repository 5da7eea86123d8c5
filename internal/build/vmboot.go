package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/harden"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/qemu"
)

// QEMU boots images for validation and for the vm executor.
type QEMU struct {
	Runner hostexec.Runner
	// Accel returns the accelerator to use and why.
	Accel func(ctx context.Context) (accel, reason string)
	// BIOS boots validation VMs with SeaBIOS instead of UEFI (OVMF).
	BIOS bool
}

var _ Booter = (*QEMU)(nil)

// Boot copies rawDisk to a throwaway file, gives root an ephemeral SSH key
// there, boots it under UEFI and waits for the readiness signal.
func (q *QEMU) Boot(ctx context.Context, rawDisk, workDir string, log *Logger) (executor.Executor, error) {
	fw, err := qemu.FindFirmware()
	if err != nil {
		return nil, err
	}
	key, err := executor.NewKey()
	if err != nil {
		return nil, err
	}
	scratch := filepath.Join(workDir, "validate.raw")
	if _, err := q.Runner.Run(ctx, hostexec.Command{Name: "cp", Args: []string{"--sparse=always", "--reflink=auto", rawDisk, scratch}}); err != nil {
		return nil, fmt.Errorf("copy the disk for validation: %w", err)
	}
	if err := q.addValidationUser(ctx, scratch, workDir, key.AuthorizedKey); err != nil {
		os.Remove(scratch)
		return nil, err
	}
	accel, reason := q.Accel(ctx)
	log.Printf("booting a throwaway copy of the image under QEMU with %s (%s)", accel, reason)
	vm, err := executor.BootVM(ctx, executor.VMConfig{
		Disk: scratch, DiskFormat: "raw", Accel: accel, Firmware: fw, CPUs: 2, MemoryMiB: 1024,
		SerialLog: filepath.Join(workDir, ConsoleLogName), Key: key, Logf: log.Printf, User: ValidationUser, BIOS: q.BIOS,
	})
	if err != nil {
		os.Remove(scratch)
		return nil, err
	}
	return &throwawayVM{VM: vm, scratch: scratch}, nil
}

// throwawayVM is a validation VM whose disk is discarded on Close.
type throwawayVM struct {
	*executor.VM
	scratch string
}

func (t *throwawayVM) Close(context.Context) error {
	t.VM.Kill()
	return os.Remove(t.scratch)
}

// ValidationUser is the throwaway account validation logs in as: hardened
// images refuse root logins over SSH, so the throwaway copy of the disk
// gets a user with the ephemeral key and password-less sudo. The image
// that is distributed never has it.
const ValidationUser = "kiln-validate"

// addValidationUser creates ValidationUser in the disk's root partition.
func (q *QEMU) addValidationUser(ctx context.Context, raw, workDir, authorized string) error {
	root, err := rootPartition(raw)
	if err != nil {
		return err
	}
	mnt := filepath.Join(workDir, "mnt-validate")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return err
	}
	defer os.Remove(mnt)
	if _, err := q.Runner.Run(ctx, hostexec.Command{Name: "mount", Args: MountPartitionArgs(raw, mnt, root.Offset(), root.Size())}); err != nil {
		return fmt.Errorf("mount the image's root filesystem: %w", err)
	}
	defer q.Runner.Run(context.WithoutCancel(ctx), hostexec.Command{Name: "umount", Args: []string{mnt}})
	for _, args := range ValidationUserCommands(mnt) {
		if _, err := q.Runner.Run(ctx, hostexec.Command{Name: args[0], Args: args[1:]}); err != nil {
			return fmt.Errorf("create the validation user: %w", err)
		}
	}
	if err := q.admitValidationUser(ctx, mnt); err != nil {
		return err
	}
	home := filepath.Join(mnt, "home", ValidationUser)
	files := map[string]string{
		filepath.Join(home, ".ssh", "authorized_keys"):             authorized,
		filepath.Join(mnt, "etc", "sudoers.d", "zz-kiln-validate"): ValidationUser + " ALL=(ALL) NOPASSWD:ALL\n",
	}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o440); err != nil {
			return err
		}
	}
	uid, gid, err := lookupIDs(filepath.Join(mnt, "etc", "passwd"), ValidationUser)
	if err != nil {
		return err
	}
	for _, p := range []string{home, filepath.Join(home, ".ssh"), filepath.Join(home, ".ssh", "authorized_keys")} {
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	return os.Chmod(filepath.Join(home, ".ssh", "authorized_keys"), 0o600)
}

// admitValidationUser adds the validation user to the groups the image's
// sshd AllowGroups names (a hardened image admits only those), so that the
// image's SSH configuration is tested as it is, unchanged.
func (q *QEMU) admitValidationUser(ctx context.Context, mnt string) error {
	groups, users, err := harden.SSHDAccess(mnt)
	if err != nil {
		return nil // no readable sshd configuration: nothing to join; SSH will say what is wrong
	}
	if len(users) > 0 && !slices.Contains(users, ValidationUser) {
		return fmt.Errorf("the image's sshd AllowUsers (%s) does not admit kiln's validation user %s: use AllowGroups (Hardening parameter sshAllowGroups) instead of AllowUsers, or add %s to AllowUsers in a file the distributed image drops (validate.inVMValidations cannot run otherwise)",
			strings.Join(users, " "), ValidationUser, ValidationUser)
	}
	existing, err := groupNames(filepath.Join(mnt, "etc", "group"))
	if err != nil {
		return err
	}
	var join []string
	for _, g := range groups {
		if existing[g] && !slices.Contains(join, g) {
			join = append(join, g)
		}
	}
	if len(join) == 0 {
		return nil
	}
	args := []string{"--root", mnt, "--append", "--groups", strings.Join(join, ","), ValidationUser}
	if _, err := q.Runner.Run(ctx, hostexec.Command{Name: "usermod", Args: args}); err != nil {
		return fmt.Errorf("add the validation user to the groups sshd allows (%s): %w", strings.Join(join, ","), err)
	}
	return nil
}

func groupNames(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok {
			names[name] = true
		}
	}
	return names, nil
}

// ValidationUserCommands create the validation user offline in a root tree.
func ValidationUserCommands(root string) [][]string {
	return [][]string{
		{"useradd", "--root", root, "--create-home", "--shell", "/bin/sh", "--comment", "kiln validation (throwaway)", ValidationUser},
		{"usermod", "--root", root, "--password", "*", ValidationUser},
	}
}

// lookupIDs reads a user's uid and gid from a passwd file.
func lookupIDs(passwd, user string) (int, int, error) {
	data, err := os.ReadFile(passwd)
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == user {
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				return 0, 0, fmt.Errorf("bad passwd entry for %s", user)
			}
			return uid, gid, nil
		}
	}
	return 0, 0, fmt.Errorf("user %s not found in %s", user, passwd)
}

// MountPartitionArgs mounts one partition of a disk image through a loop device.
func MountPartitionArgs(image, dir string, offset, size int64) []string {
	return []string{"-o", "loop,offset=" + strconv.FormatInt(offset, 10) + ",sizelimit=" + strconv.FormatInt(size, 10), image, dir}
}

// rootPartition finds the Linux root partition of a kiln disk from its size.
func rootPartition(raw string) (disk.Partition, error) {
	fi, err := os.Stat(raw)
	if err != nil {
		return disk.Partition{}, err
	}
	l, err := disk.PlanLayout(fi.Size(), "")
	if err != nil {
		return disk.Partition{}, err
	}
	return l.Root, nil
}
