package gallery_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/sign"
	"github.com/kiln-dev/kiln/internal/store"
)

// tamper overwrites the start of a replica.
func tamper(t *testing.T, path string) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("XX"), 0); err != nil {
		t.Fatal(err)
	}
}

func verifyProblems(t *testing.T, f *fixture, id string, repair bool) (gallery.VerifyReport, string) {
	t.Helper()
	rep, err := f.svc.Verify(t.Context(), admin, id, repair)
	if err == nil {
		return rep, ""
	}
	if !errors.Is(err, gallery.ErrVerification) {
		t.Fatalf("Verify(%s): %v", id, err)
	}
	return rep, err.Error()
}

func TestVerifyFindsAndRepairsATamperedReplica(t *testing.T) {
	f := newFixture(t)
	v := f.publish(t, f.request(t, f.def, "1.0.0", "a"))
	path, err := f.svc.ArtifactPath(v, "raw", "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	tamper(t, path)

	_, problems := verifyProblems(t, f, v.ID, false)
	if !strings.Contains(problems, "westeurope: artifact raw") || !strings.Contains(problems, "is damaged") {
		t.Fatalf("Verify of a tampered replica: %q", problems)
	}
	if strings.Contains(problems, "eastus") {
		t.Errorf("Verify blames the good region too: %q", problems)
	}
	os.Remove(path)
	if _, problems := verifyProblems(t, f, v.ID, false); !strings.Contains(problems, "is missing") {
		t.Errorf("Verify of a missing replica: %q", problems)
	}

	rep, problems := verifyProblems(t, f, v.ID, true)
	if problems != "" {
		t.Fatalf("Verify --repair: %s", problems)
	}
	if !rep.Verified || rep.Signature != "valid" {
		t.Errorf("report after repair = %+v", rep)
	}
	if _, problems := verifyProblems(t, f, v.ID, false); problems != "" {
		t.Errorf("Verify after repair: %s", problems)
	}
	good, _ := f.svc.ArtifactPath(v, "raw", "eastus")
	assertSameFile(t, good, path)
}

func TestVerifyFindsATamperedManifest(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	v := f.publish(t, f.request(t, f.def, "1.0.0", "a"))
	manifest, _ := replicate.ReplicaPath(f.regions["eastus"], v.Properties.Evidence.Manifest)

	t.Run("the file in one region", func(t *testing.T) {
		tamper(t, manifest)
		if _, problems := verifyProblems(t, f, v.ID, false); !strings.Contains(problems, "eastus: manifest") {
			t.Fatalf("Verify: %q", problems)
		}
		if _, problems := verifyProblems(t, f, v.ID, true); problems != "" {
			t.Fatalf("Verify --repair: %s", problems)
		}
	})

	t.Run("a manifest signed by another key", func(t *testing.T) {
		// An attacker with the database but not the key writes a manifest of
		// their own and points the version at it.
		kp, _ := sign.GenerateKey(nil)
		m := v.Manifest("D", "https://evil.example", "")
		env, err := sign.SignManifest(m, kp.Private)
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := json.Marshal(env)
		forgedVersion := v
		ev := *v.Properties.Evidence
		forgedVersion.Properties.Evidence = &ev
		for _, region := range []string{"eastus", "westeurope"} {
			ev.Manifest = putFile(t, f.regions[region], forged)
		}
		rewrite(t, f, forgedVersion)
		_, problems := verifyProblems(t, f, v.ID, false)
		if !strings.Contains(problems, "signature verification failed") {
			t.Fatalf("Verify of a forged manifest: %q", problems)
		}
		rewrite(t, f, v)
	})

	t.Run("a record that no longer matches its manifest", func(t *testing.T) {
		changed := v
		changed.Properties.StorageProfile.Artifacts = append([]gallery.Artifact(nil), v.Properties.StorageProfile.Artifacts...)
		changed.Properties.StorageProfile.Artifacts[1].SHA256 = changed.Properties.StorageProfile.Artifacts[0].SHA256
		rewrite(t, f, changed)
		_, problems := verifyProblems(t, f, v.ID, false)
		if !strings.Contains(problems, "does not match its signed manifest") {
			t.Fatalf("Verify of a changed record: %q", problems)
		}
		rewrite(t, f, v)
	})
	if _, err := f.svc.Verify(ctx, admin, v.ID, false); err != nil {
		t.Fatalf("Verify after the subtests: %v", err)
	}
}

// putFile stores data content-addressed in a region directory.
func putFile(t *testing.T, dir string, data []byte) string {
	t.Helper()
	sha := sha256hex(data)
	path, _ := replicate.ReplicaPath(dir, sha)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	return sha
}

// rewrite replaces a version's record behind the service's back.
func rewrite(t *testing.T, f *fixture, v gallery.ImageVersion) {
	t.Helper()
	body, _ := json.Marshal(v)
	r, err := f.st.GetResource(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.Body = body
	if _, err := f.st.PutResource(t.Context(), r, ""); err != nil {
		t.Fatal(err)
	}
}

func TestExport(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	v := f.publish(t, f.request(t, f.def, "1.0.0", "a"))
	dst := filepath.Join(t.TempDir(), "disk.qcow2")
	res, err := f.svc.Export(ctx, admin, f.def.ID+"/versions/latest", "qcow2", "westeurope", dst)
	if err != nil {
		t.Fatal(err)
	}
	want := v.Properties.StorageProfile.Artifacts[0]
	if res.SHA256 != want.SHA256 || res.Size != want.Size || res.Region != "westeurope" {
		t.Errorf("export result %+v, want the qcow2 artifact from westeurope", res)
	}
	src, _ := f.svc.ArtifactPath(v, "qcow2", "")
	assertSameFile(t, src, dst)
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o644 {
		t.Errorf("exported file mode %v, want 0644", fi.Mode())
	}

	_, err = f.svc.Export(ctx, admin, v.ID, "vhd", "", dst)
	wantErr(t, "an absent format", err, gallery.ErrInvalid, "has no vhd artifact; it has qcow2, raw")

	tamper(t, src)
	_, err = f.svc.Export(ctx, admin, v.ID, "qcow2", "eastus", filepath.Join(t.TempDir(), "x"))
	wantErr(t, "a damaged replica", err, replicate.ErrDamaged, "hashes to")

	if err := f.svc.DeleteVersion(ctx, admin, v.ID, false); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Export(ctx, admin, v.ID, "qcow2", "", filepath.Join(t.TempDir(), "y"))
	wantErr(t, "a deleted version", err, gallery.ErrState, "is deleted")
}

func TestVersionUpdates(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	r := f.request(t, f.def, "1.0.0", "a")
	r.TargetRegions = r.TargetRegions[:1]
	v := f.publish(t, r)

	added, err := f.svc.UpdateVersion(ctx, admin, v.ID, func(v *gallery.ImageVersion) error {
		v.Properties.PublishingProfile.TargetRegions = append(v.Properties.PublishingProfile.TargetRegions, gallery.TargetRegion{Name: "westeurope"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if added.ReplicationState("westeurope") != gallery.ReplicationCompleted {
		t.Fatalf("an added region is %q", added.ReplicationState("westeurope"))
	}
	if _, err := f.svc.Verify(ctx, admin, v.ID, false); err != nil {
		t.Fatalf("Verify after adding a region: %v", err)
	}

	_, err = f.svc.UpdateVersion(ctx, admin, v.ID, func(v *gallery.ImageVersion) error {
		v.Properties.PublishingProfile.TargetRegions = v.Properties.PublishingProfile.TargetRegions[:1]
		return nil
	})
	wantErr(t, "removing a replicated region", err, gallery.ErrDeletionBlocked, "allowDeletionOfReplicatedLocations")

	_, err = f.svc.UpdateVersion(ctx, admin, v.ID, func(v *gallery.ImageVersion) error {
		v.Properties.PublishingProfile.StorageAccountType = "Premium_LRS"
		return nil
	})
	wantErr(t, "changing the storage type", err, gallery.ErrImmutable, "Changing property 'galleryImageVersion.properties.publishingProfile.storageAccountType' is not allowed")

	_, err = f.svc.UpdateVersion(ctx, admin, v.ID, func(v *gallery.ImageVersion) error {
		v.Properties.PublishingProfile.TargetRegions[0].RegionalReplicaCount = 51
		return nil
	})
	wantErr(t, "a replica count out of range", err, gallery.ErrLimitExceeded, "replicasPerRegion")

	// Read-only fields are kept whatever the change says.
	got, err := f.svc.UpdateVersion(ctx, admin, v.ID, func(v *gallery.ImageVersion) error {
		v.Properties.ReplicationStatus = nil
		v.Properties.LifecycleState = gallery.StateEndOfLife
		v.Tags = map[string]string{"k": "v"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties.LifecycleState != gallery.StateActive || got.ReplicationState("eastus") != gallery.ReplicationCompleted || got.Tags["k"] != "v" {
		t.Errorf("after an update of read-only fields: %+v", got.Properties)
	}
}

func TestDeletionRules(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	r := f.request(t, f.def, "1.0.0", "a")
	r.SafetyProfile = &gallery.SafetyProfile{BlockDeletionBeforeEndOfLife: true}
	r.EndOfLifeDate = "2027-01-01"
	blocked := f.publish(t, r)
	v := f.publish(t, f.request(t, f.def, "1.0.1", "b"))

	err := f.svc.DeleteVersion(ctx, admin, blocked.ID, false)
	wantErr(t, "deleting before end of life", err, gallery.ErrDeletionBlocked, "blocks deletion before its end of life")
	err = f.svc.DeleteDefinition(ctx, admin, f.def.ID)
	wantErr(t, "deleting a definition with versions", err, gallery.ErrDeletionBlocked, "Can not delete resource before nested resources are deleted")
	err = f.svc.DeleteGallery(ctx, admin, f.gallery.ID)
	wantErr(t, "deleting a gallery with definitions", err, gallery.ErrDeletionBlocked, "still has 1 image definition(s)")

	if err := f.svc.DeleteVersion(ctx, admin, v.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := f.versions(t, f.def); len(got) != 2 {
		t.Errorf("a soft-deleted version is gone from the list with deleted ones: %v", got)
	}
	_, err = f.svc.UpdateVersion(ctx, admin, v.ID, func(*gallery.ImageVersion) error { return nil })
	wantErr(t, "updating a deleted version", err, gallery.ErrState, "undelete it first")

	f.clock.Add(8 * 24 * 3600e9)
	_, err = f.svc.UndeleteVersion(ctx, admin, v.ID)
	wantErr(t, "undeleting after the retention", err, gallery.ErrState, "it is gone")

	// The end of life has passed now; purge both and the definition can go.
	f.clock.Add(365 * 24 * 3600e9)
	for _, id := range []string{v.ID, blocked.ID} {
		if err := f.svc.DeleteVersion(ctx, admin, id, true); err != nil {
			t.Fatalf("purge %s: %v", id, err)
		}
	}
	if err := f.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"eastus", "westeurope"} {
		if files := f.files(t, region); len(files) != 0 {
			t.Errorf("purged versions left files in %s: %v", region, files)
		}
	}
	if err := f.svc.DeleteDefinition(ctx, admin, f.def.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteGallery(ctx, admin, f.gallery.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.GetResource(ctx, f.gallery.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the gallery is still stored: %v", err)
	}
}
