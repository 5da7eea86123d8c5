package template

import (
	"reflect"
	"strings"
)

// union describes a discriminated union: a struct whose discriminator
// field (type, scheme) decides which of its other fields may be set.
type union struct {
	what  string // "customizer", "source", ...: used in messages
	key   string // the discriminator's JSON name
	kinds []kind
}

// kind is one value of a discriminator and the fields it allows.
type kind struct {
	name   string
	fields []string
}

func (u *union) names() []string {
	out := make([]string, len(u.kinds))
	for i, k := range u.kinds {
		out[i] = k.name
	}
	return out
}

func (u *union) find(name string) (kind, bool) {
	for _, k := range u.kinds {
		if k.name == name {
			return k, true
		}
	}
	return kind{}, false
}

// label is "a File customizer", "an Update customizer", ...
func (u *union) label(k string) string {
	article := "a"
	if strings.ContainsAny(k[:1], "AEIOUaeiou") {
		article = "an"
	}
	return article + " " + k + " " + u.what
}

// Allowed fields per kind, in the order they are listed to users.
var (
	shellFields      = []string{"name", "type", "scriptUri", "inline", "sha256Checksum", "timeout"}
	powerShellFields = []string{"name", "type", "scriptUri", "inline", "sha256Checksum", "runElevated", "runAsSystem", "validExitCodes"}
	fileFields       = []string{"name", "type", "sourceUri", "destination", "sha256Checksum", "timeout"}
	restartFields    = []string{"name", "type", "restartCommand", "restartCheckCommand", "restartTimeout"}
)

var sourceUnion = &union{what: "source", key: "type", kinds: []kind{
	{SourcePlatformImage, []string{"type", "publisher", "offer", "sku", "version", "exactVersion", "planInfo"}},
	{SourceManagedImage, []string{"type", "imageId"}},
	{SourceSharedImageVersion, []string{"type", "imageVersionId", "exactVersion"}},
	{SourceDiskImage, []string{"type", "uri", "sha256Checksum"}},
}}

var customizerUnion = &union{what: "customizer", key: "type", kinds: []kind{
	{CustomizerShell, shellFields},
	{CustomizerPowerShell, powerShellFields},
	{CustomizerFile, fileFields},
	{CustomizerWindowsRestart, restartFields},
	{CustomizerWindowsUpdate, []string{"name", "type", "searchCriteria", "filters", "updateLimit"}},
	{CustomizerUpdate, []string{"name", "type", "filters", "updateLimit", "timeout"}},
	{CustomizerRestart, restartFields},
	{CustomizerHardening, []string{"name", "type", "profile", "parameters", "exclude", "threshold"}},
}}

var validatorUnion = &union{what: "validator", key: "type", kinds: []kind{
	{CustomizerShell, shellFields},
	{CustomizerPowerShell, powerShellFields},
	{CustomizerFile, fileFields},
}}

var distributorUnion = &union{what: "distributor", key: "type", kinds: []kind{
	{DistributeManagedImage, []string{"type", "runOutputName", "artifactTags", "imageId", "location"}},
	{DistributeSharedImage, []string{"type", "runOutputName", "artifactTags", "galleryImageId", "targetRegions",
		"excludeFromLatest", "versioning", "replicationRegions", "storageAccountType", "replicationMode"}},
	{DistributeVHD, []string{"type", "runOutputName", "artifactTags", "uri"}},
}}

// Versioning schemes.
const (
	VersioningLatest = "Latest"
	VersioningSource = "Source"
)

var versioningUnion = &union{what: "versioning", key: "scheme", kinds: []kind{
	{VersioningLatest, []string{"scheme", "major"}},
	{VersioningSource, []string{"scheme"}},
}}

// fieldKey names a field of a struct type.
type fieldKey struct {
	parent reflect.Type
	field  string
}

// unionFields maps the fields that hold unions (directly, in a slice or
// behind a pointer) to their union.
var unionFields = map[fieldKey]*union{
	{reflect.TypeFor[Properties](), "source"}:        sourceUnion,
	{reflect.TypeFor[Properties](), "customize"}:     customizerUnion,
	{reflect.TypeFor[Properties](), "distribute"}:    distributorUnion,
	{reflect.TypeFor[Validate](), "inVMValidations"}: validatorUnion,
	{reflect.TypeFor[Distributor](), "versioning"}:   versioningUnion,
}

// readOnlyFields are set by the service; a template must not carry them.
var readOnlyFields = map[reflect.Type][]string{
	reflect.TypeFor[ImageTemplate](): {"id", "systemData"},
	reflect.TypeFor[Properties]():    {"provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup"},
}
