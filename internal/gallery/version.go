package gallery

import (
	"fmt"
	"math"
	"strings"
)

// Version is an image version name, Major.Minor.Patch, each part a
// non-negative 32-bit signed integer as in Azure.
type Version struct {
	Major, Minor, Patch int32
}

// versionHint is Azure's own advice, shown with every version error.
const versionHint = "image version names follow Major(int).Minor(int).Patch(int), for example 1.0.0 or 2018.12.1; each part is a whole number from 0 to 2147483647"

// ParseVersion parses an image version name. Leading zeros are accepted
// (Azure parses each part as an integer, so "2024.01.15" is valid) and
// compare numerically: "1.01.0" and "1.1.0" are the same version.
func ParseVersion(s string) (Version, error) {
	if v, ok := parseVersion(s); ok {
		return v, nil
	}
	return Version{}, &FieldError{
		Message: fmt.Sprintf("invalid image version name %q: %s", s, versionProblem(s)),
		Hint:    versionHint,
		Kind:    ErrInvalid,
	}
}

// parseVersion is the allocation-free parser behind ParseVersion and Latest.
func parseVersion(s string) (Version, bool) {
	var parts [3]int32
	n, i := 0, 0
	for n < 3 {
		start := i
		var x int64
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			x = x*10 + int64(s[i]-'0')
			if x > math.MaxInt32 {
				return Version{}, false
			}
			i++
		}
		if i == start {
			return Version{}, false
		}
		parts[n] = int32(x)
		n++
		if n < 3 {
			if i == len(s) || s[i] != '.' {
				return Version{}, false
			}
			i++
		}
	}
	if i != len(s) {
		return Version{}, false
	}
	return Version{parts[0], parts[1], parts[2]}, true
}

// versionProblem explains why s is not a version name.
func versionProblem(s string) string {
	if s == "" {
		return "it is empty"
	}
	if strings.EqualFold(s, "latest") {
		return `"latest" is not a version name; it resolves to the highest version and cannot be created`
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		return fmt.Sprintf("character %s at position %d is not allowed: only digits and periods are", describeChar(s[i:]), i+1)
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return fmt.Sprintf("it has %d part(s), exactly 3 are needed (Major.Minor.Patch)", len(parts))
	}
	names := [3]string{"Major", "Minor", "Patch"}
	for i, p := range parts {
		if p == "" {
			return fmt.Sprintf("the %s part is empty", names[i])
		}
		if len(strings.TrimLeft(p, "0")) > 10 || !fitsInt32(p) {
			return fmt.Sprintf("the %s part %s is larger than 2147483647 (a 32-bit signed integer)", names[i], p)
		}
	}
	return "it is not Major.Minor.Patch"
}

func fitsInt32(digits string) bool {
	var x int64
	for i := 0; i < len(digits); i++ {
		x = x*10 + int64(digits[i]-'0')
		if x > math.MaxInt32 {
			return false
		}
	}
	return true
}

// String is the canonical name, without leading zeros.
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Compare orders versions by Major, then Minor, then Patch: -1, 0 or +1.
func (v Version) Compare(w Version) int {
	switch {
	case v.Major != w.Major:
		return cmpInt32(v.Major, w.Major)
	case v.Minor != w.Minor:
		return cmpInt32(v.Minor, w.Minor)
	}
	return cmpInt32(v.Patch, w.Patch)
}

// Less reports whether v orders before w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

func cmpInt32(a, b int32) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// CompareVersionNames orders two version names; names that do not parse
// sort before every valid one, and among themselves by string.
func CompareVersionNames(a, b string) int {
	va, okA := parseVersion(a)
	vb, okB := parseVersion(b)
	switch {
	case okA && okB:
		return va.Compare(vb)
	case okA:
		return 1
	case okB:
		return -1
	}
	return strings.Compare(a, b)
}

// CheckNewVersionName checks that name is a valid version name and that no
// existing version has the same number (so "1.0.0" and "1.00.0" cannot
// both exist); it returns the parsed version.
func CheckNewVersionName(existing []ImageVersion, name string) (Version, error) {
	v, err := ParseVersion(name)
	if err != nil {
		return v, err
	}
	for i := range existing {
		w, ok := parseVersion(existing[i].Name)
		if ok && w == v {
			return v, &FieldError{
				Message: fmt.Sprintf("image version %s already exists as %q", name, existing[i].Name),
				Hint:    "version names compare numerically; pick a higher version",
				Kind:    ErrConflict,
			}
		}
	}
	return v, nil
}
