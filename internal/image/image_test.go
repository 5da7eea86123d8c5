package image_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/image"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

const sub = "00000000-0000-0000-0000-000000000000"

func imageID(group, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/Microsoft.Compute/images/" + name
}

func TestParseID(t *testing.T) {
	tests := []struct {
		name, id              string
		sub, group, imageName string
		wantErr               bool
	}{
		{name: "canonical", id: imageID("rg1", "img1"), sub: sub, group: "rg1", imageName: "img1"},
		{name: "segments in other letter case", id: "/SUBSCRIPTIONS/S1/resourcegroups/Rg1/PROVIDERS/microsoft.compute/IMAGES/Img1",
			sub: "S1", group: "Rg1", imageName: "Img1"},
		{name: "without the leading slash", id: "subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Compute/images/img1",
			sub: "s1", group: "rg1", imageName: "img1"},
		{name: "with a trailing slash", id: imageID("rg1", "img1") + "/", sub: sub, group: "rg1", imageName: "img1"},
		{name: "empty", id: "", wantErr: true},
		{name: "a resource group", id: "/subscriptions/s1/resourceGroups/rg1", wantErr: true},
		{name: "another resource type", id: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Compute/galleries/img1", wantErr: true},
		{name: "another provider", id: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/images/img1", wantErr: true},
		{name: "a gallery image definition", id: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Compute/galleries/g/images/img1", wantErr: true},
		{name: "a child of an image", id: imageID("rg1", "img1") + "/versions/1", wantErr: true},
		{name: "resourceGroups misspelt", id: "/subscriptions/s1/resourceGroup/rg1/providers/Microsoft.Compute/images/img1", wantErr: true},
		{name: "subscriptions misspelt", id: "/subscription/s1/resourceGroups/rg1/providers/Microsoft.Compute/images/img1", wantErr: true},
		{name: "providers misspelt", id: "/subscriptions/s1/resourceGroups/rg1/provider/Microsoft.Compute/images/img1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, g, n, err := image.ParseID(tc.id)
			if tc.wantErr {
				want := `"` + tc.id + `" is not a managed image ID; expected /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name}`
				if err == nil || err.Error() != want {
					t.Errorf("ParseID(%q) error = %v, want %q", tc.id, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseID(%q): %v", tc.id, err)
			}
			if diff := cmp.Diff([]string{tc.sub, tc.group, tc.imageName}, []string{s, g, n}); diff != "" {
				t.Errorf("ParseID(%q) sub, group, name (-want +got):\n%s", tc.id, diff)
			}
		})
	}
}

type env struct {
	st     *store.SQLite
	images *image.Service
	admin  authz.Principal
}

// newEnv is a fresh installation with groups rg1 and rg2.
func newEnv(t *testing.T) env {
	t.Helper()
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := tenancy.Bootstrap(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	checker := authz.OwnerOf{Owners: map[string][]string{d.Admin.ID: {d.SubscriptionScope()}}}
	groups := &tenancy.Groups{Store: st, Authz: checker, Defaults: d}
	for _, g := range []string{"rg1", "rg2"} {
		if _, err := groups.Create(t.Context(), d.Admin, g, "eastus", nil); err != nil {
			t.Fatal(err)
		}
	}
	return env{st: st, images: &image.Service{Store: st, Authz: checker}, admin: d.Admin}
}

func newImage(group, name string) image.Image {
	return image.Image{
		ID: imageID(group, name), Location: "eastus", Tags: map[string]string{"os": "debian"},
		Properties: image.Properties{
			StorageProfile:   image.StorageProfile{OSDisk: image.OSDisk{OSType: "Linux", OSState: "Generalized", DiskSizeGB: 4}},
			HyperVGeneration: "V2",
			Artifacts: []image.Artifact{{Format: "qcow2", SHA256: strings.Repeat("ab", 32), Size: 1 << 20,
				Path: "/data/kiln/blobs/sha256/ab/" + strings.Repeat("ab", 32)}},
			SourceRun: "run-1",
		},
	}
}

func (e env) put(t *testing.T, img image.Image) image.Image {
	t.Helper()
	got, err := e.images.Put(t.Context(), e.admin, img)
	if err != nil {
		t.Fatalf("Put(%s): %v", img.ID, err)
	}
	return got
}

func TestPutAndGet(t *testing.T) {
	e := newEnv(t)
	in := newImage("rg1", "img1")
	in.Name, in.Type = "ignored", "ignored" // derived from the ID
	want := newImage("rg1", "img1")
	want.Name, want.Type, want.Properties.ProvisioningState = "img1", "Microsoft.Compute/images", "Succeeded"

	if diff := cmp.Diff(want, e.put(t, in)); diff != "" {
		t.Errorf("Put (-want +got):\n%s", diff)
	}
	for _, id := range []string{want.ID, strings.ToUpper(want.ID), strings.ToLower(want.ID)} {
		got, err := e.images.Get(t.Context(), e.admin, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get(%s) (-want +got):\n%s", id, diff)
		}
	}

	// A second Put replaces the image.
	in.Properties.Artifacts = nil
	in.Properties.SourceRun = "run-2"
	want.Properties.Artifacts, want.Properties.SourceRun = nil, "run-2"
	e.put(t, in)
	got, err := e.images.Get(t.Context(), e.admin, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get after replacing Put (-want +got):\n%s", diff)
	}
}

func TestPutRefusals(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"missing resource group", imageID("nope", "img1"),
			`ResourceGroupNotFound: the destination resource group "nope" of image ` + imageID("nope", "img1") +
				` does not exist; create it with kiln group create -n nope -l <location>`},
		{"group name that only extends an existing one", imageID("rg10", "img1"),
			`ResourceGroupNotFound: the destination resource group "rg10" of image ` + imageID("rg10", "img1") +
				` does not exist; create it with kiln group create -n rg10 -l <location>`},
		{"not an image ID", "/subscriptions/" + sub + "/resourceGroups/rg1",
			`"/subscriptions/` + sub + `/resourceGroups/rg1" is not a managed image ID; expected /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			img := newImage("rg1", "img1")
			img.ID = tc.id
			_, err := e.images.Put(t.Context(), e.admin, img)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Put error = %v, want %q", err, tc.want)
			}
			all, err := e.images.List(t.Context(), e.admin, sub, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 0 {
				t.Errorf("a refused Put stored %d images", len(all))
			}
		})
	}
}

func TestPutIntoGroupNamedInAnotherCase(t *testing.T) {
	e := newEnv(t)
	e.put(t, newImage("RG1", "img1"))
	got, err := e.images.List(t.Context(), e.admin, sub, "rg1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != imageID("RG1", "img1") {
		t.Errorf("List(rg1) = %+v, want the image put into RG1", got)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	for _, img := range []image.Image{newImage("rg1", "b"), newImage("rg2", "c"), newImage("rg1", "a")} {
		e.put(t, img)
	}
	tests := []struct {
		name, group string
		want        []string
	}{
		{"one group, ordered by ID", "rg1", []string{imageID("rg1", "a"), imageID("rg1", "b")}},
		{"group named in another case", "RG2", []string{imageID("rg2", "c")}},
		{"whole subscription", "", []string{imageID("rg1", "a"), imageID("rg1", "b"), imageID("rg2", "c")}},
		{"group without images", "rg3", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			imgs, err := e.images.List(t.Context(), e.admin, sub, tc.group)
			if err != nil {
				t.Fatal(err)
			}
			if imgs == nil {
				t.Error("List returned nil; want a non-nil slice (JSON [])")
			}
			got := []string{}
			for _, img := range imgs {
				got = append(got, img.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("List(%q) (-want +got):\n%s", tc.group, diff)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.put(t, newImage("rg1", "img1"))
	e.put(t, newImage("rg1", "img2"))
	if err := e.images.Delete(ctx, e.admin, strings.ToUpper(imageID("rg1", "img1"))); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := e.images.Get(ctx, e.admin, imageID("rg1", "img1"))
	want := "ResourceNotFound: image " + imageID("rg1", "img1") + " was not found: not found"
	if err == nil || err.Error() != want {
		t.Errorf("Get after Delete = %v, want %q", err, want)
	}
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete error does not wrap store.ErrNotFound")
	}
	if err := e.images.Delete(ctx, e.admin, imageID("rg1", "img1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := e.images.Get(ctx, e.admin, imageID("rg1", "img2")); err != nil {
		t.Errorf("img2 went away: %v", err)
	}
	if err := e.images.Delete(ctx, e.admin, "/subscriptions/"+sub); err == nil || !strings.Contains(err.Error(), "is not a managed image ID") {
		t.Errorf("Delete of a subscription ID = %v, want a not-an-image-ID error", err)
	}
}

func TestRefuseNonOwners(t *testing.T) {
	e := newEnv(t)
	before := e.put(t, newImage("rg1", "img1"))
	// Owner of rg2 only.
	dev := authz.Principal{ID: "d0d0d0d0-0000-0000-0000-000000000002", Name: "dev", Type: authz.TypeUser}
	svc := &image.Service{Store: e.st, Authz: authz.OwnerOf{Owners: map[string][]string{
		dev.ID: {"/subscriptions/" + sub + "/resourceGroups/rg2"},
	}}}
	id := imageID("rg1", "img1")
	tests := []struct {
		name          string
		call          func() error
		action, scope string
	}{
		{"put", func() error { _, err := svc.Put(t.Context(), dev, newImage("rg1", "img1")); return err }, "Microsoft.Compute/images/write", id},
		{"get", func() error { _, err := svc.Get(t.Context(), dev, id); return err }, "Microsoft.Compute/images/read", id},
		{"list group", func() error { _, err := svc.List(t.Context(), dev, sub, "rg1"); return err }, "Microsoft.Compute/images/read", "/subscriptions/" + sub + "/resourceGroups/rg1"},
		{"list subscription", func() error { _, err := svc.List(t.Context(), dev, sub, ""); return err }, "Microsoft.Compute/images/read", "/subscriptions/" + sub},
		{"delete", func() error { return svc.Delete(t.Context(), dev, id) }, "Microsoft.Compute/images/delete", id},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var af *authz.AuthorizationFailedError
			if err := tc.call(); !errors.As(err, &af) {
				t.Fatalf("error = %v, want *authz.AuthorizationFailedError", err)
			}
			want := &authz.AuthorizationFailedError{Principal: dev, Action: tc.action, Scope: tc.scope}
			if diff := cmp.Diff(want, af); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	after, err := e.images.Get(t.Context(), e.admin, id)
	if err != nil {
		t.Fatalf("the image went away after refused calls: %v", err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the image changed after refused calls (-before +after):\n%s", diff)
	}
	// The same principal may work in the group it owns.
	if _, err := svc.Put(t.Context(), dev, newImage("rg2", "mine")); err != nil {
		t.Errorf("Put into the owned group: %v", err)
	}
}
