package gallery_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/sign"
)

func TestGalleries(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	g := f.gallery
	if g.Properties.Identifier == nil || g.Properties.Identifier.UniqueName != sub+"-G" {
		t.Errorf("identifier = %+v", g.Properties.Identifier)
	}
	if sd := g.Properties.SoftDeletePolicy; sd == nil || !sd.IsSoftDeleteEnabled {
		t.Errorf("a new gallery soft-deletes by default; policy %+v", sd)
	}
	key, err := f.svc.SigningKey(ctx, admin, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sign.ParsePublicKey([]byte(key.PublicKey))
	if err != nil || sign.KeyID(pub) != key.KeyID {
		t.Fatalf("public key %q (%v) does not have ID %s", key.PublicKey, err, key.KeyID)
	}
	if fi, err := os.Stat(f.svc.KeyDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("key directory: %v %v, want mode 0700", fi, err)
	}

	for _, tc := range []struct {
		name, id, location string
		kind               error
		substr             string
	}{
		{"dash in the name", gallery.GalleryID(sub, group, "my-gallery"), "eastus", gallery.ErrInvalid, `character '-' at position 3 is not allowed`},
		{"unknown region", gallery.GalleryID(sub, group, "G2"), "mars", gallery.ErrInvalid, "not a configured region"},
		{"missing group", gallery.GalleryID(sub, "nope", "G3"), "eastus", gallery.ErrNotFound, "ResourceGroupNotFound"},
		{"name taken in another group", gallery.GalleryID(sub, group+"2", "G"), "eastus", gallery.ErrConflict, "unique within a subscription"},
		{"moving the gallery", g.ID, "westeurope", gallery.ErrImmutable, "Changing property"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "name taken in another group" {
				f.addGroup(t, group+"2")
			}
			_, err := f.svc.CreateGallery(ctx, admin, gallery.Gallery{ID: tc.id, Location: tc.location})
			if !errors.Is(err, tc.kind) && !(tc.kind == gallery.ErrNotFound && err != nil && strings.Contains(err.Error(), tc.substr)) {
				t.Fatalf("CreateGallery: %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("CreateGallery: %q, want %q", err, tc.substr)
			}
		})
	}

	updated, err := f.svc.UpdateGallery(ctx, admin, g.ID, func(g *gallery.Gallery) error {
		g.Properties.Description = "golden"
		g.Properties.SigningKey = nil // read-only: kept
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Properties.Description != "golden" || updated.Properties.SigningKey == nil || updated.Properties.SigningKey.KeyID != key.KeyID {
		t.Errorf("after update: %+v", updated.Properties)
	}
	// Creating again is an update that keeps the key.
	again, err := f.svc.CreateGallery(ctx, admin, gallery.Gallery{ID: g.ID, Properties: gallery.GalleryProperties{Description: "again"}})
	if err != nil || again.Properties.SigningKey.KeyID != key.KeyID || again.Location != "eastus" {
		t.Errorf("create over an existing gallery: %+v, %v", again, err)
	}
}

func (f *fixture) addGroup(t *testing.T, name string) {
	t.Helper()
	id := "/subscriptions/" + sub + "/resourceGroups/" + name
	if _, err := f.st.PutResource(t.Context(), storeResource(id, name), ""); err != nil {
		t.Fatal(err)
	}
}

func TestGalleryLimitUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	f.svc.Limits = gallery.Limits{GalleriesPerSubscription: 3}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.svc.CreateGallery(t.Context(), admin, gallery.Gallery{ID: gallery.GalleryID(sub, group, fmt.Sprintf("C%d", i)), Location: "eastus"})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, gallery.ErrLimitExceeded):
			t.Errorf("creator %d: %v", i, err)
		}
	}
	if won != 2 { // G exists already
		t.Errorf("%d galleries created against a limit of 3 with one existing, want 2", won)
	}
	keys, _ := os.ReadDir(f.svc.KeyDir)
	if len(keys) != 3 {
		t.Errorf("%d key files for 3 galleries: the refused creates must remove theirs", len(keys))
	}
}

func TestDefinitions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	d := f.def
	if d.Location != "eastus" || d.Properties.HyperVGeneration != "V2" || d.Properties.ProvisioningState != gallery.ProvisioningSucceeded {
		t.Errorf("defaults of a new definition: %+v", d)
	}

	dup := definition("D2", "Sku1")
	_, err := f.svc.CreateDefinition(ctx, admin, dup)
	wantErr(t, "a duplicate identifier", err, gallery.ErrConflict, "Gallery image: D identified by (publisher:Kiln, offer:Debian, sku:Sku1) already exists.")

	changed := definition("D", "Sku1")
	changed.Properties.Identifier.Publisher = "Other"
	_, err = f.svc.CreateDefinition(ctx, admin, changed)
	wantErr(t, "changing the publisher", err, gallery.ErrImmutable, "Changing property 'galleryImage.properties.identifier.publisher' is not allowed")

	_, err = f.svc.UpdateDefinition(ctx, admin, d.ID, func(d *gallery.ImageDefinition) error {
		d.Properties.OSState = "Specialized"
		return nil
	})
	wantErr(t, "changing the OS state", err, gallery.ErrImmutable, "osState")

	eol := f.clock.Now().AddDate(1, 0, 0)
	got, err := f.svc.UpdateDefinition(ctx, admin, d.ID, func(d *gallery.ImageDefinition) error {
		d.Properties.Description = "hardened"
		d.Properties.EndOfLifeDate = &eol
		d.Properties.LifecycleRules = &gallery.LifecycleRules{KeepNewest: 1}
		return nil
	})
	if err != nil || got.Properties.Description != "hardened" || got.Properties.LifecycleRules.KeepNewest != 1 {
		t.Fatalf("update: %+v, %v", got, err)
	}
	// A past end of life is refused only when it changes.
	f.clock.Add(2 * 365 * 24 * time.Hour)
	if _, err := f.svc.UpdateDefinition(ctx, admin, d.ID, func(d *gallery.ImageDefinition) error {
		d.Properties.Description = "later"
		return nil
	}); err != nil {
		t.Errorf("an update that keeps a passed end of life: %v", err)
	}

	bad := definition("-bad", "Sku9")
	_, err = f.svc.CreateDefinition(ctx, admin, bad)
	wantErr(t, "an invalid name", err, gallery.ErrInvalid, "invalid image definition name")

	f.svc.Limits = gallery.Limits{ImageDefinitionsPerGallery: 1}
	_, err = f.svc.CreateDefinition(ctx, admin, definition("D3", "Sku3"))
	wantErr(t, "a definition beyond the limit", err, gallery.ErrLimitExceeded, "gallery.limits.imageDefinitionsPerGallery")
}

func TestApplyLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		f.publish(t, f.request(t, f.def, v, v))
	}
	_, err := f.svc.ApplyLifecycle(ctx, admin, f.def.ID, false)
	wantErr(t, "without rules", err, gallery.ErrState, "has no lifecycle rules")
	if _, err := f.svc.UpdateDefinition(ctx, admin, f.def.ID, func(d *gallery.ImageDefinition) error {
		d.Properties.LifecycleRules = &gallery.LifecycleRules{KeepNewest: 1, EndOfLifeAfterDays: 10, DeleteAfterDays: 1}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dry, err := f.svc.ApplyLifecycle(ctx, admin, f.def.ID, true)
	if err != nil || len(dry.Actions) != 2 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	plan, err := f.svc.ApplyLifecycle(ctx, admin, f.def.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Actions) != 2 || plan.Actions[0].Action != gallery.ActionDeprecate {
		t.Fatalf("plan = %s", plan)
	}
	v, _ := f.svc.GetVersion(ctx, admin, f.def.ID+"/versions/1.0.0")
	if v.Properties.LifecycleState != gallery.StateDeprecated {
		t.Errorf("1.0.0 is %s after apply, want deprecated", v.Properties.LifecycleState)
	}
	// Ten days later the deprecated ones reach end of life, a day after
	// that they are (softly) deleted.
	f.clock.Add(11 * 24 * time.Hour)
	if _, err := f.svc.ApplyLifecycle(ctx, admin, f.def.ID, false); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * 24 * time.Hour)
	if _, err := f.svc.ApplyLifecycle(ctx, admin, f.def.ID, false); err != nil {
		t.Fatal(err)
	}
	vs, err := f.svc.ListVersions(ctx, admin, f.def.ID, false)
	if err != nil || len(vs) != 1 || vs[0].Name != "1.2.0" {
		t.Errorf("versions left after the rules ran = %v, %v", vs, err)
	}
}

func TestServiceChecksAuthorization(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	v := f.publish(t, f.request(t, f.def, "1.0.0", "a"))
	stranger := authz.Principal{ID: "22222222-2222-2222-2222-222222222222", Name: "stranger"}
	var denied *authz.AuthorizationFailedError
	for name, call := range map[string]func() error{
		"Publish": func() error {
			_, err := f.svc.Publish(ctx, stranger, f.request(t, f.def, "2.0.0", "x"))
			return err
		},
		"Resolve": func() error { _, err := f.svc.Resolve(ctx, stranger, f.def.ID, ""); return err },
		"Verify":  func() error { _, err := f.svc.Verify(ctx, stranger, v.ID, false); return err },
		"Delete":  func() error { return f.svc.DeleteVersion(ctx, stranger, v.ID, false) },
		"Revoke": func() error {
			_, err := f.svc.Revoke(ctx, stranger, v.ID, time.Time{}, "", false)
			return err
		},
		"CreateGallery": func() error {
			_, err := f.svc.CreateGallery(ctx, stranger, gallery.Gallery{ID: gallery.GalleryID(sub, group, "X"), Location: "eastus"})
			return err
		},
	} {
		if err := call(); !errors.As(err, &denied) {
			t.Errorf("%s by a stranger: %v, want AuthorizationFailed", name, err)
		}
	}
}
