package gallery_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/store"
)

// storeVersions writes n version records of the fixture's definition
// straight to the store, as a publish shapes them: names 0.0.0 upward,
// the top `revoked` of them revoked. Without sortKeys they look like
// versions written before the store had sort keys.
func storeVersions(tb testing.TB, f *fixture, n, revoked int, sortKeys bool) {
	tb.Helper()
	now := time.Now().UTC()
	ws := make([]store.Write, 0, n)
	for i := range n {
		name := fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10)
		v := gallery.ImageVersion{ID: f.def.ID + "/versions/" + name, Name: name, Type: gallery.ImageVersionType, Location: "eastus",
			Properties: gallery.ImageVersionProperties{
				ProvisioningState: gallery.ProvisioningSucceeded,
				PublishingProfile: gallery.PublishingProfile{TargetRegions: []gallery.TargetRegion{{Name: "eastus"}, {Name: "westeurope"}}, PublishedDate: &now},
				StorageProfile:    gallery.StorageProfile{Artifacts: []gallery.Artifact{{Format: "qcow2", SHA256: strings.Repeat("ab", 32), Size: 1 << 30}}},
				ReplicationStatus: &gallery.ReplicationStatus{AggregatedState: "Completed", Summary: []gallery.RegionReplication{{Region: "eastus", State: "Completed", Progress: 100}, {Region: "westeurope", State: "Completed", Progress: 100}}},
			}}
		if i >= n-revoked {
			v.Properties.Revocation = &gallery.Revocation{RevokedAt: f.clock.Now().Add(-time.Hour), Reason: "test"}
		}
		body, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		r := store.Resource{ID: v.ID, Type: gallery.ImageVersionType, Name: name, Subscription: sub,
			ResourceGroup: group, Parent: f.def.ID, Location: "eastus", Body: body}
		if sortKeys {
			r.SortKey = gallery.VersionSortKey(name)
		}
		ws = append(ws, store.Write{Resource: r})
	}
	if _, err := f.st.WriteResources(tb.Context(), ws); err != nil {
		tb.Fatal(err)
	}
}

func TestLatestReadsTheStoreHighestFirst(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n, revoked int
		sortKeys   bool
		want       string
	}{
		{"the highest qualifies", 30, 0, true, "0.2.9"},
		{"the highest pages are revoked", 30, 20, true, "0.0.9"},
		{"versions written before sort keys get them when kiln starts", 30, 3, false, "0.2.6"},
		{"version parts compare as numbers, not text", 1200, 0, true, "1.19.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			storeVersions(t, f, tc.n, tc.revoked, tc.sortKeys)
			if err := f.svc.Recover(t.Context()); err != nil {
				t.Fatal(err)
			}
			v, err := f.svc.Resolve(t.Context(), admin, f.def.ID+"/versions/latest", "westeurope")
			if err != nil || v.Name != tc.want {
				t.Fatalf("latest = %q, %v; want %s", v.Name, err, tc.want)
			}
		})
	}
	t.Run("all revoked: the error says why", func(t *testing.T) {
		f := newFixture(t)
		storeVersions(t, f, 12, 12, true)
		if _, err := f.svc.Resolve(t.Context(), admin, f.def.ID+"/versions/latest", "eastus"); err == nil || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("err = %v, want one naming the revocations", err)
		}
	})
}

// BenchmarkResolveLatest resolves latest among 10,000 versions through the
// service and its SQLite store (the target: 1 ms or less).
func BenchmarkResolveLatest(b *testing.B) {
	f := newFixture(b)
	storeVersions(b, f, 10000, 0, true)
	for b.Loop() {
		v, err := f.svc.Resolve(b.Context(), admin, f.def.ID+"/versions/latest", "eastus")
		if err != nil || v.Name != "9.99.9" {
			b.Fatal(v.Name, err)
		}
	}
}
