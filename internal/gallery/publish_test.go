package gallery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/sign"
)

func TestPublishToTwoRegions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	dir := t.TempDir()
	sbom := filepath.Join(dir, "sbom.spdx.json")
	report := filepath.Join(dir, "compliance.json")
	os.WriteFile(sbom, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
	os.WriteFile(report, []byte(`{"passed":true}`), 0o644)
	r := f.request(t, f.def, "1.0.0", "a")
	r.SBOM, r.ComplianceReport, r.Tags = sbom, report, map[string]string{"baseOS": "debian-12"}

	v := f.publish(t, r)

	if want := f.def.ID + "/versions/1.0.0"; v.ID != want {
		t.Errorf("ID = %s, want %s", v.ID, want)
	}
	st := v.Properties.ReplicationStatus
	if st == nil || st.AggregatedState != gallery.AggregatedCompleted || len(st.Summary) != 2 {
		t.Fatalf("replicationStatus = %+v, want Completed in two regions", st)
	}
	if got := v.Properties.PublishingProfile.TargetRegions[1]; got.Name != "westeurope" || got.RegionalReplicaCount != 2 {
		t.Errorf("second target region = %+v, want westeurope with 2 replicas", got)
	}
	ev := v.Properties.Evidence
	if ev == nil || ev.Manifest == "" || ev.Tattoo == "" || ev.SBOM == "" || ev.ComplianceReport == "" || ev.KeyID != f.gallery.Properties.SigningKey.KeyID {
		t.Fatalf("evidence = %+v", ev)
	}
	for _, region := range []string{"eastus", "westeurope"} {
		for _, a := range r.Artifacts {
			path, err := f.svc.ArtifactPath(v, a.Format, region)
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, a.Path, path)
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o444 {
				t.Errorf("replica %s has mode %v, want read-only", path, fi.Mode())
			}
		}
	}
	got, err := f.svc.GetVersion(ctx, admin, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("stored version differs from the returned one (-returned +stored):\n%s", diff)
	}
	if _, err := f.svc.Verify(ctx, admin, v.ID, false); err != nil {
		t.Fatalf("Verify of a fresh version: %v", err)
	}
	checkManifestElsewhere(t, f, v)
}

// checkManifestElsewhere verifies the signed manifest with nothing but the
// exported public key, as a consumer would.
func checkManifestElsewhere(t *testing.T, f *fixture, v gallery.ImageVersion) {
	t.Helper()
	key, err := f.svc.SigningKey(t.Context(), admin, f.gallery.ID)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sign.ParsePublicKey([]byte(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	path, _ := replicate.ReplicaPath(f.regions["westeurope"], v.Properties.Evidence.Manifest)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env, err := sign.ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sign.Verify(env, pub)
	if err != nil {
		t.Fatalf("the manifest does not verify with the exported key: %v", err)
	}
	m := st.Manifest()
	if m.VersionID != v.ID || m.TattooDigest != v.Properties.Evidence.Tattoo || len(m.Artifacts) != 2 || m.RunID != "run-a" {
		t.Errorf("signed manifest = %+v", m)
	}
	if m.Artifacts[0].Name != "D-1.0.0.qcow2" {
		t.Errorf("artifact name %q, want D-1.0.0.qcow2", m.Artifacts[0].Name)
	}
}

func assertSameFile(t *testing.T, a, b string) {
	t.Helper()
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Errorf("%s and %s differ", a, b)
	}
}

func TestPublishRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		change func(r *gallery.PublishRequest)
		kind   error
		substr string
	}{
		{"two-part version", func(r *gallery.PublishRequest) { r.Version = "1.0" }, gallery.ErrInvalid, "it has 2 part(s)"},
		{"four-part version", func(r *gallery.PublishRequest) { r.Version = "1.0.0.0" }, gallery.ErrInvalid, "it has 4 part(s)"},
		{"negative part", func(r *gallery.PublishRequest) { r.Version = "1.-1.0" }, gallery.ErrInvalid, `character '-'`},
		{"part beyond 32 bits", func(r *gallery.PublishRequest) { r.Version = "4294967296.0.0" }, gallery.ErrInvalid, "larger than 2147483647"},
		{"latest", func(r *gallery.PublishRequest) { r.Version = "latest" }, gallery.ErrInvalid, "cannot be created"},
		{"unknown region", func(r *gallery.PublishRequest) {
			r.TargetRegions = append(r.TargetRegions, gallery.TargetRegion{Name: "mars"})
		}, gallery.ErrInvalid, `region "mars" is not a configured region; configured: eastus, westeurope`},
		{"duplicate region", func(r *gallery.PublishRequest) {
			r.TargetRegions = append(r.TargetRegions, gallery.TargetRegion{Name: "East US"})
		}, gallery.ErrInvalid, "Duplicate regions are not allowed"},
		{"home region missing", func(r *gallery.PublishRequest) { r.TargetRegions = r.TargetRegions[1:] }, gallery.ErrInvalid, "must contain the location of image version eastus"},
		{"too many replicas", func(r *gallery.PublishRequest) { r.TargetRegions[0].RegionalReplicaCount = 51 }, gallery.ErrLimitExceeded, "limit replicasPerRegion exceeded"},
		{"negative replicas", func(r *gallery.PublishRequest) { r.TargetRegions[0].RegionalReplicaCount = -1 }, gallery.ErrInvalid, "replica count -1 is negative"},
		{"no artifacts", func(r *gallery.PublishRequest) { r.Artifacts = nil }, gallery.ErrInvalid, "the version has no artifacts"},
		{"unknown format", func(r *gallery.PublishRequest) { r.Artifacts[0].Format = "vmdk" }, gallery.ErrInvalid, `format "vmdk" is not allowed`},
		{"missing file", func(r *gallery.PublishRequest) { r.Artifacts[0].Path += ".missing" }, gallery.ErrInvalid, "no such file"},
		{"wrong size", func(r *gallery.PublishRequest) { r.Artifacts[0].Size++ }, gallery.ErrInvalid, "the request says"},
		{"bad digest", func(r *gallery.PublishRequest) { r.Artifacts[0].SHA256 = "abc" }, gallery.ErrInvalid, "is not a sha256 digest"},
		{"past end of life", func(r *gallery.PublishRequest) { r.EndOfLifeDate = "2020-01-01" }, gallery.ErrInvalid, "EndOfLifeDate must be set to a future date"},
		{"tattoo not JSON", func(r *gallery.PublishRequest) { r.Tattoo = []byte("{") }, gallery.ErrInvalid, "the tattoo is not JSON"},
		{"unknown definition", func(r *gallery.PublishRequest) { r.DefinitionID += "x" }, gallery.ErrNotFound, "ResourceNotFound"},
		{"not a definition ID", func(r *gallery.PublishRequest) { r.DefinitionID = f.gallery.ID }, gallery.ErrInvalid, "is not an image definition ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.request(t, f.def, "1.0.0", "bad")
			tc.change(&r)
			_, err := f.svc.Publish(t.Context(), admin, r)
			wantErr(t, "Publish", err, tc.kind, tc.substr)
		})
	}
	if got := f.versions(t, f.def); len(got) != 0 {
		t.Errorf("refused publishes left versions %v", got)
	}
	for _, region := range []string{"eastus", "westeurope"} {
		if files := f.files(t, region); len(files) != 0 {
			t.Errorf("refused publishes left files in %s: %v", region, files)
		}
	}
}

func TestPublishIsAtomic(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	kept := f.publish(t, f.request(t, f.def, "1.0.0", "kept"))
	before := f.files(t, "eastus")

	injected := errors.New("injected failure")
	f.svc.BeforeCommit = func(context.Context, gallery.ImageVersion) error { return injected }
	_, err := f.svc.Publish(ctx, admin, f.request(t, f.def, "1.1.0", "lost"))
	if !errors.Is(err, injected) {
		t.Fatalf("Publish with a failing commit hook: %v", err)
	}
	f.svc.BeforeCommit = nil
	if got := f.versions(t, f.def); !cmp.Equal(got, []string{"1.0.0"}) {
		t.Fatalf("versions after a failed publish = %v, want only 1.0.0", got)
	}
	if _, err := f.svc.GetVersion(ctx, admin, f.def.ID+"/versions/1.1.0"); !errors.Is(err, gallery.ErrNotFound) {
		t.Fatalf("the failed version is visible: %v", err)
	}
	if after := f.files(t, "eastus"); len(after) <= len(before) {
		t.Fatalf("expected the failed publish's files as garbage, have %v", after)
	}

	// A temporary file of a copy killed midway.
	tmp := filepath.Join(f.regions["westeurope"], "sha256", "ab", ".replica-123.tmp")
	os.MkdirAll(filepath.Dir(tmp), 0o755)
	os.WriteFile(tmp, []byte("half"), 0o644)

	if err := f.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"eastus", "westeurope"} {
		if after := f.files(t, region); !cmp.Equal(after, before) {
			t.Errorf("%s after Recover holds %v, want the kept version's files %v", region, after, before)
		}
	}
	if _, err := f.svc.Verify(ctx, admin, kept.ID, false); err != nil {
		t.Errorf("Recover damaged a kept version: %v", err)
	}
	// The failed version can be published again.
	f.publish(t, f.request(t, f.def, "1.1.0", "lost"))
}

func TestRecoverLeavesBusyRegionsAlone(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	paused := make(chan struct{})
	f.svc.BeforeCommit = func(context.Context, gallery.ImageVersion) error {
		close(paused)
		<-release
		return nil
	}
	done := make(chan error)
	go func() {
		_, err := f.svc.Publish(context.Background(), admin, f.request(t, f.def, "1.0.0", "slow"))
		done <- err
	}()
	<-paused
	// Another kiln starting meanwhile must not collect the files of a
	// publish in progress.
	other := *f.svc
	other.BeforeCommit = nil
	if err := other.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(t.Context(), admin, f.def.ID+"/versions/1.0.0", false); err != nil {
		t.Fatalf("Recover during a publish broke it: %v", err)
	}
}

func TestConcurrentPublishesOfOneVersion(t *testing.T) {
	f := newFixture(t)
	const n = 8
	errs := make([]error, n)
	reqs := make([]gallery.PublishRequest, n)
	for i := range n {
		reqs[i] = f.request(t, f.def, "2.0.0", fmt.Sprint(i%2))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.Publish(t.Context(), admin, reqs[i])
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, gallery.ErrConflict) || !strings.Contains(err.Error(), "409"):
			t.Errorf("publisher %d: %v, want a 409 conflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d publishers succeeded, want exactly 1", won)
	}
	if _, err := f.svc.Verify(t.Context(), admin, f.def.ID+"/versions/2.0.0", false); err != nil {
		t.Fatalf("the winner does not verify: %v", err)
	}
	// 2.00.0 is the same version number.
	_, err := f.svc.Publish(t.Context(), admin, f.request(t, f.def, "2.00.0", "x"))
	wantErr(t, "publish of 2.00.0 after 2.0.0", err, gallery.ErrConflict, "already exists")
}

func TestConcurrentPublishesAgainstTheLimit(t *testing.T) {
	f := newFixture(t)
	const n, limit = 10, 3
	f.svc.Limits = gallery.Limits{VersionsPerImageDefinition: limit}
	errs := make([]error, n)
	reqs := make([]gallery.PublishRequest, n)
	for i := range n {
		reqs[i] = f.request(t, f.def, fmt.Sprintf("1.0.%d", i), "same")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.Publish(t.Context(), admin, reqs[i])
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, gallery.ErrLimitExceeded) || !strings.Contains(err.Error(), "gallery.limits.versionsPerImageDefinition"):
			t.Errorf("publisher %d: %v, want a limit error naming the kiln.yaml key", i, err)
		}
	}
	if got := f.versions(t, f.def); won != limit || len(got) != limit {
		t.Fatalf("%d publishers succeeded and %d versions exist, want %d", won, len(got), limit)
	}
}

func TestPublishNextPatch(t *testing.T) {
	f := newFixture(t)
	v := f.publish(t, f.request(t, f.def, "", "first"))
	if v.Name != "1.0.0" {
		t.Errorf("first automatic version %s, want 1.0.0", v.Name)
	}
	f.publish(t, f.request(t, f.def, "2.3.4", "explicit"))
	r := f.request(t, f.def, "", "major1")
	r.Major = new(int)
	*r.Major = 1
	if v := f.publish(t, r); v.Name != "1.0.1" {
		t.Errorf("next within major 1 = %s, want 1.0.1", v.Name)
	}
	*r.Major = 7
	if v := f.publish(t, r); v.Name != "7.0.0" {
		t.Errorf("first of major 7 = %s, want 7.0.0", v.Name)
	}

	// Concurrent automatic publishes each get their own number.
	const n = 4
	names := make([]string, n)
	reqs := make([]gallery.PublishRequest, n)
	for i := range n {
		reqs[i] = f.request(t, f.def, "", fmt.Sprint("auto", i))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := f.svc.Publish(t.Context(), admin, reqs[i])
			if err != nil {
				t.Errorf("automatic publish %d: %v", i, err)
			}
			names[i] = v.Name
		})
	}
	wg.Wait()
	got := f.versions(t, f.def)
	want := []string{"1.0.0", "1.0.1", "2.3.4", "7.0.0", "7.0.1", "7.0.2", "7.0.3", "7.0.4"}
	if !cmp.Equal(got, want) {
		t.Errorf("versions = %v, want %v (concurrent ones got %v)", got, want, names)
	}
}
