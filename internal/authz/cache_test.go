package authz_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kiln-dev/kiln/internal/authz"
)

// fakeSource is a Source whose generation moves only when bump is called,
// as a store's would on every committed change.
type fakeSource struct {
	mu         sync.Mutex
	generation uint64
	state      authz.State
	loads      int
	err        error
}

func (f *fakeSource) Generation(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.generation, f.err
}

func (f *fakeSource) State(context.Context) (authz.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	return f.state, f.err
}

func (f *fakeSource) change(st authz.State, bump bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = st
	if bump {
		f.generation++
	}
}

func TestCacheRebuildsWhenTheGenerationMoves(t *testing.T) {
	reader := authz.State{Assignments: []authz.RoleAssignment{assign(1, bob.ID, authz.ReaderRoleGUID, sub1)}}
	contributor := authz.State{Assignments: []authz.RoleAssignment{assign(1, bob.ID, authz.ContributorRoleGUID, sub1)}}
	src := &fakeSource{state: reader}
	c := authz.NewCache(src)
	ctx := t.Context()

	if err := c.Check(ctx, bob, imageRead, imageA); err != nil {
		t.Fatalf("Reader reads: %v", err)
	}
	if err := c.Check(ctx, bob, imageWrite, imageA); err == nil {
		t.Fatal("Reader writes")
	}
	src.change(contributor, false)
	if err := c.Check(ctx, bob, imageWrite, imageA); err == nil {
		t.Error("the cache rebuilt without a generation change")
	}
	src.change(contributor, true)
	if err := c.Check(ctx, bob, imageWrite, imageA); err != nil {
		t.Errorf("after the generation moved: %v", err)
	}
	if err := c.DataCheck(ctx, bob, blobRead, containerA); err == nil {
		t.Error("Contributor reads blob data")
	}
	if src.loads != 2 {
		t.Errorf("state loaded %d times, want 2 (one per generation)", src.loads)
	}
}

func TestCacheConcurrentChecksLoadOnce(t *testing.T) {
	src := &fakeSource{state: authz.State{Assignments: []authz.RoleAssignment{assign(1, alice.ID, authz.OwnerRoleGUID, sub1)}}}
	c := authz.NewCache(src)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := c.Check(t.Context(), alice, imageWrite, imageA); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if src.loads != 1 {
		t.Errorf("state loaded %d times, want 1", src.loads)
	}
}

func TestCacheReportsSourceAndStateErrors(t *testing.T) {
	boom := errors.New("store unavailable")
	c := authz.NewCache(&fakeSource{err: boom})
	if err := c.Check(t.Context(), alice, imageRead, imageA); !errors.Is(err, boom) {
		t.Errorf("Check = %v, want the source's error", err)
	}

	bad := authz.NewCache(&fakeSource{state: authz.State{Assignments: []authz.RoleAssignment{{Scope: rgA, RoleDefinitionID: "nope", PrincipalID: bob.ID}}}})
	var ps authz.Problems
	if err := bad.Check(t.Context(), bob, imageRead, imageA); !errors.As(err, &ps) {
		t.Errorf("Check over an invalid state = %v, want Problems", err)
	}
}
