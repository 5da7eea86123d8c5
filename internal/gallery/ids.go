package gallery

import (
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/arm"
)

// VersionRef is a parsed image version ID.
type VersionRef struct {
	Subscription  string
	ResourceGroup string
	Gallery       string
	Definition    string
	Version       string
}

// ParseVersionID parses
// /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}/images/{def}/versions/{v}.
func ParseVersionID(id string) (VersionRef, error) {
	p, err := arm.ParseID(id)
	names := p.Names()
	if err != nil || !strings.EqualFold(p.ResourceType(), ImageVersionType) || len(names) != 3 || p.ResourceGroup() == "" {
		return VersionRef{}, &FieldError{
			Message: fmt.Sprintf("%q is not an image version ID", id),
			Hint:    "expected /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}/images/{definition}/versions/{version}",
			Kind:    ErrInvalid,
		}
	}
	return VersionRef{
		Subscription: p.Subscription(), ResourceGroup: p.ResourceGroup(),
		Gallery: names[0], Definition: names[1], Version: names[2],
	}, nil
}

// GalleryID is the ARM ID of a gallery.
func GalleryID(sub, rg, gallery string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/" + GalleryType + "/" + gallery
}

// DefinitionID is the ARM ID of an image definition.
func DefinitionID(sub, rg, gallery, definition string) string {
	return GalleryID(sub, rg, gallery) + "/images/" + definition
}

// VersionID is the ARM ID of an image version.
func VersionID(sub, rg, gallery, definition, version string) string {
	return DefinitionID(sub, rg, gallery, definition) + "/versions/" + version
}

// DefinitionID is the ID of the definition the version belongs to.
func (r VersionRef) DefinitionID() string {
	return DefinitionID(r.Subscription, r.ResourceGroup, r.Gallery, r.Definition)
}

// String is the version's ARM ID.
func (r VersionRef) String() string {
	return VersionID(r.Subscription, r.ResourceGroup, r.Gallery, r.Definition, r.Version)
}

// idKey is the comparison key of an ARM ID: IDs compare case-insensitively.
func idKey(id string) string { return strings.ToLower(strings.TrimSuffix(id, "/")) }

// definitionKey is the comparison key of the definition a version ID
// belongs to, or "" when id is not a version ID.
func definitionKey(versionID string) string {
	k := idKey(versionID)
	i := strings.LastIndex(k, "/versions/")
	if i < 0 {
		return ""
	}
	return k[:i]
}
