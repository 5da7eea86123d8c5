package gallery

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr string
	}{
		{in: "1.0.0", want: Version{1, 0, 0}},
		{in: "0.0.0", want: Version{0, 0, 0}},
		{in: "2018.12.1", want: Version{2018, 12, 1}},
		{in: "2024.01.15", want: Version{2024, 1, 15}},
		{in: "2147483647.2147483647.2147483647", want: Version{2147483647, 2147483647, 2147483647}},
		{in: "", wantErr: "it is empty"},
		{in: "1.0", wantErr: "it has 2 part(s), exactly 3 are needed"},
		{in: "1", wantErr: "it has 1 part(s)"},
		{in: "1.0.0.0", wantErr: "it has 4 part(s)"},
		{in: "1.-1.0", wantErr: "character '-' at position 3 is not allowed: only digits and periods are"},
		{in: "4294967296.0.0", wantErr: "the Major part 4294967296 is larger than 2147483647"},
		{in: "1.2147483648.0", wantErr: "the Minor part 2147483648 is larger than 2147483647"},
		{in: "1.0.99999999999999999999", wantErr: "the Patch part 99999999999999999999 is larger"},
		{in: "+1.0.0", wantErr: "character '+' at position 1"},
		{in: " 1.0.0", wantErr: "character ' ' at position 1"},
		{in: "1.0.0 ", wantErr: "character ' ' at position 6"},
		{in: "1. 0.0", wantErr: "character ' ' at position 3"},
		{in: "v1.0.0", wantErr: "character 'v' at position 1"},
		{in: "1.0.0-beta", wantErr: "character '-'"},
		{in: "1..0", wantErr: "the Minor part is empty"},
		{in: "1.0.", wantErr: "the Patch part is empty"},
		{in: ".1.0", wantErr: "the Major part is empty"},
		{in: "latest", wantErr: `"latest" is not a version name`},
		{in: "１.0.0", wantErr: "character '１'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseVersion(%q) error %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "Major(int).Minor(int).Patch(int)") {
				t.Errorf("error %q has no hint", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
		})
	}
}

func TestVersionOrder(t *testing.T) {
	names := []string{"1.10.0", "1.2.0", "0.9.9", "2.0.0", "1.2.10", "1.2.9", "10.0.0", "1.02.1"}
	slices.SortFunc(names, CompareVersionNames)
	want := []string{"0.9.9", "1.2.0", "1.02.1", "1.2.9", "1.2.10", "1.10.0", "2.0.0", "10.0.0"}
	if !slices.Equal(names, want) {
		t.Fatalf("sorted %v, want %v", names, want)
	}
	if CompareVersionNames("bad", "0.0.0") >= 0 {
		t.Error("an invalid name must sort before valid ones")
	}
	if v, err := ParseVersion("01.1.0"); err != nil || v.String() != "1.1.0" {
		t.Errorf("String must print the canonical form: %v %v", v, err)
	}
}

func TestCheckNewVersionName(t *testing.T) {
	existing := []ImageVersion{ver("1.0.0"), ver("1.1.0")}
	if _, err := CheckNewVersionName(existing, "1.2.0"); err != nil {
		t.Fatal(err)
	}
	_, err := CheckNewVersionName(existing, "1.01.0")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `already exists as "1.1.0"`) {
		t.Fatalf("got %v, want a conflict with 1.1.0", err)
	}
	if _, err := CheckNewVersionName(existing, "1.1"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
}

// FuzzParseVersion checks that parsing never panics, that accepted names
// are three dot-separated digit runs, and that the canonical form parses
// back to the same version.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.0.0", "1.0", "4294967296.0.0", "+1.0.0", "1..0", "2147483647.0.01", "latest", "１.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if strings.Count(s, ".") != 2 || strings.Trim(s, "0123456789.") != "" {
			t.Fatalf("accepted %q", s)
		}
		again, err := ParseVersion(v.String())
		if err != nil || again != v {
			t.Fatalf("canonical form %q of %q does not round-trip: %v %v", v.String(), s, again, err)
		}
	})
}
