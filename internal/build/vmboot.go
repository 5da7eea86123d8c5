package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/qemu"
)

// QEMU boots images for validation and for the vm executor.
type QEMU struct {
	Runner hostexec.Runner
	// Accel returns the accelerator to use and why.
	Accel func(ctx context.Context) (accel, reason string)
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
	if err := q.injectKey(ctx, scratch, workDir, key.AuthorizedKey); err != nil {
		os.Remove(scratch)
		return nil, err
	}
	accel, reason := q.Accel(ctx)
	log.Printf("booting a throwaway copy of the image under QEMU with %s (%s)", accel, reason)
	vm, err := executor.BootVM(ctx, executor.VMConfig{
		Disk: scratch, DiskFormat: "raw", Accel: accel, Firmware: fw, CPUs: 2, MemoryMiB: 1024,
		SerialLog: filepath.Join(workDir, "validation-console.log"), Key: key, Logf: log.Printf,
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

// injectKey writes root's authorized_keys into the disk's root partition.
func (q *QEMU) injectKey(ctx context.Context, raw, workDir, authorized string) error {
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
	dir := filepath.Join(mnt, "root", ".ssh")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(authorized), 0o600)
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
