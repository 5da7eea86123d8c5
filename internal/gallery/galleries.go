package gallery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// CreateGallery creates the gallery g.ID (its name, type and identifier
// are derived), or updates it when it exists, as az sig create does. The
// resource group must exist and the location be a configured region.
// New galleries get a signing key, and soft delete unless g says
// otherwise (kiln's default; Azure's is off).
func (s *Service) CreateGallery(ctx context.Context, p authz.Principal, g Gallery) (_ Gallery, err error) {
	sub, rg, name, err := ParseGalleryID(g.ID)
	if err != nil {
		return g, err
	}
	defer s.record(ctx, p, actionGalleryWrite, g.ID, &err)
	if err := s.check(ctx, p, actionGalleryWrite, g.ID); err != nil {
		return g, err
	}
	old, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, g.ID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return g, err
	}
	if exists && g.Location == "" {
		g.Location = old.Value.Location
	}
	if err := s.prepareGallery(ctx, &g, sub, rg, name); err != nil {
		return g, err
	}
	if exists {
		return s.replaceGallery(ctx, old, g)
	}
	return s.insertGallery(ctx, g, sub, rg)
}

func (s *Service) prepareGallery(ctx context.Context, g *Gallery, sub, rg, name string) error {
	if _, err := s.Store.GetResource(ctx, groupID(sub, rg)); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("ResourceGroupNotFound: resource group %q of gallery %s does not exist; create it with kiln group create -n %s -l <location>: %w", rg, g.ID, rg, store.ErrNotFound)
	} else if err != nil {
		return err
	}
	g.Name, g.Type = name, GalleryType
	if g.Location != "" {
		loc, err := s.regionName(g.Location)
		if err != nil {
			return Errors{&FieldError{Path: "location", Message: err.Error(), Kind: ErrInvalid}}
		}
		g.Location = loc
	}
	if sp := g.Properties.SharingProfile; sp != nil {
		sp.Permissions, _ = canonical(sp.Permissions, SharingPermissions)
	}
	return ValidateGallery(*g)
}

func (s *Service) insertGallery(ctx context.Context, g Gallery, sub, rg string) (Gallery, error) {
	if g.Properties.SoftDeletePolicy == nil {
		g.Properties.SoftDeletePolicy = &SoftDeletePolicy{IsSoftDeleteEnabled: true}
	}
	g.Properties.Identifier = &GalleryIdentifier{UniqueName: sub + "-" + strings.ToUpper(g.Name)}
	g.Properties.ProvisioningState = ProvisioningSucceeded
	key, keyFile, err := s.newSigningKey()
	if err != nil {
		return g, err
	}
	g.Properties.SigningKey = &key
	r, err := resourceOf(g.ID, GalleryType, g.Name, g.Location, groupID(sub, rg), g)
	if err == nil {
		_, err = s.Store.CreateResourceLimited(ctx, r, s.galleryConditions(g, sub))
	}
	if err != nil {
		os.Remove(keyFile)
		if errors.Is(err, store.ErrConflict) {
			return g, conflictf("gallery %s was created by someone else meanwhile", g.ID)
		}
		return g, limitError(err, LimitGalleries)
	}
	return g, nil
}

// galleryConditions: galleries per subscription, names unique in it.
func (s *Service) galleryConditions(g Gallery, sub string) store.Conditions {
	inSub := store.ListFilter{Type: GalleryType, Subscription: sub}
	return store.Conditions{
		Exists:      []string{groupID(sub, mustGroup(g.ID))},
		Quotas:      []store.Quota{{Name: string(LimitGalleries), Filter: inSub, Max: s.limits().GalleriesPerSubscription}},
		CheckFilter: inSub,
		Check: func(existing []store.Resource) error {
			for _, r := range existing {
				if strings.EqualFold(r.Name, g.Name) {
					return conflictf("a gallery named %s already exists in this subscription (%s); gallery names are unique within a subscription", g.Name, r.ID)
				}
			}
			return nil
		},
	}
}

func mustGroup(id string) string {
	_, rg, _, _ := ParseGalleryID(id)
	return rg
}

// replaceGallery applies a create over an existing gallery: the location
// stays, the identifier and signing key are kept.
func (s *Service) replaceGallery(ctx context.Context, old stored[Gallery], next Gallery) (Gallery, error) {
	if err := CheckGalleryUpdate(old.Value, next); err != nil {
		return next, err
	}
	keepGalleryReadOnly(old.Value, &next)
	if next.Properties.SoftDeletePolicy == nil {
		next.Properties.SoftDeletePolicy = old.Value.Properties.SoftDeletePolicy
	}
	return next, s.writeGallery(ctx, next, old.ETag)
}

func keepGalleryReadOnly(old Gallery, next *Gallery) {
	next.ID, next.Name, next.Type = old.ID, old.Name, old.Type
	next.Properties.Identifier = old.Properties.Identifier
	next.Properties.SigningKey = old.Properties.SigningKey
	next.Properties.ProvisioningState = old.Properties.ProvisioningState
}

func (s *Service) writeGallery(ctx context.Context, g Gallery, etag string) error {
	sub, rg, _, err := ParseGalleryID(g.ID)
	if err != nil {
		return err
	}
	r, err := resourceOf(g.ID, GalleryType, g.Name, g.Location, groupID(sub, rg), g)
	if err != nil {
		return err
	}
	return s.putIfMatch(ctx, r, etag, "gallery")
}

// GetGallery reads a gallery.
func (s *Service) GetGallery(ctx context.Context, p authz.Principal, id string) (Gallery, error) {
	if _, _, _, err := ParseGalleryID(id); err != nil {
		return Gallery{}, err
	}
	if err := s.check(ctx, p, actionGalleryRead, id); err != nil {
		return Gallery{}, err
	}
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, id)
	return g.Value, err
}

// ListGalleries lists the galleries of a resource group, or of the whole
// subscription when group is "".
func (s *Service) ListGalleries(ctx context.Context, p authz.Principal, sub, group string) ([]Gallery, error) {
	scope := "/subscriptions/" + sub
	if group != "" {
		scope = groupID(sub, group)
	}
	if err := s.check(ctx, p, actionGalleryRead, scope); err != nil {
		return nil, err
	}
	gs, err := list[Gallery](ctx, s.Store, "gallery", store.ListFilter{Type: GalleryType, Subscription: sub, ResourceGroup: group})
	return values(gs), err
}

// UpdateGallery applies change to a gallery: description, tags, soft
// delete and sharing may change; the location may not, and the identifier
// and signing key are read-only.
func (s *Service) UpdateGallery(ctx context.Context, p authz.Principal, id string, change func(*Gallery) error) (_ Gallery, err error) {
	if _, _, _, err := ParseGalleryID(id); err != nil {
		return Gallery{}, err
	}
	defer s.record(ctx, p, actionGalleryWrite, id, &err)
	if err := s.check(ctx, p, actionGalleryWrite, id); err != nil {
		return Gallery{}, err
	}
	old, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, id)
	if err != nil {
		return Gallery{}, err
	}
	next, err := clone(old.Value)
	if err != nil {
		return next, err
	}
	if err := change(&next); err != nil {
		return next, err
	}
	keepGalleryReadOnly(old.Value, &next)
	if err := ValidateGallery(next); err != nil {
		return next, err
	}
	if err := CheckGalleryUpdate(old.Value, next); err != nil {
		return next, err
	}
	return next, s.writeGallery(ctx, next, old.ETag)
}

// DeleteGallery deletes a gallery that has no image definitions. Its
// signing key file stays in KeyDir.
func (s *Service) DeleteGallery(ctx context.Context, p authz.Principal, id string) (err error) {
	if _, _, _, err := ParseGalleryID(id); err != nil {
		return err
	}
	defer s.record(ctx, p, actionGalleryDelete, id, &err)
	if err := s.check(ctx, p, actionGalleryDelete, id); err != nil {
		return err
	}
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, id)
	if err != nil {
		return err
	}
	err = s.Store.DeleteResourceLimited(ctx, g.Value.ID, g.ETag, store.Conditions{
		CheckFilter: store.ListFilter{Type: ImageDefinitionType, Parent: g.Value.ID},
		Check: func(existing []store.Resource) error {
			return checkNoChildren("gallery "+g.Value.Name, len(existing), "image definition")
		},
	})
	if errors.Is(err, store.ErrConflict) {
		return conflictf("gallery %s was changed meanwhile; retry", id)
	}
	return err
}

// SigningKey returns the gallery's signing key: its ID and public key
// PEM, to verify versions elsewhere.
func (s *Service) SigningKey(ctx context.Context, p authz.Principal, galleryID string) (SigningKey, error) {
	g, err := s.GetGallery(ctx, p, galleryID)
	if err != nil {
		return SigningKey{}, err
	}
	_, k, err := s.publicKey(g)
	return k, err
}

// DeleteGroupGalleries deletes every gallery of a resource group with its
// definitions and versions (versions for good, not softly), for the
// deletion of the group. A version whose safety profile blocks its
// deletion stops it, with what was deleted before staying deleted.
func (s *Service) DeleteGroupGalleries(ctx context.Context, p authz.Principal, sub, group string) error {
	gs, err := s.ListGalleries(ctx, p, sub, group)
	if err != nil {
		return err
	}
	for _, g := range gs {
		ds, err := s.ListDefinitions(ctx, p, g.ID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if err := s.deleteDefinitionVersions(ctx, p, d.ID); err != nil {
				return err
			}
			if err := s.DeleteDefinition(ctx, p, d.ID); err != nil {
				return err
			}
		}
		if err := s.DeleteGallery(ctx, p, g.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) deleteDefinitionVersions(ctx context.Context, p authz.Principal, defID string) error {
	vs, err := s.ListVersions(ctx, p, defID, true)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if err := s.DeleteVersion(ctx, p, v.ID, true); err != nil {
			return err
		}
	}
	return nil
}
