package gallery

import "time"

// Gallery is a Microsoft.Compute/galleries resource.
type Gallery struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties GalleryProperties `json:"properties"`
}

// GalleryProperties are Azure's GalleryProperties.
type GalleryProperties struct {
	Description       string             `json:"description,omitempty"`
	Identifier        *GalleryIdentifier `json:"identifier,omitempty"`
	SharingProfile    *SharingProfile    `json:"sharingProfile,omitempty"`
	SoftDeletePolicy  *SoftDeletePolicy  `json:"softDeletePolicy,omitempty"`
	ProvisioningState string             `json:"provisioningState,omitempty"`

	// SigningKey (kiln) identifies the key the gallery signs versions with.
	SigningKey *SigningKey `json:"signingKey,omitempty"`
}

// GalleryIdentifier holds the gallery's generated unique name (read-only).
type GalleryIdentifier struct {
	UniqueName string `json:"uniqueName,omitempty"`
}

// SharingProfile says who the gallery is shared with.
type SharingProfile struct {
	// Permissions is Private (default), Groups or Community.
	Permissions          string                `json:"permissions,omitempty"`
	Groups               []SharingGroup        `json:"groups,omitempty"`
	CommunityGalleryInfo *CommunityGalleryInfo `json:"communityGalleryInfo,omitempty"`
}

// SharingGroup is a list of subscriptions or tenants a gallery is shared with.
type SharingGroup struct {
	// Type is Subscriptions or AADTenants.
	Type string   `json:"type"`
	IDs  []string `json:"ids"`
}

// CommunityGalleryInfo is the public information of a community gallery.
type CommunityGalleryInfo struct {
	PublisherURI            string   `json:"publisherUri,omitempty"`
	PublisherContact        string   `json:"publisherContact,omitempty"`
	Eula                    string   `json:"eula,omitempty"`
	PublicNamePrefix        string   `json:"publicNamePrefix,omitempty"`
	CommunityGalleryEnabled bool     `json:"communityGalleryEnabled,omitempty"`
	PublicNames             []string `json:"publicNames,omitempty"`
}

// SoftDeletePolicy enables soft delete for the gallery's image versions.
type SoftDeletePolicy struct {
	IsSoftDeleteEnabled bool `json:"isSoftDeleteEnabled"`
	// RetentionPeriodInDays is how long a deleted version can be undeleted;
	// 0 means DefaultSoftDeleteRetention.
	RetentionPeriodInDays int `json:"retentionPeriodInDays,omitempty"`
}

// ImageDefinition is a Microsoft.Compute/galleries/images resource.
type ImageDefinition struct {
	ID         string                    `json:"id"`
	Name       string                    `json:"name"`
	Type       string                    `json:"type"`
	Location   string                    `json:"location"`
	Tags       map[string]string         `json:"tags,omitempty"`
	Properties ImageDefinitionProperties `json:"properties"`
}

// ImageDefinitionProperties are Azure's GalleryImageProperties plus kiln's
// lifecycle rules.
type ImageDefinitionProperties struct {
	Identifier          ImageIdentifier `json:"identifier"`
	OSType              string          `json:"osType"`
	OSState             string          `json:"osState"`
	HyperVGeneration    string          `json:"hyperVGeneration,omitempty"`
	Architecture        string          `json:"architecture,omitempty"`
	Features            []Feature       `json:"features,omitempty"`
	AllowUpdateImage    bool            `json:"allowUpdateImage,omitempty"`
	Recommended         *Recommended    `json:"recommended,omitempty"`
	Disallowed          *Disallowed     `json:"disallowed,omitempty"`
	PurchasePlan        *PurchasePlan   `json:"purchasePlan,omitempty"`
	Eula                string          `json:"eula,omitempty"`
	PrivacyStatementURI string          `json:"privacyStatementUri,omitempty"`
	ReleaseNoteURI      string          `json:"releaseNoteUri,omitempty"`
	Description         string          `json:"description,omitempty"`
	EndOfLifeDate       *time.Time      `json:"endOfLifeDate,omitempty"`
	ProvisioningState   string          `json:"provisioningState,omitempty"`

	// LifecycleRules (kiln) govern the definition's versions; see Plan.
	LifecycleRules *LifecycleRules `json:"lifecycleRules,omitempty"`
}

// ImageIdentifier is the definition's marketplace-like identity.
type ImageIdentifier struct {
	Publisher string `json:"publisher"`
	Offer     string `json:"offer"`
	Sku       string `json:"sku"`
}

// Feature is one definition feature (SecurityType, IsAcceleratedNetworkSupported, ...).
type Feature struct {
	Name            string `json:"name"`
	Value           string `json:"value"`
	StartsAtVersion string `json:"startsAtVersion,omitempty"`
}

// Recommended is the informational machine configuration of a definition.
type Recommended struct {
	VCPUs  *ResourceRange `json:"vCPUs,omitempty"`
	Memory *ResourceRange `json:"memory,omitempty"`
}

// ResourceRange is an inclusive min..max; nil ends are unbounded.
type ResourceRange struct {
	Min *int `json:"min,omitempty"`
	Max *int `json:"max,omitempty"`
}

// Disallowed lists what VMs from the definition must not use.
type Disallowed struct {
	DiskTypes []string `json:"diskTypes,omitempty"`
}

// PurchasePlan is the marketplace plan of the definition's source.
type PurchasePlan struct {
	Name      string `json:"name"`
	Publisher string `json:"publisher"`
	Product   string `json:"product"`
}

// ImageVersion is a Microsoft.Compute/galleries/images/versions resource.
type ImageVersion struct {
	ID         string                 `json:"id"`
	Name       string                 `json:"name"`
	Type       string                 `json:"type"`
	Location   string                 `json:"location"`
	Tags       map[string]string      `json:"tags,omitempty"`
	Properties ImageVersionProperties `json:"properties"`
}

// ImageVersionProperties are Azure's GalleryImageVersionProperties plus
// kiln's provenance, revocation, soft-delete and lifecycle fields.
type ImageVersionProperties struct {
	PublishingProfile PublishingProfile  `json:"publishingProfile"`
	StorageProfile    StorageProfile     `json:"storageProfile"`
	SafetyProfile     *SafetyProfile     `json:"safetyProfile,omitempty"`
	ReplicationStatus *ReplicationStatus `json:"replicationStatus,omitempty"`
	ProvisioningState string             `json:"provisioningState,omitempty"`

	// ParentVersionID (kiln) is the gallery version this one was built from.
	ParentVersionID string `json:"parentVersionId,omitempty"`
	// Revocation (kiln) is set when the version is revoked or scheduled to be.
	Revocation *Revocation `json:"revocation,omitempty"`
	// Deletion (kiln) is set while the version is soft-deleted.
	Deletion *Deletion `json:"deletion,omitempty"`
	// LifecycleState (kiln) is active (or empty), deprecated or eol.
	LifecycleState LifecycleState `json:"lifecycleState,omitempty"`
	// DeprecatedAt (kiln) is when the version was deprecated.
	DeprecatedAt *time.Time `json:"deprecatedAt,omitempty"`
	// Evidence (kiln) is the signed manifest and the documents stored with
	// the version.
	Evidence *Evidence `json:"evidence,omitempty"`
}

// PublishingProfile says where a version is replicated and how it is published.
type PublishingProfile struct {
	TargetRegions []TargetRegion `json:"targetRegions,omitempty"`
	// ReplicaCount is the replica count of regions that give none.
	ReplicaCount       int        `json:"replicaCount,omitempty"`
	ExcludeFromLatest  bool       `json:"excludeFromLatest"`
	EndOfLifeDate      *time.Time `json:"endOfLifeDate,omitempty"`
	PublishedDate      *time.Time `json:"publishedDate,omitempty"`
	StorageAccountType string     `json:"storageAccountType,omitempty"`
}

// TargetRegion is one region a version is replicated to.
type TargetRegion struct {
	Name                 string `json:"name"`
	RegionalReplicaCount int    `json:"regionalReplicaCount,omitempty"`
	StorageAccountType   string `json:"storageAccountType,omitempty"`
	// ExcludeFromLatest, when set, overrides the profile's global flag in
	// this region; when nil the global flag applies.
	ExcludeFromLatest *bool `json:"excludeFromLatest,omitempty"`
}

// StorageProfile says what the version is made of.
type StorageProfile struct {
	Source      *VersionSource `json:"source,omitempty"`
	OSDiskImage *OSDiskImage   `json:"osDiskImage,omitempty"`
	// Artifacts (kiln) are the version's disk files in the blob store.
	Artifacts []Artifact `json:"artifacts,omitempty"`
}

// VersionSource is the resource a version was created from.
type VersionSource struct {
	ID string `json:"id,omitempty"`
}

// OSDiskImage describes the OS disk of a version.
type OSDiskImage struct {
	SizeInGB    int    `json:"sizeInGB,omitempty"`
	HostCaching string `json:"hostCaching,omitempty"`
}

// Artifact is one content-addressed disk file (qcow2, raw, vhd) of a version.
type Artifact struct {
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Path   string `json:"path"`
}

// SafetyProfile protects a version against removal.
type SafetyProfile struct {
	// AllowDeletionOfReplicatedLocations allows removing target regions the
	// version was already replicated to.
	AllowDeletionOfReplicatedLocations bool `json:"allowDeletionOfReplicatedLocations"`
	// BlockDeletionBeforeEndOfLife refuses deletion before the end-of-life date.
	BlockDeletionBeforeEndOfLife bool `json:"blockDeletionBeforeEndOfLife"`
}

// ReplicationStatus is the replication state of a version per region.
type ReplicationStatus struct {
	AggregatedState string              `json:"aggregatedState"`
	Summary         []RegionReplication `json:"summary"`
}

// RegionReplication is the replication state in one region.
type RegionReplication struct {
	Region   string `json:"region"`
	State    string `json:"state"`
	Progress int    `json:"progress"`
	Details  string `json:"details,omitempty"`
}

// Regional replication states.
const (
	ReplicationUnknown     = "Unknown"
	ReplicationReplicating = "Replicating"
	ReplicationCompleted   = "Completed"
	ReplicationFailed      = "Failed"
)

// Aggregated replication states.
const (
	AggregatedUnknown    = "Unknown"
	AggregatedInProgress = "InProgress"
	AggregatedCompleted  = "Completed"
	AggregatedFailed     = "Failed"
)

// Provisioning states.
const (
	ProvisioningCreating  = "Creating"
	ProvisioningUpdating  = "Updating"
	ProvisioningSucceeded = "Succeeded"
	ProvisioningFailed    = "Failed"
	ProvisioningDeleting  = "Deleting"
)

// Revocation marks a version as revoked from RevokedAt on (HCP Packer
// semantics: a revocation in the future is a scheduled one, and the version
// stays valid until then).
type Revocation struct {
	RevokedAt time.Time `json:"revokedAt"`
	Reason    string    `json:"reason,omitempty"`
	// CascadedFrom is the ID of the ancestor whose revocation this one
	// inherits; empty for an explicit revocation.
	CascadedFrom string `json:"cascadedFrom,omitempty"`
}

// Deletion is the soft-delete state of a version.
type Deletion struct {
	DeletedAt time.Time `json:"deletedAt"`
	// PurgeAt is when the version stops being recoverable.
	PurgeAt time.Time `json:"purgeAt"`
}

// Revoked reports whether the version's revocation is in effect at now.
func (v *ImageVersion) Revoked(now time.Time) bool {
	r := v.Properties.Revocation
	return r != nil && !now.Before(r.RevokedAt)
}

// Deleted reports whether the version is soft-deleted.
func (v *ImageVersion) Deleted() bool { return v.Properties.Deletion != nil }

// ReplicationState is the version's replication state in region, or ""
// when the region has no entry.
func (v *ImageVersion) ReplicationState(region string) string {
	if v.Properties.ReplicationStatus == nil {
		return ""
	}
	for _, s := range v.Properties.ReplicationStatus.Summary {
		if SameRegion(s.Region, region) {
			return s.State
		}
	}
	return ""
}

// TargetRegion returns the version's target region entry for region.
func (v *ImageVersion) TargetRegion(region string) (TargetRegion, bool) {
	for _, t := range v.Properties.PublishingProfile.TargetRegions {
		if SameRegion(t.Name, region) {
			return t, true
		}
	}
	return TargetRegion{}, false
}

// ExcludedFromLatest reports whether the version is excluded from latest
// in region: the region's own flag when set, otherwise the global one.
func (v *ImageVersion) ExcludedFromLatest(region string) bool {
	pp := &v.Properties.PublishingProfile
	for i := range pp.TargetRegions {
		t := &pp.TargetRegions[i]
		if t.ExcludeFromLatest != nil && SameRegion(t.Name, region) {
			return *t.ExcludeFromLatest
		}
	}
	return pp.ExcludeFromLatest
}

// AggregateReplication computes the aggregated state of a summary: Failed
// if any region failed, Completed if all completed, InProgress if any is
// replicating, Unknown otherwise (including an empty summary).
func AggregateReplication(summary []RegionReplication) string {
	if len(summary) == 0 {
		return AggregatedUnknown
	}
	completed, replicating := 0, false
	for _, s := range summary {
		switch s.State {
		case ReplicationFailed:
			return AggregatedFailed
		case ReplicationCompleted:
			completed++
		case ReplicationReplicating:
			replicating = true
		}
	}
	switch {
	case completed == len(summary):
		return AggregatedCompleted
	case replicating || completed > 0:
		return AggregatedInProgress
	}
	return AggregatedUnknown
}

// NormalizeRegion folds a region name to Azure's canonical form: lower
// case without spaces ("East US" → "eastus").
func NormalizeRegion(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' {
			b = append(b, lowerASCII(c))
		}
	}
	return string(b)
}

// SameRegion compares region names as NormalizeRegion would, without
// allocating.
func SameRegion(a, b string) bool {
	if a == b {
		return true
	}
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == ' ' {
			i++
		}
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lowerASCII(a[i]) != lowerASCII(b[j]) {
			return false
		}
		i++
		j++
	}
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
