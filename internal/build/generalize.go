package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/sbom"
	"github.com/kiln-dev/kiln/internal/tattoo"
	"github.com/kiln-dev/kiln/internal/template"
)

// stepGeneralize writes the tattoo and removes what must not ship in a
// golden image: machine identity, SSH host keys, build leftovers, caches, logs.
type stepGeneralize struct{}

func (*stepGeneralize) Name() string     { return "tattoo-and-generalize" }
func (*stepGeneralize) SubState() string { return SubCustomizing }
func (*stepGeneralize) Cleanup(*State)   {}

func (*stepGeneralize) Run(ctx context.Context, s *State) error {
	if err := runDeprovisionScript(ctx, s); err != nil {
		return err
	}
	removed, err := Generalize(s.RootDir)
	if err != nil {
		return fmt.Errorf("generalize: %w", err)
	}
	s.Log.Printf("generalized the image: removed %d items (machine-id emptied, SSH host keys, build configuration, caches, logs)", removed)
	s.Tattoo = s.tattooRecord()
	if err := auditOffline(s); err != nil {
		return fmt.Errorf("compliance scan: %w", err)
	}
	if err := tattoo.Write(s.RootDir, s.Tattoo); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.Job.Dir, "outputs"), 0o755); err == nil {
		data, _ := os.ReadFile(filepath.Join(s.RootDir, tattoo.Path))
		if err := os.WriteFile(filepath.Join(s.Job.Dir, "outputs", "tattoo.json"), data, 0o644); err != nil {
			return err
		}
	}
	s.Log.Printf("wrote tattoo %s", tattoo.Path)
	return writeSBOM(s)
}

// SBOMName is the run output holding the image's SPDX SBOM.
const SBOMName = "sbom.spdx.json"

// writeSBOM records the image's packages (its dpkg database) as an SPDX
// document with the run's outputs; the gallery stores it with the version.
func writeSBOM(s *State) error {
	built, err := time.Parse(time.RFC3339, s.Tattoo.BuiltAt)
	if err != nil {
		built = time.Now().UTC()
	}
	doc, err := sbom.Generate(s.RootDir, sbom.Options{
		Name:        s.Job.TemplateName + " run " + s.Job.RunID,
		NamespaceID: "kiln:run:" + s.Job.RunID,
		Created:     built,
		Creators:    []string{"Tool: " + strings.ReplaceAll(s.Engine.BuilderVersion, " ", "-")},
	})
	if err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	data, err := sbom.Marshal(doc)
	if err != nil {
		return err
	}
	if err := writeOutput(s, SBOMName, data); err != nil {
		return err
	}
	s.Log.Printf("wrote the SBOM (SPDX 2.3, %d packages)", len(doc.Packages)-1)
	return nil
}

// runDeprovisionScript honours Azure's override: a /tmp/DeprovisioningScript.sh
// left by a customizer runs last, as AIB's hidden deprovision step does.
func runDeprovisionScript(ctx context.Context, s *State) error {
	p := filepath.Join(s.RootDir, "tmp", "DeprovisioningScript.sh")
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	s.Log.Printf("running /tmp/DeprovisioningScript.sh left by a customizer")
	ex, err := executor.NewChroot(s.RootDir, s.Engine.Runner)
	if err != nil {
		return err
	}
	defer ex.Close(ctx)
	out := s.Log.Writer("    ")
	defer out.(flusher).Flush()
	return ex.Run(ctx, "/bin/sh /tmp/DeprovisioningScript.sh", out)
}

func (s *State) tattooRecord() tattoo.Record {
	t := s.Job.Template
	src := t.Properties.Source
	rec := tattoo.Record{
		Schema: tattoo.SchemaVersion,
		Source: tattoo.Source{
			Type: src.Type, Publisher: src.Publisher, Offer: src.Offer, Sku: src.Sku, Version: src.Version,
			ExactVersion: s.Base.Source.ExactVersion, ID: firstOf(src.ImageVersionID, src.ImageID, src.URI),
			ArchiveState: s.Base.ArchiveState, BaseDigest: s.Base.Digest,
		},
		OSVersion:      firstOf(osRelease(s.RootDir), s.Base.OSVersion),
		Template:       tattoo.Template{ID: s.Job.TemplateID, Name: s.Job.TemplateName, ContentHash: t.ContentHash()},
		RunID:          s.Job.RunID,
		BuilderVersion: s.Engine.BuilderVersion,
		BuiltAt:        time.Now().UTC().Format(time.RFC3339),
	}
	for _, d := range t.Properties.Distribute {
		rec.Image.Targets = append(rec.Image.Targets, firstOf(d.GalleryImageID, d.ImageID, d.Type+":"+d.RunOutputName))
	}
	for i, c := range t.Properties.Customize {
		tc := tattoo.Customizer{Name: c.Name, Type: c.Type, Source: firstOf(c.ScriptURI, c.SourceURI)}
		switch {
		case s.Files[fmt.Sprintf("c%d", i)].SHA256 != "":
			tc.SHA256 = s.Files[fmt.Sprintf("c%d", i)].SHA256
		case len(c.Inline) > 0:
			tc.SHA256 = textSHA256(inlineScript(c.Inline))
		}
		rec.Customizers = append(rec.Customizers, tc)
	}
	return rec
}

func osRelease(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "etc", "os-release"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// generalizeGlobs are removed from the image; each is relative to the root.
var generalizeGlobs = []string{
	"etc/ssh/ssh_host_*",
	"var/lib/dbus/machine-id",
	"var/lib/systemd/random-seed",
	"var/lib/systemd/credential.secret",
	buildSudoers,
	"usr/sbin/policy-rc.d",
	"tmp/*", "tmp/.[!.]*", "var/tmp/*",
	"var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
	"var/cache/debconf/*-old",
	"var/lib/apt/lists/*_*",
	"var/log/journal/*",
	"var/log/apt/*", "var/log/*.gz", "var/log/*.[0-9]",
	"root/.bash_history", "root/.lesshst", "root/.wget-hsts", "root/.cache",
	"home/*/.bash_history",
	"var/lib/dhcp/*.leases",
	"var/lib/systemd/network/*",
}

// Generalize removes machine-specific state from a root tree and returns
// how many paths it removed. /etc/machine-id is emptied (not removed) so
// systemd makes a new one on first boot; SSH host keys are made on first
// boot by kiln-ssh-hostkeys.service; log files are truncated.
func Generalize(root string) (int, error) {
	n := 0
	for _, g := range generalizeGlobs {
		matches, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return n, err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return n, err
			}
			n++
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "machine-id"), nil, 0o444); err != nil {
		return n, err
	}
	logs, _ := filepath.Glob(filepath.Join(root, "var", "log", "*.log"))
	logs2, _ := filepath.Glob(filepath.Join(root, "var", "log", "*", "*.log"))
	for _, l := range append(logs, logs2...) {
		if fi, err := os.Lstat(l); err == nil && fi.Mode().IsRegular() {
			if err := os.Truncate(l, 0); err != nil {
				return n, err
			}
		}
	}
	for _, f := range []string{"var/log/wtmp", "var/log/btmp", "var/log/lastlog"} {
		if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && fi.Mode().IsRegular() {
			os.Truncate(filepath.Join(root, f), 0)
		}
	}
	return n, nil
}

var _ = template.ExecutorChroot
