// Package gallery is the domain core of kiln's image gallery, the local
// counterpart of Azure Compute Gallery: galleries hold image definitions
// (a publisher/offer/sku identity with immutable OS properties), and
// definitions hold image versions (Major.Minor.Patch, replicated to target
// regions, with a safety profile).
//
// The model is pure: types shaped like Azure's `az sig ... show` output,
// ready to be stored as ARM-shaped JSON bodies, and the rules that govern
// them — name and version validation, immutable fields, `latest`
// resolution per region, lifecycle plans (active → deprecated → eol →
// deleted, soft delete with undelete), ancestry and revocation (after HCP
// Packer) and limits. The model reads no clock, disk or database: the
// current time is always an argument.
//
// The Service (service.go and the files it names) is the part with state:
// it keeps galleries, definitions and versions in the store, their replicas
// and evidence in the region directories and the galleries' signing keys
// in a key directory, publishes versions atomically (publish.go), resolves
// references (resolve.go), verifies and repairs replicas (verify.go) and
// cleans up after crashes (regionfs.go). It applies the pure rules above
// and reads the clock only through Service.Now.
//
// kiln's extensions to Azure's shapes (lifecycle rules, lifecycle state,
// parent version, revocation, soft-delete state, artifacts, evidence,
// signing key) live inside
// "properties" next to Azure's own fields and are marked as such.
package gallery

// ARM resource types of the gallery's resources.
const (
	GalleryType         = "Microsoft.Compute/galleries"
	ImageDefinitionType = "Microsoft.Compute/galleries/images"
	ImageVersionType    = "Microsoft.Compute/galleries/images/versions"
)
