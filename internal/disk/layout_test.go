package disk

import (
	"errors"
	"strings"
	"testing"
)

func TestPlanLayout(t *testing.T) {
	tests := []struct {
		name     string
		size     int64
		wantErr  error
		rootSecs int64
	}{
		{"2GiB", 2 << 30, nil, (2048 - 1 - 1 - 64 - 1) * 2048},
		{"minimum", (67 + 64) * MiB, nil, 64 * 2048},
		{"too small", 100 * MiB, ErrTooSmall, 0},
		{"not MiB", 2<<30 + 512, nil, 0},
		{"zero", 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := PlanLayout(tt.size, "seed")
			if tt.rootSecs == 0 {
				if err == nil {
					t.Fatal("want error")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, ErrTooSmall) && !strings.Contains(err.Error(), "vmProfile.osDiskSizeGB") {
					t.Fatalf("error does not say what to raise: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Root.Sectors != tt.rootSecs {
				t.Errorf("root sectors = %d, want %d", l.Root.Sectors, tt.rootSecs)
			}
			end := int64(0)
			for _, p := range l.Partitions() {
				if p.StartSector%2048 != 0 || p.Sectors%2048 != 0 {
					t.Errorf("partition %d not 1 MiB aligned: %+v", p.Number, p)
				}
				if p.StartSector < end {
					t.Errorf("partition %d overlaps", p.Number)
				}
				end = p.StartSector + p.Sectors
			}
			if free := tt.size/SectorSize - end; free < 33 {
				t.Errorf("only %d sectors left for the backup GPT", free)
			}
		})
	}
}

func TestSfdiskScript(t *testing.T) {
	l, err := PlanLayout(2<<30, "seed-1")
	if err != nil {
		t.Fatal(err)
	}
	want := "label: gpt\n" +
		"label-id: " + l.DiskGUID + "\n" +
		"unit: sectors\nfirst-lba: 2048\nsector-size: 512\n\n" +
		"start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, uuid=" + l.BIOSBoot.UUID + ", name=\"bios\"\n" +
		"start=4096, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=" + l.ESP.UUID + ", name=\"esp\"\n" +
		"start=135168, size=4057088, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=" + l.Root.UUID + ", name=\"root\"\n"
	if got := SfdiskScript(l); got != want {
		t.Errorf("script:\n%s\nwant:\n%s", got, want)
	}
}

func TestDeriveIDs(t *testing.T) {
	a, b := DeriveUUID("s", "disk"), DeriveUUID("s", "disk")
	if a != b {
		t.Fatal("not deterministic")
	}
	if a == DeriveUUID("s", "root") || a == DeriveUUID("t", "disk") {
		t.Fatal("different inputs gave the same UUID")
	}
	if len(a) != 36 || a[14] != '4' || !strings.ContainsRune("89AB", rune(a[19])) {
		t.Fatalf("bad UUID %s", a)
	}
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1234abcd", "1234-ABCD", true},
		{"1234", "", false},
		{"zzzzzzzz", "", false},
	}
	for _, tt := range tests {
		got, err := FATUUID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("FATUUID(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestCheckFits(t *testing.T) {
	tests := []struct {
		name string
		u    TreeUsage
		fs   int64
		ok   bool
	}{
		{"fits", TreeUsage{DataBytes: 400 * MiB, Inodes: 12000}, 1981 * MiB, true},
		{"too much data", TreeUsage{DataBytes: 1900 * MiB, Inodes: 12000}, 1981 * MiB, false},
		{"too many inodes", TreeUsage{DataBytes: 10 * MiB, Inodes: 1 << 20}, 1981 * MiB, false},
	}
	for _, tt := range tests {
		err := CheckFits(tt.u, tt.fs)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if err != nil && (!errors.Is(err, ErrTooSmall) || !strings.Contains(err.Error(), "osDiskSizeGB")) {
			t.Errorf("%s: error %v", tt.name, err)
		}
	}
}
