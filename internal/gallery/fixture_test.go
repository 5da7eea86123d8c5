package gallery_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/store"
)

const (
	sub   = "00000000-0000-0000-0000-000000000000"
	group = "RG"
)

var admin = authz.Principal{ID: "11111111-1111-1111-1111-111111111111", Name: "admin", Type: authz.TypeUser}

// regionDirs is a RegionDirs over temporary directories.
type regionDirs map[string]string

func (r regionDirs) RegionPath(name string) string { return r[name] }
func (r regionDirs) HasRegion(name string) bool    { _, ok := r[name]; return ok }
func (r regionDirs) RegionNames() []string {
	out := make([]string, 0, len(r))
	for n := range r {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a service with a group RG, gallery G (eastus) and
// definition D, two regions (eastus, westeurope) and a blob directory.
type fixture struct {
	st      *store.SQLite
	svc     *gallery.Service
	regions regionDirs
	blobs   string
	clock   *clock
	gallery gallery.Gallery
	def     gallery.ImageDefinition
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{
		st:      st,
		regions: regionDirs{"eastus": filepath.Join(dir, "regions", "eastus"), "westeurope": filepath.Join(dir, "regions", "westeurope")},
		blobs:   filepath.Join(dir, "blobs"),
		clock:   &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
	}
	f.svc = &gallery.Service{
		Store: st, Authz: authz.OwnerOf{Owners: map[string][]string{admin.ID: {"/subscriptions/" + sub}}},
		Regions: f.regions, KeyDir: filepath.Join(dir, "keys"), Now: f.clock.Now,
	}
	groupID := "/subscriptions/" + sub + "/resourceGroups/" + group
	if _, err := st.CreateResource(ctx, store.Resource{ID: groupID, Type: "Microsoft.Resources/resourceGroups", Name: group,
		Subscription: sub, Location: "eastus", Body: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	f.gallery = f.createGallery(t, "G")
	f.def = f.createDefinition(t, "D", "Sku1")
	return f
}

func (f *fixture) createGallery(t testing.TB, name string) gallery.Gallery {
	t.Helper()
	g, err := f.svc.CreateGallery(t.Context(), admin, gallery.Gallery{ID: gallery.GalleryID(sub, group, name), Location: "eastus"})
	if err != nil {
		t.Fatalf("CreateGallery(%s): %v", name, err)
	}
	return g
}

func (f *fixture) createDefinition(t testing.TB, name, sku string) gallery.ImageDefinition {
	t.Helper()
	d, err := f.svc.CreateDefinition(t.Context(), admin, definition(name, sku))
	if err != nil {
		t.Fatalf("CreateDefinition(%s): %v", name, err)
	}
	return d
}

func definition(name, sku string) gallery.ImageDefinition {
	return gallery.ImageDefinition{
		ID: gallery.DefinitionID(sub, group, "G", name),
		Properties: gallery.ImageDefinitionProperties{
			Identifier: gallery.ImageIdentifier{Publisher: "Kiln", Offer: "Debian", Sku: sku},
			OSType:     "Linux", OSState: "Generalized",
		},
	}
}

// artifact writes a small disk file into the blob directory.
func (f *fixture) artifact(t *testing.T, format, content string) gallery.Artifact {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	sha := hex.EncodeToString(sum[:])
	path := filepath.Join(f.blobs, sha)
	if err := os.MkdirAll(f.blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o444); err != nil && !errors.Is(err, os.ErrPermission) {
		t.Fatal(err)
	}
	return gallery.Artifact{Format: format, SHA256: sha, Size: int64(len(content)), Path: path}
}

// request is a publish of version (both regions) with a qcow2 and a raw
// artifact whose content depends on tag.
func (f *fixture) request(t *testing.T, def gallery.ImageDefinition, version, tag string) gallery.PublishRequest {
	t.Helper()
	return gallery.PublishRequest{
		DefinitionID:  def.ID,
		Version:       version,
		TargetRegions: []gallery.TargetRegion{{Name: "eastus"}, {Name: "West Europe", RegionalReplicaCount: 2}},
		Artifacts:     []gallery.Artifact{f.artifact(t, "qcow2", "qcow2 of "+tag), f.artifact(t, "raw", strings.Repeat("raw of "+tag, 1000))},
		Tattoo:        json.RawMessage(`{"image":"` + tag + `"}`),
		BuildRunID:    "run-" + tag,
		BuilderID:     "https://kiln.dev/test",
	}
}

func (f *fixture) publish(t *testing.T, r gallery.PublishRequest) gallery.ImageVersion {
	t.Helper()
	v, err := f.svc.Publish(t.Context(), admin, r)
	if err != nil {
		t.Fatalf("Publish(%s %s): %v", r.DefinitionID, r.Version, err)
	}
	return v
}

func (f *fixture) versions(t *testing.T, def gallery.ImageDefinition) []string {
	t.Helper()
	vs, err := f.svc.ListVersions(t.Context(), admin, def.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	return names
}

// files lists the regular files under a region's blob tree.
func (f *fixture) files(t *testing.T, region string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(f.regions[region], "sha256")
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !e.IsDir() {
			out = append(out, e.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func wantErr(t *testing.T, what string, err, target error, substr string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("%s: error = %q, want it to mention %q", what, err, substr)
	}
}

func sha256hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func storeResource(id, name string) store.Resource {
	return store.Resource{ID: id, Type: "Microsoft.Resources/resourceGroups", Name: name, Subscription: sub, Location: "eastus", Body: json.RawMessage(`{}`)}
}
