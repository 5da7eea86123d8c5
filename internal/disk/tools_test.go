package disk

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"testing"
)

func TestArgvBuilders(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"sfdisk", SfdiskArgs("d.img"), []string{"--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always", "d.img"}},
		{"mke2fs", Mke2fsArgs(Mke2fsOptions{Image: "d.img", Offset: 69206016, SizeKiB: 2028544, RootDir: "/r", UUID: "u", HashSeed: "h", Label: "root"}),
			[]string{"-q", "-F", "-t", "ext4", "-E", "offset=69206016,hash_seed=h", "-d", "/r", "-U", "u", "-L", "root", "d.img", "2028544k"}},
		{"mke2fs minimal", Mke2fsArgs(Mke2fsOptions{Image: "d.img", SizeKiB: 1024}),
			[]string{"-q", "-F", "-t", "ext4", "-E", "offset=0", "d.img", "1024k"}},
		{"mkfs.vfat", MkfsVfatArgs("d.img", 4096, 65536, "1234ABCD", "ESP"),
			[]string{"-F", "32", "-s", "1", "--invariant", "-i", "1234ABCD", "-n", "ESP", "--offset=4096", "d.img", "65536"}},
		{"mmd", MmdArgs("d.img", 2097152, "::/EFI", "::/EFI/BOOT"), []string{"-i", "d.img@@2097152", "::/EFI", "::/EFI/BOOT"}},
		{"mcopy", McopyArgs("d.img", 2097152, "/t/x.efi", "::/EFI/BOOT/BOOTX64.EFI"),
			[]string{"-i", "d.img@@2097152", "-m", "-o", "/t/x.efi", "::/EFI/BOOT/BOOTX64.EFI"}},
		{"grub-mkimage", GrubMkimageArgs(GrubImageOptions{Format: "x86_64-efi", ModuleDir: "/g/x86_64-efi", Config: "/t/e.cfg",
			Prefix: "/boot/grub", Output: "/t/o.efi", Modules: []string{"part_gpt", "ext2"}}),
			[]string{"-O", "x86_64-efi", "-d", "/g/x86_64-efi", "-o", "/t/o.efi", "-p", "/boot/grub", "-c", "/t/e.cfg", "part_gpt", "ext2"}},
		{"convert qcow2 zstd", ConvertArgs(ConvertOptions{Src: "a.raw", SrcFormat: "raw", Dst: "a.qcow2", DstFormat: "qcow2", Compress: true, Options: []string{"compression_type=zstd"}}),
			[]string{"convert", "-q", "-f", "raw", "-O", "qcow2", "-c", "-o", "compression_type=zstd", "a.raw", "a.qcow2"}},
		{"convert vhd", ConvertArgs(ConvertOptions{Src: "a.raw", SrcFormat: "raw", Dst: "a.vhd", DstFormat: "vpc", Options: []string{"subformat=fixed", "force_size=on"}}),
			[]string{"convert", "-q", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", "a.raw", "a.vhd"}},
		{"info", InfoArgs("a.qcow2", "qcow2"), []string{"info", "--output=json", "--force-share", "-f", "qcow2", "a.qcow2"}},
		{"info probe", InfoArgs("a", ""), []string{"info", "--output=json", "--force-share", "a"}},
		{"compare", CompareArgs("a.raw", "raw", "a.qcow2", "qcow2"), []string{"compare", "-q", "-f", "raw", "-F", "qcow2", "a.raw", "a.qcow2"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestConvertPlan(t *testing.T) {
	tests := []struct {
		format  string
		n       int
		opts    []string
		dst     string
		wantErr bool
	}{
		{"qcow2", 2, []string{"compression_type=zstd"}, "qcow2", false},
		{"raw", 1, nil, "raw", false},
		{"vpc", 1, []string{"subformat=fixed", "force_size=on"}, "vpc", false},
		{"vhd", 1, []string{"subformat=fixed", "force_size=on"}, "vpc", false},
		{"vmdk", 0, nil, "", true},
	}
	for _, tt := range tests {
		plan, err := ConvertPlan("s", "raw", "d", tt.format)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%s: err = %v", tt.format, err)
		}
		if err != nil {
			continue
		}
		if len(plan) != tt.n || !reflect.DeepEqual(plan[0].Options, tt.opts) || plan[0].DstFormat != tt.dst {
			t.Errorf("%s: plan = %+v", tt.format, plan)
		}
	}
	plan, _ := ConvertPlan("s", "raw", "d", "qcow2")
	if !plan[0].Compress || !plan[1].Compress || plan[1].Options != nil {
		t.Errorf("qcow2 fallback plan = %+v", plan)
	}
}

func TestParseInfo(t *testing.T) {
	js := `{"virtual-size": 2147483648, "filename": "a.qcow2", "cluster-size": 65536, "format": "qcow2",
	 "actual-size": 180000000, "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "compression-type": "zstd", "corrupt": false}},
	 "dirty-flag": false}`
	info, err := ParseInfo([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if info.VirtualSize != 2<<30 || info.Format != "qcow2" || info.FormatSpecific.Data.CompressionType != "zstd" || info.ClusterSize != 65536 {
		t.Errorf("info = %+v", info)
	}
	for _, bad := range []string{`{`, `{"format":"raw"}`, `[]`} {
		if _, err := ParseInfo([]byte(bad)); err == nil {
			t.Errorf("ParseInfo(%s) succeeded", bad)
		}
	}
}

func TestPatchCoreImage(t *testing.T) {
	core := make([]byte, 3*SectorSize+100)
	binary.LittleEndian.PutUint64(core[blocklistStart:], 2)
	binary.LittleEndian.PutUint16(core[blocklistSegment:], diskbootSegment)
	out, err := PatchCoreImage(core, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4*SectorSize {
		t.Errorf("len = %d", len(out))
	}
	if s := binary.LittleEndian.Uint64(out[blocklistStart:]); s != 2049 {
		t.Errorf("start = %d", s)
	}
	if n := binary.LittleEndian.Uint16(out[blocklistLen:]); n != 3 {
		t.Errorf("len = %d", n)
	}
	if _, err := PatchCoreImage(make([]byte, SectorSize), 2048); err == nil {
		t.Error("accepted a core without the diskboot segment")
	}
	if _, err := PatchCoreImage(make([]byte, 10), 2048); err == nil {
		t.Error("accepted a short core")
	}
}

func TestPatchBootImage(t *testing.T) {
	boot := bytes.Repeat([]byte{0xAA}, SectorSize)
	mbr := make([]byte, SectorSize)
	mbr[bootBPBStart] = 0x11
	mbr[0x1be] = 0x55 // partition table must not be touched: we return 440 bytes only
	out, err := PatchBootImage(boot, mbr, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 440 {
		t.Fatalf("len = %d", len(out))
	}
	if out[0] != 0xAA || out[bootBPBStart] != 0x11 || out[bootBPBEnd] != 0xAA {
		t.Error("BPB not kept from MBR")
	}
	if binary.LittleEndian.Uint64(out[bootKernelSector:]) != 2048 || out[bootDrive] != 0xff || out[0x66] != 0x90 || out[0x67] != 0x90 {
		t.Errorf("patch fields wrong: % x", out[0x5c:0x68])
	}
	if _, err := PatchBootImage(boot[:100], mbr, 1); err == nil {
		t.Error("accepted short boot.img")
	}
}

func TestRealBootImageOffsets(t *testing.T) {
	boot, err := os.ReadFile("/usr/lib/grub/i386-pc/boot.img")
	if err != nil {
		t.Skip("grub-pc-bin not installed")
	}
	// The fields grub-setup patches hold their build-time defaults.
	if binary.LittleEndian.Uint64(boot[bootKernelSector:]) != 1 || boot[bootDrive] != 0xff || boot[bootDriveCheck] != 0xeb {
		t.Fatalf("boot.img layout changed: % x", boot[0x5c:0x68])
	}
	diskboot, err := os.ReadFile("/usr/lib/grub/i386-pc/diskboot.img")
	if err != nil {
		t.Skip("no diskboot.img")
	}
	if binary.LittleEndian.Uint64(diskboot[blocklistStart:]) != 2 || binary.LittleEndian.Uint16(diskboot[blocklistSegment:]) != diskbootSegment {
		t.Fatalf("diskboot.img layout changed: % x", diskboot[0x1f4:])
	}
}
