package qemu

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

func TestArgs(t *testing.T) {
	fw := Firmware{Code: "/fw/CODE.fd", Vars: "/fw/VARS.fd"}
	base := []string{"-nodefaults", "-no-user-config", "-display", "none"}
	tests := []struct {
		name string
		cfg  MachineConfig
		want []string
	}{
		{"tcg bios defaults", MachineConfig{Disk: Drive{Path: "/d.raw", Format: "raw", Snapshot: true}},
			cat(base, "-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", DefaultTCGCPU, "-smp", "2", "-m", "1024",
				"-drive", "file=/d.raw,format=raw,if=virtio,snapshot=on",
				"-device", "virtio-rng-pci", "-serial", "none")},
		{"tcg single cpu", MachineConfig{CPUs: 1, MemoryMiB: 512},
			cat(base, "-machine", "q35", "-accel", "tcg", "-cpu", DefaultTCGCPU, "-smp", "1", "-m", "512",
				"-device", "virtio-rng-pci", "-serial", "none")},
		{"kvm uefi with vars copy", MachineConfig{Name: "vm1", Accel: AccelKVM, CPUs: 4, MemoryMiB: 2048, Boot: BootUEFI, Firmware: fw, VarsFile: "/run/vars.fd",
			Disk: Drive{Path: "/o.qcow2", Format: "qcow2", Cache: "unsafe"}, SerialLog: "/l/serial.log", QMPSocket: "/run/qmp.sock", NoReboot: true},
			cat(base, "-name", "vm1", "-machine", "q35", "-accel", "kvm", "-cpu", "host", "-smp", "4", "-m", "2048",
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd",
				"-drive", "if=pflash,format=raw,unit=1,file=/run/vars.fd",
				"-drive", "file=/o.qcow2,format=qcow2,if=virtio,cache=unsafe",
				"-device", "virtio-rng-pci",
				"-serial", "file:/l/serial.log", "-qmp", "unix:/run/qmp.sock,server=on,wait=off", "-no-reboot")},
		{"uefi vars template snapshot", MachineConfig{Boot: BootUEFI, Firmware: fw, CPU: "max", SerialStdio: true},
			cat(base, "-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "1024",
				"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd",
				"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file=/fw/VARS.fd",
				"-device", "virtio-rng-pci", "-serial", "stdio")},
		{"combined OVMF", MachineConfig{Boot: BootUEFI, Firmware: Firmware{Code: "/usr/share/ovmf/OVMF.fd"}},
			cat(base, "-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", DefaultTCGCPU, "-smp", "2", "-m", "1024",
				"-bios", "/usr/share/ovmf/OVMF.fd", "-device", "virtio-rng-pci", "-serial", "none")},
		{"network, seed, debugcon, extra", MachineConfig{Network: true, SSHPort: 2222, CPUs: 1,
			ExtraDrives: []Drive{{Path: "/s,eed.iso", Format: "raw", Interface: "ide", Media: "cdrom", ReadOnly: true}},
			DebugCon:    "/d.log", ExtraArgs: []string{"-snapshot"}},
			cat(base, "-machine", "q35", "-accel", "tcg", "-cpu", DefaultTCGCPU, "-smp", "1", "-m", "1024",
				"-drive", "file=/s,,eed.iso,format=raw,if=ide,media=cdrom,readonly=on",
				"-device", "virtio-rng-pci",
				"-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22", "-device", "virtio-net-pci,netdev=net0",
				"-serial", "none", "-debugcon", "file:/d.log", "-global", "isa-debugcon.iobase=0x402", "-snapshot")},
		{"network without forward", MachineConfig{Network: true, CPUs: 1},
			cat(base, "-machine", "q35", "-accel", "tcg", "-cpu", DefaultTCGCPU, "-smp", "1", "-m", "1024",
				"-device", "virtio-rng-pci", "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0", "-serial", "none")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Args(tt.cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Args:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func cat(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }

func TestProbeArgs(t *testing.T) {
	got := strings.Join(ProbeArgs("/t/dc.log"), " ")
	for _, w := range []string{"-accel kvm", "-cpu host", "-m 64", "-debugcon file:/t/dc.log", "isa-debugcon.iobase=0x402"} {
		if !strings.Contains(got, w) {
			t.Errorf("probe args lack %q: %s", w, got)
		}
	}
	if strings.Contains(got, "-drive") {
		t.Errorf("probe guest should have no disk: %s", got)
	}
}

func TestOverlayArgs(t *testing.T) {
	tests := []struct {
		base, overlay, fmt string
		want               []string
	}{
		{"/img/a.raw", "/run/o.qcow2", "raw", []string{"create", "-q", "-f", "qcow2", "-b", "/img/a.raw", "-F", "raw", "/run/o.qcow2"}},
		{"/img/a.qcow2", "o.qcow2", "qcow2", []string{"create", "-q", "-f", "qcow2", "-b", "/img/a.qcow2", "-F", "qcow2", "o.qcow2"}},
	}
	for _, tt := range tests {
		if got := OverlayArgs(tt.base, tt.overlay, tt.fmt); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("OverlayArgs = %q, want %q", got, tt.want)
		}
	}
}

func TestCreateOverlayMakesBaseAbsolute(t *testing.T) {
	var got hostexec.Command
	r := hostexec.RunnerFunc(func(_ context.Context, c hostexec.Command) (hostexec.Result, error) {
		got = c
		return hostexec.Result{}, nil
	})
	if err := CreateOverlay(context.Background(), r, "rel/a.raw", "o.qcow2", "raw"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "qemu-img" || !strings.HasPrefix(got.Args[5], "/") {
		t.Errorf("command = %v", got)
	}
	if err := CreateOverlay(context.Background(), r, "a.raw", "o.qcow2", ""); err == nil {
		t.Error("accepted an empty base format")
	}
	fail := hostexec.RunnerFunc(func(context.Context, hostexec.Command) (hostexec.Result, error) {
		return hostexec.Result{}, errors.New("boom")
	})
	if err := CreateOverlay(context.Background(), fail, "a", "b", "raw"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v", err)
	}
}

func TestFindFirmware(t *testing.T) {
	tests := []struct {
		name    string
		present []string
		want    Firmware
		wantErr bool
	}{
		{"4M pair", []string{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd"},
			Firmware{Code: "/usr/share/OVMF/OVMF_CODE_4M.fd", Vars: "/usr/share/OVMF/OVMF_VARS_4M.fd"}, false},
		{"2M pair", []string{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},
			Firmware{Code: "/usr/share/OVMF/OVMF_CODE.fd", Vars: "/usr/share/OVMF/OVMF_VARS.fd"}, false},
		{"combined", []string{"/usr/share/ovmf/OVMF.fd"}, Firmware{Code: "/usr/share/ovmf/OVMF.fd"}, false},
		{"none", nil, Firmware{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]bool{}
			for _, p := range tt.present {
				set[p] = true
			}
			got, err := findFirmware(firmwareCandidates, func(p string) bool { return set[p] })
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "apt-get install ovmf") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}
