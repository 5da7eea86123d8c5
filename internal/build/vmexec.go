package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/qemu"
)

// StartVMExecutor is the vm executor: it assembles a temporary disk from
// the root tree (with an ephemeral SSH key for root), boots it under QEMU
// and runs customizers over SSH. Close powers the VM off and writes the
// changed root filesystem back into the tree, without the key.
func (q *QEMU) StartVMExecutor(ctx context.Context, root, workDir string, log *Logger) (executor.Executor, error) {
	fw, err := qemu.FindFirmware()
	if err != nil {
		return nil, err
	}
	key, err := executor.NewKey()
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(root, "root", ".ssh", "authorized_keys")
	restore, err := addKey(keyFile, key.AuthorizedKey)
	if err != nil {
		return nil, err
	}
	used, err := disk.MeasureTree(ctx, root)
	if err != nil {
		restore()
		return nil, err
	}
	size := ((used.DataBytes*2 + (1 << 30)) / (1 << 20)) << 20
	raw := filepath.Join(workDir, "vm-executor.raw")
	if _, err := disk.Assemble(ctx, q.Runner, disk.AssembleOptions{RootDir: root, Output: raw, SizeBytes: size, Seed: "vm-executor"}); err != nil {
		restore()
		return nil, fmt.Errorf("assemble the build VM's disk: %w", err)
	}
	accel, reason := q.Accel(ctx)
	log.Printf("vm executor: booting the image under QEMU with %s (%s)", accel, reason)
	vm, err := executor.BootVM(ctx, executor.VMConfig{
		Disk: raw, DiskFormat: "raw", Accel: accel, Firmware: fw, CPUs: 2, MemoryMiB: 2048,
		SerialLog: filepath.Join(workDir, "build-console.log"), Key: key, Logf: log.Printf,
	})
	if err != nil {
		restore()
		os.Remove(raw)
		return nil, err
	}
	return &treeVM{VM: vm, q: q, root: root, raw: raw, workDir: workDir, restore: restore}, nil
}

// treeVM is the vm executor over a temporary disk made from a tree.
type treeVM struct {
	*executor.VM
	q       *QEMU
	root    string
	raw     string
	workDir string
	restore func()
	closed  bool
}

// Close powers off and copies the disk's root filesystem back to the tree.
func (t *treeVM) Close(ctx context.Context) error {
	if t.closed {
		return nil
	}
	t.closed = true
	defer os.Remove(t.raw)
	if err := t.VM.Close(ctx); err != nil {
		t.VM.Kill()
		return fmt.Errorf("power off the build VM: %w", err)
	}
	if err := t.syncBack(ctx); err != nil {
		return err
	}
	t.restore()
	return nil
}

func (t *treeVM) syncBack(ctx context.Context) error {
	part, err := rootPartition(t.raw)
	if err != nil {
		return err
	}
	mnt := filepath.Join(t.workDir, "mnt-vm-executor")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return err
	}
	defer os.Remove(mnt)
	args := append([]string{"-o", "ro"}, MountPartitionArgs(t.raw, mnt, part.Offset(), part.Size())...)
	if _, err := t.q.Runner.Run(ctx, hostexec.Command{Name: "mount", Args: args}); err != nil {
		return fmt.Errorf("mount the build VM's disk: %w", err)
	}
	defer t.q.Runner.Run(context.WithoutCancel(ctx), hostexec.Command{Name: "umount", Args: []string{mnt}})
	if err := os.RemoveAll(t.root); err != nil {
		return err
	}
	if err := copyTree(ctx, t.q.Runner, mnt, t.root); err != nil {
		return fmt.Errorf("copy the customized root back: %w", err)
	}
	return os.RemoveAll(filepath.Join(t.root, "lost+found"))
}

// addKey appends an authorized key and returns a function that restores the file.
func addKey(path, line string) (func(), error) {
	old, err := os.ReadFile(path)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(old, []byte(line)...), 0o600); err != nil {
		return nil, err
	}
	return func() {
		if existed {
			os.WriteFile(path, old, 0o600)
		} else {
			os.Remove(path)
		}
	}, nil
}
