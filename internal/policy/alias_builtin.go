package policy

import (
	"strings"
	"sync"
)

// Kiln's own aliases read what only kiln knows about a VM's image, from
// Resource.Facts (see ImageVersionFacts), never from the request payload,
// so that a request cannot claim them. They live in the Kiln.Compute
// namespace, which Azure does not have: a rule that uses them works on
// kiln only.
const (
	AliasImageVersionID             = "Kiln.Compute/virtualMachines/imageVersion.id"
	AliasImageVersionIsLatest       = "Kiln.Compute/virtualMachines/imageVersion.isLatest"
	AliasImageVersionIsRevoked      = "Kiln.Compute/virtualMachines/imageVersion.isRevoked"
	AliasImageVersionIsEndOfLife    = "Kiln.Compute/virtualMachines/imageVersion.isEndOfLife"
	AliasImageVersionEndOfLifeDate  = "Kiln.Compute/virtualMachines/imageVersion.endOfLifeDate"
	AliasImageVersionTattooVerified = "Kiln.Compute/virtualMachines/imageVersion.tattooVerified"
)

// Resource types kiln has.
const (
	TypeVirtualMachine         = "Microsoft.Compute/virtualMachines"
	TypeVirtualMachineScaleSet = "Microsoft.Compute/virtualMachineScaleSets"
	TypeGallery                = "Microsoft.Compute/galleries"
	TypeGalleryImage           = "Microsoft.Compute/galleries/images"
	TypeGalleryImageVersion    = "Microsoft.Compute/galleries/images/versions"
	TypeImageTemplate          = "Microsoft.VirtualMachineImages/imageTemplates"
	TypeUserAssignedIdentity   = "Microsoft.ManagedIdentity/userAssignedIdentities"
	TypeResourceGroup          = "Microsoft.Resources/subscriptions/resourceGroups"
	TypeSubscription           = "Microsoft.Resources/subscriptions"
)

// builtinType is one resource type of the built-in table: its newest API
// version and its aliases as (name, path) pairs. A name starting with "/"
// is relative to the type ("/sku.name" is
// "Microsoft.Compute/virtualMachines/sku.name"). A path ending in "!" is
// Modifiable (what the modify effect may change).
type builtinType struct {
	typ        string
	apiVersion string
	tagsAndLoc bool
	aliases    [][2]string
}

// imageRef is the image reference aliases shared by VMs and scale sets,
// relative to the storage profile.
func imageRefAliases(prefix string) [][2]string {
	ref := prefix + "storageProfile.imageReference."
	return [][2]string{
		{"Microsoft.Compute/imageId", ref + "id"},
		{"Microsoft.Compute/imagePublisher", ref + "publisher"},
		{"Microsoft.Compute/imageOffer", ref + "offer"},
		{"Microsoft.Compute/imageSku", ref + "sku"},
		{"Microsoft.Compute/imageVersion", ref + "version"},
		{"Microsoft.Compute/licenseType", prefix + "licenseType!"},
	}
}

// vmAliases are a virtual machine's aliases: the snapshot of Azure's that
// policies about images, sizes, disks, OS profiles and security use.
func vmAliases() [][2]string {
	out := imageRefAliases("properties.")
	for _, p := range []string{"id", "publisher", "offer", "sku", "version", "exactVersion", "sharedGalleryImageId", "communityGalleryImageId"} {
		out = append(out, [2]string{"/storageProfile.imageReference." + p, "properties.storageProfile.imageReference." + p})
	}
	out = append(out, [][2]string{
		{"/sku.name", "properties.hardwareProfile.vmSize"},
		{"/licenseType", "properties.licenseType!"},
		{"/osDisk.Uri", "properties.storageProfile.osDisk.vhd.uri"},
		{"/storageProfile.osDisk.managedDisk.id", "properties.storageProfile.osDisk.managedDisk.id"},
		{"/storageProfile.osDisk.managedDisk.storageAccountType", "properties.storageProfile.osDisk.managedDisk.storageAccountType"},
		{"/storageProfile.osDisk.osType", "properties.storageProfile.osDisk.osType"},
		{"/storageProfile.osDisk.createOption", "properties.storageProfile.osDisk.createOption"},
		{"/storageProfile.osDisk.diskSizeGB", "properties.storageProfile.osDisk.diskSizeGB"},
		{"/storageProfile.dataDisks", "properties.storageProfile.dataDisks"},
		{"/storageProfile.dataDisks[*]", "properties.storageProfile.dataDisks[*]"},
		{"/storageProfile.dataDisks[*].lun", "properties.storageProfile.dataDisks[*].lun"},
		{"/storageProfile.dataDisks[*].createOption", "properties.storageProfile.dataDisks[*].createOption"},
		{"/storageProfile.dataDisks[*].managedDisk.id", "properties.storageProfile.dataDisks[*].managedDisk.id"},
		{"/storageProfile.dataDisks[*].managedDisk.storageAccountType", "properties.storageProfile.dataDisks[*].managedDisk.storageAccountType"},
		{"/osProfile.computerName", "properties.osProfile.computerName"},
		{"/osProfile.adminUsername", "properties.osProfile.adminUsername"},
		{"/osProfile.allowExtensionOperations", "properties.osProfile.allowExtensionOperations"},
		{"/osProfile.linuxConfiguration.disablePasswordAuthentication", "properties.osProfile.linuxConfiguration.disablePasswordAuthentication"},
		{"/osProfile.linuxConfiguration.patchSettings.patchMode", "properties.osProfile.linuxConfiguration.patchSettings.patchMode!"},
		{"/osProfile.linuxConfiguration.patchSettings.assessmentMode", "properties.osProfile.linuxConfiguration.patchSettings.assessmentMode!"},
		{"/osProfile.windowsConfiguration.enableAutomaticUpdates", "properties.osProfile.windowsConfiguration.enableAutomaticUpdates"},
		{"/osProfile.windowsConfiguration.patchSettings.patchMode", "properties.osProfile.windowsConfiguration.patchSettings.patchMode!"},
		{"/osProfile.windowsConfiguration.patchSettings.assessmentMode", "properties.osProfile.windowsConfiguration.patchSettings.assessmentMode!"},
		{"/networkProfile.networkInterfaces", "properties.networkProfile.networkInterfaces"},
		{"/networkProfile.networkInterfaces[*]", "properties.networkProfile.networkInterfaces[*]"},
		{"/networkProfile.networkInterfaces[*].id", "properties.networkProfile.networkInterfaces[*].id"},
		{"/securityProfile.securityType", "properties.securityProfile.securityType"},
		{"/securityProfile.encryptionAtHost", "properties.securityProfile.encryptionAtHost"},
		{"/securityProfile.uefiSettings.secureBootEnabled", "properties.securityProfile.uefiSettings.secureBootEnabled"},
		{"/securityProfile.uefiSettings.vTpmEnabled", "properties.securityProfile.uefiSettings.vTpmEnabled"},
		{"/diagnosticsProfile.bootDiagnostics.enabled", "properties.diagnosticsProfile.bootDiagnostics.enabled!"},
		{"/diagnosticsProfile.bootDiagnostics.storageUri", "properties.diagnosticsProfile.bootDiagnostics.storageUri"},
		{"/priority", "properties.priority"},
		{"/evictionPolicy", "properties.evictionPolicy"},
		{AliasImageVersionID, factsRoot + "imageVersion.id"},
		{AliasImageVersionIsLatest, factsRoot + "imageVersion.isLatest"},
		{AliasImageVersionIsRevoked, factsRoot + "imageVersion.isRevoked"},
		{AliasImageVersionIsEndOfLife, factsRoot + "imageVersion.isEndOfLife"},
		{AliasImageVersionEndOfLifeDate, factsRoot + "imageVersion.endOfLifeDate"},
		{AliasImageVersionTattooVerified, factsRoot + "imageVersion.tattooVerified"},
	}...)
	return out
}

func vmssAliases() [][2]string {
	out := imageRefAliases("properties.virtualMachineProfile.")
	return append(out, [][2]string{
		{"/sku.name", "sku.name"},
		{"/osDisk.vhdContainers", "properties.virtualMachineProfile.storageProfile.osDisk.vhdContainers"},
		{"/osdisk.imageUrl", "properties.virtualMachineProfile.storageProfile.osDisk.image.uri"},
	}...)
}

// arrayAliases lists an array property, its [*] and the given element
// properties.
func arrayAliases(name, path string, props ...string) [][2]string {
	out := [][2]string{{"/" + name, path}, {"/" + name + "[*]", path + "[*]"}}
	for _, p := range props {
		out = append(out, [2]string{"/" + name + "[*]." + p, path + "[*]." + p})
	}
	return out
}

// plainAliases maps "/x.y" to "properties.x.y" for each name.
func plainAliases(names ...string) [][2]string {
	out := make([][2]string, len(names))
	for i, n := range names {
		out[i] = [2]string{"/" + n, "properties." + n}
	}
	return out
}

func galleryAliases() [][2]string {
	out := plainAliases("description", "identifier.uniqueName", "sharingProfile.permissions",
		"softDeletePolicy.isSoftDeleteEnabled", "sharingProfile.communityGalleryInfo.publicNamePrefix")
	out = append(out, arrayAliases("sharingProfile.groups", "properties.sharingProfile.groups", "type", "ids", "ids[*]")...)
	return out
}

func galleryImageAliases() [][2]string {
	out := plainAliases("identifier.publisher", "identifier.offer", "identifier.sku", "osType", "osState",
		"hyperVGeneration", "architecture", "endOfLifeDate", "description", "eula", "privacyStatementUri",
		"releaseNoteUri", "purchasePlan.name", "purchasePlan.publisher", "purchasePlan.product",
		"recommended.vCPUs.min", "recommended.vCPUs.max", "recommended.memory.min", "recommended.memory.max")
	out = append(out, arrayAliases("features", "properties.features", "name", "value")...)
	out = append(out, arrayAliases("disallowed.diskTypes", "properties.disallowed.diskTypes")...)
	return out
}

func galleryVersionAliases() [][2]string {
	out := plainAliases("publishingProfile.excludeFromLatest", "publishingProfile.endOfLifeDate",
		"publishingProfile.publishedDate", "publishingProfile.replicaCount", "publishingProfile.storageAccountType",
		"storageProfile.source.id", "safetyProfile.allowDeletionOfReplicatedLocations",
		"safetyProfile.blockDeletionBeforeEndOfLife")
	out = append(out, arrayAliases("publishingProfile.targetRegions", "properties.publishingProfile.targetRegions",
		"name", "regionalReplicaCount", "storageAccountType", "excludeFromLatest")...)
	return out
}

func imageTemplateAliases() [][2]string {
	out := plainAliases("source.type", "source.publisher", "source.offer", "source.sku", "source.version",
		"source.imageId", "source.imageVersionId", "vmProfile.vmSize", "vmProfile.osDiskSizeGB",
		"vmProfile.vnetConfig.subnetId", "buildTimeoutInMinutes", "stagingResourceGroup", "optimize.vmBoot.state",
		"errorHandling.onCustomizerError", "errorHandling.onValidationError", "autoRun.state",
		"validate.continueDistributeOnFailure", "validate.sourceValidationOnly")
	out = append(out, arrayAliases("customize", "properties.customize", "type", "name", "scriptUri", "sha256Checksum")...)
	out = append(out, arrayAliases("distribute", "properties.distribute", "type", "runOutputName", "galleryImageId",
		"imageId", "excludeFromLatest", "replicationRegions", "replicationRegions[*]", "targetRegions",
		"targetRegions[*]", "targetRegions[*].name")...)
	out = append(out, arrayAliases("validate.inVMValidations", "properties.validate.inVMValidations", "type", "name")...)
	out = append(out, arrayAliases("vmProfile.userAssignedIdentities", "properties.vmProfile.userAssignedIdentities")...)
	return out
}

// Lower-cased types compared on every evaluation.
var (
	lowerResourceGroup = strings.ToLower(TypeResourceGroup)
	lowerSubscription  = strings.ToLower(TypeSubscription)
)

var builtinTypes = []builtinType{
	{TypeVirtualMachine, "2024-07-01", true, vmAliases()},
	{TypeVirtualMachineScaleSet, "2024-07-01", true, vmssAliases()},
	{TypeGallery, "2024-03-03", true, galleryAliases()},
	{TypeGalleryImage, "2024-03-03", true, galleryImageAliases()},
	{TypeGalleryImageVersion, "2024-03-03", true, galleryVersionAliases()},
	{TypeImageTemplate, "2024-02-01", true, imageTemplateAliases()},
	{TypeUserAssignedIdentity, "2023-01-31", true, plainAliases("principalId", "clientId", "tenantId")},
	{TypeResourceGroup, "2024-03-01", true, nil},
	{TypeSubscription, "2022-12-01", false, nil},
}

var (
	builtinOnce  sync.Once
	builtinTable *Aliases
)

// BuiltinAliases is the alias table for the resource types kiln has:
// virtual machines (and scale sets, for Azure's own image policies),
// galleries, image definitions and versions, image templates, user-assigned
// identities, resource groups and subscriptions, plus kiln's
// Kiln.Compute/virtualMachines/imageVersion.* aliases. The table is shared:
// do not modify it (LoadAliases copies it).
func BuiltinAliases() *Aliases {
	builtinOnce.Do(func() { builtinTable = buildBuiltinAliases() })
	return builtinTable
}

func buildBuiltinAliases() *Aliases {
	a := newAliases()
	for _, bt := range builtinTypes {
		a.addType(ResourceTypeInfo{Type: bt.typ, APIVersions: []string{bt.apiVersion}, TagsAndLocation: bt.tagsAndLoc, Known: true})
		for _, pair := range bt.aliases {
			name, text := pair[0], pair[1]
			if strings.HasPrefix(name, "/") {
				name = bt.typ + name
			}
			modifiable := strings.HasSuffix(text, "!")
			p, err := parsePath(strings.TrimSuffix(text, "!"))
			if err != nil {
				continue // a typo in the table above; TestBuiltinAliasPaths catches it
			}
			a.add(name, bt.typ, &aliasTarget{defaultPath: p, modifiable: modifiable})
		}
	}
	return a.finish()
}
