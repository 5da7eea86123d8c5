package disk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"6.1.0-10-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-9-amd64", "6.1.0-10-amd64", -1},
		{"6.1.0-50-cloud-amd64", "6.1.0-50-cloud-amd64", 0},
		{"6.10.0", "6.9.1", 1},
		{"5.10", "5.10.1", -1},
		{"6.1.0-rc1", "6.1.0-rc2", -1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q,%q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	if got := NewestVersion([]string{"6.1.0-9-amd64", "6.1.0-10-amd64", "5.10.0-30-amd64"}); got != "6.1.0-10-amd64" {
		t.Errorf("NewestVersion = %q", got)
	}
}

func TestFindKernel(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    Kernel
		wantErr string
	}{
		{"newest with initrd", []string{"vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-10-amd64", "initrd.img-6.1.0-10-amd64"},
			Kernel{Version: "6.1.0-10-amd64", Image: "/boot/vmlinuz-6.1.0-10-amd64", Initrd: "/boot/initrd.img-6.1.0-10-amd64"}, ""},
		{"no initrd", []string{"vmlinuz-6.1.0-9-amd64"},
			Kernel{Version: "6.1.0-9-amd64", Image: "/boot/vmlinuz-6.1.0-9-amd64"}, ""},
		{"none", []string{"config-6.1.0-9-amd64"}, Kernel{}, "no kernel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "boot"), 0o755)
			for _, f := range tt.files {
				os.WriteFile(filepath.Join(root, "boot", f), []byte("x"), 0o644)
			}
			got, err := FindKernel(root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FindKernel = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestGrubConfig(t *testing.T) {
	k := Kernel{Version: "6.1.0-9-amd64", Image: "/boot/vmlinuz-6.1.0-9-amd64", Initrd: "/boot/initrd.img-6.1.0-9-amd64"}
	tests := []struct {
		name  string
		k     Kernel
		extra []string
		want  []string
		not   []string
	}{
		{"initrd", k, []string{"quiet"}, []string{
			"set timeout=0\n",
			"search --no-floppy --fs-uuid --set=root abc\n",
			"\tlinux /boot/vmlinuz-6.1.0-9-amd64 root=UUID=abc ro console=tty0 console=ttyS0,115200n8 quiet\n",
			"\tinitrd /boot/initrd.img-6.1.0-9-amd64\n",
			"serial --unit=0 --speed=115200",
		}, nil},
		{"no initrd uses PARTUUID", Kernel{Version: k.Version, Image: k.Image}, nil, []string{
			"root=PARTUUID=def-1 ro console=tty0 console=ttyS0,115200n8\n",
		}, []string{"initrd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GrubConfig(tt.k, "abc", "DEF-1", tt.extra)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("unexpected %q in\n%s", n, got)
				}
			}
			if strings.Count(got, "menuentry") != 1 {
				t.Errorf("want exactly one entry:\n%s", got)
			}
		})
	}
}

func TestEarlyConfigAndFstab(t *testing.T) {
	if got, want := EarlyConfig("u-1"), "search --no-floppy --fs-uuid --set=root u-1\nset prefix=($root)/boot/grub\n"; got != want {
		t.Errorf("EarlyConfig = %q, want %q", got, want)
	}
	f := Fstab("u-1", "ABCD-1234")
	for _, w := range []string{"UUID=u-1 / ext4 errors=remount-ro 0 1\n", "UUID=ABCD-1234 /boot/efi vfat umask=0077,noauto,nofail 0 2\n"} {
		if !strings.Contains(f, w) {
			t.Errorf("fstab lacks %q:\n%s", w, f)
		}
	}
}

func TestValidateCmdline(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"quiet", "net.ifnames=0"}, true},
		{nil, true},
		{[]string{"a\nb"}, false},
		{[]string{""}, false},
		{[]string{"x;reboot"}, false},
	}
	for _, tt := range tests {
		if err := validateCmdline(tt.args); (err == nil) != tt.ok {
			t.Errorf("validateCmdline(%q) = %v", tt.args, err)
		}
	}
}

func TestWriteBootFilesReplacesSymlink(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "host-fstab")
	os.WriteFile(outside, []byte("host"), 0o644)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.Symlink(outside, filepath.Join(root, "etc", "fstab"))
	l, _ := PlanLayout(2<<30, "s")
	if _, err := writeBootFiles(root, l, Kernel{Version: "1", Image: "/boot/vmlinuz-1"}, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "host" {
		t.Fatal("write followed a symlink out of the tree")
	}
	if _, err := os.Stat(filepath.Join(root, "boot", "grub", "grub.cfg")); err != nil {
		t.Fatal(err)
	}
}
