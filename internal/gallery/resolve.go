package gallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/store"
)

// GetVersion reads one image version by its exact ID (deleted and revoked
// versions included: they can be shown).
func (s *Service) GetVersion(ctx context.Context, p authz.Principal, id string) (ImageVersion, error) {
	v, _, err := s.getVersion(ctx, p, id)
	return v.Value, err
}

func (s *Service) getVersion(ctx context.Context, p authz.Principal, id string) (stored[ImageVersion], string, error) {
	ref, err := ParseVersionID(id)
	if err != nil {
		return stored[ImageVersion]{}, "", err
	}
	if err := s.check(ctx, p, actionVersionRead, id); err != nil {
		return stored[ImageVersion]{}, "", err
	}
	v, err := load[ImageVersion](ctx, s.Store, "image version", ImageVersionType, id)
	return v, ref.DefinitionID(), err
}

// ListVersions lists a definition's versions from the lowest to the
// highest; soft-deleted ones only with includeDeleted.
func (s *Service) ListVersions(ctx context.Context, p authz.Principal, definitionID string, includeDeleted bool) ([]ImageVersion, error) {
	d, err := s.GetDefinition(ctx, p, definitionID)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, p, actionVersionRead, d.ID); err != nil {
		return nil, err
	}
	vs, err := s.siblings(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	if !includeDeleted {
		vs = slices.DeleteFunc(vs, func(v ImageVersion) bool { return v.Deleted() })
	}
	slices.SortStableFunc(vs, func(a, b ImageVersion) int { return CompareVersionNames(a.Name, b.Name) })
	return vs, nil
}

// Resolve resolves a version ID, a definition ID or .../versions/latest
// (the latest version in region) to a version that can be deployed in
// region, "" meaning the gallery's location. It refuses versions that are
// revoked, deleted, not provisioned or not Completed in the region, with
// an error saying which.
func (s *Service) Resolve(ctx context.Context, p authz.Principal, id, region string) (ImageVersion, error) {
	ref, version, err := ParseImageReference(id)
	if err != nil {
		return ImageVersion{}, err
	}
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, ref.GalleryID())
	if err != nil {
		return ImageVersion{}, err
	}
	if region == "" {
		region = g.Value.Location
	}
	if region, err = s.regionName(region); err != nil {
		return ImageVersion{}, err
	}
	if version == "" {
		return s.resolveLatest(ctx, p, ref, region)
	}
	v, err := s.GetVersion(ctx, p, ref.String()+"/versions/"+version)
	if err != nil {
		return v, err
	}
	return v, Usable(v, region, s.now())
}

func (s *Service) resolveLatest(ctx context.Context, p authz.Principal, ref DefinitionRef, region string) (ImageVersion, error) {
	d, err := s.GetDefinition(ctx, p, ref.String())
	if err != nil {
		return ImageVersion{}, err
	}
	if err := s.check(ctx, p, actionVersionRead, d.ID); err != nil {
		return ImageVersion{}, err
	}
	v, err := s.latest(ctx, d.ID, region)
	if err != nil {
		return v, fmt.Errorf("There is no latest image version exists for %q: %w", ref.Definition, err)
	}
	return v, nil
}

// latest resolves latest without reading every version: the store
// returns versions highest first (by their sort key), a page at a time, and
// the first that qualifies (Latest's rules) is latest, usually the first
// read. Only when none does are all versions read, to say why.
func (s *Service) latest(ctx context.Context, defID, region string) (ImageVersion, error) {
	f := store.ListFilter{Type: ImageVersionType, Parent: defID, BySortKey: true, Descending: true, Limit: latestPage}
	if v, ok, err := s.scanLatest(ctx, f, region); ok || err != nil {
		return v, err
	}
	vs, err := s.siblings(ctx, defID)
	if err != nil {
		return ImageVersion{}, err
	}
	return Latest(vs, region, s.now())
}

// latestPage is how many versions latest reads first; each further page
// is four times larger.
const latestPage = 2

// scanLatest pages through f (highest first) until a version qualifies.
func (s *Service) scanLatest(ctx context.Context, f store.ListFilter, region string) (ImageVersion, bool, error) {
	now := s.now()
	for ; ; f.Offset, f.Limit = f.Offset+f.Limit, f.Limit*4 {
		page, err := s.Store.ListResources(ctx, f)
		if err != nil {
			return ImageVersion{}, false, fmt.Errorf("list versions of %s: %w", f.Parent, err)
		}
		for _, r := range page {
			var v ImageVersion
			if err := json.Unmarshal(r.Body, &v); err != nil {
				return ImageVersion{}, false, fmt.Errorf("decode image version %s: %w", r.ID, err)
			}
			if latestReasonOf(&v, region, now) == reasonNone {
				return v, true, nil
			}
		}
		if len(page) < f.Limit {
			return ImageVersion{}, false, nil
		}
	}
}

// sortKeysMeta records that every stored version has its sort key.
const sortKeysMeta = "gallery.versionSortKeys"

// backfillSortKeys gives versions stored before sort keys existed theirs,
// once per database.
func (s *Service) backfillSortKeys(ctx context.Context) error {
	if done, err := s.Store.GetMeta(ctx, sortKeysMeta); err == nil && done == "1" {
		return nil
	}
	rs, err := s.Store.ListResources(ctx, store.ListFilter{Type: ImageVersionType})
	if err != nil {
		return fmt.Errorf("list image versions: %w", err)
	}
	var ws []store.Write
	for _, r := range rs {
		if key := VersionSortKey(r.Name); r.SortKey != key {
			r.SortKey = key
			ws = append(ws, store.Write{Resource: r, IfMatch: r.ETag})
		}
	}
	if len(ws) > 0 {
		if _, err := s.Store.WriteResources(ctx, ws); err != nil {
			return fmt.Errorf("give image versions their sort keys: %w", err)
		}
	}
	return s.Store.SetMeta(ctx, sortKeysMeta, "1")
}

// Usable says why a version cannot be deployed (or exported, or used as a
// build source) in region at now; nil when it can. Being excluded from
// latest does not matter for a version named exactly.
func Usable(v ImageVersion, region string, now time.Time) error {
	p := &v.Properties
	switch {
	case p.Deletion != nil:
		return fmt.Errorf("%w: image version %s is deleted (on %s; it can be undeleted until %s)", ErrState, v.ID,
			p.Deletion.DeletedAt.Format(time.RFC3339), p.Deletion.PurgeAt.Format(time.RFC3339))
	case v.Revoked(now):
		return fmt.Errorf("%w: image version %s is revoked since %s%s: it cannot be deployed, exported or used as a build source", ErrState, v.ID,
			p.Revocation.RevokedAt.Format(time.RFC3339), reasonSuffix(p.Revocation.Reason))
	case !provisioned(p.ProvisioningState):
		return fmt.Errorf("%w: image version %s is %s, not Succeeded", ErrState, v.ID, p.ProvisioningState)
	case v.ReplicationState(region) != ReplicationCompleted:
		return fmt.Errorf("%w: The gallery image version %s is not available in %s region; it is replicated to %s", ErrState, v.ID, region, completedRegions(v))
	}
	return nil
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func completedRegions(v ImageVersion) string {
	var out []string
	if st := v.Properties.ReplicationStatus; st != nil {
		for _, r := range st.Summary {
			if r.State == ReplicationCompleted {
				out = append(out, r.Region)
			}
		}
	}
	if len(out) == 0 {
		return "no region"
	}
	return strings.Join(out, ", ")
}

// ArtifactPath is the replica of the version's artifact of the given
// format in region ("" meaning the version's home region).
func (s *Service) ArtifactPath(v ImageVersion, format, region string) (string, error) {
	if region == "" {
		region = v.Location
	}
	region, err := s.regionName(region)
	if err != nil {
		return "", err
	}
	if v.ReplicationState(region) != ReplicationCompleted {
		return "", fmt.Errorf("%w: The gallery image version %s is not available in %s region; it is replicated to %s", ErrState, v.ID, region, completedRegions(v))
	}
	a, err := artifactOf(v, format)
	if err != nil {
		return "", err
	}
	return replicate.ReplicaPath(s.Regions.RegionPath(region), a.SHA256)
}

func artifactOf(v ImageVersion, format string) (Artifact, error) {
	var have []string
	for _, a := range v.Properties.StorageProfile.Artifacts {
		if strings.EqualFold(a.Format, format) {
			return a, nil
		}
		have = append(have, a.Format)
	}
	return Artifact{}, fmt.Errorf("%w: image version %s has no %s artifact; it has %s", ErrInvalid, v.ID, format, strings.Join(have, ", "))
}

// lookup finds the version a reference names: exact, or the global latest
// (the highest version usable in some region). Unlike Resolve it does
// not refuse revoked or deleted versions named exactly.
func (s *Service) lookup(ctx context.Context, p authz.Principal, id string) (stored[ImageVersion], error) {
	ref, version, err := ParseImageReference(id)
	if err != nil {
		return stored[ImageVersion]{}, err
	}
	if version == "" {
		v, err := s.resolveLatest(ctx, p, ref, "")
		if err != nil {
			return stored[ImageVersion]{}, err
		}
		id = v.ID
	}
	v, _, err := s.getVersion(ctx, p, id)
	return v, err
}

// allVersions reads every stored version (ancestry crosses definitions).
func (s *Service) allVersions(ctx context.Context) ([]stored[ImageVersion], error) {
	return list[ImageVersion](ctx, s.Store, "image version", store.ListFilter{Type: ImageVersionType})
}

// Ancestry says whether v is outdated relative to its parent's newest
// version.
func (s *Service) Ancestry(ctx context.Context, p authz.Principal, v ImageVersion) (Ancestry, error) {
	parent := v.Properties.ParentVersionID
	if parent == "" {
		return CheckAncestry(v, nil, s.now()), nil
	}
	ref, err := ParseVersionID(parent)
	if err != nil {
		return CheckAncestry(v, nil, s.now()), nil
	}
	if err := s.check(ctx, p, actionVersionRead, ref.DefinitionID()); err != nil {
		if errors.As(err, new(*authz.AuthorizationFailedError)) {
			return Ancestry{Status: Undetermined, Parent: parent, Reason: "you may not read the parent's definition"}, nil
		}
		return Ancestry{}, err
	}
	vs, err := s.siblings(ctx, ref.DefinitionID())
	if err != nil {
		return Ancestry{}, err
	}
	return CheckAncestry(v, vs, s.now()), nil
}

// Lookup finds the version a reference names: an exact version ID, or
// the highest version usable in some region for a definition ID or
// .../versions/latest. Unlike Resolve it returns revoked and deleted
// versions named exactly, so that they can be shown and verified.
func (s *Service) Lookup(ctx context.Context, p authz.Principal, id string) (ImageVersion, error) {
	v, err := s.lookup(ctx, p, id)
	return v.Value, err
}

// byVersionDescending returns the names that are versions, highest first,
// each parsed once.
func byVersionDescending(names []string) []string {
	type parsed struct {
		v    Version
		name string
	}
	ps := make([]parsed, 0, len(names))
	for _, n := range names {
		if v, ok := parseVersion(n); ok {
			ps = append(ps, parsed{v, n})
		}
	}
	slices.SortFunc(ps, func(a, b parsed) int { return b.v.Compare(a.v) })
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.name
	}
	return out
}
