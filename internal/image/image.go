// Package image owns managed images (Microsoft.Compute/images): a resource in
// a resource group pointing at the content-addressed artifacts of a build,
// the local counterpart of Image Builder's ManagedImage distribution.
package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// ResourceType is the ARM type of a managed image.
const ResourceType = "Microsoft.Compute/images"

// Image is a managed image as Azure returns it, plus kiln's artifacts.
type Image struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties Properties        `json:"properties"`
}

// Properties of a managed image.
type Properties struct {
	StorageProfile    StorageProfile `json:"storageProfile"`
	HyperVGeneration  string         `json:"hyperVGeneration"`
	ProvisioningState string         `json:"provisioningState"`
	// Artifacts are kiln's disk files (qcow2, raw, vhd) with digests.
	Artifacts []Artifact `json:"artifacts"`
	// SourceRun is the image template run that produced the image.
	SourceRun string `json:"sourceRun,omitempty"`
}

// StorageProfile is Azure's image storage profile.
type StorageProfile struct {
	OSDisk        OSDisk `json:"osDisk"`
	ZoneResilient bool   `json:"zoneResilient"`
}

// OSDisk describes the image's OS disk.
type OSDisk struct {
	OSType     string `json:"osType"`
	OSState    string `json:"osState"`
	BlobURI    string `json:"blobUri"`
	DiskSizeGB int    `json:"diskSizeGB"`
}

// Artifact is one stored disk file.
type Artifact struct {
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Path   string `json:"path"`
}

// Service manages images.
type Service struct {
	Store store.Resources
	Authz authz.Checker
	// Audit records mutating calls in the activity log; may be nil.
	Audit Recorder
}

// ParseID splits an image ID into subscription, group and name.
func ParseID(id string) (sub, group, name string, err error) {
	p := strings.Split(strings.Trim(id, "/"), "/")
	if len(p) != 8 || !strings.EqualFold(p[0], "subscriptions") || !strings.EqualFold(p[2], "resourceGroups") ||
		!strings.EqualFold(p[4], "providers") || !strings.EqualFold(p[5], "Microsoft.Compute") || !strings.EqualFold(p[6], "images") {
		return "", "", "", fmt.Errorf("%q is not a managed image ID; expected /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name}", id)
	}
	return p[1], p[3], p[7], nil
}

// Put creates or replaces an image.
func (s *Service) Put(ctx context.Context, as authz.Principal, img Image) (_ Image, err error) {
	sub, group, name, err := ParseID(img.ID)
	if err != nil {
		return img, err
	}
	defer s.record(ctx, as, ResourceType+"/write", img.ID, &err)
	if err := s.Authz.Check(ctx, as, ResourceType+"/write", img.ID); err != nil {
		return img, err
	}
	groupID := "/subscriptions/" + sub + "/resourceGroups/" + group
	if _, err := s.Store.GetResource(ctx, groupID); errors.Is(err, store.ErrNotFound) {
		return img, fmt.Errorf("ResourceGroupNotFound: the destination resource group %q of image %s does not exist; create it with kiln group create -n %s -l <location>", group, img.ID, group)
	}
	img.Name, img.Type = name, ResourceType
	img.Properties.ProvisioningState = "Succeeded"
	body, err := json.Marshal(img)
	if err != nil {
		return img, err
	}
	_, err = s.Store.PutResource(ctx, store.Resource{ID: img.ID, Type: ResourceType, Name: name, Subscription: sub,
		ResourceGroup: group, Parent: groupID, Location: img.Location, Body: body}, "")
	return img, err
}

// Get reads an image.
func (s *Service) Get(ctx context.Context, as authz.Principal, id string) (Image, error) {
	var img Image
	if _, _, _, err := ParseID(id); err != nil {
		return img, err
	}
	if err := s.Authz.Check(ctx, as, ResourceType+"/read", id); err != nil {
		return img, err
	}
	r, err := s.Store.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return img, fmt.Errorf("ResourceNotFound: image %s was not found: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return img, err
	}
	return img, json.Unmarshal(r.Body, &img)
}

// List lists the images of a group ("" for the whole subscription).
func (s *Service) List(ctx context.Context, as authz.Principal, sub, group string) ([]Image, error) {
	scope := "/subscriptions/" + sub
	if group != "" {
		scope += "/resourceGroups/" + group
	}
	if err := s.Authz.Check(ctx, as, ResourceType+"/read", scope); err != nil {
		return nil, err
	}
	rs, err := s.Store.ListResources(ctx, store.ListFilter{Type: ResourceType, Subscription: sub, ResourceGroup: group})
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(rs))
	for _, r := range rs {
		var img Image
		if err := json.Unmarshal(r.Body, &img); err != nil {
			return nil, fmt.Errorf("image %s: %w", r.ID, err)
		}
		out = append(out, img)
	}
	return out, nil
}

// Delete removes an image (its blobs stay until garbage-collected).
func (s *Service) Delete(ctx context.Context, as authz.Principal, id string) (err error) {
	if _, _, _, err := ParseID(id); err != nil {
		return err
	}
	defer s.record(ctx, as, ResourceType+"/delete", id, &err)
	if err := s.Authz.Check(ctx, as, ResourceType+"/delete", id); err != nil {
		return err
	}
	return s.Store.DeleteResource(ctx, id)
}
