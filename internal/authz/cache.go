package authz

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Source is where a Cache reads a tenant's authorization state from,
// typically the store.
type Source interface {
	// Generation is a counter that changes whenever anything State
	// returns changes. It is called on every check, so it must be cheap.
	Generation(ctx context.Context) (uint64, error)
	// State reads the whole state.
	State(ctx context.Context) (State, error)
}

// Cache is a Checker that keeps a Snapshot of its Source and rebuilds it
// when the source's generation moves. Checks between changes cost one
// Generation call plus the snapshot's map lookups. It is safe for
// concurrent use; concurrent rebuilds are collapsed into one.
type Cache struct {
	src     Source
	rebuild sync.Mutex
	current atomic.Pointer[generationSnapshot]
}

type generationSnapshot struct {
	generation uint64
	snapshot   *Snapshot
}

var _ Checker = (*Cache)(nil)

// NewCache returns a Cache over src; the first check loads the state.
func NewCache(src Source) *Cache { return &Cache{src: src} }

// Snapshot returns a snapshot of the source's current generation.
func (c *Cache) Snapshot(ctx context.Context) (*Snapshot, error) {
	gen, err := c.src.Generation(ctx)
	if err != nil {
		return nil, fmt.Errorf("authorization state generation: %w", err)
	}
	if cur := c.current.Load(); cur != nil && cur.generation == gen {
		return cur.snapshot, nil
	}
	c.rebuild.Lock()
	defer c.rebuild.Unlock()
	if cur := c.current.Load(); cur != nil && cur.generation == gen {
		return cur.snapshot, nil // another caller rebuilt it meanwhile
	}
	// The state is read after the generation: if it changes in between,
	// the snapshot is newer than its recorded generation and the next
	// check rebuilds again, which is wasteful but never stale.
	st, err := c.src.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("authorization state: %w", err)
	}
	snap, err := NewSnapshot(st)
	if err != nil {
		return nil, fmt.Errorf("authorization state (generation %d): %w", gen, err)
	}
	c.current.Store(&generationSnapshot{generation: gen, snapshot: snap})
	return snap, nil
}

// Check implements Checker on the current snapshot.
func (c *Cache) Check(ctx context.Context, p Principal, action, scope string) error {
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return err
	}
	return snap.Check(ctx, p, action, scope)
}

// DataCheck is Snapshot.DataCheck on the current snapshot.
func (c *Cache) DataCheck(ctx context.Context, p Principal, dataAction, scope string) error {
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return err
	}
	return snap.DataCheck(ctx, p, dataAction, scope)
}
