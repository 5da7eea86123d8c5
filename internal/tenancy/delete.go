package tenancy

import (
	"context"
	"fmt"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// Recorder receives every mutating call for the activity log.
type Recorder interface {
	Record(ctx context.Context, caller authz.Principal, action, scope string, err error)
}

func (g *Groups) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if g.Audit != nil {
		g.Audit.Record(ctx, p, action, scope, *err)
	}
}

// DeleteCascade deletes a group and, through cascade, what it holds. The
// delete is authorized first, as one call: the caller needs
// resourceGroups/delete on the group, and a lock on the group, above it
// or on anything in it refuses the whole delete before anything is gone
// (locks bind Owners too). cascade (may be nil) then deletes the group's
// contents; the group itself goes last and only once it is empty.
func (g *Groups) DeleteCascade(ctx context.Context, p authz.Principal, name string, cascade func(ctx context.Context) error) (err error) {
	id := g.GroupID(name)
	defer g.record(ctx, p, "Microsoft.Resources/subscriptions/resourceGroups/delete", id, &err)
	if err := g.Authz.Check(ctx, p, "Microsoft.Resources/subscriptions/resourceGroups/delete", id); err != nil {
		return err
	}
	if _, err := g.Get(ctx, p, name); err != nil {
		return err
	}
	if cascade != nil {
		if err := cascade(ctx); err != nil {
			return fmt.Errorf("delete the contents of resource group %q: %w", name, err)
		}
	}
	rs, err := g.Store.ListResources(ctx, store.ListFilter{Subscription: g.Defaults.SubscriptionID, ResourceGroup: name})
	if err != nil {
		return err
	}
	if len(rs) > 0 {
		return fmt.Errorf("resource group %q still holds %d resources (first: %s); delete them first: %w", name, len(rs), rs[0].ID, store.ErrConflict)
	}
	return g.Store.DeleteResource(ctx, id)
}
