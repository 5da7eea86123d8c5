package arm

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	sub1    = "00000000-0000-0000-0000-000000000001"
	rgID    = "/subscriptions/" + sub1 + "/resourceGroups/ImageBuilderRG"
	galVer  = rgID + "/providers/Microsoft.Compute/galleries/myGallery/images/debian12/versions/1.0.0"
	lockExt = rgID + "/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Authorization/locks/noDelete"
)

// idFacts is everything an ID reports about itself.
type idFacts struct {
	String, Subscription, ResourceGroup, Provider, ResourceType, Name, Parent string
	Names                                                                     []string
}

func factsOf(id ID) idFacts {
	return idFacts{
		String: id.String(), Subscription: id.Subscription(), ResourceGroup: id.ResourceGroup(),
		Provider: id.Provider(), ResourceType: id.ResourceType(), Name: id.Name(), Parent: id.Parent().String(),
		Names: id.Names(),
	}
}

func TestParseID(t *testing.T) {
	cases := []struct {
		in   string
		want idFacts
	}{
		{"/", idFacts{String: "/", Provider: "Microsoft.Resources", ResourceType: "Microsoft.Resources/tenants", Parent: "/"}},
		{"/subscriptions/" + sub1, idFacts{
			String: "/subscriptions/" + sub1, Subscription: sub1, Provider: "Microsoft.Resources",
			ResourceType: "Microsoft.Resources/subscriptions", Name: sub1, Parent: "/"}},
		{"/SUBSCRIPTIONS/" + sub1 + "/resourcegroups/ImageBuilderRG", idFacts{
			String: rgID, Subscription: sub1, ResourceGroup: "ImageBuilderRG", Provider: "Microsoft.Resources",
			ResourceType: "Microsoft.Resources/resourceGroups", Name: "ImageBuilderRG", Parent: "/subscriptions/" + sub1}},
		{galVer, idFacts{
			String: galVer, Subscription: sub1, ResourceGroup: "ImageBuilderRG", Provider: "Microsoft.Compute",
			ResourceType: "Microsoft.Compute/galleries/images/versions", Name: "1.0.0",
			Parent: rgID + "/providers/Microsoft.Compute/galleries/myGallery/images/debian12",
			Names:  []string{"myGallery", "debian12", "1.0.0"}}},
		{rgID + "/providers/Microsoft.Compute/galleries/g", idFacts{
			String: rgID + "/providers/Microsoft.Compute/galleries/g", Subscription: sub1, ResourceGroup: "ImageBuilderRG",
			Provider: "Microsoft.Compute", ResourceType: "Microsoft.Compute/galleries", Name: "g", Parent: rgID,
			Names: []string{"g"}}},
		{"/subscriptions/" + sub1 + "/providers/Microsoft.Authorization/roleDefinitions/r1", idFacts{
			String: "/subscriptions/" + sub1 + "/providers/Microsoft.Authorization/roleDefinitions/r1", Subscription: sub1,
			Provider: "Microsoft.Authorization", ResourceType: "Microsoft.Authorization/roleDefinitions", Name: "r1",
			Parent: "/subscriptions/" + sub1, Names: []string{"r1"}}},
		{"/providers/Microsoft.Management/managementGroups/mg1", idFacts{
			String: "/providers/Microsoft.Management/managementGroups/mg1", Provider: "Microsoft.Management",
			ResourceType: "Microsoft.Management/managementGroups", Name: "mg1", Parent: "/", Names: []string{"mg1"}}},
		{lockExt, idFacts{
			String: lockExt, Subscription: sub1, ResourceGroup: "ImageBuilderRG", Provider: "Microsoft.Authorization",
			ResourceType: "Microsoft.Authorization/locks", Name: "noDelete",
			Parent: rgID + "/providers/Microsoft.Compute/virtualMachines/vm1", Names: []string{"noDelete"}}},
		{rgID + "/providers/Microsoft.Compute/virtualMachines/providers", idFacts{
			String: rgID + "/providers/Microsoft.Compute/virtualMachines/providers", Subscription: sub1, ResourceGroup: "ImageBuilderRG",
			Provider: "Microsoft.Compute", ResourceType: "Microsoft.Compute/virtualMachines", Name: "providers", Parent: rgID,
			Names: []string{"providers"}}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			id, err := ParseID(tc.in)
			if err != nil {
				t.Fatalf("ParseID: %v", err)
			}
			if diff := cmp.Diff(tc.want, factsOf(id)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseIDErrors(t *testing.T) {
	const shape = "; expected " + IDShape
	cases := []struct{ in, want string }{
		{"", `invalid resource ID "": it is empty`},
		{"subscriptions/x", `invalid resource ID "subscriptions/x": it must start with "/"`},
		{"/subscriptions/x/", `invalid resource ID "/subscriptions/x/": it must not end with "/"`},
		{"/subscriptions//resourceGroups/rg", `invalid resource ID "/subscriptions//resourceGroups/rg": segment 2 is empty ("//")`},
		{"/subscriptions", `invalid resource ID "/subscriptions": "subscriptions" is not followed by a subscription ID`},
		{"/subscriptions/s/resourceGroups", `invalid resource ID "/subscriptions/s/resourceGroups": "resourceGroups" is not followed by a resource group name`},
		{"/resourceGroups/rg", `invalid resource ID "/resourceGroups/rg": unexpected segment "resourceGroups"; expected "subscriptions" or "providers"`},
		{"/subscriptions/s/resourceGroup/rg", `invalid resource ID "/subscriptions/s/resourceGroup/rg": unexpected segment "resourceGroup"; expected "providers"`},
		{"/subscriptions/s/providers", `invalid resource ID "/subscriptions/s/providers": "providers" is not followed by a resource provider namespace`},
		{"/subscriptions/s/providers/Microsoft.Compute", `invalid resource ID "/subscriptions/s/providers/Microsoft.Compute": namespace "Microsoft.Compute" is not followed by a resource type and name`},
		{"/subscriptions/s/providers/Microsoft.Compute/images", `invalid resource ID "/subscriptions/s/providers/Microsoft.Compute/images": resource type "images" is not followed by a name`},
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images", `invalid resource ID "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images": resource type "images" is not followed by a name`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseID(tc.in)
			if err == nil {
				t.Fatal("ParseID succeeded")
			}
			if got := err.Error(); got != tc.want+shape {
				t.Errorf("got:  %s\nwant: %s", got, tc.want+shape)
			}
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("error does not wrap ErrInvalidID")
			}
		})
	}
}

func mustID(t *testing.T, s string) ID {
	t.Helper()
	id, err := ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEqualIDs(t *testing.T) {
	a := mustID(t, galVer)
	b := mustID(t, "/SUBSCRIPTIONS/"+sub1+"/RESOURCEGROUPS/imagebuilderrg/PROVIDERS/microsoft.compute/GALLERIES/MYGALLERY/images/DEBIAN12/versions/1.0.0")
	if !EqualIDs(a, b) {
		t.Errorf("EqualIDs(%s, %s) = false", a, b)
	}
	if EqualIDs(a, a.Parent()) {
		t.Errorf("an ID equals its parent")
	}
	if EqualIDs(ID{}, ID{}) {
		t.Errorf("zero IDs compare equal")
	}
}

func TestIsUnder(t *testing.T) {
	cases := []struct {
		id, scope string
		want      bool
	}{
		{galVer, rgID, true},
		{galVer, galVer, true},
		{galVer, "/subscriptions/" + sub1, true},
		{galVer, "/", true},
		{"/", "/", true},
		{galVer, "/SUBSCRIPTIONS/" + sub1 + "/resourcegroups/imagebuilderrg", true},
		{rgID + "2/providers/Microsoft.Compute/images/i", rgID, false},
		{rgID, galVer, false},
		{lockExt, rgID + "/providers/Microsoft.Compute/virtualMachines/vm1", true},
		{"/subscriptions/other", "/subscriptions/" + sub1, false},
		{"/providers/Microsoft.Management/managementGroups/mg1", "/subscriptions/" + sub1, false},
	}
	for _, tc := range cases {
		if got := IsUnder(mustID(t, tc.id), mustID(t, tc.scope)); got != tc.want {
			t.Errorf("IsUnder(%s, %s) = %v, want %v", tc.id, tc.scope, got, tc.want)
		}
	}
	if IsUnder(ID{}, mustID(t, "/")) {
		t.Errorf("zero ID is under the root")
	}
}

func TestConstructors(t *testing.T) {
	if got := SubscriptionID(sub1).String(); got != "/subscriptions/"+sub1 {
		t.Errorf("SubscriptionID = %s", got)
	}
	if got := ResourceGroupID(sub1, "ImageBuilderRG").String(); got != rgID {
		t.Errorf("ResourceGroupID = %s", got)
	}
	if !ResourceGroupID(sub1, "a/b").IsZero() || !SubscriptionID("").IsZero() {
		t.Errorf("invalid names gave a non-zero ID")
	}
	id, err := ResourceID(sub1, "ImageBuilderRG", "Microsoft.Compute/galleries/images/versions", "myGallery", "debian12", "1.0.0")
	if err != nil || id.String() != galVer {
		t.Errorf("ResourceID = %s, %v", id, err)
	}
	if id, err := ResourceID("", "", "Microsoft.Management/managementGroups", "mg"); err != nil || id.String() != "/providers/Microsoft.Management/managementGroups/mg" {
		t.Errorf("tenant-level ResourceID = %s, %v", id, err)
	}
	errCases := map[string]func() (ID, error){
		`invalid resource ID: resource type "Microsoft.Compute/galleries/images" needs 2 name(s), got 1`: func() (ID, error) {
			return ResourceID(sub1, "rg", "Microsoft.Compute/galleries/images", "g")
		},
		`invalid resource ID: resource type "images" is not of the form {namespace}/{type}[/{childType}...]`: func() (ID, error) {
			return ResourceID(sub1, "rg", "images", "g")
		},
		`invalid resource ID: resource group "rg" needs a subscription`: func() (ID, error) {
			return ResourceID("", "rg", "Microsoft.Compute/images", "g")
		},
		`invalid resource ID: resource names ["a/b"] must be non-empty and must not contain "/"`: func() (ID, error) {
			return ResourceID(sub1, "rg", "Microsoft.Compute/images", "a/b")
		},
	}
	for want, f := range errCases {
		if _, err := f(); err == nil || err.Error() != want || !errors.Is(err, ErrInvalidID) {
			t.Errorf("got %v, want %s", err, want)
		}
	}
}

func TestIDChildAndKinds(t *testing.T) {
	def := mustID(t, rgID+"/providers/Microsoft.Compute/galleries/myGallery/images/debian12")
	if got := def.Child("versions", "1.0.0").String(); got != galVer {
		t.Errorf("Child = %s", got)
	}
	if !mustID(t, rgID).Child("versions", "1").IsZero() {
		t.Errorf("Child of a resource group is not zero")
	}
	if !mustID(t, "/").IsRoot() || !mustID(t, "/subscriptions/s").IsSubscription() || !mustID(t, rgID).IsResourceGroup() {
		t.Errorf("kind predicates wrong")
	}
	if def.IsRoot() || def.IsSubscription() || def.IsResourceGroup() {
		t.Errorf("a resource reports a scope kind")
	}
	if got := mustID(t, galVer).Key(); got != "/subscriptions/"+sub1+"/resourcegroups/imagebuilderrg/providers/microsoft.compute/galleries/mygallery/images/debian12/versions/1.0.0" {
		t.Errorf("Key = %s", got)
	}
}

func TestIDJSON(t *testing.T) {
	in := struct{ ID ID }{mustID(t, galVer)}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ ID ID }
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !EqualIDs(in.ID, out.ID) {
		t.Errorf("round trip: %s != %s", in.ID, out.ID)
	}
	if err := json.Unmarshal([]byte(`{"ID":"nope"}`), &out); !errors.Is(err, ErrInvalidID) {
		t.Errorf("bad ID in JSON: %v", err)
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"/", galVer, lockExt, rgID, "/providers/A.B/c/d", "/subscriptions/x/resourceGroups/y/providers/A/b/c/providers/D/e/f", "//", "/a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		again, err := ParseID(id.String())
		if err != nil {
			t.Fatalf("String() of a parsed ID does not parse: %q: %v", id.String(), err)
		}
		if again.String() != id.String() || !EqualIDs(id, again) {
			t.Fatalf("round trip changed %q to %q", id.String(), again.String())
		}
		if !IsUnder(id, id.Parent()) {
			t.Fatalf("%q is not under its parent %q", id, id.Parent())
		}
		_ = id.ResourceType() + id.Name() + id.Provider()
	})
}
