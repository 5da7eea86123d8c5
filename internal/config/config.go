// Package config loads kiln's configuration: $KILN_HOME and the kiln.yaml
// inside it. Defaults come first, the file is merged over them strictly
// (unknown keys are errors), then the environment; Validate runs before use.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileName is the configuration file inside $KILN_HOME.
const FileName = "kiln.yaml"

// Config is kiln's configuration. Every key is documented here, once.
type Config struct {
	// Home is the data directory ($KILN_HOME, default ~/.local/share/kiln).
	Home string `yaml:"-"`
	// Database is the store: empty for the embedded SQLite file kiln.db in Home,
	// or a postgres:// URL.
	Database string `yaml:"database,omitempty"`
	// Listen is the address of `kiln serve`.
	Listen string `yaml:"listen,omitempty"`
	// DefaultLocation is the region used when a command names none.
	DefaultLocation string `yaml:"defaultLocation,omitempty"`
	// Regions are the named storage locations (Azure region names) and their directories.
	Regions []Region `yaml:"regions,omitempty"`
	// Build holds build settings.
	Build BuildConfig `yaml:"build,omitempty"`
	// Gallery holds image gallery settings.
	Gallery GalleryConfig `yaml:"gallery,omitempty"`
}

// GalleryConfig holds image gallery settings.
type GalleryConfig struct {
	// Limits are the gallery quotas; a key left out keeps its default.
	Limits GalleryLimits `yaml:"limits,omitempty"`
}

// GalleryLimits are the gallery quotas (package gallery's Limits): each at
// least 1.
type GalleryLimits struct {
	GalleriesPerSubscription   int `yaml:"galleriesPerSubscription,omitempty"`
	ImageDefinitionsPerGallery int `yaml:"imageDefinitionsPerGallery,omitempty"`
	VersionsPerImageDefinition int `yaml:"versionsPerImageDefinition,omitempty"`
	TargetRegionsPerVersion    int `yaml:"targetRegionsPerVersion,omitempty"`
	ReplicasPerRegion          int `yaml:"replicasPerRegion,omitempty"`
}

// Region is one named storage location.
type Region struct {
	Name string `yaml:"name"`
	// Path is the region's directory; relative paths are under Home/regions.
	Path string `yaml:"path,omitempty"`
}

// BuildConfig holds build settings.
type BuildConfig struct {
	// Mirror is the Debian archive used for PlatformImage sources.
	Mirror string `yaml:"mirror,omitempty"`
	// BaseMaxAge is how long a cached base tree for version "latest" is reused.
	BaseMaxAge Duration `yaml:"baseMaxAge,omitempty"`
	// Accel forces the QEMU accelerator: "auto" (probe), "kvm" or "tcg".
	Accel string `yaml:"accel,omitempty"`
	// KeepRuns is how many finished run directories are kept per template.
	KeepRuns int `yaml:"keepRuns,omitempty"`
}

// Duration is a time.Duration written as "24h" in YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: expected a duration such as \"24h\"", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. \"24h\", \"90m\")", n.Line, s)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Default returns the embedded defaults for a data directory.
func Default(home string) Config {
	return Config{
		Home:            home,
		Listen:          "127.0.0.1:8390",
		DefaultLocation: "eastus",
		Regions:         []Region{{Name: "eastus"}, {Name: "westeurope"}},
		Build: BuildConfig{
			Mirror:     "http://deb.debian.org/debian",
			BaseMaxAge: Duration{24 * time.Hour},
			Accel:      "auto",
			KeepRuns:   5,
		},
		Gallery: GalleryConfig{Limits: GalleryLimits{
			GalleriesPerSubscription:   1000,
			ImageDefinitionsPerGallery: 1000,
			VersionsPerImageDefinition: 1000,
			TargetRegionsPerVersion:    100,
			ReplicasPerRegion:          50,
		}},
	}
}

// HomeDir returns $KILN_HOME or ~/.local/share/kiln.
func HomeDir() (string, error) {
	if h := os.Getenv("KILN_HOME"); h != "" {
		return filepath.Abs(h)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory; set KILN_HOME: %w", err)
	}
	return filepath.Join(u, ".local", "share", "kiln"), nil
}

// Load reads home/kiln.yaml (if present) over the defaults and validates.
func Load(home string) (Config, error) {
	cfg := Default(home)
	path := filepath.Join(home, FileName)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return cfg, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := decodeStrict(data, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if v := os.Getenv("KILN_DATABASE"); v != "" {
		cfg.Database = v
	}
	if v := os.Getenv("KILN_ACCEL"); v != "" {
		cfg.Build.Accel = v
	}
	if v := os.Getenv("KILN_MIRROR"); v != "" {
		cfg.Build.Mirror = v
	}
	return cfg, cfg.Validate()
}

func decodeStrict(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

var regionName = regexp.MustCompile(`^[a-z][a-z0-9]{1,39}$`)

// Validate checks the configuration and says what to change.
func (c Config) Validate() error {
	var errs []error
	if len(c.Regions) == 0 {
		errs = append(errs, errors.New("regions: at least one region is required"))
	}
	seen := map[string]bool{}
	for i, r := range c.Regions {
		if !regionName.MatchString(r.Name) {
			errs = append(errs, fmt.Errorf("regions[%d].name: %q is not a region name (lower-case letters and digits, like eastus)", i, r.Name))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("regions[%d].name: %q is listed twice", i, r.Name))
		}
		seen[r.Name] = true
	}
	if c.DefaultLocation != "" && !seen[c.DefaultLocation] {
		errs = append(errs, fmt.Errorf("defaultLocation: %q is not one of the configured regions", c.DefaultLocation))
	}
	switch c.Build.Accel {
	case "auto", "kvm", "tcg":
	default:
		errs = append(errs, fmt.Errorf("build.accel: %q must be auto, kvm or tcg", c.Build.Accel))
	}
	if c.Build.KeepRuns < 0 {
		errs = append(errs, errors.New("build.keepRuns: must not be negative"))
	}
	errs = append(errs, c.Gallery.Limits.validate()...)
	return errors.Join(errs...)
}

func (l GalleryLimits) validate() []error {
	var errs []error
	for _, f := range []struct {
		key string
		v   int
	}{
		{"galleriesPerSubscription", l.GalleriesPerSubscription},
		{"imageDefinitionsPerGallery", l.ImageDefinitionsPerGallery},
		{"versionsPerImageDefinition", l.VersionsPerImageDefinition},
		{"targetRegionsPerVersion", l.TargetRegionsPerVersion},
		{"replicasPerRegion", l.ReplicasPerRegion},
	} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("gallery.limits.%s: %d; it must be at least 1", f.key, f.v))
		}
	}
	return errs
}

// HasRegion reports whether name is a configured region.
func (c Config) HasRegion(name string) bool {
	for _, r := range c.Regions {
		if r.Name == name {
			return true
		}
	}
	return false
}

// RegionNames lists the configured regions.
func (c Config) RegionNames() []string {
	out := make([]string, len(c.Regions))
	for i, r := range c.Regions {
		out[i] = r.Name
	}
	return out
}

// RegionPath is the directory of a region.
func (c Config) RegionPath(name string) string {
	for _, r := range c.Regions {
		if r.Name == name && r.Path != "" {
			if filepath.IsAbs(r.Path) {
				return r.Path
			}
			return filepath.Join(c.Home, "regions", r.Path)
		}
	}
	return filepath.Join(c.Home, "regions", name)
}

// Paths inside Home.
func (c Config) DBPath() string   { return filepath.Join(c.Home, "kiln.db") }
func (c Config) BlobDir() string  { return filepath.Join(c.Home, "blobs") }
func (c Config) CacheDir() string { return filepath.Join(c.Home, "cache") }
func (c Config) RunsDir() string  { return filepath.Join(c.Home, "runs") }
func (c Config) KeysDir() string  { return filepath.Join(c.Home, "keys") }
func (c Config) StateDir() string { return filepath.Join(c.Home, "state") }
