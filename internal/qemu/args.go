// Package qemu runs local virtual machines with qemu-system-x86_64.
//
// Command lines are built by the pure function Args from a MachineConfig.
// Start launches a machine in its own process group, records its serial
// console and lets callers wait for text on it; a small QMP client drives
// shutdown. ProbeAccel decides between KVM and TCG by actually booting a
// probe guest, because /dev/kvm can exist on hosts (nested virtualization)
// where guests hang under it.
package qemu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Accelerators.
const (
	AccelKVM = "kvm"
	AccelTCG = "tcg"
)

// DefaultTCGCPU is the CPU model used under TCG when none is given. A
// Debian 12 cloud image reached login in 42 s with -cpu max and 34 s with
// qemu64 on the same 2-core host (UEFI, 2 vCPUs), most likely because with
// max glibc picks AVX2 routines that TCG emulates slowly. qemu64 also keeps
// customizer builds from baking in instructions real hardware may lack.
const DefaultTCGCPU = "qemu64"

// Boot firmware kinds.
const (
	BootBIOS = "bios"
	BootUEFI = "uefi"
)

// Firmware locates UEFI firmware. Vars is the variable store template;
// when it is empty, Code is a combined image loaded with -bios.
type Firmware struct {
	Code string
	Vars string
}

// Drive is a disk attached to the machine.
type Drive struct {
	Path      string
	Format    string // raw, qcow2, ...
	Interface string // virtio (default), ide, none
	ReadOnly  bool
	Snapshot  bool   // discard writes when the machine exits
	Cache     string // e.g. unsafe, writeback; empty leaves QEMU's default
	Media     string // disk (default) or cdrom
}

// MachineConfig describes one virtual machine.
type MachineConfig struct {
	Binary    string // default qemu-system-x86_64
	Name      string
	Accel     string // kvm or tcg (default)
	CPU       string // default host for kvm, DefaultTCGCPU for tcg
	CPUs      int    // default 2
	MemoryMiB int    // default 1024

	Boot     string   // bios (default) or uefi
	Firmware Firmware // UEFI firmware, required for BootUEFI
	// VarsFile is the writable UEFI variable store. When empty the
	// Firmware.Vars template is attached with snapshot=on.
	VarsFile string

	Disk        Drive
	ExtraDrives []Drive // e.g. a cloud-init seed

	// SerialStdio connects the serial console to QEMU's standard output
	// (Start does this and copies it to SerialLog); otherwise the console
	// goes straight to the file SerialLog, or nowhere.
	SerialStdio bool
	SerialLog   string
	// AppendSerialLog keeps what SerialLog holds (a restarted machine's
	// console follows its previous boots); otherwise Start truncates it.
	AppendSerialLog bool
	QMPSocket       string // unix socket path for QMP; empty for none
	// DebugCon, when set, receives the firmware's debug console (port 0x402).
	DebugCon string

	Network  bool // user-mode networking
	SSHPort  int  // host port on 127.0.0.1 forwarded to guest port 22 (needs Network)
	NoReboot bool // exit instead of rebooting

	ExtraArgs []string

	// ShutdownGrace bounds how long Machine.Shutdown waits for the guest to
	// power off; zero means DefaultShutdownGrace. Not part of the command line.
	ShutdownGrace time.Duration
}

func (c MachineConfig) binary() string {
	if c.Binary != "" {
		return c.Binary
	}
	return "qemu-system-x86_64"
}

// Args builds the qemu-system-x86_64 arguments for cfg.
func Args(cfg MachineConfig) []string {
	args := []string{"-nodefaults", "-no-user-config", "-display", "none"}
	if cfg.Name != "" {
		args = append(args, "-name", cfg.Name)
	}
	args = append(args, "-machine", "q35")
	args = append(args, accelArgs(cfg)...)
	args = append(args, "-m", strconv.Itoa(orDefault(cfg.MemoryMiB, 1024)))
	args = append(args, firmwareArgs(cfg)...)
	if cfg.Disk.Path != "" {
		args = append(args, "-drive", driveSpec(cfg.Disk))
	}
	for _, d := range cfg.ExtraDrives {
		args = append(args, "-drive", driveSpec(d))
	}
	args = append(args, "-device", "virtio-rng-pci")
	args = append(args, netArgs(cfg)...)
	args = append(args, consoleArgs(cfg)...)
	if cfg.NoReboot {
		args = append(args, "-no-reboot")
	}
	return append(args, cfg.ExtraArgs...)
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func accelArgs(cfg MachineConfig) []string {
	cpus := orDefault(cfg.CPUs, 2)
	cpu, spec := DefaultTCGCPU, "tcg"
	if cfg.Accel == AccelKVM {
		cpu, spec = "host", "kvm"
	} else if cpus > 1 {
		spec = "tcg,thread=multi"
	}
	if cfg.CPU != "" {
		cpu = cfg.CPU
	}
	return []string{"-accel", spec, "-cpu", cpu, "-smp", strconv.Itoa(cpus)}
}

func firmwareArgs(cfg MachineConfig) []string {
	if cfg.Boot != BootUEFI {
		return nil
	}
	fw := cfg.Firmware
	if fw.Vars == "" && cfg.VarsFile == "" {
		return []string{"-bios", fw.Code}
	}
	code := "if=pflash,format=raw,unit=0,readonly=on,file=" + escapeOpt(fw.Code)
	vars := "if=pflash,format=raw,unit=1,file=" + escapeOpt(cfg.VarsFile)
	if cfg.VarsFile == "" {
		vars = "if=pflash,format=raw,unit=1,snapshot=on,file=" + escapeOpt(fw.Vars)
	}
	return []string{"-drive", code, "-drive", vars}
}

// escapeOpt doubles commas, QEMU's escape inside option values.
func escapeOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

func driveSpec(d Drive) string {
	parts := []string{"file=" + escapeOpt(d.Path)}
	if d.Format != "" {
		parts = append(parts, "format="+d.Format)
	}
	iface := d.Interface
	if iface == "" {
		iface = "virtio"
	}
	parts = append(parts, "if="+iface)
	if d.Media != "" {
		parts = append(parts, "media="+d.Media)
	}
	if d.ReadOnly {
		parts = append(parts, "readonly=on")
	}
	if d.Snapshot {
		parts = append(parts, "snapshot=on")
	}
	if d.Cache != "" {
		parts = append(parts, "cache="+d.Cache)
	}
	return strings.Join(parts, ",")
}

func netArgs(cfg MachineConfig) []string {
	if !cfg.Network {
		return nil
	}
	netdev := "user,id=net0"
	if cfg.SSHPort > 0 {
		netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:22", cfg.SSHPort)
	}
	return []string{"-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"}
}

func consoleArgs(cfg MachineConfig) []string {
	var args []string
	switch {
	case cfg.SerialStdio:
		args = append(args, "-serial", "stdio")
	case cfg.SerialLog != "":
		args = append(args, "-serial", "file:"+cfg.SerialLog)
	default:
		args = append(args, "-serial", "none")
	}
	if cfg.QMPSocket != "" {
		args = append(args, "-qmp", "unix:"+escapeOpt(cfg.QMPSocket)+",server=on,wait=off")
	}
	if cfg.DebugCon != "" {
		args = append(args, "-debugcon", "file:"+cfg.DebugCon, "-global", "isa-debugcon.iobase=0x402")
	}
	return args
}
