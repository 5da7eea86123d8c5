package imagebuilder

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/blob"
	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/image"
	"github.com/kiln-dev/kiln/internal/tattoo"
	"github.com/kiln-dev/kiln/internal/template"
)

// Publisher stores build artifacts in the blob store and creates the
// VHD and ManagedImage distribution targets.
type Publisher struct {
	Blobs   *blob.Store
	Images  *image.Service
	Gallery GalleryPublisher // SharedImage targets; nil refuses them
}

var _ build.Publisher = (*Publisher)(nil)

// StoreArtifacts moves each artifact into the content-addressed store.
func (p *Publisher) StoreArtifacts(_ context.Context, arts []build.Artifact) ([]build.Artifact, error) {
	out := make([]build.Artifact, len(arts))
	for i, a := range arts {
		dst, err := p.Blobs.Adopt(a.Path, a.SHA256)
		if err != nil {
			return nil, fmt.Errorf("store %s artifact: %w", a.Format, err)
		}
		a.Path = dst
		out[i] = a
	}
	return out, nil
}

// Distribute creates one target.
func (p *Publisher) Distribute(ctx context.Context, as authz.Principal, job build.Job, d template.Distributor, arts []build.Artifact, t tattoo.Record) (build.RunOutput, error) {
	out := build.RunOutput{Name: d.RunOutputName, Type: d.Type, ArtifactTags: d.ArtifactTags, ProvisioningState: "Succeeded"}
	switch d.Type {
	case template.DistributeVHD:
		vhd, ok := find(arts, "vhd")
		if !ok {
			return out, fmt.Errorf("the build produced no VHD")
		}
		out.ArtifactURI = "file://" + vhd.Path
		if d.URI != "" {
			dst, err := exportTo(d.URI, vhd.Path)
			if err != nil {
				return out, err
			}
			out.ArtifactURI = "file://" + dst
		}
		return out, nil
	case template.DistributeManagedImage:
		img := image.Image{ID: d.ImageID, Location: firstNonEmpty(d.Location, job.Template.Location), Tags: d.ArtifactTags,
			Properties: image.Properties{HyperVGeneration: "V2", SourceRun: job.RunID}}
		raw, _ := find(arts, "raw")
		img.Properties.StorageProfile.OSDisk = image.OSDisk{OSType: "Linux", OSState: "Generalized",
			BlobURI: "file://" + raw.Path, DiskSizeGB: int((raw.VirtualSize + (1<<30 - 1)) >> 30)}
		for _, a := range arts {
			img.Properties.Artifacts = append(img.Properties.Artifacts, image.Artifact{Format: a.Format, SHA256: a.SHA256, Size: a.Size, Path: a.Path})
		}
		created, err := p.Images.Put(ctx, as, img)
		if err != nil {
			return out, err
		}
		out.ArtifactID = created.ID
		return out, nil
	case template.DistributeSharedImage:
		return p.distributeShared(ctx, as, job, d, arts, t, out)
	}
	return out, fmt.Errorf("unknown distribution type %q", d.Type)
}

func find(arts []build.Artifact, format string) (build.Artifact, bool) {
	for _, a := range arts {
		if a.Format == format {
			return a, true
		}
	}
	return build.Artifact{}, false
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// exportTo copies the VHD to a file path or file:// URI given as the VHD target's uri.
func exportTo(uri, src string) (string, error) {
	dst := uri
	if u, err := url.Parse(uri); err == nil && u.Scheme != "" {
		if u.Scheme != "file" {
			return "", fmt.Errorf("VHD uri %q: only file paths and file:// URIs can be written locally", uri)
		}
		dst = u.Path
	}
	if strings.HasSuffix(dst, "/") {
		dst = filepath.Join(dst, filepath.Base(src)+".vhd")
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp := dst + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp, dst)
}
