package source

import (
	"context"
	"fmt"

	"github.com/kiln-dev/kiln/internal/authz"

	"github.com/kiln-dev/kiln/internal/template"
)

// GalleryArtifacts resolves a gallery image version ID (or a definition ID,
// or .../versions/latest) to the concrete version and the replica of its
// qcow2 artifact in the build's region. Revoked, deleted and not yet
// replicated versions are refused there.
type GalleryArtifacts interface {
	ResolveArtifact(ctx context.Context, as authz.Principal, id, region string) (versionID, path, sha256 string, err error)
}

// SharedImageVersion provides bases from gallery image versions (chained
// builds): the version is resolved when the build starts, its artifact is
// opened like a DiskImage source (and cached by digest), and the resolved
// version ID becomes the base's ExactVersion, which the build records as the
// new version's parent.
type SharedImageVersion struct {
	Gallery GalleryArtifacts
	Disk    *DiskImage
}

var _ Resolver = (*SharedImageVersion)(nil)

// Resolve implements Resolver.
func (s *SharedImageVersion) Resolve(ctx context.Context, req Request, log Logger) (Base, error) {
	if s.Gallery == nil {
		return Base{}, fmt.Errorf("%w: SharedImageVersion sources need the gallery", ErrUnsupportedSource)
	}
	id := req.Source.ImageVersionID
	versionID, path, sum, err := s.Gallery.ResolveArtifact(ctx, req.Identity, id, req.Location)
	if err != nil {
		return Base{}, fmt.Errorf("source imageVersionId %s: %w", id, err)
	}
	log.Printf("source %s resolved to %s (qcow2 sha256 %s)", id, versionID, sum)
	disk := req
	disk.Source = template.Source{Type: template.SourceDiskImage, URI: "file://" + path, SHA256Checksum: sum}
	b, err := s.Disk.Resolve(ctx, disk, log)
	if err != nil {
		return Base{}, err
	}
	b.Source = req.Source
	b.Source.ExactVersion = versionID
	return b, nil
}
