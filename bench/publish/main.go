// Command publish measures kiln's gallery publish of one image to two
// regions through the gallery service (validation, replication with
// verification, evidence, signing, the one store write), phase by phase,
// and the resolution of latest through the service among many versions.
// bench/publish.sh runs it next to `cp --sparse=always` of the same file
// to both regions and prints the overhead beyond copying.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/store"
)

const sub = "00000000-0000-0000-0000-000000000000"

var admin = authz.Principal{ID: "bench-admin", Name: "bench"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "publish bench:", err)
		os.Exit(1)
	}
}

type regions map[string]string

func (r regions) RegionPath(n string) string { return r[n] }
func (r regions) HasRegion(n string) bool    { _, ok := r[n]; return ok }
func (r regions) RegionNames() []string      { return []string{"eastus", "westeurope"} }

func run() error {
	src := flag.String("src", "", "disk image to publish")
	work := flag.String("work", "", "work directory (database, regions, keys)")
	runs := flag.Int("runs", 3, "publishes; the fastest is reported")
	sha := flag.String("sha256", "", "digest of -src (hashed, untimed, when empty)")
	versions := flag.Int("versions", 10000, "versions to resolve latest among")
	flag.Parse()
	if *src == "" || *work == "" || *runs < 1 {
		return errors.New("usage: publish -src FILE -work DIR [-runs N] [-sha256 HEX] [-versions N]")
	}
	ctx := context.Background()
	svc, def, err := setup(ctx, *work)
	if err != nil {
		return err
	}
	digest, err := sourceDigest(ctx, *src, *sha)
	if err != nil {
		return err
	}
	if err := benchPublish(ctx, svc, def, *src, digest, *runs); err != nil {
		return err
	}
	return benchResolve(ctx, svc, *work, *versions)
}

// setup opens a store with a group, a gallery and a definition.
func setup(ctx context.Context, work string) (*gallery.Service, string, error) {
	st, err := store.OpenSQLite(ctx, filepath.Join(work, "kiln.db"))
	if err != nil {
		return nil, "", err
	}
	group := "/subscriptions/" + sub + "/resourceGroups/RG"
	if _, err := st.PutResource(ctx, store.Resource{ID: group, Type: "Microsoft.Resources/resourceGroups", Name: "RG",
		Subscription: sub, Location: "eastus", Body: json.RawMessage(`{}`)}, ""); err != nil {
		return nil, "", err
	}
	svc := &gallery.Service{
		Store: st, Authz: authz.OwnerOf{Owners: map[string][]string{admin.ID: {"/subscriptions/" + sub}}},
		Regions: regions{"eastus": filepath.Join(work, "regions", "eastus"), "westeurope": filepath.Join(work, "regions", "westeurope")},
		KeyDir:  filepath.Join(work, "keys"),
		Limits:  gallery.Limits{VersionsPerImageDefinition: 1 << 20},
	}
	if _, err := svc.CreateGallery(ctx, admin, gallery.Gallery{ID: gallery.GalleryID(sub, "RG", "G"), Location: "eastus"}); err != nil {
		return nil, "", err
	}
	d, err := svc.CreateDefinition(ctx, admin, gallery.ImageDefinition{ID: gallery.DefinitionID(sub, "RG", "G", "D"),
		Properties: gallery.ImageDefinitionProperties{Identifier: gallery.ImageIdentifier{Publisher: "P", Offer: "O", Sku: "S"}, OSType: "Linux", OSState: "Generalized"}})
	return svc, d.ID, err
}

func sourceDigest(ctx context.Context, src, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	t := time.Now()
	d, err := replicate.HashFile(ctx, src)
	if err != nil {
		return "", err
	}
	hashed := time.Since(t)
	fmt.Printf("source sha256 %s (hashed in %.2f s, not counted)\n", d, hashed.Seconds())
	fmt.Printf("KILN_SHA256_PASS_SECONDS=%.3f\n", hashed.Seconds())
	return d, nil
}

// benchPublish publishes runs times into empty regions and reports the
// fastest run with its phases.
func benchPublish(ctx context.Context, svc *gallery.Service, def, src, digest string, runs int) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	var best time.Duration
	var bestPhases map[string]time.Duration
	for i := 1; i <= runs; i++ {
		for _, r := range svc.Regions.RegionNames() {
			if err := os.RemoveAll(svc.Regions.RegionPath(r)); err != nil {
				return err
			}
		}
		phases := map[string]time.Duration{}
		svc.Trace = func(phase string, d time.Duration) { phases[phase] += d }
		t := time.Now()
		_, err := svc.Publish(ctx, admin, gallery.PublishRequest{
			DefinitionID: def, Version: fmt.Sprintf("1.0.%d", i),
			TargetRegions: []gallery.TargetRegion{{Name: "eastus"}, {Name: "westeurope"}},
			Artifacts:     []gallery.Artifact{{Format: "raw", SHA256: digest, Size: fi.Size(), Path: src}},
			Tattoo:        json.RawMessage(`{"bench":true}`),
		})
		wall := time.Since(t)
		if err != nil {
			return err
		}
		fmt.Printf("run %d: %.3f s (%s)\n", i, wall.Seconds(), phaseList(phases))
		if i == 1 || wall < best {
			best, bestPhases = wall, phases
		}
	}
	fmt.Printf("KILN_PUBLISH_SECONDS=%.3f\n", best.Seconds())
	fmt.Printf("KILN_REPLICATE_SECONDS=%.3f\n", bestPhases["replicate"].Seconds())
	other := best - bestPhases["replicate"]
	fmt.Printf("KILN_NON_REPLICATION_SECONDS=%.3f\n", other.Seconds())
	return nil
}

func phaseList(phases map[string]time.Duration) string {
	var names []string
	for n := range phases {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.3f s", n, phases[n].Seconds()))
	}
	return strings.Join(parts, ", ")
}

// benchResolve stores n versions of a second definition (records only,
// no files) and times Resolve of latest through the service.
func benchResolve(ctx context.Context, svc *gallery.Service, work string, n int) error {
	d, err := svc.CreateDefinition(ctx, admin, gallery.ImageDefinition{ID: gallery.DefinitionID(sub, "RG", "G", "Many"),
		Properties: gallery.ImageDefinitionProperties{Identifier: gallery.ImageIdentifier{Publisher: "P", Offer: "O", Sku: "Many"}, OSType: "Linux", OSState: "Generalized"}})
	if err != nil {
		return err
	}
	st, ok := svc.Store.(*store.SQLite)
	if !ok {
		return errors.New("the bench needs the SQLite store")
	}
	if err := fillVersions(ctx, st, d.ID, n); err != nil {
		return err
	}
	const calls = 20
	t := time.Now()
	var v gallery.ImageVersion
	for range calls {
		if v, err = svc.Resolve(ctx, admin, d.ID+"/versions/latest", "eastus"); err != nil {
			return err
		}
	}
	per := time.Since(t) / calls
	fmt.Printf("resolve latest among %d versions through the service: %s (%s)\n", n, per, v.Name)
	fmt.Printf("KILN_RESOLVE_SECONDS=%.6f\n", per.Seconds())
	return nil
}

// fillVersions writes n version records as a publish would shape them.
func fillVersions(ctx context.Context, st *store.SQLite, defID string, n int) error {
	now := time.Now().UTC()
	ws := make([]store.Write, 0, n)
	for i := range n {
		name := fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10)
		v := gallery.ImageVersion{ID: defID + "/versions/" + name, Name: name, Type: gallery.ImageVersionType, Location: "eastus",
			Properties: gallery.ImageVersionProperties{
				ProvisioningState: gallery.ProvisioningSucceeded,
				PublishingProfile: gallery.PublishingProfile{TargetRegions: []gallery.TargetRegion{{Name: "eastus", RegionalReplicaCount: 1, StorageAccountType: "Standard_LRS"}, {Name: "westeurope", RegionalReplicaCount: 1, StorageAccountType: "Standard_LRS"}}, PublishedDate: &now, ReplicaCount: 1, StorageAccountType: "Standard_LRS"},
				StorageProfile:    gallery.StorageProfile{Artifacts: []gallery.Artifact{{Format: "qcow2", SHA256: strings.Repeat("ab", 32), Size: 1 << 30, Path: "sha256/ab/" + strings.Repeat("ab", 32)}}},
				ReplicationStatus: &gallery.ReplicationStatus{AggregatedState: "Completed", Summary: []gallery.RegionReplication{{Region: "eastus", State: "Completed", Progress: 100}, {Region: "westeurope", State: "Completed", Progress: 100}}},
				Evidence:          &gallery.Evidence{Manifest: strings.Repeat("cd", 32), KeyID: strings.Repeat("ef", 32)},
				LifecycleState:    gallery.StateActive,
			}}
		body, err := json.Marshal(v)
		if err != nil {
			return err
		}
		ws = append(ws, store.Write{Resource: store.Resource{ID: v.ID, Type: gallery.ImageVersionType, Name: name, Subscription: sub,
			ResourceGroup: "RG", Parent: defID, Location: "eastus", Body: body, SortKey: gallery.VersionSortKey(name)}})
	}
	_, err := st.WriteResources(ctx, ws)
	return err
}
