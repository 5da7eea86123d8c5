package gallery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/store"
)

// UpdateVersion applies change to a version. Target regions (with their
// replica counts and exclude-from-latest), the global exclude-from-latest,
// the end-of-life date, the safety profile and tags may change; storage
// types, artifacts, parent and location may not; read-only fields
// (replication status, evidence, revocation, deletion, lifecycle state)
// are kept whatever change does. A region added is replicated to (from a
// verified replica) before the update is stored; a region removed needs
// safetyProfile.allowDeletionOfReplicatedLocations.
func (s *Service) UpdateVersion(ctx context.Context, p authz.Principal, id string, change func(*ImageVersion) error) (_ ImageVersion, err error) {
	defer s.record(ctx, p, actionVersionWrite, id, &err)
	old, _, err := s.getVersion(ctx, p, id)
	if err != nil {
		return ImageVersion{}, err
	}
	if err := s.check(ctx, p, actionVersionWrite, old.Value.ID); err != nil {
		return ImageVersion{}, err
	}
	if old.Value.Deleted() {
		return old.Value, fmt.Errorf("%w: image version %s is deleted; undelete it first", ErrState, old.Value.ID)
	}
	next, err := s.changedVersion(old.Value, change)
	if err != nil {
		return next, err
	}
	added := addedRegions(old.Value, next)
	locks, err := s.lockRegions(added)
	if err != nil {
		return next, err
	}
	defer func() { locks.release(err == nil) }()
	if err := s.copyToRegions(ctx, old.Value, added); err != nil {
		return next, err
	}
	next.Properties.ReplicationStatus = completed(regionNames(next))
	r, err := s.versionResource(next)
	if err != nil {
		return next, err
	}
	if err := s.putIfMatch(ctx, r, old.ETag, "image version"); err != nil {
		return next, err
	}
	if removed := removedRegions(old.Value, next); len(removed) > 0 {
		gone := old.Value
		gone.Properties.PublishingProfile.TargetRegions = removed
		s.markDirtyFor([]ImageVersion{gone})
	}
	return next, nil
}

// changedVersion applies change to a copy of old, restores the read-only
// fields, and validates the result against old.
func (s *Service) changedVersion(old ImageVersion, change func(*ImageVersion) error) (ImageVersion, error) {
	next, err := clone(old)
	if err != nil {
		return next, err
	}
	if err := change(&next); err != nil {
		return next, err
	}
	keepVersionReadOnly(old, &next)
	var es Errors
	next.Properties.PublishingProfile.TargetRegions = s.targetRegions(&es, next.Properties.PublishingProfile.TargetRegions)
	NormalizeVersion(&next)
	check := next
	if sameTime(old.Properties.PublishingProfile.EndOfLifeDate, next.Properties.PublishingProfile.EndOfLifeDate) {
		check.Properties.PublishingProfile.EndOfLifeDate = nil
	}
	es.addErr("", ValidateVersion(check, s.limits(), s.now()))
	es.addErr("", CheckVersionUpdate(old, next))
	if !sameEvidence(old.Properties.Evidence, next.Properties.Evidence) {
		es = append(es, immutableError("galleryImageVersion", "evidence", "the signed evidence", "other evidence"))
	}
	return next, es.err()
}

func keepVersionReadOnly(old ImageVersion, next *ImageVersion) {
	p, o := &next.Properties, &old.Properties
	next.ID, next.Name, next.Type = old.ID, old.Name, old.Type
	p.ProvisioningState, p.ReplicationStatus = o.ProvisioningState, o.ReplicationStatus
	p.Revocation, p.Deletion = o.Revocation, o.Deletion
	p.LifecycleState, p.DeprecatedAt = o.LifecycleState, o.DeprecatedAt
	p.PublishingProfile.PublishedDate = o.PublishingProfile.PublishedDate
	if p.Evidence == nil {
		p.Evidence = o.Evidence
	}
}

func sameEvidence(a, b *Evidence) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func regionNames(v ImageVersion) []string {
	var out []string
	for _, t := range v.Properties.PublishingProfile.TargetRegions {
		out = append(out, t.Name)
	}
	return out
}

func addedRegions(old, next ImageVersion) []string {
	var out []string
	for _, t := range next.Properties.PublishingProfile.TargetRegions {
		if old.ReplicationState(t.Name) != ReplicationCompleted {
			out = append(out, t.Name)
		}
	}
	return out
}

func removedRegions(old, next ImageVersion) []TargetRegion {
	var out []TargetRegion
	for _, t := range old.Properties.PublishingProfile.TargetRegions {
		if _, kept := next.TargetRegion(t.Name); !kept {
			out = append(out, t)
		}
	}
	return out
}

// copyToRegions replicates a version's files into new regions from a
// region where they are good (rehashed: the source is a replica, not a
// freshly verified blob).
func (s *Service) copyToRegions(ctx context.Context, v ImageVersion, regions []string) error {
	for _, region := range regions {
		dir := s.Regions.RegionPath(region)
		for _, sha := range versionBlobs(v) {
			src, err := s.goodCopy(ctx, v, sha, "")
			if err != nil {
				return fmt.Errorf("add region %s to %s: %w", region, v.Name, err)
			}
			if _, err := replicate.Replicate(ctx, src, dir, sha); err != nil {
				return fmt.Errorf("add region %s to %s: %w", region, v.Name, err)
			}
		}
	}
	return nil
}

// versionBlobs are the digests of a version's artifacts and evidence.
func versionBlobs(v ImageVersion) []string {
	var out []string
	for _, a := range v.Properties.StorageProfile.Artifacts {
		out = append(out, a.SHA256)
	}
	return append(out, v.Properties.Evidence.digests()...)
}

// goodCopy finds a replica of sha that verifies, in a region of v other
// than except.
func (s *Service) goodCopy(ctx context.Context, v ImageVersion, sha, except string) (string, error) {
	for _, region := range completedRegionList(v) {
		if region == except || !s.Regions.HasRegion(region) {
			continue
		}
		path, err := replicate.ReplicaPath(s.Regions.RegionPath(region), sha)
		if err != nil {
			return "", err
		}
		if replicate.Verify(ctx, path, sha) == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no region holds a good copy of %s", sha)
}

func completedRegionList(v ImageVersion) []string {
	var out []string
	if st := v.Properties.ReplicationStatus; st != nil {
		for _, r := range st.Summary {
			if r.State == ReplicationCompleted {
				out = append(out, r.Region)
			}
		}
	}
	return out
}

// DeleteVersion deletes a version: softly when its gallery soft-deletes
// (it can be undeleted within the retention), permanently otherwise or
// with purge (a soft-deleted version can be purged). The safety profile's
// blockDeletionBeforeEndOfLife is honoured either way.
func (s *Service) DeleteVersion(ctx context.Context, p authz.Principal, id string, purge bool) (err error) {
	defer s.record(ctx, p, actionVersionDelete, id, &err)
	v, defID, err := s.getVersion(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.check(ctx, p, actionVersionDelete, v.Value.ID); err != nil {
		return err
	}
	ref, _ := ParseDefinitionID(defID)
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, ref.GalleryID())
	if err != nil {
		return err
	}
	now := s.now()
	if !v.Value.Deleted() {
		if err := CheckDelete(v.Value, now); err != nil {
			return err
		}
	}
	retention, soft := g.Value.SoftDeleteRetention()
	if purge || !soft {
		return s.purge(ctx, v)
	}
	next, err := SoftDelete(v.Value, now, retention)
	if err != nil {
		return err
	}
	r, err := s.versionResource(next)
	if err != nil {
		return err
	}
	return s.putIfMatch(ctx, r, v.ETag, "image version")
}

// purge removes a version for good; its files go at the next Recover.
func (s *Service) purge(ctx context.Context, v stored[ImageVersion]) error {
	s.markDirtyFor([]ImageVersion{v.Value})
	err := s.Store.DeleteResourceLimited(ctx, v.Value.ID, v.ETag, store.Conditions{})
	if errors.Is(err, store.ErrConflict) {
		return conflictf("image version %s was changed meanwhile; retry", v.Value.ID)
	}
	return err
}

// UndeleteVersion restores a soft-deleted version within its retention.
func (s *Service) UndeleteVersion(ctx context.Context, p authz.Principal, id string) (_ ImageVersion, err error) {
	defer s.record(ctx, p, actionVersionWrite, id, &err)
	v, _, err := s.getVersion(ctx, p, id)
	if err != nil {
		return ImageVersion{}, err
	}
	if err := s.check(ctx, p, actionVersionWrite, v.Value.ID); err != nil {
		return ImageVersion{}, err
	}
	next, err := Undelete(v.Value, s.now())
	if err != nil {
		return v.Value, err
	}
	r, err := s.versionResource(next)
	if err != nil {
		return next, err
	}
	return next, s.putIfMatch(ctx, r, v.ETag, "image version")
}

// Revoke revokes a version (id may name latest) from at — now when at is
// zero or past; a later at schedules it — and, with cascade, the versions
// built from it, in any definition. All changes are stored in one
// transaction. It returns the changed versions, the target first.
func (s *Service) Revoke(ctx context.Context, p authz.Principal, id string, at time.Time, reason string, cascade bool) (_ []ImageVersion, err error) {
	defer s.record(ctx, p, actionVersionWrite, id, &err)
	return s.changeAncestry(ctx, p, id, func(all []ImageVersion, target string, now time.Time) ([]ImageVersion, error) {
		return Revoke(all, target, at, reason, cascade, now)
	})
}

// Unrevoke lifts a revocation (in force or scheduled) and the revocations
// that descendants inherited from it.
func (s *Service) Unrevoke(ctx context.Context, p authz.Principal, id string) (_ []ImageVersion, err error) {
	defer s.record(ctx, p, actionVersionWrite, id, &err)
	return s.changeAncestry(ctx, p, id, func(all []ImageVersion, target string, now time.Time) ([]ImageVersion, error) {
		return Restore(all, target, now)
	})
}

type ancestryChange func(all []ImageVersion, target string, now time.Time) ([]ImageVersion, error)

func (s *Service) changeAncestry(ctx context.Context, p authz.Principal, id string, change ancestryChange) ([]ImageVersion, error) {
	target, err := s.lookup(ctx, p, id)
	if err != nil {
		return nil, err
	}
	all, err := s.allVersions(ctx)
	if err != nil {
		return nil, err
	}
	changed, err := change(values(all), target.Value.ID, s.now())
	if err != nil {
		return nil, err
	}
	etags := map[string]string{}
	for _, v := range all {
		etags[idKey(v.Value.ID)] = v.ETag
	}
	writes := make([]store.Write, 0, len(changed))
	for _, v := range changed {
		if err := s.check(ctx, p, actionVersionWrite, v.ID); err != nil {
			return nil, err
		}
		r, err := s.versionResource(v)
		if err != nil {
			return nil, err
		}
		writes = append(writes, store.Write{Resource: r, IfMatch: etags[idKey(v.ID)]})
	}
	if _, err := s.Store.WriteResources(ctx, writes); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflictf("versions changed meanwhile; retry")
		}
		return nil, err
	}
	return slices.Clip(changed), nil
}
