// Package storetest is the conformance suite of store.Store. Every backend
// (SQLite today, PostgreSQL later) runs it, so that the domain packages can
// rely on one behaviour whatever the database:
//
//   - resource IDs are keys compared case-insensitively, as ARM IDs are;
//   - every write gives a resource a new ETag, and PutResource with ifMatch is
//     an optimistic-concurrency check (ErrConflict when stale, ErrNotFound
//     when there is nothing to match);
//   - ListResources filters on type, subscription, group and parent, also
//     case-insensitively, and orders by ID;
//   - runs list newest first, and a cancel request survives a later update;
//   - concurrent writers are serialised: of many creators of one ID exactly
//     one wins.
//
// Type, Subscription, ResourceGroup and Parent are index keys: a backend may
// return them in another letter case than they were written (SQLite returns
// them lower-cased), so the suite compares them ignoring case. The same goes
// for Run.TemplateID. ID, Name, Location and Body come back as written.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kiln-dev/kiln/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call and arrange (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Resources", func(t *testing.T) { testResources(t, open) })
	t.Run("ListResources", func(t *testing.T) { testListResources(t, open) })
	t.Run("Runs", func(t *testing.T) { testRuns(t, open) })
	t.Run("Meta", func(t *testing.T) { testMeta(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("Access", func(t *testing.T) { testAccess(t, open) })
}

const (
	subA = "aaaaaaaa-0000-0000-0000-000000000001"
	subB = "bbbbbbbb-0000-0000-0000-000000000002"

	groupType   = "Microsoft.Resources/resourceGroups"
	imageType   = "Microsoft.Compute/images"
	galleryType = "Microsoft.Compute/galleries"
	defType     = "Microsoft.Compute/galleries/images"
)

func subID(sub string) string { return "/subscriptions/" + sub }

func groupID(sub, rg string) string { return subID(sub) + "/resourceGroups/" + rg }

// groupRes is a resource group: a subscription-level resource.
func groupRes(sub, rg string) store.Resource {
	return store.Resource{
		ID: groupID(sub, rg), Type: groupType, Name: rg,
		Subscription: sub, Parent: subID(sub), Location: "eastus",
		Body: json.RawMessage(fmt.Sprintf(`{"name":%q,"location":"eastus"}`, rg)),
	}
}

// inGroup is a top-level resource of type typ in a resource group.
func inGroup(sub, rg, typ, name string) store.Resource {
	return store.Resource{
		ID: groupID(sub, rg) + "/providers/" + typ + "/" + name, Type: typ, Name: name,
		Subscription: sub, ResourceGroup: rg, Parent: groupID(sub, rg), Location: "westeurope",
		Body: json.RawMessage(fmt.Sprintf(`{"name":%q,"properties":{"n":1}}`, name)),
	}
}

// child is a child resource (a gallery image definition) of parent.
func child(parent store.Resource, typ, name string) store.Resource {
	return store.Resource{
		ID: parent.ID + "/images/" + name, Type: typ, Name: name,
		Subscription: parent.Subscription, ResourceGroup: parent.ResourceGroup, Parent: parent.ID, Location: parent.Location,
		Body: json.RawMessage(fmt.Sprintf(`{"name":%q}`, name)),
	}
}

// jsonEqual compares JSON documents by value, so a backend may store
// bodies in a normalised form (PostgreSQL jsonb does).
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return string(a) == string(b)
	}
	return cmp.Equal(va, vb)
}

// resourceOpts compare resources as the package comment describes.
var resourceOpts = cmp.Options{
	cmp.Comparer(jsonEqual),
	cmpopts.EquateApproxTime(time.Microsecond),
	cmp.Transformer("foldIndexKeys", func(r store.Resource) store.Resource {
		r.Type, r.Subscription = strings.ToLower(r.Type), strings.ToLower(r.Subscription)
		r.ResourceGroup, r.Parent = strings.ToLower(r.ResourceGroup), strings.ToLower(r.Parent)
		return r
	}),
}

var runOpts = cmp.Options{
	cmp.Comparer(jsonEqual),
	cmpopts.EquateApproxTime(time.Microsecond),
	cmp.Transformer("foldTemplateID", func(r store.Run) store.Run {
		r.TemplateID = strings.ToLower(r.TemplateID)
		return r
	}),
}

func mustCreate(t *testing.T, s store.Store, r store.Resource) store.Resource {
	t.Helper()
	got, err := s.CreateResource(t.Context(), r)
	if err != nil {
		t.Fatalf("CreateResource(%s): %v", r.ID, err)
	}
	return got
}

func mustGet(t *testing.T, s store.Store, id string) store.Resource {
	t.Helper()
	got, err := s.GetResource(t.Context(), id)
	if err != nil {
		t.Fatalf("GetResource(%s): %v", id, err)
	}
	return got
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
}

func testResources(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("create fills ETag and timestamps and get returns the same resource", func(t *testing.T) {
		s := open(t)
		in := inGroup(subA, "rg1", imageType, "img1")
		before := time.Now()
		created := mustCreate(t, s, in)
		if created.ETag == "" {
			t.Error("CreateResource returned an empty ETag")
		}
		if created.CreatedAt.Before(before.Add(-time.Second)) || created.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("CreatedAt = %v, want about now (%v)", created.CreatedAt, before)
		}
		if !created.UpdatedAt.Equal(created.CreatedAt) {
			t.Errorf("UpdatedAt = %v, want CreatedAt %v for a new resource", created.UpdatedAt, created.CreatedAt)
		}
		want := in
		want.ETag, want.CreatedAt, want.UpdatedAt = created.ETag, created.CreatedAt, created.UpdatedAt
		if diff := cmp.Diff(want, created, resourceOpts); diff != "" {
			t.Errorf("CreateResource returned (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, mustGet(t, s, in.ID), resourceOpts); diff != "" {
			t.Errorf("GetResource (-want +got):\n%s", diff)
		}
	})

	t.Run("get is case-insensitive", func(t *testing.T) {
		s := open(t)
		in := inGroup(subA, "MyGroup", imageType, "Img1")
		created := mustCreate(t, s, in)
		for _, tc := range []struct{ name, id string }{
			{"as written", in.ID},
			{"lower case", strings.ToLower(in.ID)},
			{"upper case", strings.ToUpper(in.ID)},
			{"trailing slash", in.ID + "/"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := mustGet(t, s, tc.id)
				if got.ID != in.ID {
					t.Errorf("ID = %q, want it as first written: %q", got.ID, in.ID)
				}
				if got.ETag != created.ETag {
					t.Errorf("ETag = %q, want %q", got.ETag, created.ETag)
				}
			})
		}
	})

	t.Run("get of a missing resource is ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreate(t, s, groupRes(subA, "rg1"))
		_, err := s.GetResource(t.Context(), groupID(subA, "rg10"))
		wantErrIs(t, "GetResource(rg10)", err, store.ErrNotFound)
	})

	t.Run("create of an existing ID is ErrConflict and changes nothing", func(t *testing.T) {
		for _, tc := range []struct{ name, id string }{
			{"same spelling", ""},
			{"other letter case", strings.ToUpper(groupID(subA, "rg1"))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				first := mustCreate(t, s, groupRes(subA, "rg1"))
				dup := groupRes(subA, "rg1")
				if tc.id != "" {
					dup.ID = tc.id
				}
				dup.Body = json.RawMessage(`{"name":"impostor"}`)
				_, err := s.CreateResource(t.Context(), dup)
				wantErrIs(t, "second CreateResource", err, store.ErrConflict)
				if diff := cmp.Diff(first, mustGet(t, s, first.ID), resourceOpts); diff != "" {
					t.Errorf("stored resource changed (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("put without ifMatch creates a missing resource", func(t *testing.T) {
		s := open(t)
		in := inGroup(subA, "rg1", imageType, "img1")
		put, err := s.PutResource(t.Context(), in, "")
		if err != nil {
			t.Fatalf("PutResource: %v", err)
		}
		if put.ETag == "" || put.CreatedAt.IsZero() || put.UpdatedAt.IsZero() {
			t.Errorf("PutResource returned ETag %q, CreatedAt %v, UpdatedAt %v; want all set", put.ETag, put.CreatedAt, put.UpdatedAt)
		}
		if diff := cmp.Diff(put, mustGet(t, s, in.ID), resourceOpts); diff != "" {
			t.Errorf("GetResource after PutResource (-put +get):\n%s", diff)
		}
	})

	t.Run("put with ifMatch on a missing resource is ErrNotFound and creates nothing", func(t *testing.T) {
		s := open(t)
		in := inGroup(subA, "rg1", imageType, "img1")
		_, err := s.PutResource(t.Context(), in, "some-etag")
		wantErrIs(t, "PutResource", err, store.ErrNotFound)
		_, err = s.GetResource(t.Context(), in.ID)
		wantErrIs(t, "GetResource after refused put", err, store.ErrNotFound)
	})

	t.Run("every write changes the ETag", func(t *testing.T) {
		s := open(t)
		in := groupRes(subA, "rg1")
		seen := map[string]string{}
		note := func(step, etag string) {
			t.Helper()
			if prev, dup := seen[etag]; dup {
				t.Errorf("%s: ETag %q was already given by %s", step, etag, prev)
			}
			seen[etag] = step
		}
		r := mustCreate(t, s, in)
		note("create", r.ETag)
		for i, ifMatch := range []func() string{
			func() string { return r.ETag }, // conditional
			func() string { return "" },     // unconditional
			func() string { return r.ETag },
		} {
			in.Body = json.RawMessage(fmt.Sprintf(`{"write":%d}`, i))
			var err error
			if r, err = s.PutResource(t.Context(), in, ifMatch()); err != nil {
				t.Fatalf("put %d: %v", i, err)
			}
			note(fmt.Sprintf("put %d", i), r.ETag)
		}
		if got := mustGet(t, s, in.ID); got.ETag != r.ETag {
			t.Errorf("GetResource ETag = %q, want the last write's %q", got.ETag, r.ETag)
		}
	})

	t.Run("put ifMatch", func(t *testing.T) {
		tests := []struct {
			name    string
			ifMatch func(created, updated store.Resource) string
			wantErr error
		}{
			{"current ETag replaces", func(_, u store.Resource) string { return u.ETag }, nil},
			{"empty ifMatch replaces unconditionally", func(_, _ store.Resource) string { return "" }, nil},
			{"stale ETag is ErrConflict", func(c, _ store.Resource) string { return c.ETag }, store.ErrConflict},
			{"made-up ETag is ErrConflict", func(_, _ store.Resource) string { return "not-an-etag" }, store.ErrConflict},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				in := groupRes(subA, "rg1")
				created := mustCreate(t, s, in)
				in.Body = json.RawMessage(`{"v":2}`)
				updated, err := s.PutResource(t.Context(), in, created.ETag)
				if err != nil {
					t.Fatalf("first put: %v", err)
				}
				in.Body = json.RawMessage(`{"v":3}`)
				got, err := s.PutResource(t.Context(), in, tc.ifMatch(created, updated))
				stored := mustGet(t, s, in.ID)
				if tc.wantErr != nil {
					wantErrIs(t, "PutResource", err, tc.wantErr)
					if diff := cmp.Diff(updated, stored, resourceOpts); diff != "" {
						t.Errorf("a refused put changed the resource (-want +got):\n%s", diff)
					}
					return
				}
				if err != nil {
					t.Fatalf("PutResource: %v", err)
				}
				if diff := cmp.Diff(got, stored, resourceOpts); diff != "" {
					t.Errorf("GetResource after put (-put +get):\n%s", diff)
				}
				if !jsonEqual(stored.Body, in.Body) {
					t.Errorf("Body = %s, want %s", stored.Body, in.Body)
				}
			})
		}
	})

	t.Run("put keeps CreatedAt and moves UpdatedAt", func(t *testing.T) {
		s := open(t)
		in := groupRes(subA, "rg1")
		created := mustCreate(t, s, in)
		time.Sleep(2 * time.Millisecond)
		put, err := s.PutResource(t.Context(), in, "")
		if err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, s, in.ID)
		if !got.CreatedAt.Round(time.Microsecond).Equal(created.CreatedAt.Round(time.Microsecond)) {
			t.Errorf("CreatedAt = %v, want the creation time %v", got.CreatedAt, created.CreatedAt)
		}
		if !put.CreatedAt.Round(time.Microsecond).Equal(created.CreatedAt.Round(time.Microsecond)) {
			t.Errorf("PutResource returned CreatedAt %v, want the creation time %v", put.CreatedAt, created.CreatedAt)
		}
		if !got.UpdatedAt.After(created.UpdatedAt) {
			t.Errorf("UpdatedAt = %v, want after the creation's %v", got.UpdatedAt, created.UpdatedAt)
		}
	})

	t.Run("put through another letter case replaces the same resource", func(t *testing.T) {
		s := open(t)
		in := groupRes(subA, "rg1")
		mustCreate(t, s, in)
		again := in
		again.ID = strings.ToUpper(in.ID)
		again.Body = json.RawMessage(`{"v":2}`)
		if _, err := s.PutResource(t.Context(), again, ""); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListResources(t.Context(), store.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 {
			t.Fatalf("ListResources returned %d resources, want 1: %+v", len(all), all)
		}
		if !jsonEqual(all[0].Body, again.Body) {
			t.Errorf("Body = %s, want %s", all[0].Body, again.Body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := open(t)
		keep := mustCreate(t, s, groupRes(subA, "rg10"))
		gone := mustCreate(t, s, groupRes(subA, "rg1"))
		if err := s.DeleteResource(t.Context(), strings.ToUpper(gone.ID)); err != nil {
			t.Fatalf("DeleteResource (upper case ID): %v", err)
		}
		_, err := s.GetResource(t.Context(), gone.ID)
		wantErrIs(t, "GetResource after delete", err, store.ErrNotFound)
		wantErrIs(t, "second DeleteResource", s.DeleteResource(t.Context(), gone.ID), store.ErrNotFound)
		if diff := cmp.Diff(keep, mustGet(t, s, keep.ID), resourceOpts); diff != "" {
			t.Errorf("deleting rg1 touched rg10 (-want +got):\n%s", diff)
		}
		// A deleted ID can be created again.
		mustCreate(t, s, groupRes(subA, "rg1"))
	})
}

func testListResources(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	gal := inGroup(subA, "rg1", galleryType, "gal")
	fixtures := map[string]store.Resource{
		"A/rg1":         groupRes(subA, "rg1"),
		"A/rg2":         groupRes(subA, "rg2"),
		"A/rg1/img-a":   inGroup(subA, "rg1", imageType, "img-a"),
		"A/rg1/img-b":   inGroup(subA, "rg1", imageType, "img-b"),
		"A/rg2/img-c":   inGroup(subA, "rg2", imageType, "img-c"),
		"A/rg1/gal":     gal,
		"A/rg1/gal/def": child(gal, defType, "def"),
		"B/rg1":         groupRes(subB, "rg1"),
		"B/rg1/img-a":   inGroup(subB, "rg1", imageType, "img-a"),
	}
	label := map[string]string{}
	for l, r := range fixtures {
		mustCreate(t, s, r)
		label[strings.ToLower(r.ID)] = l
	}

	// Results are ordered by ID, compared case-insensitively.
	all := []string{"A/rg1", "A/rg1/gal", "A/rg1/gal/def", "A/rg1/img-a", "A/rg1/img-b", "A/rg2", "A/rg2/img-c", "B/rg1", "B/rg1/img-a"}
	tests := []struct {
		name   string
		filter store.ListFilter
		want   []string
	}{
		{"no filter lists everything", store.ListFilter{}, all},
		{"by type", store.ListFilter{Type: groupType}, []string{"A/rg1", "A/rg2", "B/rg1"}},
		{"by type in another letter case", store.ListFilter{Type: "MICROSOFT.COMPUTE/images"}, []string{"A/rg1/img-a", "A/rg1/img-b", "A/rg2/img-c", "B/rg1/img-a"}},
		{"by type and subscription", store.ListFilter{Type: imageType, Subscription: strings.ToUpper(subA)}, []string{"A/rg1/img-a", "A/rg1/img-b", "A/rg2/img-c"}},
		{"by subscription", store.ListFilter{Subscription: subB}, []string{"B/rg1", "B/rg1/img-a"}},
		{"by group: the group's own record is not in it", store.ListFilter{Subscription: subA, ResourceGroup: "RG1"}, []string{"A/rg1/gal", "A/rg1/gal/def", "A/rg1/img-a", "A/rg1/img-b"}},
		{"by group across subscriptions", store.ListFilter{Type: imageType, ResourceGroup: "rg1"}, []string{"A/rg1/img-a", "A/rg1/img-b", "B/rg1/img-a"}},
		{"by parent: children of a gallery", store.ListFilter{Parent: strings.ToUpper(gal.ID)}, []string{"A/rg1/gal/def"}},
		{"by parent: groups of a subscription", store.ListFilter{Parent: subID(subA)}, []string{"A/rg1", "A/rg2"}},
		{"by parent: top-level resources of a group", store.ListFilter{Parent: groupID(subA, "rg1")}, []string{"A/rg1/gal", "A/rg1/img-a", "A/rg1/img-b"}},
		{"all four fields", store.ListFilter{Type: defType, Subscription: subA, ResourceGroup: "rg1", Parent: gal.ID}, []string{"A/rg1/gal/def"}},
		{"nothing matches", store.ListFilter{Type: "Microsoft.Compute/virtualMachines"}, nil},
		{"group name is not a prefix match", store.ListFilter{ResourceGroup: "rg"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := s.ListResources(t.Context(), tc.filter)
			if err != nil {
				t.Fatalf("ListResources(%+v): %v", tc.filter, err)
			}
			var got []string
			for _, r := range rs {
				l, ok := label[strings.ToLower(r.ID)]
				if !ok {
					l = "unknown " + r.ID
				}
				got = append(got, l)
				if want := fixtures[l]; ok && !jsonEqual(r.Body, want.Body) {
					t.Errorf("%s: Body = %s, want %s", l, r.Body, want.Body)
				}
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListResources(%+v) (-want +got):\n%s", tc.filter, diff)
			}
		})
	}
}

const (
	template1 = "/subscriptions/" + subA + "/resourceGroups/rg1/providers/Microsoft.VirtualMachineImages/imageTemplates/t1"
	template2 = "/subscriptions/" + subA + "/resourceGroups/rg1/providers/Microsoft.VirtualMachineImages/imageTemplates/t2"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newRun(id, templateID string, start time.Time) store.Run {
	return store.Run{
		ID: id, TemplateID: templateID, RunState: "Running", RunSubState: "Queued",
		StartTime: start, PID: 4242, BootID: "8c1f7d2e-boot", WorkDir: "/var/lib/kiln/runs/" + id,
		Outputs: json.RawMessage(`null`),
	}
}

func mustGetRun(t *testing.T, s store.Store, id string) store.Run {
	t.Helper()
	r, err := s.GetRun(t.Context(), id)
	if err != nil {
		t.Fatalf("GetRun(%s): %v", id, err)
	}
	return r
}

func runIDs(t *testing.T, s store.Store, templateID string) []string {
	t.Helper()
	runs, err := s.ListRuns(t.Context(), templateID)
	if err != nil {
		t.Fatalf("ListRuns(%q): %v", templateID, err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testRuns(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("create and get", func(t *testing.T) {
		s := open(t)
		in := newRun("run-1", template1, t0.Add(123456789*time.Nanosecond))
		in.Message = "building"
		in.Outputs = json.RawMessage(`{"runOutputs":[{"name":"img","artifactId":"x"}]}`)
		if err := s.CreateRun(t.Context(), in); err != nil {
			t.Fatalf("CreateRun: %v", err)
		}
		got := mustGetRun(t, s, "run-1")
		if diff := cmp.Diff(in, got, runOpts); diff != "" {
			t.Errorf("GetRun (-want +got):\n%s", diff)
		}
		if !got.EndTime.IsZero() {
			t.Errorf("EndTime = %v, want zero while running", got.EndTime)
		}
	})

	t.Run("create of an existing run ID is ErrConflict", func(t *testing.T) {
		s := open(t)
		first := newRun("run-1", template1, t0)
		if err := s.CreateRun(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		wantErrIs(t, "second CreateRun", s.CreateRun(t.Context(), newRun("run-1", template2, t0.Add(time.Hour))), store.ErrConflict)
		if diff := cmp.Diff(first, mustGetRun(t, s, "run-1"), runOpts); diff != "" {
			t.Errorf("refused CreateRun changed the run (-want +got):\n%s", diff)
		}
	})

	t.Run("missing runs are ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.GetRun(t.Context(), "nope")
		wantErrIs(t, "GetRun", err, store.ErrNotFound)
		wantErrIs(t, "UpdateRun", s.UpdateRun(t.Context(), newRun("nope", template1, t0)), store.ErrNotFound)
		wantErrIs(t, "RequestCancel", s.RequestCancel(t.Context(), "nope"), store.ErrNotFound)
	})

	t.Run("update replaces the run's fields", func(t *testing.T) {
		s := open(t)
		in := newRun("run-1", template1, t0)
		if err := s.CreateRun(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		done := in
		done.RunState, done.RunSubState, done.Message = "Failed", "Customizing", "customizer 'harden' exited 1"
		done.EndTime = t0.Add(90*time.Second + 5*time.Millisecond)
		done.PID, done.WorkDir = 0, ""
		done.Outputs = json.RawMessage(`{"runState":"Failed"}`)
		if err := s.UpdateRun(t.Context(), done); err != nil {
			t.Fatalf("UpdateRun: %v", err)
		}
		if diff := cmp.Diff(done, mustGetRun(t, s, "run-1"), runOpts); diff != "" {
			t.Errorf("GetRun after UpdateRun (-want +got):\n%s", diff)
		}
	})

	t.Run("list is newest first and per template", func(t *testing.T) {
		s := open(t)
		// Start times that differ below the second, including one on a whole
		// second, so that the order cannot come from comparing text.
		for _, r := range []store.Run{
			newRun("t1-a", template1, t0),
			newRun("t1-c", template1, t0.Add(150*time.Millisecond)),
			newRun("t2-a", template2, t0.Add(time.Second)),
			newRun("t1-b", template1, t0.Add(100*time.Millisecond)),
			newRun("t1-d", template1, t0.Add(2*time.Second)),
		} {
			if err := s.CreateRun(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name, templateID string
			want             []string
		}{
			{"one template", template1, []string{"t1-d", "t1-c", "t1-b", "t1-a"}},
			{"template ID in another letter case", strings.ToUpper(template1), []string{"t1-d", "t1-c", "t1-b", "t1-a"}},
			{"other template", template2, []string{"t2-a"}},
			{"empty template ID lists every run", "", []string{"t1-d", "t2-a", "t1-c", "t1-b", "t1-a"}},
			{"template without runs", template1 + "x", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if diff := cmp.Diff(tc.want, runIDs(t, s, tc.templateID)); diff != "" {
					t.Errorf("ListRuns(%q) (-want +got):\n%s", tc.templateID, diff)
				}
			})
		}
	})

	t.Run("a cancel request survives a later update", func(t *testing.T) {
		s := open(t)
		in := newRun("run-1", template1, t0)
		if err := s.CreateRun(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		if err := s.RequestCancel(t.Context(), "run-1"); err != nil {
			t.Fatalf("RequestCancel: %v", err)
		}
		if !mustGetRun(t, s, "run-1").CancelRequested {
			t.Fatal("CancelRequested = false after RequestCancel")
		}
		// The runner, unaware of the request, writes its progress.
		in.RunSubState = "Customizing"
		in.CancelRequested = false
		if err := s.UpdateRun(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		got := mustGetRun(t, s, "run-1")
		if !got.CancelRequested {
			t.Error("CancelRequested = false after UpdateRun; the request was lost")
		}
		if got.RunSubState != "Customizing" {
			t.Errorf("RunSubState = %q, want the update's Customizing", got.RunSubState)
		}
	})

	t.Run("delete runs of one template", func(t *testing.T) {
		s := open(t)
		for _, r := range []store.Run{
			newRun("t1-a", template1, t0), newRun("t1-b", template1, t0.Add(time.Second)), newRun("t2-a", template2, t0),
		} {
			if err := s.CreateRun(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteRuns(t.Context(), strings.ToUpper(template1)); err != nil {
			t.Fatalf("DeleteRuns: %v", err)
		}
		if diff := cmp.Diff([]string{"t2-a"}, runIDs(t, s, "")); diff != "" {
			t.Errorf("runs left (-want +got):\n%s", diff)
		}
		_, err := s.GetRun(t.Context(), "t1-a")
		wantErrIs(t, "GetRun of a deleted run", err, store.ErrNotFound)
		if err := s.DeleteRuns(t.Context(), template1); err != nil {
			t.Errorf("DeleteRuns of a template without runs: %v, want nil", err)
		}
	})
}

func testMeta(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.GetMeta(ctx, "bootstrap")
	wantErrIs(t, "GetMeta of an unset key", err, store.ErrNotFound)
	steps := []struct{ key, value string }{
		{"bootstrap", `{"tenantId":"t1"}`},
		{"schema", "1"},
		{"bootstrap", `{"tenantId":"t2"}`}, // overwrite
		{"empty", ""},
	}
	want := map[string]string{}
	for _, st := range steps {
		if err := s.SetMeta(ctx, st.key, st.value); err != nil {
			t.Fatalf("SetMeta(%q): %v", st.key, err)
		}
		want[st.key] = st.value
	}
	got := map[string]string{}
	for k := range want {
		if got[k], err = s.GetMeta(ctx, k); err != nil {
			t.Fatalf("GetMeta(%q): %v", k, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	_, err = s.GetMeta(ctx, "BOOTSTRAP")
	wantErrIs(t, "GetMeta with another letter case (meta keys are exact)", err, store.ErrNotFound)
}

func testConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	const n = 20

	t.Run("of many creators of one ID exactly one wins", func(t *testing.T) {
		s := open(t)
		r := inGroup(subA, "rg1", imageType, "img1")
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				mine := r
				if i%2 == 1 {
					mine.ID = strings.ToUpper(r.ID)
				}
				mine.Body = json.RawMessage(fmt.Sprintf(`{"creator":%d}`, i))
				_, errs[i] = s.CreateResource(t.Context(), mine)
			})
		}
		close(start)
		wg.Wait()
		winner := countOutcomes(t, errs, store.ErrConflict)
		got := mustGet(t, s, r.ID)
		if want := json.RawMessage(fmt.Sprintf(`{"creator":%d}`, winner)); !jsonEqual(got.Body, want) {
			t.Errorf("stored Body = %s, want the winner's %s", got.Body, want)
		}
	})

	t.Run("of many conditional writers with one ETag exactly one wins", func(t *testing.T) {
		s := open(t)
		r := groupRes(subA, "rg1")
		current := mustCreate(t, s, r)
		// Several rounds, each from the ETag the previous one left, with the
		// writers released together so that their transactions overlap.
		for round := range 20 {
			errs := make([]error, n)
			etags := make([]string, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					mine := r
					mine.Body = json.RawMessage(fmt.Sprintf(`{"round":%d,"writer":%d}`, round, i))
					<-start
					var put store.Resource
					put, errs[i] = s.PutResource(t.Context(), mine, current.ETag)
					etags[i] = put.ETag
				})
			}
			close(start)
			wg.Wait()
			winner := countOutcomes(t, errs, store.ErrConflict)
			current = mustGet(t, s, r.ID)
			if want := json.RawMessage(fmt.Sprintf(`{"round":%d,"writer":%d}`, round, winner)); !jsonEqual(current.Body, want) {
				t.Errorf("round %d: stored Body = %s, want the winner's %s", round, current.Body, want)
			}
			if current.ETag != etags[winner] {
				t.Errorf("round %d: stored ETag = %q, want the winner's %q", round, current.ETag, etags[winner])
			}
		}
	})

	t.Run("concurrent writers of different IDs all succeed", func(t *testing.T) {
		s := open(t)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if i%2 == 0 {
					_, errs[i] = s.CreateResource(t.Context(), inGroup(subA, "rg1", imageType, fmt.Sprintf("img%02d", i)))
				} else {
					errs[i] = s.CreateRun(t.Context(), newRun(fmt.Sprintf("run%02d", i), template1, t0.Add(time.Duration(i)*time.Second)))
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		rs, err := s.ListResources(t.Context(), store.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != n/2 {
			t.Errorf("ListResources returned %d resources, want %d", len(rs), n/2)
		}
		if got := runIDs(t, s, template1); len(got) != n/2 {
			t.Errorf("ListRuns returned %d runs, want %d", len(got), n/2)
		}
	})
}

// countOutcomes checks that exactly one error is nil and every other wraps
// loser; it returns the winner's index.
func countOutcomes(t *testing.T, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("writer %d: error = %v, want one wrapping %v", i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer succeeded")
	}
	return winner
}
