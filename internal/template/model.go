// Package template holds the image template model: Azure VM Image Builder's
// imageTemplates resource (API 2024-02-01 and later, case-sensitive, unknown
// fields rejected), its strict decoding from JSON or YAML, and its semantic
// validation. kiln's own settings live under the single extension key
// "x-kiln" of properties; everything else is Azure's schema.
package template

import "time"

// ResourceType is the ARM type of an image template.
const ResourceType = "Microsoft.VirtualMachineImages/imageTemplates"

// ExtensionKey is the one properties key that holds kiln's own settings.
const ExtensionKey = "x-kiln"

// ImageTemplate is the full ARM resource envelope of an image template.
type ImageTemplate struct {
	Type       string            `json:"type,omitempty"`
	APIVersion string            `json:"apiVersion,omitempty"`
	Name       string            `json:"name,omitempty"`
	Location   string            `json:"location,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Identity   *Identity         `json:"identity,omitempty"`
	Properties Properties        `json:"properties"`
}

// Identity is the template's managed identity (a single user-assigned one).
type Identity struct {
	Type                   string                          `json:"type"`
	UserAssignedIdentities map[string]UserAssignedIdentity `json:"userAssignedIdentities,omitempty"`
}

// UserAssignedIdentity is the value of one userAssignedIdentities entry.
type UserAssignedIdentity struct {
	PrincipalID string `json:"principalId,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
}

// Properties is the template's properties object.
type Properties struct {
	Source                Source            `json:"source"`
	Customize             []Customizer      `json:"customize,omitempty"`
	Optimize              *Optimize         `json:"optimize,omitempty"`
	Validate              *Validate         `json:"validate,omitempty"`
	Distribute            []Distributor     `json:"distribute"`
	ErrorHandling         *ErrorHandling    `json:"errorHandling,omitempty"`
	BuildTimeoutInMinutes int               `json:"buildTimeoutInMinutes,omitempty"`
	VMProfile             *VMProfile        `json:"vmProfile,omitempty"`
	StagingResourceGroup  string            `json:"stagingResourceGroup,omitempty"`
	AutoRun               *AutoRun          `json:"autoRun,omitempty"`
	ManagedResourceTags   map[string]string `json:"managedResourceTags,omitempty"`
	Kiln                  *KilnSettings     `json:"x-kiln,omitempty"`
}

// Source types.
const (
	SourcePlatformImage      = "PlatformImage"
	SourceManagedImage       = "ManagedImage"
	SourceSharedImageVersion = "SharedImageVersion"
	SourceDiskImage          = "DiskImage" // kiln extension
)

// Source is the base image; Type selects which other fields apply.
type Source struct {
	Type string `json:"type"`
	// PlatformImage.
	Publisher    string    `json:"publisher,omitempty"`
	Offer        string    `json:"offer,omitempty"`
	Sku          string    `json:"sku,omitempty"`
	Version      string    `json:"version,omitempty"`
	ExactVersion string    `json:"exactVersion,omitempty"`
	PlanInfo     *PlanInfo `json:"planInfo,omitempty"`
	// ManagedImage.
	ImageID string `json:"imageId,omitempty"`
	// SharedImageVersion.
	ImageVersionID string `json:"imageVersionId,omitempty"`
	// DiskImage (kiln): a qcow2, raw or VHD file by path or URL.
	URI            string `json:"uri,omitempty"`
	SHA256Checksum string `json:"sha256Checksum,omitempty"`
}

// PlanInfo is a marketplace plan.
type PlanInfo struct {
	PlanName      string `json:"planName"`
	PlanProduct   string `json:"planProduct"`
	PlanPublisher string `json:"planPublisher"`
}

// Customizer types.
const (
	CustomizerShell          = "Shell"
	CustomizerFile           = "File"
	CustomizerPowerShell     = "PowerShell"
	CustomizerWindowsRestart = "WindowsRestart"
	CustomizerWindowsUpdate  = "WindowsUpdate"
	CustomizerUpdate         = "Update"    // kiln: apt upgrades, the Linux WindowsUpdate
	CustomizerRestart        = "Restart"   // kiln: reboot a Linux build VM
	CustomizerHardening      = "Hardening" // kiln: apply a hardening profile
)

// Customizer is one customization (or in-VM validation) step. Type selects
// which fields apply; the decoder rejects fields that do not belong to it.
type Customizer struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// Shell and PowerShell.
	ScriptURI      string   `json:"scriptUri,omitempty"`
	Inline         []string `json:"inline,omitempty"`
	SHA256Checksum string   `json:"sha256Checksum,omitempty"`
	// PowerShell.
	RunElevated    bool  `json:"runElevated,omitempty"`
	RunAsSystem    bool  `json:"runAsSystem,omitempty"`
	ValidExitCodes []int `json:"validExitCodes,omitempty"`
	// File.
	SourceURI   string `json:"sourceUri,omitempty"`
	Destination string `json:"destination,omitempty"`
	// WindowsRestart and Restart.
	RestartCommand      string `json:"restartCommand,omitempty"`
	RestartCheckCommand string `json:"restartCheckCommand,omitempty"`
	RestartTimeout      string `json:"restartTimeout,omitempty"`
	// Timeout (kiln, as Packer's provisioner timeout) bounds one Shell,
	// File or Update step: a Go duration such as "10m". Validators default
	// to DefaultValidatorTimeout; customizers are bounded by the build's.
	Timeout string `json:"timeout,omitempty"`
	// WindowsUpdate and Update.
	SearchCriteria string   `json:"searchCriteria,omitempty"`
	Filters        []string `json:"filters,omitempty"`
	UpdateLimit    int      `json:"updateLimit,omitempty"`
	// Hardening (kiln): a built-in profile, its parameters, the controls
	// excluded (each a documented deviation with its reason) and the
	// compliance gate (percent; unset means every control must pass).
	Profile    string         `json:"profile,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Exclude    []Deviation    `json:"exclude,omitempty"`
	Threshold  *float64       `json:"threshold,omitempty"`
}

// DefaultValidatorTimeout bounds an inVMValidations step without a timeout.
const DefaultValidatorTimeout = 10 * time.Minute

// StepTimeout is the step's timeout (0: none); Validate has checked it.
func (c Customizer) StepTimeout() time.Duration {
	d, _ := time.ParseDuration(c.Timeout)
	return d
}

// Deviation excludes one hardening control, with the reason recorded in the
// compliance report.
type Deviation struct {
	Control string `json:"control"`
	Reason  string `json:"reason"`
}

// Optimize is post-customization optimization.
type Optimize struct {
	VMBoot   *OptimizeState    `json:"vmBoot,omitempty"`
	Workload *OptimizeWorkload `json:"workload,omitempty"`
}

// OptimizeState is an Enabled/Disabled switch.
type OptimizeState struct {
	State string `json:"state,omitempty"`
}

// OptimizeWorkload is a workload-specific optimization script.
type OptimizeWorkload struct {
	State          string `json:"state,omitempty"`
	ScriptURI      string `json:"scriptUri,omitempty"`
	SHA256Checksum string `json:"sha256Checksum,omitempty"`
}

// Validate configures in-VM validation.
type Validate struct {
	ContinueDistributeOnFailure bool         `json:"continueDistributeOnFailure,omitempty"`
	SourceValidationOnly        bool         `json:"sourceValidationOnly,omitempty"`
	InVMValidations             []Customizer `json:"inVMValidations,omitempty"`
}

// Distribute types.
const (
	DistributeManagedImage = "ManagedImage"
	DistributeSharedImage  = "SharedImage"
	DistributeVHD          = "VHD"
)

// Distributor is one distribution target; Type selects which fields apply.
type Distributor struct {
	Type          string            `json:"type"`
	RunOutputName string            `json:"runOutputName"`
	ArtifactTags  map[string]string `json:"artifactTags,omitempty"`
	// ManagedImage.
	ImageID  string `json:"imageId,omitempty"`
	Location string `json:"location,omitempty"`
	// SharedImage.
	GalleryImageID     string         `json:"galleryImageId,omitempty"`
	TargetRegions      []TargetRegion `json:"targetRegions,omitempty"`
	ExcludeFromLatest  bool           `json:"excludeFromLatest,omitempty"`
	Versioning         *Versioning    `json:"versioning,omitempty"`
	ReplicationRegions []string       `json:"replicationRegions,omitempty"`
	StorageAccountType string         `json:"storageAccountType,omitempty"`
	ReplicationMode    string         `json:"replicationMode,omitempty"`
	// VHD.
	URI string `json:"uri,omitempty"`
}

// TargetRegion is one replication target of a SharedImage distribution.
type TargetRegion struct {
	Name               string `json:"name"`
	ReplicaCount       int    `json:"replicaCount,omitempty"`
	StorageAccountType string `json:"storageAccountType,omitempty"`
}

// Versioning chooses how a SharedImage version number is generated.
type Versioning struct {
	Scheme string `json:"scheme"`
	Major  *int   `json:"major,omitempty"`
}

// ErrorHandling says whether to keep (abort) or remove (cleanup) the work on failure.
type ErrorHandling struct {
	OnCustomizerError string `json:"onCustomizerError,omitempty"`
	OnValidationError string `json:"onValidationError,omitempty"`
}

// Error handling modes.
const (
	ErrorHandlingCleanup = "cleanup"
	ErrorHandlingAbort   = "abort"
)

// VMProfile sizes the build and validation VM.
type VMProfile struct {
	VMSize                 string      `json:"vmSize,omitempty"`
	OSDiskSizeGB           int         `json:"osDiskSizeGB,omitempty"`
	UserAssignedIdentities []string    `json:"userAssignedIdentities,omitempty"`
	VNetConfig             *VNetConfig `json:"vnetConfig,omitempty"`
}

// VNetConfig is accepted for compatibility; local builds use QEMU user networking.
type VNetConfig struct {
	SubnetID                  string `json:"subnetId,omitempty"`
	ContainerInstanceSubnetID string `json:"containerInstanceSubnetId,omitempty"`
	ProxyVMSize               string `json:"proxyVmSize,omitempty"`
}

// AutoRun runs the template once when it is created.
type AutoRun struct {
	State string `json:"state,omitempty"`
}

// Executors.
const (
	ExecutorChroot = "chroot"
	ExecutorVM     = "vm"
)

// KilnSettings are kiln's own settings (properties."x-kiln").
type KilnSettings struct {
	// Executor runs customizers: "chroot" (default) or "vm".
	Executor string `json:"executor,omitempty"`
	// Packages are extra Debian packages installed into a PlatformImage base.
	Packages []string `json:"packages,omitempty"`
	// Mirror overrides the Debian archive URL for PlatformImage sources.
	Mirror string `json:"mirror,omitempty"`
	// Snapshot pins the archive to snapshot.debian.org at this timestamp (YYYYMMDDTHHMMSSZ).
	Snapshot string `json:"snapshot,omitempty"`
	// OpenSCAP runs `oscap xccdf eval` against the image as a second validator.
	OpenSCAP *OpenSCAP `json:"openscap,omitempty"`
	// RedactValues are values (such as an ARM deployment's secure
	// parameters) to redact from logs; never part of the document.
	RedactValues []string `json:"-"`
}

// OpenSCAP names the SCAP content kiln evaluates the image against.
type OpenSCAP struct {
	// Datastream is a SCAP source datastream: a path (relative to the
	// template), file:// or http(s):// URL.
	Datastream string `json:"datastream"`
	// SHA256Checksum pins a downloaded datastream.
	SHA256Checksum string `json:"sha256Checksum,omitempty"`
	// Profile is the XCCDF profile ID to evaluate.
	Profile string `json:"profile"`
	// Informational reports failing rules without failing validation.
	Informational bool `json:"informational,omitempty"`
}
