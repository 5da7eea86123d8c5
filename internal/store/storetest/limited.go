package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-dev/kiln/internal/store"
)

// LimitedStore is a store with the guarded writes of store.LimitedResources.
type LimitedStore interface {
	store.Store
	store.LimitedResources
	store.ResourceNames
}

// RunLimited runs the conformance suite of store.LimitedResources:
//
//   - a guarded create refuses an existing ID (ErrConflict), a missing
//     required parent (ErrNotFound), a quota that would be exceeded
//     (*QuotaError, counting the new resource only when the quota's filter
//     matches it) and whatever its Check returns, and writes nothing then;
//   - under concurrency a quota is never exceeded: of many creators
//     against a limit of K exactly K win;
//   - a guarded delete honours ifMatch and its conditions;
//   - a batch of writes is applied whole or not at all;
//   - ListResourceNames filters as ListResources does and keeps names as
//     written.
func RunLimited(t *testing.T, open func(t *testing.T) LimitedStore) {
	t.Run("CreateLimited", func(t *testing.T) { testCreateLimited(t, open) })
	t.Run("QuotaUnderConcurrency", func(t *testing.T) { testQuotaConcurrency(t, open) })
	t.Run("DeleteLimited", func(t *testing.T) { testDeleteLimited(t, open) })
	t.Run("WriteResources", func(t *testing.T) { testWriteResources(t, open) })
	t.Run("ListResourceNames", func(t *testing.T) { testListResourceNames(t, open) })
}

func testListResourceNames(t *testing.T, open func(t *testing.T) LimitedStore) {
	s := open(t)
	_, gal := galleryFixture(t, s)
	for _, n := range []string{"Beta", "alpha"} {
		mustCreate(t, s, child(gal, defType, n))
	}
	mustCreate(t, s, inGroup(subA, "rg1", imageType, "img"))
	got, err := s.ListResourceNames(t.Context(), store.ListFilter{Type: strings.ToUpper(defType), Parent: strings.ToLower(gal.ID)})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if strings.Join(got, ",") != "Beta,alpha" {
		t.Errorf("ListResourceNames = %v, want [Beta alpha]", got)
	}
	if got, err := s.ListResourceNames(t.Context(), store.ListFilter{Type: "Microsoft.Nothing/none"}); err != nil || len(got) != 0 {
		t.Errorf("ListResourceNames of nothing = %v, %v", got, err)
	}
}

// galleryFixture is a group with a gallery in it.
func galleryFixture(t *testing.T, s LimitedStore) (group, gallery store.Resource) {
	t.Helper()
	group = mustCreate(t, s, groupRes(subA, "rg1"))
	gallery = mustCreate(t, s, inGroup(subA, "rg1", galleryType, "gal"))
	return group, gallery
}

func definitionsOf(gallery store.Resource) store.ListFilter {
	return store.ListFilter{Type: defType, Parent: gallery.ID}
}

func countMatching(t *testing.T, s LimitedStore, f store.ListFilter) int {
	t.Helper()
	rs, err := s.ListResources(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

func testCreateLimited(t *testing.T, open func(t *testing.T) LimitedStore) {
	ctx := t.Context()
	s := open(t)
	_, gal := galleryFixture(t, s)
	quota := store.Quota{Name: "definitions", Filter: definitionsOf(gal), Max: 2}
	cond := store.Conditions{Exists: []string{gal.ID}, Quotas: []store.Quota{quota}}

	d1, err := s.CreateResourceLimited(ctx, child(gal, defType, "d1"), cond)
	if err != nil {
		t.Fatalf("first create: %v", err)
	}
	if d1.ETag == "" {
		t.Error("created resource has no ETag")
	}
	if got := mustGet(t, s, d1.ID); got.ETag != d1.ETag {
		t.Errorf("stored ETag %q, returned %q", got.ETag, d1.ETag)
	}

	_, err = s.CreateResourceLimited(ctx, child(gal, defType, "D1"), cond)
	wantErrIs(t, "create of an existing ID (other case)", err, store.ErrConflict)

	missing := cond
	missing.Exists = []string{gal.ID + "-missing"}
	_, err = s.CreateResourceLimited(ctx, child(gal, defType, "d2"), missing)
	wantErrIs(t, "create under a missing parent", err, store.ErrNotFound)

	if _, err := s.CreateResourceLimited(ctx, child(gal, defType, "d2"), cond); err != nil {
		t.Fatalf("second create: %v", err)
	}
	_, err = s.CreateResourceLimited(ctx, child(gal, defType, "d3"), cond)
	var qe *store.QuotaError
	if !errors.As(err, &qe) || qe.Count != 3 || qe.Quota.Max != 2 || qe.Quota.Name != "definitions" {
		t.Fatalf("create beyond the quota: error = %v, want a *QuotaError counting 3 of at most 2", err)
	}
	wantErrIs(t, "create beyond the quota", err, store.ErrQuota)
	if n := countMatching(t, s, definitionsOf(gal)); n != 2 {
		t.Errorf("%d definitions stored after a refused create, want 2", n)
	}

	// A quota whose filter does not match the new resource only counts.
	other := store.Quota{Name: "images", Filter: store.ListFilter{Type: imageType}, Max: 0}
	img := inGroup(subA, "rg1", imageType, "img")
	if _, err := s.CreateResourceLimited(ctx, img, store.Conditions{Quotas: []store.Quota{{Name: "defs", Filter: definitionsOf(gal), Max: 2}}}); err != nil {
		t.Errorf("create outside a full quota's filter: %v", err)
	}
	_, err = s.CreateResourceLimited(ctx, inGroup(subA, "rg1", imageType, "img2"), store.Conditions{Quotas: []store.Quota{other}})
	wantErrIs(t, "create against a quota of 0", err, store.ErrQuota)

	testCheck(t, s, gal)
}

// testCheck: Check sees the siblings and its error refuses the create.
func testCheck(t *testing.T, s LimitedStore, gal store.Resource) {
	ctx := t.Context()
	refusal := errors.New("refused by check")
	var seen []string
	cond := store.Conditions{CheckFilter: definitionsOf(gal), Check: func(existing []store.Resource) error {
		for _, r := range existing {
			seen = append(seen, r.Name)
		}
		return refusal
	}}
	_, err := s.CreateResourceLimited(ctx, child(gal, defType, "checked"), cond)
	if !errors.Is(err, refusal) {
		t.Fatalf("create refused by Check: error = %v, want the check's error", err)
	}
	if strings.Join(seen, ",") != "d1,d2" {
		t.Errorf("Check saw %v, want [d1 d2]", seen)
	}
	if _, err := s.GetResource(ctx, gal.ID+"/images/checked"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a create refused by Check wrote the resource (GetResource error %v)", err)
	}
}

func testQuotaConcurrency(t *testing.T, open func(t *testing.T) LimitedStore) {
	const n, limit = 24, 5
	s := open(t)
	_, gal := galleryFixture(t, s)
	cond := store.Conditions{Exists: []string{gal.ID}, Quotas: []store.Quota{{Name: "definitions", Filter: definitionsOf(gal), Max: limit}}}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.CreateResourceLimited(t.Context(), child(gal, defType, fmt.Sprintf("d%02d", i)), cond)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrQuota):
			t.Errorf("creator %d: error = %v, want nil or a quota error", i, err)
		}
	}
	if won != limit {
		t.Errorf("%d creators won against a limit of %d", won, limit)
	}
	if got := countMatching(t, s, definitionsOf(gal)); got != limit {
		t.Errorf("%d definitions stored, the limit is %d", got, limit)
	}
}

func testDeleteLimited(t *testing.T, open func(t *testing.T) LimitedStore) {
	ctx := t.Context()
	s := open(t)
	_, gal := galleryFixture(t, s)
	d := mustCreate(t, s, child(gal, defType, "d1"))
	noChildren := store.Conditions{CheckFilter: definitionsOf(gal), Check: func(existing []store.Resource) error {
		if len(existing) > 0 {
			return fmt.Errorf("%d children: %w", len(existing), store.ErrConflict)
		}
		return nil
	}}
	err := s.DeleteResourceLimited(ctx, gal.ID, "", noChildren)
	wantErrIs(t, "delete refused by its check", err, store.ErrConflict)
	mustGet(t, s, gal.ID)

	err = s.DeleteResourceLimited(ctx, d.ID, "stale-etag", store.Conditions{})
	wantErrIs(t, "delete with a stale ifMatch", err, store.ErrConflict)
	if err := s.DeleteResourceLimited(ctx, d.ID, d.ETag, store.Conditions{Exists: []string{gal.ID}}); err != nil {
		t.Fatalf("delete with the current ETag: %v", err)
	}
	err = s.DeleteResourceLimited(ctx, d.ID, "", store.Conditions{})
	wantErrIs(t, "delete of a missing resource", err, store.ErrNotFound)
	if err := s.DeleteResourceLimited(ctx, gal.ID, "", noChildren); err != nil {
		t.Fatalf("delete once the check passes: %v", err)
	}
}

func testWriteResources(t *testing.T, open func(t *testing.T) LimitedStore) {
	ctx := t.Context()
	s := open(t)
	_, gal := galleryFixture(t, s)
	d1 := mustCreate(t, s, child(gal, defType, "d1"))
	d2 := mustCreate(t, s, child(gal, defType, "d2"))

	changed := d1
	changed.Body = json.RawMessage(`{"changed":true}`)
	_, err := s.WriteResources(ctx, []store.Write{
		{Resource: changed, IfMatch: d1.ETag},
		{Resource: d2, IfMatch: "stale", Delete: true},
	})
	wantErrIs(t, "a batch with a stale ifMatch", err, store.ErrConflict)
	if got := mustGet(t, s, d1.ID); got.ETag != d1.ETag || !jsonEqual(got.Body, d1.Body) {
		t.Errorf("a refused batch changed %s: %s", d1.ID, got.Body)
	}

	_, err = s.WriteResources(ctx, []store.Write{{Resource: child(gal, defType, "absent"), IfMatch: "x"}})
	wantErrIs(t, "a batch matching a missing resource", err, store.ErrNotFound)

	d3 := child(gal, defType, "d3")
	out, err := s.WriteResources(ctx, []store.Write{
		{Resource: changed, IfMatch: d1.ETag},
		{Resource: d2, IfMatch: d2.ETag, Delete: true},
		{Resource: d3},
	})
	if err != nil {
		t.Fatalf("a valid batch: %v", err)
	}
	got := mustGet(t, s, d1.ID)
	if !jsonEqual(got.Body, changed.Body) || got.ETag == d1.ETag || got.ETag != out[0].ETag {
		t.Errorf("after the batch %s = %s etag %q (returned %q, was %q)", d1.ID, got.Body, got.ETag, out[0].ETag, d1.ETag)
	}
	if !got.CreatedAt.Equal(d1.CreatedAt) {
		t.Errorf("a replaced resource's CreatedAt moved from %v to %v", d1.CreatedAt, got.CreatedAt)
	}
	if _, err := s.GetResource(ctx, d2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted %s is still there (error %v)", d2.ID, err)
	}
	mustGet(t, s, d3.ID)
}
