package sbom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testOptions = Options{
	Name:        "debian12-cis/1.0.0",
	NamespaceID: "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/debian12-cis/versions/1.0.0",
	Created:     time.Date(2025, 6, 1, 10, 7, 30, 0, time.UTC),
	Creators:    []string{"Tool: kiln-0.4.0"},
}

func TestGenerateGolden(t *testing.T) {
	doc, err := Generate(filepath.Join("testdata", "root"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "sbom.spdx.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("does not match %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
	again, _ := Generate(filepath.Join("testdata", "root"), testOptions)
	if b, _ := Marshal(again); !bytes.Equal(b, got) {
		t.Error("two runs differ")
	}
}

func TestDocumentContent(t *testing.T) {
	doc, err := Generate(filepath.Join("testdata", "root"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	purls := map[string]string{}
	for _, p := range doc.Packages[1:] {
		names = append(names, p.Name+":"+p.SPDXID)
		purls[p.SPDXID] = p.ExternalRefs[0].ReferenceLocator
		if p.LicenseConcluded != NoAssertion || p.LicenseDeclared != NoAssertion || p.DownloadLocation != NoAssertion {
			t.Errorf("%s: unknown licence and download location must be NOASSERTION", p.Name)
		}
	}
	wantNames := []string{
		"base-files:SPDXRef-Package-deb-base-files-amd64",
		"bash:SPDXRef-Package-deb-bash-amd64",
		"libc6:SPDXRef-Package-deb-libc6-amd64",
		"libc6:SPDXRef-Package-deb-libc6-i386",
		"libstdc++6:SPDXRef-Package-deb-libstdcPP6-amd64",
		"tzdata:SPDXRef-Package-deb-tzdata-all",
		"zlib1g:SPDXRef-Package-deb-zlib1g-amd64",
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("installed packages, sorted (-want +got):\n%s", diff)
	}
	for id, want := range map[string]string{
		"SPDXRef-Package-deb-bash-amd64":       "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12",
		"SPDXRef-Package-deb-zlib1g-amd64":     "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
		"SPDXRef-Package-deb-libstdcPP6-amd64": "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12",
		"SPDXRef-Package-deb-tzdata-all":       "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
		"SPDXRef-Package-deb-base-files-amd64": "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12",
		"SPDXRef-Package-deb-libc6-i386":       "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=i386&distro=debian-12",
	} {
		if purls[id] != want {
			t.Errorf("%s: purl %q, want %q", id, purls[id], want)
		}
	}
	if doc.DocumentNamespace != Namespace(testOptions.NamespaceID) || !strings.HasPrefix(doc.DocumentNamespace, NamespacePrefix) {
		t.Errorf("namespace %s", doc.DocumentNamespace)
	}
	if Namespace("a") == Namespace("b") {
		t.Error("namespaces of different IDs must differ")
	}
	if len(doc.Relationships) != 1+len(wantNames) || doc.Relationships[0].RelationshipType != "DESCRIBES" {
		t.Errorf("relationships %+v", doc.Relationships)
	}
	data, _ := Marshal(doc)
	if !json.Valid(data) || bytes.Contains(data, []byte(`\u0026`)) {
		t.Errorf("output must be valid JSON without HTML escapes")
	}
}

func TestParseStatus(t *testing.T) {
	in := "Package: a\nVersion: 1\nStatus: install ok installed\nsource: b (2)\n\n\n  \nPACKAGE: c\nStatus: deinstall ok config-files\n"
	pkgs, err := ParseStatus(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Name: "a", Version: "1", Status: "install ok installed", Source: "b", SourceVersion: "2"},
		{Name: "c", Status: "deinstall ok config-files", Source: "c"},
	}
	if diff := cmp.Diff(want, pkgs); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for in, wantErr := range map[string]string{
		"Package: a\nnot a field\n":             `line 2: "not a field" is not a "Field: value" line`,
		" continuation\n":                       "line 1: continuation line outside a field",
		"Version: 1\nStatus: x\n\nPackage: b\n": "stanza at line 1: it has no Package field",
	} {
		if _, err := ParseStatus(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseStatus(%q) error %v, want %q", in, err, wantErr)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	in := "# comment\nID=debian\nPRETTY_NAME=\"Debian \\\"12\\\"\"\nNAME='single'\nbad line\n VERSION_ID=12\n"
	got, err := ParseOSRelease(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ID": "debian", "PRETTY_NAME": `Debian "12"`, "NAME": "single", "VERSION_ID": "12"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestDistro(t *testing.T) {
	for _, tt := range []struct {
		osr  map[string]string
		want string
	}{
		{map[string]string{"ID": "debian", "VERSION_ID": "12"}, "pkg:deb/debian/x@1?arch=amd64&distro=debian-12"},
		{map[string]string{"ID": "debian", "VERSION_CODENAME": "trixie"}, "pkg:deb/debian/x@1?arch=amd64&distro=debian-trixie"},
		{map[string]string{"ID": "Ubuntu", "VERSION_ID": "24.04"}, "pkg:deb/ubuntu/x@1?arch=amd64&distro=ubuntu-24.04"},
		{map[string]string{}, "pkg:deb/debian/x@1?arch=amd64"},
	} {
		if got := newDistro(tt.osr).purl(Package{Name: "x", Version: "1", Architecture: "amd64"}); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.osr, got, tt.want)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := Generate(t.TempDir(), testOptions); err == nil || !strings.Contains(err.Error(), "var/lib/dpkg/status does not exist") {
		t.Errorf("no dpkg database: %v", err)
	}
	opts := testOptions
	opts.Created = time.Time{}
	if _, err := Build(nil, nil, opts); err == nil || !strings.Contains(err.Error(), "creation time is required") {
		t.Errorf("no time: %v", err)
	}
}

// TestAbsoluteOSReleaseLink covers images whose /etc/os-release is an
// absolute symlink, which cannot be followed inside the root.
func TestAbsoluteOSReleaseLink(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg", "usr/lib", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, StatusPath), []byte("Package: x\nVersion: 1\nArchitecture: amd64\nStatus: install ok installed\n"), 0o644)
	os.WriteFile(filepath.Join(root, OSReleaseFallback), []byte("ID=debian\nVERSION_ID=13\n"), 0o644)
	if err := os.Symlink("/usr/lib/os-release", filepath.Join(root, OSReleasePath)); err != nil {
		t.Fatal(err)
	}
	doc, err := Generate(root, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Packages[1].ExternalRefs[0].ReferenceLocator; got != "pkg:deb/debian/x@1?arch=amd64&distro=debian-13" {
		t.Errorf("purl %s", got)
	}
}

// FuzzParseStatus checks that no status or os-release text makes the
// parsers panic, and that every package parsed has a name.
func FuzzParseStatus(f *testing.F) {
	seed, _ := os.ReadFile(filepath.Join("testdata", "root", StatusPath))
	f.Add(string(seed))
	f.Add("Package: a\n b\n\n\nPackage:\nStatus: x")
	f.Fuzz(func(t *testing.T, s string) {
		pkgs, err := ParseStatus(strings.NewReader(s))
		for _, p := range pkgs {
			if err == nil && p.Name == "" {
				t.Fatalf("package without a name from %q", s)
			}
		}
		_, _ = ParseOSRelease(strings.NewReader(s))
		if err == nil {
			_, _ = Build(pkgs, map[string]string{"ID": s}, testOptions)
		}
	})
}
