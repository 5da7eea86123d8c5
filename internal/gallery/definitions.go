package gallery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// CreateDefinition creates the image definition d.ID in its gallery, or
// updates it when it exists, as az sig image-definition create does:
// then the identity properties (publisher, offer, sku, OS type and state,
// Hyper-V generation, architecture) must not change. The location
// defaults to the gallery's; the publisher/offer/sku triplet is unique in
// the gallery and the number of definitions limited, both checked in the
// transaction that inserts.
func (s *Service) CreateDefinition(ctx context.Context, p authz.Principal, d ImageDefinition) (_ ImageDefinition, err error) {
	ref, err := ParseDefinitionID(d.ID)
	if err != nil {
		return d, err
	}
	defer s.record(ctx, p, actionDefWrite, d.ID, &err)
	if err := s.check(ctx, p, actionDefWrite, d.ID); err != nil {
		return d, err
	}
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, ref.GalleryID())
	if err != nil {
		return d, err
	}
	d.ID, d.Name = g.Value.ID+"/images/"+ref.Definition, ref.Definition
	if err := s.prepareDefinition(&d, g.Value); err != nil {
		return d, err
	}
	old, err := load[ImageDefinition](ctx, s.Store, "image definition", ImageDefinitionType, d.ID)
	switch {
	case err == nil:
		return d, s.replaceDefinition(ctx, old, d)
	case !errors.Is(err, ErrNotFound):
		return d, err
	}
	return d, s.insertDefinition(ctx, d, g.Value)
}

func (s *Service) prepareDefinition(d *ImageDefinition, g Gallery) error {
	if d.Location == "" {
		d.Location = g.Location
	}
	if loc, err := s.regionName(d.Location); err == nil {
		d.Location = loc
	}
	NormalizeDefinition(d)
	if d.Properties.ProvisioningState == "" {
		d.Properties.ProvisioningState = ProvisioningSucceeded
	}
	return ValidateDefinition(*d, s.now())
}

func (s *Service) insertDefinition(ctx context.Context, d ImageDefinition, g Gallery) error {
	r, err := resourceOf(d.ID, ImageDefinitionType, d.Name, d.Location, g.ID, d)
	if err != nil {
		return err
	}
	siblings := store.ListFilter{Type: ImageDefinitionType, Parent: g.ID}
	_, err = s.Store.CreateResourceLimited(ctx, r, store.Conditions{
		Exists:      []string{g.ID},
		Quotas:      []store.Quota{{Name: string(LimitDefinitions), Filter: siblings, Max: s.limits().ImageDefinitionsPerGallery}},
		CheckFilter: siblings,
		Check: func(existing []store.Resource) error {
			defs, err := decodeAll[ImageDefinition]("image definition", existing)
			if err != nil {
				return err
			}
			return CheckUniqueIdentifier(values(defs), d)
		},
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflictf("image definition %s was created by someone else meanwhile", d.ID)
	case errors.Is(err, store.ErrNotFound):
		return &NotFoundError{What: "gallery", ID: g.ID}
	}
	return limitError(err, LimitDefinitions)
}

func (s *Service) replaceDefinition(ctx context.Context, old stored[ImageDefinition], next ImageDefinition) error {
	if err := CheckDefinitionUpdate(old.Value, next); err != nil {
		return err
	}
	next.Properties.ProvisioningState = old.Value.Properties.ProvisioningState
	return s.writeDefinition(ctx, next, old.ETag)
}

func (s *Service) writeDefinition(ctx context.Context, d ImageDefinition, etag string) error {
	ref, err := ParseDefinitionID(d.ID)
	if err != nil {
		return err
	}
	r, err := resourceOf(d.ID, ImageDefinitionType, d.Name, d.Location, ref.GalleryID(), d)
	if err != nil {
		return err
	}
	return s.putIfMatch(ctx, r, etag, "image definition")
}

// GetDefinition reads an image definition.
func (s *Service) GetDefinition(ctx context.Context, p authz.Principal, id string) (ImageDefinition, error) {
	if _, err := ParseDefinitionID(id); err != nil {
		return ImageDefinition{}, err
	}
	if err := s.check(ctx, p, actionDefRead, id); err != nil {
		return ImageDefinition{}, err
	}
	d, err := load[ImageDefinition](ctx, s.Store, "image definition", ImageDefinitionType, id)
	return d.Value, err
}

// ListDefinitions lists a gallery's image definitions.
func (s *Service) ListDefinitions(ctx context.Context, p authz.Principal, galleryID string) ([]ImageDefinition, error) {
	g, err := s.GetGallery(ctx, p, galleryID)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, p, actionDefRead, g.ID); err != nil {
		return nil, err
	}
	ds, err := list[ImageDefinition](ctx, s.Store, "image definition", store.ListFilter{Type: ImageDefinitionType, Parent: g.ID})
	return values(ds), err
}

// UpdateDefinition applies change to a definition. Description, end of
// life, recommendations, URIs, EULA, lifecycle rules (and features with
// allowUpdateImage) may change; the identity properties may not. A
// changed end-of-life date must lie in the future.
func (s *Service) UpdateDefinition(ctx context.Context, p authz.Principal, id string, change func(*ImageDefinition) error) (_ ImageDefinition, err error) {
	if _, err := ParseDefinitionID(id); err != nil {
		return ImageDefinition{}, err
	}
	defer s.record(ctx, p, actionDefWrite, id, &err)
	if err := s.check(ctx, p, actionDefWrite, id); err != nil {
		return ImageDefinition{}, err
	}
	old, err := load[ImageDefinition](ctx, s.Store, "image definition", ImageDefinitionType, id)
	if err != nil {
		return ImageDefinition{}, err
	}
	next, err := clone(old.Value)
	if err != nil {
		return next, err
	}
	if err := change(&next); err != nil {
		return next, err
	}
	next.ID, next.Name, next.Type = old.Value.ID, old.Value.Name, old.Value.Type
	next.Properties.ProvisioningState = old.Value.Properties.ProvisioningState
	NormalizeDefinition(&next)
	if err := validateDefinitionUpdate(old.Value, next, s.now()); err != nil {
		return next, err
	}
	if err := CheckDefinitionUpdate(old.Value, next); err != nil {
		return next, err
	}
	return next, s.writeDefinition(ctx, next, old.ETag)
}

// validateDefinitionUpdate validates next, requiring a future end of life
// only when the update changes it.
func validateDefinitionUpdate(old, next ImageDefinition, now time.Time) error {
	check := next
	if sameTime(old.Properties.EndOfLifeDate, next.Properties.EndOfLifeDate) {
		check.Properties.EndOfLifeDate = nil
	}
	return ValidateDefinition(check, now)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// DeleteDefinition deletes a definition that has no versions,
// soft-deleted ones included.
func (s *Service) DeleteDefinition(ctx context.Context, p authz.Principal, id string) (err error) {
	if _, err := ParseDefinitionID(id); err != nil {
		return err
	}
	defer s.record(ctx, p, actionDefDelete, id, &err)
	if err := s.check(ctx, p, actionDefDelete, id); err != nil {
		return err
	}
	d, err := load[ImageDefinition](ctx, s.Store, "image definition", ImageDefinitionType, id)
	if err != nil {
		return err
	}
	err = s.Store.DeleteResourceLimited(ctx, d.Value.ID, d.ETag, store.Conditions{
		CheckFilter: store.ListFilter{Type: ImageVersionType, Parent: d.Value.ID},
		Check: func(existing []store.Resource) error {
			return checkNoChildren("image definition "+d.Value.Name, len(existing), "image version")
		},
	})
	if errors.Is(err, store.ErrConflict) {
		return conflictf("image definition %s was changed meanwhile; retry", id)
	}
	return err
}

// ApplyLifecycle plans the definition's lifecycle rules at now and, unless
// dryRun, applies the plan in one store transaction: deprecations,
// ends of life, deletions (soft when the gallery soft-deletes, otherwise
// permanent) and purges of soft-deleted versions past their retention.
// It returns the plan as the report.
func (s *Service) ApplyLifecycle(ctx context.Context, p authz.Principal, definitionID string, dryRun bool) (_ LifecyclePlan, err error) {
	if !dryRun {
		defer s.record(ctx, p, actionVersionWrite, definitionID, &err)
	}
	d, err := s.GetDefinition(ctx, p, definitionID)
	if err != nil {
		return LifecyclePlan{}, err
	}
	rules := d.Properties.LifecycleRules
	if rules == nil {
		return LifecyclePlan{}, fmt.Errorf("%w: image definition %s has no lifecycle rules; set them with kiln sig image-definition update --keep-newest N --deprecate-after-days D ...", ErrState, d.Name)
	}
	if err := s.check(ctx, p, actionVersionRead, d.ID); err != nil {
		return LifecyclePlan{}, err
	}
	vs, err := list[ImageVersion](ctx, s.Store, "image version", store.ListFilter{Type: ImageVersionType, Parent: d.ID})
	if err != nil {
		return LifecyclePlan{}, err
	}
	now := s.now()
	plan, err := Plan(values(vs), *rules, now)
	if err != nil || dryRun || len(plan.Actions) == 0 {
		return plan, err
	}
	return plan, s.applyPlan(ctx, p, d, vs, plan, now)
}

func (s *Service) applyPlan(ctx context.Context, p authz.Principal, d ImageDefinition, vs []stored[ImageVersion], plan LifecyclePlan, now time.Time) error {
	ref, _ := ParseDefinitionID(d.ID)
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, ref.GalleryID())
	if err != nil {
		return err
	}
	byID := map[string]stored[ImageVersion]{}
	for _, v := range vs {
		byID[idKey(v.Value.ID)] = v
	}
	var writes []store.Write
	var dropped []ImageVersion
	for _, a := range plan.Actions {
		v := byID[idKey(a.ID)]
		w, gone, err := s.lifecycleWrite(ctx, p, g.Value, v, a.Action, now)
		if err != nil {
			return fmt.Errorf("%s %s: %w", a.Action, a.Version, err)
		}
		writes = append(writes, w)
		if gone {
			dropped = append(dropped, v.Value)
		}
	}
	s.markDirtyFor(dropped)
	if _, err := s.Store.WriteResources(ctx, writes); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return conflictf("versions of %s changed while the lifecycle rules were applied; run apply-lifecycle again", d.Name)
		}
		return err
	}
	return nil
}

// lifecycleWrite turns one planned action into a store write; gone
// reports a permanent deletion.
func (s *Service) lifecycleWrite(ctx context.Context, p authz.Principal, g Gallery, v stored[ImageVersion], action Action, now time.Time) (store.Write, bool, error) {
	next := v.Value
	var err error
	switch action {
	case ActionDeprecate:
		next, err = Deprecate(next, now)
	case ActionEndOfLife:
		next, err = EndOfLife(next, now)
	case ActionDelete:
		if retention, soft := g.SoftDeleteRetention(); soft {
			next, err = SoftDelete(next, now, retention)
			break
		}
		return s.removal(ctx, p, v)
	case ActionPurge:
		return s.removal(ctx, p, v)
	}
	if err != nil {
		return store.Write{}, false, err
	}
	if err := s.check(ctx, p, actionVersionWrite, v.Value.ID); err != nil {
		return store.Write{}, false, err
	}
	r, err := s.versionResource(next)
	return store.Write{Resource: r, IfMatch: v.ETag}, false, err
}

func (s *Service) removal(ctx context.Context, p authz.Principal, v stored[ImageVersion]) (store.Write, bool, error) {
	if err := s.check(ctx, p, actionVersionDelete, v.Value.ID); err != nil {
		return store.Write{}, false, err
	}
	return store.Write{Resource: store.Resource{ID: v.Value.ID}, IfMatch: v.ETag, Delete: true}, true, nil
}
