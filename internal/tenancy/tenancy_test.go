package tenancy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBootstrap(t *testing.T) {
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	st := openStore(t)
	first, err := tenancy.Bootstrap(t.Context(), st)
	if err != nil {
		t.Fatalf("first Bootstrap: %v", err)
	}
	if first.SubscriptionID != tenancy.DefaultSubscriptionID {
		t.Errorf("SubscriptionID = %q, want the default %q", first.SubscriptionID, tenancy.DefaultSubscriptionID)
	}
	if got, want := first.SubscriptionScope(), "/subscriptions/00000000-0000-0000-0000-000000000000"; got != want {
		t.Errorf("SubscriptionScope() = %q, want %q", got, want)
	}
	if first.Subscription != "kiln-default" {
		t.Errorf("Subscription = %q, want kiln-default", first.Subscription)
	}
	for what, id := range map[string]string{"TenantID": first.TenantID, "Admin.ID": first.Admin.ID} {
		if _, err := uuid.Parse(id); err != nil {
			t.Errorf("%s = %q is not a GUID", what, id)
		}
	}
	if first.Admin.ID == first.TenantID {
		t.Error("the admin has the tenant's ID")
	}
	wantAdmin := authz.Principal{ID: first.Admin.ID, Name: "admin", Type: authz.TypeUser, TenantID: first.TenantID}
	if diff := cmp.Diff(wantAdmin, first.Admin); diff != "" {
		t.Errorf("Admin (-want +got):\n%s", diff)
	}

	// Later calls, even with KILN_SUBSCRIPTION_ID now set, return what the first made.
	t.Setenv("KILN_SUBSCRIPTION_ID", "22222222-2222-2222-2222-222222222222")
	for i := range 2 {
		again, err := tenancy.Bootstrap(t.Context(), st)
		if err != nil {
			t.Fatalf("Bootstrap #%d: %v", i+2, err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("Bootstrap #%d differs from the first (-first +again):\n%s", i+2, diff)
		}
	}
}

func TestBootstrapSubscriptionOverride(t *testing.T) {
	tests := []struct {
		name, env string
		wantSub   string
		wantErr   string
	}{
		{"lower-case GUID", "12345678-9abc-def0-1234-56789abcdef0", "12345678-9abc-def0-1234-56789abcdef0", ""},
		{"upper-case GUID is stored lower-case", "12345678-9ABC-DEF0-1234-56789ABCDEF0", "12345678-9abc-def0-1234-56789abcdef0", ""},
		{"not a GUID", "my-subscription", "", `KILN_SUBSCRIPTION_ID "my-subscription" is not a GUID`},
		{"GUID with a character missing", "12345678-9abc-def0-1234-56789abcdef", "", `KILN_SUBSCRIPTION_ID "12345678-9abc-def0-1234-56789abcdef" is not a GUID`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KILN_SUBSCRIPTION_ID", tc.env)
			st := openStore(t)
			d, err := tenancy.Bootstrap(t.Context(), st)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Bootstrap error = %v, want %q", err, tc.wantErr)
				}
				if _, err := st.GetMeta(t.Context(), "bootstrap"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a refused bootstrap was recorded (GetMeta: %v)", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Bootstrap: %v", err)
			}
			if d.SubscriptionID != tc.wantSub {
				t.Errorf("SubscriptionID = %q, want %q", d.SubscriptionID, tc.wantSub)
			}
		})
	}
}

func TestBootstrapDamagedRecord(t *testing.T) {
	st := openStore(t)
	if err := st.SetMeta(t.Context(), "bootstrap", `{"tenantId":`); err != nil {
		t.Fatal(err)
	}
	_, err := tenancy.Bootstrap(t.Context(), st)
	if err == nil || !strings.HasPrefix(err.Error(), "bootstrap record is damaged: ") {
		t.Errorf("Bootstrap error = %v, want one starting %q", err, "bootstrap record is damaged: ")
	}
}

func TestValidateGroupName(t *testing.T) {
	valid := []struct{ name, group string }{
		{"one letter", "a"},
		{"one digit", "1"},
		{"letters and digits", "rg01"},
		{"upper case", "RG-Prod"},
		{"all allowed punctuation", "my_rg-1.(test)"},
		{"starts with punctuation", "(rg)"},
		{"starts with a period", ".rg"},
		{"90 characters", strings.Repeat("a", 90)},
		{"unicode letters, as Azure allows", "rg-café-東京"},
		{"unicode digits", "rg-٣"},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.name, func(t *testing.T) {
			if err := tenancy.ValidateGroupName(tc.group); err != nil {
				t.Errorf("ValidateGroupName(%q) = %v, want nil", tc.group, err)
			}
		})
	}
	invalid := []struct{ name, group string }{
		{"empty", ""},
		{"91 characters", strings.Repeat("a", 91)},
		{"91 unicode characters", strings.Repeat("é", 91)},
		{"ends in a period", "rg."},
		{"only a period", "."},
		{"space", "my rg"},
		{"slash", "rg/sub"},
		{"backslash", `rg\sub`},
		{"colon", "rg:1"},
		{"at sign", "rg@home"},
		{"percent", "rg%20"},
		{"hash", "rg#1"},
		{"brackets", "rg[1]"},
		{"newline", "rg\n"},
		{"symbol", "rg-€"},
	}
	for _, tc := range invalid {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			err := tenancy.ValidateGroupName(tc.group)
			want := fmt.Sprintf("invalid resource group name %q: use 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period", tc.group)
			if err == nil || err.Error() != want {
				t.Errorf("ValidateGroupName(%q) = %v, want %q", tc.group, err, want)
			}
		})
	}
}

// env is a fresh installation: a bootstrapped SQLite store in a temp dir,
// the bootstrapped admin as Owner of the subscription, regions eastus and
// westeurope.
type env struct {
	st     *store.SQLite
	d      tenancy.Defaults
	groups *tenancy.Groups
	admin  authz.Principal
}

func newEnv(t *testing.T) env {
	t.Helper()
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	st := openStore(t)
	d, err := tenancy.Bootstrap(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	regions := []string{"eastus", "westeurope"}
	return env{st: st, d: d, admin: d.Admin, groups: &tenancy.Groups{
		Store:     st,
		Authz:     authz.OwnerOf{Owners: map[string][]string{d.Admin.ID: {d.SubscriptionScope()}}},
		Defaults:  d,
		HasRegion: func(s string) bool { return s == "eastus" || s == "westeurope" },
		Regions:   regions,
	}}
}

func (e env) create(t *testing.T, name, location string, tags map[string]string) tenancy.Group {
	t.Helper()
	g, err := e.groups.Create(t.Context(), e.admin, name, location, tags)
	if err != nil {
		t.Fatalf("Create(%q, %q): %v", name, location, err)
	}
	return g
}

func wantGroup(e env, name, location string, tags map[string]string) tenancy.Group {
	return tenancy.Group{
		ID: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/" + name, Name: name,
		Type: "Microsoft.Resources/resourceGroups", Location: location, Tags: tags,
		Properties: tenancy.GroupProperties{ProvisioningState: "Succeeded"},
	}
}

func TestGroupsCreateAndGet(t *testing.T) {
	e := newEnv(t)
	created := e.create(t, "rg-Build", "westeurope", map[string]string{"env": "dev"})
	want := wantGroup(e, "rg-Build", "westeurope", map[string]string{"env": "dev"})
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	for _, name := range []string{"rg-Build", "rg-build", "RG-BUILD"} {
		t.Run("Get "+name, func(t *testing.T) {
			got, err := e.groups.Get(t.Context(), e.admin, name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
		})
	}

	// The store holds the group as a subscription-level resource.
	r, err := e.st.GetResource(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.ResourceGroup != "" || !strings.EqualFold(r.Parent, e.d.SubscriptionScope()) || r.Location != "westeurope" {
		t.Errorf("stored resource: ResourceGroup %q, Parent %q, Location %q; want \"\", %q, westeurope",
			r.ResourceGroup, r.Parent, r.Location, e.d.SubscriptionScope())
	}
	var body tenancy.Group
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("stored body (-want +got):\n%s", diff)
	}
}

func TestGroupsCreateIsIdempotent(t *testing.T) {
	tests := []struct {
		name        string
		again       string
		tags        map[string]string
		wantName    string
		wantTags    map[string]string
		description string
	}{
		{"same tags", "rg1", map[string]string{"env": "dev"}, "rg1", map[string]string{"env": "dev"}, ""},
		{"new tags replace the old ones", "rg1", map[string]string{"env": "prod", "team": "images"}, "rg1", map[string]string{"env": "prod", "team": "images"}, ""},
		{"no tags clear them", "rg1", nil, "rg1", nil, ""},
		{"another letter case keeps the first spelling", "RG1", map[string]string{"env": "dev"}, "rg1", map[string]string{"env": "dev"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.create(t, "rg1", "eastus", map[string]string{"env": "dev"})
			got := e.create(t, tc.again, "eastus", tc.tags)
			want := wantGroup(e, tc.wantName, "eastus", tc.wantTags)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("second Create (-want +got):\n%s", diff)
			}
			list, err := e.groups.List(t.Context(), e.admin)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]tenancy.Group{want}, list); diff != "" {
				t.Errorf("List after two creates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupsCreateRefusals(t *testing.T) {
	tests := []struct {
		name, group, location string
		want                  string
		wantIs                error
	}{
		{"invalid name", "rg.", "eastus",
			`invalid resource group name "rg.": use 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period`, nil},
		{"unknown location", "rg2", "mars",
			`location "mars" is not a configured region; available: eastus, westeurope (regions are set in kiln.yaml)`, nil},
		{"empty location", "rg2", "",
			`location "" is not a configured region; available: eastus, westeurope (regions are set in kiln.yaml)`, nil},
		{"moving an existing group", "rg1", "westeurope",
			`InvalidResourceGroupLocation: resource group "rg1" already exists in location "eastus"; it cannot be moved to "westeurope": conflict`, store.ErrConflict},
		{"moving an existing group named in another case", "Rg1", "westeurope",
			`InvalidResourceGroupLocation: resource group "Rg1" already exists in location "eastus"; it cannot be moved to "westeurope": conflict`, store.ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			existing := e.create(t, "rg1", "eastus", map[string]string{"keep": "me"})
			_, err := e.groups.Create(t.Context(), e.admin, tc.group, tc.location, map[string]string{"new": "tag"})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Create error = %v, want %q", err, tc.want)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error does not wrap %v", tc.wantIs)
			}
			list, err := e.groups.List(t.Context(), e.admin)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]tenancy.Group{existing}, list); diff != "" {
				t.Errorf("groups after a refused Create (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupsGetMissing(t *testing.T) {
	e := newEnv(t)
	e.create(t, "rg10", "eastus", nil)
	_, err := e.groups.Get(t.Context(), e.admin, "rg1")
	want := "ResourceGroupNotFound: resource group 'rg1' could not be found; create it with: kiln group create -n rg1 -l <location>: not found"
	if err == nil || err.Error() != want {
		t.Fatalf("Get error = %v, want %q", err, want)
	}
	if !errors.Is(err, store.ErrNotFound) {
		t.Error("error does not wrap store.ErrNotFound")
	}
}

func TestGroupsList(t *testing.T) {
	e := newEnv(t)
	empty, err := e.groups.List(t.Context(), e.admin)
	if err != nil {
		t.Fatal(err)
	}
	if empty == nil || len(empty) != 0 {
		t.Errorf("List of a fresh installation = %#v, want an empty, non-nil slice (JSON [])", empty)
	}

	e.create(t, "rg-b", "eastus", nil)
	e.create(t, "rg-a", "westeurope", map[string]string{"k": "v"})
	// Neither a group of another subscription nor a non-group resource is listed.
	other := "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-c"
	for _, r := range []store.Resource{
		{ID: other, Type: tenancy.ResourceGroupType, Name: "rg-c", Subscription: "11111111-1111-1111-1111-111111111111", Body: json.RawMessage(`{}`)},
		{ID: e.groups.GroupID("rg-a") + "/providers/Microsoft.Compute/images/img", Type: "Microsoft.Compute/images", Name: "img",
			Subscription: e.d.SubscriptionID, ResourceGroup: "rg-a", Body: json.RawMessage(`{}`)},
	} {
		if _, err := e.st.CreateResource(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.groups.List(t.Context(), e.admin)
	if err != nil {
		t.Fatal(err)
	}
	want := []tenancy.Group{wantGroup(e, "rg-a", "westeurope", map[string]string{"k": "v"}), wantGroup(e, "rg-b", "eastus", nil)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestGroupsDelete(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.create(t, "rg1", "eastus", nil)
	e.create(t, "rg10", "eastus", nil)
	img := store.Resource{ID: e.groups.GroupID("rg1") + "/providers/Microsoft.Compute/images/img1", Type: "Microsoft.Compute/images",
		Name: "img1", Subscription: e.d.SubscriptionID, ResourceGroup: "rg1", Parent: e.groups.GroupID("rg1"), Body: json.RawMessage(`{}`)}
	if _, err := e.st.CreateResource(ctx, img); err != nil {
		t.Fatal(err)
	}
	// A resource in rg10 must not hold up rg1, nor the other way round.
	if _, err := e.st.CreateResource(ctx, store.Resource{ID: e.groups.GroupID("rg10") + "/providers/Microsoft.Compute/images/x",
		Type: "Microsoft.Compute/images", Name: "x", Subscription: e.d.SubscriptionID, ResourceGroup: "rg10", Body: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"rg1", "RG1"} {
		err := e.groups.Delete(ctx, e.admin, name)
		want := `resource group "` + name + `" still holds 1 resources (first: ` + img.ID + `); delete them first: conflict`
		if err == nil || err.Error() != want {
			t.Errorf("Delete(%q) with a resource inside = %v, want %q", name, err, want)
		}
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("Delete(%q) error does not wrap store.ErrConflict", name)
		}
	}
	if _, err := e.groups.Get(ctx, e.admin, "rg1"); err != nil {
		t.Fatalf("the group went away after a refused Delete: %v", err)
	}

	if err := e.st.DeleteResource(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.groups.Delete(ctx, e.admin, "Rg1"); err != nil {
		t.Fatalf("Delete of the emptied group: %v", err)
	}
	if _, err := e.groups.Get(ctx, e.admin, "rg1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	err := e.groups.Delete(ctx, e.admin, "rg1")
	want := "ResourceGroupNotFound: resource group 'rg1' could not be found; create it with: kiln group create -n rg1 -l <location>: not found"
	if err == nil || err.Error() != want {
		t.Errorf("second Delete = %v, want %q", err, want)
	}
	if _, err := e.groups.Get(ctx, e.admin, "rg10"); err != nil {
		t.Errorf("rg10 was touched: %v", err)
	}
}

func TestGroupsRefuseNonOwners(t *testing.T) {
	e := newEnv(t)
	e.create(t, "rg1", "eastus", nil)
	intruder := authz.Principal{ID: "99999999-9999-9999-9999-999999999999", Name: "intruder", Type: authz.TypeUser, TenantID: e.d.TenantID}
	const groupID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
	tests := []struct {
		name   string
		call   func() error
		action string
		scope  string
	}{
		{"create", func() error {
			_, err := e.groups.Create(t.Context(), intruder, "rg2", "eastus", nil)
			return err
		}, "Microsoft.Resources/subscriptions/resourceGroups/write", groupID + "rg2"},
		{"update", func() error {
			_, err := e.groups.Create(t.Context(), intruder, "rg1", "eastus", map[string]string{"owned": "yes"})
			return err
		}, "Microsoft.Resources/subscriptions/resourceGroups/write", groupID + "rg1"},
		{"get", func() error {
			_, err := e.groups.Get(t.Context(), intruder, "rg1")
			return err
		}, "Microsoft.Resources/subscriptions/resourceGroups/read", groupID + "rg1"},
		{"list", func() error {
			_, err := e.groups.List(t.Context(), intruder)
			return err
		}, "Microsoft.Resources/subscriptions/resourceGroups/read", "/subscriptions/00000000-0000-0000-0000-000000000000"},
		{"delete", func() error {
			return e.groups.Delete(t.Context(), intruder, "rg1")
		}, "Microsoft.Resources/subscriptions/resourceGroups/delete", groupID + "rg1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var af *authz.AuthorizationFailedError
			if !errors.As(err, &af) {
				t.Fatalf("error = %v, want *authz.AuthorizationFailedError", err)
			}
			want := &authz.AuthorizationFailedError{Principal: intruder, Action: tc.action, Scope: tc.scope}
			if diff := cmp.Diff(want, af); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			for _, part := range []string{"intruder (99999999-9999-9999-9999-999999999999)", "'" + tc.action + "'", "'" + tc.scope + "'"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("message %q does not name %s", err, part)
				}
			}
		})
	}
	// Nothing the intruder tried took effect.
	list, err := e.groups.List(t.Context(), e.admin)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]tenancy.Group{wantGroup(e, "rg1", "eastus", nil)}, list); diff != "" {
		t.Errorf("groups after the intruder's calls (-want +got):\n%s", diff)
	}
}
