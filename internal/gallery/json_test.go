package gallery

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
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
}

// TestJSONShape pins the stored and printed shape of the three resources
// (`az sig ... show` output plus kiln's fields) and checks that it reads
// back unchanged.
func TestJSONShape(t *testing.T) {
	g := Gallery{ID: GalleryID("sub", "rg", "myGallery"), Name: "myGallery", Type: GalleryType, Location: "eastus",
		Properties: GalleryProperties{Description: "golden images", Identifier: &GalleryIdentifier{UniqueName: "sub-MYGALLERY"},
			SharingProfile: &SharingProfile{Permissions: "Private"}, SoftDeletePolicy: &SoftDeletePolicy{IsSoftDeleteEnabled: true},
			ProvisioningState: ProvisioningSucceeded}}
	d := definition(func(d *ImageDefinition) {
		d.Properties.Features = []Feature{{Name: "SecurityType", Value: "TrustedLaunchSupported"}}
		d.Properties.Recommended = &Recommended{VCPUs: &ResourceRange{Min: ptr(2), Max: ptr(16)}, Memory: &ResourceRange{Min: ptr(4)}}
		d.Properties.EndOfLifeDate = ptr(at(365))
		d.Properties.LifecycleRules = &LifecycleRules{KeepNewest: 3, DeprecateAfterDays: 90, EndOfLifeAfterDays: 30, DeleteAfterDays: 30, ExcludeTags: map[string]string{"pinned": "*"}}
		d.Properties.ProvisioningState = ProvisioningSucceeded
	})
	v := ver("1.0.0", parent(base100), state(StateDeprecated, at(-2)), revoked(at(10)), blockDeletion, endOfLife(at(30)),
		excludeIn("westeurope", true), tagged("pinned", "yes"))
	v.Properties.StorageProfile = StorageProfile{Artifacts: []Artifact{{Format: "qcow2", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 1073741824, Path: "sha256/9f/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}}
	NormalizeVersion(&v)
	v.Properties.ReplicationStatus.AggregatedState = AggregateReplication(v.Properties.ReplicationStatus.Summary)

	for name, res := range map[string]any{"gallery.json": &g, "definition.json": &d, "version.json": &v} {
		t.Run(name, func(t *testing.T) {
			data, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, append(data, '\n'))
			back := newLike(res)
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(res, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func newLike(v any) any {
	switch v.(type) {
	case *Gallery:
		return new(Gallery)
	case *ImageDefinition:
		return new(ImageDefinition)
	}
	return new(ImageVersion)
}

func TestAggregateReplication(t *testing.T) {
	r := func(states ...string) []RegionReplication {
		var out []RegionReplication
		for _, s := range states {
			out = append(out, RegionReplication{Region: "r", State: s})
		}
		return out
	}
	for _, tt := range []struct {
		in   []RegionReplication
		want string
	}{
		{nil, AggregatedUnknown},
		{r(ReplicationCompleted, ReplicationCompleted), AggregatedCompleted},
		{r(ReplicationCompleted, ReplicationReplicating), AggregatedInProgress},
		{r(ReplicationCompleted, ReplicationUnknown), AggregatedInProgress},
		{r(ReplicationCompleted, ReplicationFailed), AggregatedFailed},
		{r(ReplicationUnknown), AggregatedUnknown},
	} {
		if got := AggregateReplication(tt.in); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRegionNames(t *testing.T) {
	if NormalizeRegion("West Europe") != "westeurope" || !SameRegion("West Europe", "westeurope") || !SameRegion(" eastus", "East US ") ||
		SameRegion("eastus", "eastus2") || SameRegion("", "eastus") || !SameRegion("", " ") {
		t.Error("region comparison")
	}
}

func TestParseVersionID(t *testing.T) {
	ref, err := ParseVersionID("/subscriptions/s/resourceGroups/rg/providers/microsoft.compute/Galleries/g/images/d/versions/1.0.0")
	if err != nil || ref != (VersionRef{"s", "rg", "g", "d", "1.0.0"}) || ref.DefinitionID() != DefinitionID("s", "rg", "g", "d") {
		t.Fatalf("%+v %v", ref, err)
	}
	if ref.String() != VersionID("s", "rg", "g", "d", "1.0.0") {
		t.Errorf("String %s", ref)
	}
	for _, bad := range []string{"", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d", "/subscriptions/s/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0"} {
		if _, err := ParseVersionID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
