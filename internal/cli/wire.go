package cli

import (
	"context"

	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/qemu"
)

// diskTools adapts package disk to the build engine.
type diskTools struct{ runner hostexec.Runner }

var _ build.DiskTools = diskTools{}

func (d diskTools) Assemble(ctx context.Context, root, raw string, size int64, seed string, cmdline []string) error {
	_, err := disk.Assemble(ctx, d.runner, disk.AssembleOptions{RootDir: root, Output: raw, SizeBytes: size, Seed: seed, KernelCmdline: cmdline})
	return err
}

func (d diskTools) TreeSize(ctx context.Context, root string) (int64, error) {
	u, err := disk.MeasureTree(ctx, root)
	return u.DataBytes, err
}

func (d diskTools) Convert(ctx context.Context, src, dst, format string) error {
	return disk.NewQemuImg(d.runner).Convert(ctx, src, dst, format)
}

func (d diskTools) SHA256(path string) (string, error) { return disk.SHA256File(path) }

func (d diskTools) SHA256WithTrailer(path, other string, n int64) (string, string, error) {
	return disk.SHA256WithTrailer(path, other, n)
}

// probeAccel reports the accelerator builds and VMs use: forced by
// configuration, or probed (a guest must make progress under KVM).
func probeAccel(ctx context.Context, mode string) (string, string, error) {
	switch mode {
	case "kvm", "tcg":
		return mode, "set by build.accel / KILN_ACCEL", nil
	}
	res, err := qemu.ProbeAccel(ctx, accelCachePath())
	if err != nil {
		return "tcg", "accelerator probe failed, using TCG: " + err.Error(), nil
	}
	return res.Accel, res.Reason, nil
}

// accelFor returns the configured or probed accelerator.
func (a *app) accelFor(ctx context.Context) (string, string) {
	accel, reason, _ := probeAccel(ctx, a.cfg.Build.Accel)
	return accel, reason
}
