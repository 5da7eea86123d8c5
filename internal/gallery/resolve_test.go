package gallery_test

import (
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/gallery"
)

func resolveName(t *testing.T, f *fixture, id, region string) string {
	t.Helper()
	v, err := f.svc.Resolve(t.Context(), admin, id, region)
	if err != nil {
		t.Fatalf("Resolve(%s, %q): %v", id, region, err)
	}
	return v.Name
}

func TestResolveLatestThroughTheService(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.publish(t, f.request(t, f.def, "1.0.0", "a"))
	r := f.request(t, f.def, "1.1.0", "b")
	excluded := true
	r.TargetRegions[1].ExcludeFromLatest = &excluded // regionally excluded in westeurope
	f.publish(t, r)
	r = f.request(t, f.def, "1.2.0", "c")
	r.TargetRegions = r.TargetRegions[:1] // eastus only
	v120 := f.publish(t, r)
	latest := f.def.ID + "/versions/latest"

	for _, tc := range []struct{ id, region, want string }{
		{latest, "eastus", "1.2.0"},
		{latest, "", "1.2.0"}, // the gallery's location
		{f.def.ID, "eastus", "1.2.0"},
		{latest, "westeurope", "1.0.0"},
		{latest, "West Europe", "1.0.0"},
		{f.def.ID + "/versions/1.1.0", "westeurope", "1.1.0"}, // excluded from latest, still deployable by name
	} {
		if got := resolveName(t, f, tc.id, tc.region); got != tc.want {
			t.Errorf("Resolve(%s, %q) = %s, want %s", tc.id, tc.region, got, tc.want)
		}
	}

	_, err := f.svc.Resolve(ctx, admin, v120.ID, "westeurope")
	wantErr(t, "1.2.0 in westeurope", err, gallery.ErrState, "is not available in westeurope region")
	_, err = f.svc.Resolve(ctx, admin, latest, "mars")
	wantErr(t, "an unknown region", err, gallery.ErrInvalid, "not a configured region")

	if _, err := f.svc.Revoke(ctx, admin, v120.ID, time.Time{}, "CVE-2026-0001", false); err != nil {
		t.Fatal(err)
	}
	if got := resolveName(t, f, latest, "eastus"); got != "1.1.0" {
		t.Errorf("latest after revoking 1.2.0 = %s, want 1.1.0", got)
	}
	_, err = f.svc.Resolve(ctx, admin, v120.ID, "eastus")
	wantErr(t, "the revoked version", err, gallery.ErrState, "is revoked since")

	if err := f.svc.DeleteVersion(ctx, admin, f.def.ID+"/versions/1.1.0", false); err != nil {
		t.Fatal(err)
	}
	if got := resolveName(t, f, latest, "eastus"); got != "1.0.0" {
		t.Errorf("latest after deleting 1.1.0 = %s, want 1.0.0", got)
	}
	_, err = f.svc.Resolve(ctx, admin, f.def.ID+"/versions/1.1.0", "eastus")
	wantErr(t, "the deleted version", err, gallery.ErrState, "is deleted")
	if _, err := f.svc.UndeleteVersion(ctx, admin, f.def.ID+"/versions/1.1.0"); err != nil {
		t.Fatal(err)
	}
	if got := resolveName(t, f, latest, "eastus"); got != "1.1.0" {
		t.Errorf("latest after undeleting 1.1.0 = %s, want 1.1.0", got)
	}

	// Excluding globally moves latest too; the regional flag wins.
	if _, err := f.svc.UpdateVersion(ctx, admin, f.def.ID+"/versions/1.1.0", func(v *gallery.ImageVersion) error {
		v.Properties.PublishingProfile.ExcludeFromLatest = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := resolveName(t, f, latest, "eastus"); got != "1.0.0" {
		t.Errorf("latest after excluding 1.1.0 = %s, want 1.0.0", got)
	}

	empty := f.createDefinition(t, "Empty", "Sku2")
	_, err = f.svc.Resolve(ctx, admin, empty.ID, "eastus")
	wantErr(t, "latest of an empty definition", err, gallery.ErrNoLatest, `There is no latest image version exists for "Empty"`)
}

func TestRevokeCascadesAndLatestMoves(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	child := f.createDefinition(t, "Child", "Sku2")
	base := f.publish(t, f.request(t, f.def, "1.0.0", "base"))
	base2 := f.publish(t, f.request(t, f.def, "1.0.1", "base2"))
	r := f.request(t, child, "1.0.0", "child1")
	r.Parent = base.ID
	c1 := f.publish(t, r)
	r = f.request(t, child, "1.0.1", "child2")
	r.Parent = c1.ID // a grandchild of base
	c2 := f.publish(t, r)
	r = f.request(t, child, "0.9.0", "other")
	r.Parent = base2.ID
	f.publish(t, r)

	anc, err := f.svc.Ancestry(ctx, admin, c1)
	if err != nil {
		t.Fatal(err)
	}
	if anc.Status != gallery.Outdated || anc.Newer != base2.ID {
		t.Errorf("ancestry of %s = %+v, want Outdated with newer %s", c1.Name, anc, base2.ID)
	}

	// A scheduled revocation does not count yet.
	changed, err := f.svc.Revoke(ctx, admin, base.ID, f.clock.Now().Add(time.Hour), "scheduled", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 3 {
		t.Fatalf("cascade changed %d versions, want base and its two descendants", len(changed))
	}
	if got := resolveName(t, f, child.ID, "eastus"); got != c2.Name {
		t.Errorf("latest of Child before the revocation takes effect = %s, want %s", got, c2.Name)
	}
	f.clock.Add(2 * time.Hour)
	if got := resolveName(t, f, child.ID, "eastus"); got != "0.9.0" {
		t.Errorf("latest of Child after the cascade = %s, want 0.9.0", got)
	}
	for _, id := range []string{c1.ID, c2.ID} {
		v, err := f.svc.GetVersion(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if rv := v.Properties.Revocation; rv == nil || rv.CascadedFrom != base.ID {
			t.Errorf("%s revocation = %+v, want one inherited from %s", id, rv, base.ID)
		}
	}
	_, err = f.svc.Revoke(ctx, admin, base.ID, time.Time{}, "again", false)
	wantErr(t, "revoking a revoked version", err, gallery.ErrState, "has been revoked since")

	if _, err := f.svc.Unrevoke(ctx, admin, base.ID); err != nil {
		t.Fatal(err)
	}
	if got := resolveName(t, f, child.ID, "eastus"); got != c2.Name {
		t.Errorf("latest of Child after unrevoking = %s, want %s", got, c2.Name)
	}
}
