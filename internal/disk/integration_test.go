package disk_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/qemu"
)

// TestAssembleConvertBoot builds a disk from the Debian root tree named by
// KILN_TEST_ROOTFS, converts it to every format, and boots it under UEFI
// and BIOS to a login prompt.
func TestAssembleConvertBoot(t *testing.T) {
	rootfs := os.Getenv("KILN_TEST_ROOTFS")
	switch {
	case testing.Short():
		t.Skip("boots VMs; skipped with -short")
	case rootfs == "":
		t.Skip("set KILN_TEST_ROOTFS to a Debian root tree (with a kernel) to run the assemble-and-boot test")
	case os.Geteuid() != 0:
		t.Skip("needs root: the root tree holds root-owned files and device nodes")
	}
	need := append([]string{"qemu-system-x86_64", "qemu-img", "cp"}, disk.RequiredPrograms...)
	if missing := hostexec.Missing(need...); len(missing) > 0 {
		t.Skipf("host programs missing: %v (apt-get install qemu-system-x86 qemu-utils e2fsprogs dosfstools mtools fdisk grub-common grub-efi-amd64-bin grub-pc-bin ovmf)", missing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	work := t.TempDir()
	r := hostexec.Exec{}

	tree := filepath.Join(work, "root")
	timed(t, "copy tree", func() error { return exec.Command("cp", "-a", rootfs, tree).Run() })

	raw := filepath.Join(work, "disk.raw")
	var layout *disk.Layout
	timed(t, "assemble", func() (err error) {
		layout, err = disk.Assemble(ctx, r, disk.AssembleOptions{
			RootDir: tree, Output: raw, SizeBytes: 2 << 30, Seed: "integration", SourceDateEpoch: 1700000000,
		})
		return err
	})
	for _, s := range layout.Timings {
		t.Logf("  assemble step %-22s %6.2fs", s.Name, s.Duration.Seconds())
	}
	checkTooSmall(ctx, t, r, tree, work)

	imgs := convertAll(ctx, t, r, raw, work)
	checkSums(t, raw, imgs)

	accel, err := qemu.ProbeAccel(ctx, filepath.Join(work, "accel.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accelerator: %s (%s)", accel.Accel, accel.Reason)
	fw, err := qemu.FindFirmware()
	if err != nil {
		t.Fatal(err)
	}
	bootToLogin(ctx, t, "uefi", qemu.MachineConfig{Accel: accel.Accel, Boot: qemu.BootUEFI, Firmware: fw,
		Disk: qemu.Drive{Path: raw, Format: "raw", Snapshot: true}, SerialLog: filepath.Join(work, "uefi.log")})

	overlay := filepath.Join(work, "bios-overlay.qcow2")
	if err := qemu.CreateOverlay(ctx, r, raw, overlay, "raw"); err != nil {
		t.Fatal(err)
	}
	bootToLogin(ctx, t, "bios", qemu.MachineConfig{Accel: accel.Accel, Boot: qemu.BootBIOS,
		Disk: qemu.Drive{Path: overlay, Format: "qcow2", Cache: "unsafe"}, Network: true,
		SerialLog: filepath.Join(work, "bios.log")})
}

func timed(t *testing.T, what string, fn func() error) {
	t.Helper()
	start := time.Now()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%-24s %6.2fs", what, time.Since(start).Seconds())
}

func checkTooSmall(ctx context.Context, t *testing.T, r hostexec.Runner, tree, work string) {
	_, err := disk.Assemble(ctx, r, disk.AssembleOptions{RootDir: tree, Output: filepath.Join(work, "small.raw"), SizeBytes: 200 * disk.MiB, Seed: "s"})
	if !errors.Is(err, disk.ErrTooSmall) {
		t.Fatalf("200 MiB disk: err = %v, want ErrTooSmall", err)
	}
	t.Logf("200 MiB disk refused: %v", err)
	if _, err := os.Stat(filepath.Join(work, "small.raw")); err == nil {
		t.Error("failed assembly left its output behind")
	}
}

func convertAll(ctx context.Context, t *testing.T, r hostexec.Runner, raw, work string) map[string]string {
	q := disk.NewQemuImg(r)
	imgs := map[string]string{
		"qcow2": filepath.Join(work, "disk.qcow2"),
		"raw":   filepath.Join(work, "copy.raw"),
		"vpc":   filepath.Join(work, "disk.vhd"),
	}
	for _, f := range []string{"qcow2", "raw", "vpc"} {
		timed(t, "convert to "+f, func() error { return q.Convert(ctx, raw, imgs[f], f) })
		got, err := disk.DetectFormat(imgs[f])
		if err != nil || got != f {
			t.Errorf("DetectFormat(%s) = %s, %v", imgs[f], got, err)
		}
		st, _ := os.Stat(imgs[f])
		t.Logf("  %s: %d MiB on disk", f, st.Size()/disk.MiB)
	}
	info, err := q.Info(ctx, imgs["qcow2"])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("  qcow2 compression %q, virtual size %d", info.FormatSpecific.Data.CompressionType, info.VirtualSize)
	if info.VirtualSize != 2<<30 {
		t.Errorf("qcow2 virtual size %d", info.VirtualSize)
	}
	vi, err := disk.VerifyVHDFooter(imgs["vpc"])
	if err != nil {
		t.Fatal(err)
	}
	if vi.CurrentSize != 2<<30 || vi.DiskType != disk.VHDTypeFixed {
		t.Errorf("VHD footer %+v", vi)
	}
	timed(t, "compare qcow2 raw", func() error { return q.Compare(ctx, imgs["qcow2"], raw) })
	timed(t, "compare vhd raw", func() error { return q.Compare(ctx, imgs["vpc"], raw) })
	return imgs
}

func checkSums(t *testing.T, raw string, imgs map[string]string) {
	sums := map[string]string{}
	for _, p := range []string{raw, imgs["raw"], imgs["qcow2"], imgs["vpc"]} {
		timed(t, "sha256 "+filepath.Base(p), func() (err error) {
			sums[p], err = disk.SHA256File(p)
			return err
		})
	}
	if sums[raw] != sums[imgs["raw"]] {
		t.Errorf("raw copy sha256 %s differs from original %s", sums[imgs["raw"]], sums[raw])
	}
}

func bootToLogin(ctx context.Context, t *testing.T, name string, cfg qemu.MachineConfig) {
	t.Helper()
	cfg.Name = "kiln-it-" + name
	cfg.NoReboot = true
	start := time.Now()
	m, err := qemu.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer m.Kill()
	wctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	if err := m.WaitFor(wctx, qemu.Text("login:")); err != nil {
		t.Fatalf("%s boot: %v", name, err)
	}
	t.Logf("%s boot to login: %6.2fs (ssh port %d)", name, time.Since(start).Seconds(), m.SSHPort())
	sctx, scancel := context.WithTimeout(ctx, 90*time.Second)
	defer scancel()
	stop := time.Now()
	if err := m.Shutdown(sctx); err != nil {
		t.Errorf("%s shutdown: %v", name, err)
	}
	t.Logf("%s shutdown: %6.2fs", name, time.Since(stop).Seconds())
	if keep := os.Getenv("KILN_TEST_KEEP_LOGS"); keep != "" {
		os.WriteFile(filepath.Join(keep, name+"-serial.log"), m.Console(), 0o644)
	}
}
