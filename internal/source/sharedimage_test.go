package source

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/template"
)

type fakeGallery struct{ err error }

func (f fakeGallery) ResolveArtifact(context.Context, authz.Principal, string, string) (string, string, string, error) {
	return "", "", "", f.err
}

type discard struct{}

func (discard) Printf(string, ...any) {}

func TestSharedImageVersionRefusals(t *testing.T) {
	req := Request{Source: template.Source{Type: template.SourceSharedImageVersion, ImageVersionID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/G/images/D/versions/latest"}}
	_, err := (&SharedImageVersion{}).Resolve(context.Background(), req, discard{})
	if !errors.Is(err, ErrUnsupportedSource) {
		t.Errorf("without a gallery: %v", err)
	}
	revoked := errors.New("version 1.0.1 is revoked")
	_, err = (&SharedImageVersion{Gallery: fakeGallery{revoked}, Disk: &DiskImage{}}).Resolve(context.Background(), req, discard{})
	if !errors.Is(err, revoked) || !strings.Contains(err.Error(), "versions/latest") {
		t.Errorf("a refused version: %v", err)
	}
}
