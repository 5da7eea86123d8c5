// Package gallery is the domain core of kiln's image gallery, the local
// counterpart of Azure Compute Gallery: galleries hold image definitions
// (a publisher/offer/sku identity with immutable OS properties), and
// definitions hold image versions (Major.Minor.Patch, replicated to target
// regions, with a safety profile).
//
// The package is pure: types shaped like Azure's `az sig ... show` output,
// ready to be stored as ARM-shaped JSON bodies, and the rules that govern
// them — name and version validation, immutable fields, `latest`
// resolution per region, lifecycle plans (active → deprecated → eol →
// deleted, soft delete with undelete), ancestry and revocation (after HCP
// Packer) and limits. Nothing here reads a clock, a disk or a database: the
// current time is always an argument.
//
// kiln's extensions to Azure's shapes (lifecycle rules, lifecycle state,
// parent version, revocation, soft-delete state, artifacts) live inside
// "properties" next to Azure's own fields and are marked as such.
package gallery

// ARM resource types of the gallery's resources.
const (
	GalleryType         = "Microsoft.Compute/galleries"
	ImageDefinitionType = "Microsoft.Compute/galleries/images"
	ImageVersionType    = "Microsoft.Compute/galleries/images/versions"
)
