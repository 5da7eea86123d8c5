package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// clearEnv makes the test independent of the caller's environment.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"KILN_DATABASE", "KILN_ACCEL", "KILN_MIRROR"} {
		t.Setenv(k, "")
	}
}

// homeWith returns a data directory holding kiln.yaml with content.
func homeWith(t *testing.T, content string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, FileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestDefault(t *testing.T) {
	want := Config{
		Home:            "/data/kiln",
		Listen:          "127.0.0.1:8390",
		DefaultLocation: "eastus",
		Regions:         []Region{{Name: "eastus"}, {Name: "westeurope"}},
		Build: BuildConfig{
			Mirror:     "http://deb.debian.org/debian",
			BaseMaxAge: Duration{24 * time.Hour},
			Accel:      "auto",
			KeepRuns:   5,
		},
		Gallery: GalleryConfig{Limits: GalleryLimits{GalleriesPerSubscription: 1000, ImageDefinitionsPerGallery: 1000,
			VersionsPerImageDefinition: 1000, TargetRegionsPerVersion: 100, ReplicasPerRegion: 50}},
	}
	got := Default("/data/kiln")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Default (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

func TestLoadWithoutFileGivesDefaults(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name string
		home func(t *testing.T) string
	}{
		{"no kiln.yaml", func(t *testing.T) string { return t.TempDir() }},
		{"empty kiln.yaml", func(t *testing.T) string { return homeWith(t, "") }},
		{"kiln.yaml with only a comment", func(t *testing.T) string { return homeWith(t, "# nothing yet\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := tc.home(t)
			got, err := Load(home)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(Default(home), got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		yaml string
		want func(home string) Config
	}{
		{
			name: "every key",
			yaml: `database: postgres://kiln@db.internal/kiln
listen: 0.0.0.0:9000
defaultLocation: westeurope
regions:
  - name: eastus
  - name: westeurope
    path: /srv/kiln/weu
  - name: northeurope
    path: neu
build:
  mirror: http://mirror.internal/debian
  baseMaxAge: 12h
  accel: tcg
  keepRuns: 2
gallery:
  limits:
    galleriesPerSubscription: 10
    imageDefinitionsPerGallery: 20
    versionsPerImageDefinition: 30
    targetRegionsPerVersion: 3
    replicasPerRegion: 5
`,
			want: func(home string) Config {
				return Config{
					Home: home, Database: "postgres://kiln@db.internal/kiln", Listen: "0.0.0.0:9000", DefaultLocation: "westeurope",
					Regions: []Region{{Name: "eastus"}, {Name: "westeurope", Path: "/srv/kiln/weu"}, {Name: "northeurope", Path: "neu"}},
					Build:   BuildConfig{Mirror: "http://mirror.internal/debian", BaseMaxAge: Duration{12 * time.Hour}, Accel: "tcg", KeepRuns: 2},
					Gallery: GalleryConfig{Limits: GalleryLimits{GalleriesPerSubscription: 10, ImageDefinitionsPerGallery: 20,
						VersionsPerImageDefinition: 30, TargetRegionsPerVersion: 3, ReplicasPerRegion: 5}},
				}
			},
		},
		{
			name: "a partial build section keeps the other build defaults",
			yaml: "build:\n  baseMaxAge: 90m\n",
			want: func(home string) Config {
				c := Default(home)
				c.Build.BaseMaxAge = Duration{90 * time.Minute}
				return c
			},
		},
		{
			name: "regions replace the default region",
			yaml: "defaultLocation: westus\nregions:\n  - name: westus\n",
			want: func(home string) Config {
				c := Default(home)
				c.DefaultLocation, c.Regions = "westus", []Region{{Name: "westus"}}
				return c
			},
		},
		{
			name: "keepRuns zero keeps no run directories",
			yaml: "build:\n  keepRuns: 0\n",
			want: func(home string) Config {
				c := Default(home)
				c.Build.KeepRuns = 0
				return c
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := homeWith(t, tc.yaml)
			got, err := Load(home)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tc.want(home), got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

// Errors in the file itself name the file and the offending key or line.
func TestLoadRejectsBadFiles(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, after the file's path
	}{
		{"unknown top-level key", "colour: blue\n", []string{"line 1: field colour not found"}},
		{"unknown build key", "build:\n  mirorr: http://x/debian\n", []string{"line 2: field mirorr not found"}},
		{"unknown region key", "regions:\n  - name: eastus\n    bucket: b\n", []string{"line 3: field bucket not found"}},
		{"key in the wrong letter case", "defaultlocation: eastus\n", []string{"field defaultlocation not found"}},
		{"duration without unit", "build:\n  baseMaxAge: 12\n", []string{`line 2: "12" is not a duration (use e.g. "24h", "90m")`}},
		{"duration that is a word", "build:\n  baseMaxAge: soon\n", []string{`line 2: "soon" is not a duration (use e.g. "24h", "90m")`}},
		{"duration that is a list", "build:\n  baseMaxAge: [1h]\n", []string{`line 2: expected a duration such as "24h"`}},
		{"not YAML", "regions: [\n", []string{"yaml:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := homeWith(t, tc.yaml)
			_, err := Load(home)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			prefix := filepath.Join(home, FileName) + ": "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with the file's path %q", err, prefix)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Validation errors say which key is wrong and what would be right; all of
// them are reported at once.
func TestLoadValidation(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string
	}{
		{"upper-case region", "defaultLocation: eastus\nregions:\n  - name: eastus\n  - name: EastUS2\n",
			nil, `regions[1].name: "EastUS2" is not a region name (lower-case letters and digits, like eastus)`},
		{"region with a hyphen", "regions:\n  - name: eastus\n  - name: east-us\n",
			nil, `regions[1].name: "east-us" is not a region name (lower-case letters and digits, like eastus)`},
		{"region starting with a digit", "regions:\n  - name: eastus\n  - name: 2east\n",
			nil, `regions[1].name: "2east" is not a region name (lower-case letters and digits, like eastus)`},
		{"one-letter region", "regions:\n  - name: eastus\n  - name: e\n",
			nil, `regions[1].name: "e" is not a region name (lower-case letters and digits, like eastus)`},
		{"41-character region", "regions:\n  - name: eastus\n  - name: " + strings.Repeat("a", 41) + "\n",
			nil, `regions[1].name: "` + strings.Repeat("a", 41) + `" is not a region name (lower-case letters and digits, like eastus)`},
		{"region without a name", "regions:\n  - name: eastus\n  - path: /srv\n",
			nil, `regions[1].name: "" is not a region name (lower-case letters and digits, like eastus)`},
		{"region listed twice", "regions:\n  - name: eastus\n  - name: eastus\n    path: other\n",
			nil, `regions[1].name: "eastus" is listed twice`},
		{"defaultLocation not a region", "defaultLocation: westus\n",
			nil, `defaultLocation: "westus" is not one of the configured regions`},
		{"no regions", "regions: []\n",
			nil, "regions: at least one region is required\n" + `defaultLocation: "eastus" is not one of the configured regions`},
		{"bad accel in the file", "build:\n  accel: xen\n",
			nil, `build.accel: "xen" must be auto, kvm or tcg`},
		{"bad accel from the environment", "",
			map[string]string{"KILN_ACCEL": "KVM"}, `build.accel: "KVM" must be auto, kvm or tcg`},
		{"negative keepRuns", "build:\n  keepRuns: -1\n",
			nil, "build.keepRuns: must not be negative"},
		{"several errors at once", "defaultLocation: nowhere\nregions:\n  - name: East\nbuild:\n  accel: hvf\n  keepRuns: -3\n",
			nil, `regions[0].name: "East" is not a region name (lower-case letters and digits, like eastus)` + "\n" +
				`defaultLocation: "nowhere" is not one of the configured regions` + "\n" +
				`build.accel: "hvf" must be auto, kvm or tcg` + "\n" +
				"build.keepRuns: must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load(homeWith(t, tc.yaml))
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Load error:\n got %q\nwant %q", err, tc.want)
			}
		})
	}
}

func TestLoadEnvironmentOverrides(t *testing.T) {
	file := "database: postgres://file/kiln\nbuild:\n  mirror: http://file/debian\n  accel: kvm\n"
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want func(c *Config)
	}{
		{"KILN_ACCEL over the default", "", map[string]string{"KILN_ACCEL": "tcg"},
			func(c *Config) { c.Build.Accel = "tcg" }},
		{"KILN_MIRROR over the default", "", map[string]string{"KILN_MIRROR": "http://env/debian"},
			func(c *Config) { c.Build.Mirror = "http://env/debian" }},
		{"KILN_DATABASE over the default", "", map[string]string{"KILN_DATABASE": "postgres://env/kiln"},
			func(c *Config) { c.Database = "postgres://env/kiln" }},
		{"the environment wins over the file", file,
			map[string]string{"KILN_ACCEL": "tcg", "KILN_MIRROR": "http://env/debian", "KILN_DATABASE": "postgres://env/kiln"},
			func(c *Config) {
				c.Build.Accel, c.Build.Mirror, c.Database = "tcg", "http://env/debian", "postgres://env/kiln"
			}},
		{"empty variables leave the file's values", file, map[string]string{},
			func(c *Config) {
				c.Build.Accel, c.Build.Mirror, c.Database = "kvm", "http://file/debian", "postgres://file/kiln"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			home := homeWith(t, tc.yaml)
			got, err := Load(home)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default(home)
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	// A directory where the file should be cannot be read as one.
	if err := os.Mkdir(filepath.Join(home, FileName), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Load(home)
	if want := "read " + filepath.Join(home, FileName) + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load error = %v, want one starting with %q", err, want)
	}
}

func TestRegionPath(t *testing.T) {
	c := Config{Home: "/data/kiln", Regions: []Region{
		{Name: "eastus"},
		{Name: "westeurope", Path: "weu"},
		{Name: "northeurope", Path: "/mnt/big/neu"},
		{Name: "westus", Path: "../shared/westus"},
	}}
	tests := []struct{ region, want string }{
		{"eastus", "/data/kiln/regions/eastus"},
		{"westeurope", "/data/kiln/regions/weu"},
		{"northeurope", "/mnt/big/neu"},
		{"westus", "/data/kiln/shared/westus"},
		{"southindia", "/data/kiln/regions/southindia"}, // not configured
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			if got := c.RegionPath(tc.region); got != tc.want {
				t.Errorf("RegionPath(%q) = %q, want %q", tc.region, got, tc.want)
			}
		})
	}
}

func TestRegionsAndPaths(t *testing.T) {
	c := Config{Home: "/h", Regions: []Region{{Name: "eastus"}, {Name: "westeurope", Path: "x"}}}
	if diff := cmp.Diff([]string{"eastus", "westeurope"}, c.RegionNames()); diff != "" {
		t.Errorf("RegionNames (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{"eastus", true}, {"westeurope", true}, {"EastUS", false}, {"east", false}, {"", false}} {
		if got := c.HasRegion(tc.name); got != tc.want {
			t.Errorf("HasRegion(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	paths := map[string]string{
		"DBPath": c.DBPath(), "BlobDir": c.BlobDir(), "CacheDir": c.CacheDir(),
		"RunsDir": c.RunsDir(), "KeysDir": c.KeysDir(), "StateDir": c.StateDir(),
	}
	want := map[string]string{
		"DBPath": "/h/kiln.db", "BlobDir": "/h/blobs", "CacheDir": "/h/cache",
		"RunsDir": "/h/runs", "KeysDir": "/h/keys", "StateDir": "/h/state",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestHomeDir(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kilnHome, home, want string
	}{
		{"KILN_HOME absolute", "/srv/kiln", "/home/u", "/srv/kiln"},
		{"KILN_HOME relative is made absolute", "data/kiln", "/home/u", filepath.Join(cwd, "data/kiln")},
		{"default under the user's home", "", "/home/u", "/home/u/.local/share/kiln"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KILN_HOME", tc.kilnHome)
			t.Setenv("HOME", tc.home)
			got, err := HomeDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("HomeDir() = %q, want %q", got, tc.want)
			}
		})
	}
}

// A configuration written out (as `kiln config show` would) loads back unchanged.
func TestConfigYAMLRoundTrip(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	in := Default(home)
	in.Regions = append(in.Regions, Region{Name: "northeurope", Path: "/srv/neu"})
	in.Build.BaseMaxAge = Duration{36*time.Hour + 30*time.Minute}
	data, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "baseMaxAge: 36h30m0s") {
		t.Errorf("marshalled config does not write baseMaxAge as a duration string:\n%s", data)
	}
	if err := os.WriteFile(filepath.Join(home, FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(home)
	if err != nil {
		t.Fatalf("Load of the marshalled config: %v\n%s", err, data)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestGalleryLimits(t *testing.T) {
	clearEnv(t)
	got, err := Load(homeWith(t, "gallery:\n  limits:\n    versionsPerImageDefinition: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default("").Gallery.Limits
	want.VersionsPerImageDefinition = 3
	if diff := cmp.Diff(want, got.Gallery.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	_, err = Load(homeWith(t, "gallery:\n  limits:\n    replicasPerRegion: -1\n"))
	if err == nil || !strings.Contains(err.Error(), "gallery.limits.replicasPerRegion: -1; it must be at least 1") {
		t.Errorf("a negative limit: %v", err)
	}
	_, err = Load(homeWith(t, "gallery:\n  limits:\n    versions: 3\n"))
	if err == nil || !strings.Contains(err.Error(), "field versions not found") {
		t.Errorf("an unknown limit: %v", err)
	}
}
