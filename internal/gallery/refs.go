package gallery

import (
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/arm"
)

// DefinitionRef is a parsed image definition ID.
type DefinitionRef struct {
	Subscription  string
	ResourceGroup string
	Gallery       string
	Definition    string
}

// GalleryID is the ID of the definition's gallery.
func (r DefinitionRef) GalleryID() string {
	return GalleryID(r.Subscription, r.ResourceGroup, r.Gallery)
}

// String is the definition's ARM ID.
func (r DefinitionRef) String() string {
	return DefinitionID(r.Subscription, r.ResourceGroup, r.Gallery, r.Definition)
}

// idParts are the scope of a gallery resource ID.
type idParts struct {
	Subscription, ResourceGroup string
	Names                       []string
	Type                        string
}

func parseIDParts(id string) (idParts, error) {
	p, err := arm.ParseID(id)
	if err != nil {
		return idParts{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return idParts{Subscription: p.Subscription(), ResourceGroup: p.ResourceGroup(), Names: p.Names(), Type: p.ResourceType()}, nil
}

func idError(id, what, shape string) error {
	return &FieldError{
		Message: fmt.Sprintf("%q is not %s ID", id, what),
		Hint:    "expected /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/" + shape,
		Kind:    ErrInvalid,
	}
}

// ParseGalleryID parses /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}
// and returns the subscription, group and gallery name.
func ParseGalleryID(id string) (sub, group, name string, err error) {
	p, err := parseIDParts(id)
	if err != nil || !strings.EqualFold(p.Type, GalleryType) || len(p.Names) != 1 || p.ResourceGroup == "" {
		return "", "", "", idError(id, "a gallery", "{gallery}")
	}
	return p.Subscription, p.ResourceGroup, p.Names[0], nil
}

// ParseDefinitionID parses an image definition ID.
func ParseDefinitionID(id string) (DefinitionRef, error) {
	p, err := parseIDParts(id)
	if err != nil || !strings.EqualFold(p.Type, ImageDefinitionType) || len(p.Names) != 2 || p.ResourceGroup == "" {
		return DefinitionRef{}, idError(id, "an image definition", "{gallery}/images/{definition}")
	}
	return DefinitionRef{Subscription: p.Subscription, ResourceGroup: p.ResourceGroup, Gallery: p.Names[0], Definition: p.Names[1]}, nil
}

// ParseImageReference parses what a version is referred to by: a version
// ID, a definition ID or .../versions/latest. version is "" for latest.
func ParseImageReference(id string) (DefinitionRef, string, error) {
	p, err := parseIDParts(id)
	if err == nil && p.ResourceGroup != "" && strings.EqualFold(p.Type, ImageDefinitionType) && len(p.Names) == 2 {
		return DefinitionRef{Subscription: p.Subscription, ResourceGroup: p.ResourceGroup, Gallery: p.Names[0], Definition: p.Names[1]}, "", nil
	}
	if err != nil || p.ResourceGroup == "" || !strings.EqualFold(p.Type, ImageVersionType) || len(p.Names) != 3 {
		return DefinitionRef{}, "", idError(id, "an image version or definition", "{gallery}/images/{definition}[/versions/{version}|/versions/latest]")
	}
	ref := DefinitionRef{Subscription: p.Subscription, ResourceGroup: p.ResourceGroup, Gallery: p.Names[0], Definition: p.Names[1]}
	if strings.EqualFold(p.Names[2], "latest") {
		return ref, "", nil
	}
	return ref, p.Names[2], nil
}

func groupID(sub, rg string) string { return "/subscriptions/" + sub + "/resourceGroups/" + rg }
