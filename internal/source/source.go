// Package source provides base images for builds: Debian platform images
// bootstrapped with mmdebstrap from Debian's archive and cached by (suite,
// architecture, package set, archive), and disk-image files or URLs checked
// against a sha256. A Resolver turns a template's source into a Base: a root
// tree the build copies and customizes.
package source

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/template"
)

// Base is a resolved base image: a read-only root tree and its provenance.
type Base struct {
	// Dir is the cached root tree; builds copy it, never modify it.
	Dir string `json:"-"`
	// Source is the template source with ExactVersion filled in.
	Source template.Source `json:"source"`
	// Suite and Arch of a Debian base.
	Suite string `json:"suite,omitempty"`
	Arch  string `json:"arch,omitempty"`
	// Mirror is the archive the base came from; ArchiveState lists each
	// suite's Release Date at bootstrap time.
	Mirror       string            `json:"mirror,omitempty"`
	ArchiveState map[string]string `json:"archiveState,omitempty"`
	// Packages are the requested packages (beyond the variant's own).
	Packages []string `json:"packages,omitempty"`
	// Digest identifies the base content (cache key or file sha256).
	Digest string `json:"digest"`
	// OSVersion is the PRETTY_NAME of os-release.
	OSVersion string `json:"osVersion,omitempty"`
	// CreatedAt is when the base was bootstrapped (RFC 3339).
	CreatedAt string `json:"createdAt"`
	// Cached says whether the base came from the cache.
	Cached bool `json:"cached"`
}

// Request is what a build asks of the resolver.
type Request struct {
	Source   template.Source
	Packages []string // extra packages (x-kiln.packages)
	Mirror   string   // overrides the configured mirror
	// TemplateDir resolves relative disk-image paths.
	TemplateDir string
	// Refresh ignores cached bases for version "latest".
	Refresh bool
	// Identity is the principal the build acts as: a gallery source is
	// read with its rights.
	Identity authz.Principal
	// Location is the build's region: a gallery source is read from its
	// replica there.
	Location string
}

// Resolver resolves template sources to bases.
type Resolver interface {
	Resolve(ctx context.Context, req Request, log Logger) (Base, error)
}

// Logger receives progress lines.
type Logger interface {
	Printf(format string, args ...any)
}

// debianOffer describes one Debian offer as Azure publishes it.
type debianOffer struct {
	Suite string
	Skus  []string
}

// Debian's offers on Azure (publisher Debian) that kiln can bootstrap.
var debianOffers = map[string]debianOffer{
	"debian-12": {Suite: "bookworm", Skus: []string{"12", "12-gen2"}},
	"debian-13": {Suite: "trixie", Skus: []string{"13", "13-gen2"}},
}

// ErrUnsupportedSource is wrapped by errors for sources kiln cannot provide locally.
var ErrUnsupportedSource = fmt.Errorf("unsupported source")

// DebianSuite maps a PlatformImage source to its Debian suite, or explains
// what works instead.
func DebianSuite(src template.Source) (string, error) {
	if !strings.EqualFold(src.Publisher, "Debian") {
		return "", fmt.Errorf("%w: publisher %q cannot be built locally; kiln builds PlatformImage publisher \"Debian\" (offers %s), a DiskImage source (a qcow2, raw or VHD file with its sha256) or a SharedImageVersion from a gallery",
			ErrUnsupportedSource, src.Publisher, strings.Join(offerNames(), ", "))
	}
	o, ok := debianOffers[strings.ToLower(src.Offer)]
	if !ok {
		return "", fmt.Errorf("%w: offer %q of publisher Debian is not available; use one of %s", ErrUnsupportedSource, src.Offer, strings.Join(offerNames(), ", "))
	}
	for _, s := range o.Skus {
		if strings.EqualFold(s, src.Sku) {
			return o.Suite, nil
		}
	}
	return "", fmt.Errorf("%w: sku %q of offer %s is not available; use one of %s", ErrUnsupportedSource, src.Sku, src.Offer, strings.Join(o.Skus, ", "))
}

func offerNames() []string {
	var out []string
	for k := range debianOffers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
