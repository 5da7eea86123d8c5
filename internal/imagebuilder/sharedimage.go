package imagebuilder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/tattoo"
	"github.com/kiln-dev/kiln/internal/template"
)

// GalleryPublisher publishes image versions into a gallery (package gallery).
type GalleryPublisher interface {
	Publish(ctx context.Context, p authz.Principal, r gallery.PublishRequest) (gallery.ImageVersion, error)
}

// distributeShared publishes the artifacts as a gallery image version, with
// the run's SBOM and compliance report and, for a chained build, the source
// version as parent.
func (p *Publisher) distributeShared(ctx context.Context, as authz.Principal, job build.Job, d template.Distributor,
	arts []build.Artifact, t tattoo.Record, out build.RunOutput) (build.RunOutput, error) {
	if p.Gallery == nil {
		return out, errors.New("SharedImage distribution needs the gallery service, which this installation does not have")
	}
	req, err := SharedImageRequest(job, d, arts, t)
	if err != nil {
		return out, err
	}
	v, err := p.Gallery.Publish(ctx, as, req)
	if err != nil {
		return out, err
	}
	out.ArtifactID = v.ID
	return out, nil
}

// SharedImageRequest turns a SharedImage target into a publish request:
// galleryImageId names a version (…/versions/1.2.3) or a definition, whose
// next version follows versioning (Latest: next patch, within major if set;
// Source: the source version's number).
func SharedImageRequest(job build.Job, d template.Distributor, arts []build.Artifact, t tattoo.Record) (gallery.PublishRequest, error) {
	def, version, err := splitVersion(d.GalleryImageID)
	if err != nil {
		return gallery.PublishRequest{}, err
	}
	req := gallery.PublishRequest{
		DefinitionID: def, Version: version, ExcludeFromLatest: d.ExcludeFromLatest, Tags: d.ArtifactTags,
		BuildRunID: job.RunID, BuilderID: t.BuilderVersion,
	}
	if version == "" && d.Versioning != nil {
		switch d.Versioning.Scheme {
		case template.VersioningLatest:
			if d.Versioning.Major != nil && *d.Versioning.Major >= 0 {
				req.Major = d.Versioning.Major
			}
		case template.VersioningSource:
			if req.Version, err = sourceVersion(t); err != nil {
				return req, err
			}
		}
	}
	for _, r := range d.TargetRegions {
		req.TargetRegions = append(req.TargetRegions, gallery.TargetRegion{Name: r.Name, RegionalReplicaCount: r.ReplicaCount, StorageAccountType: r.StorageAccountType})
	}
	for _, r := range d.ReplicationRegions {
		req.TargetRegions = append(req.TargetRegions, gallery.TargetRegion{Name: r, StorageAccountType: d.StorageAccountType})
	}
	for _, a := range arts {
		req.Artifacts = append(req.Artifacts, gallery.Artifact{Format: a.Format, SHA256: a.SHA256, Size: a.Size, Path: a.Path})
	}
	if req.Tattoo, err = json.Marshal(t); err != nil {
		return req, err
	}
	outputs := filepath.Join(job.Dir, "outputs")
	req.SBOM = existing(filepath.Join(outputs, build.SBOMName))
	req.ComplianceReport = existing(filepath.Join(outputs, "compliance.json"))
	if t.Source.Type == template.SourceSharedImageVersion {
		req.Parent = t.Source.ExactVersion
	}
	return req, nil
}

// splitVersion splits a galleryImageId into its definition ID and the
// version it names ("" when it names the definition).
func splitVersion(id string) (def, version string, err error) {
	lower := strings.ToLower(id)
	if !strings.Contains(lower, "/providers/microsoft.compute/galleries/") || !strings.Contains(lower, "/images/") {
		return "", "", fmt.Errorf("galleryImageId %q is not a gallery image definition or version ID (/subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/galleries/G/images/D[/versions/1.0.0])", id)
	}
	if i := strings.LastIndex(lower, "/versions/"); i >= 0 {
		return id[:i], id[i+len("/versions/"):], nil
	}
	return strings.TrimRight(id, "/"), "", nil
}

// sourceVersion is the Source versioning scheme: the number of the source
// gallery version (a chained build).
func sourceVersion(t tattoo.Record) (string, error) {
	if t.Source.Type != template.SourceSharedImageVersion || t.Source.ExactVersion == "" {
		return "", errors.New(`versioning scheme "Source" takes the version number of a SharedImageVersion source; this build's source is ` + t.Source.Type)
	}
	_, v, err := splitVersion(t.Source.ExactVersion)
	if err != nil || v == "" {
		return "", fmt.Errorf("versioning scheme Source: the source version %q has no version number", t.Source.ExactVersion)
	}
	return v, nil
}

func existing(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}
