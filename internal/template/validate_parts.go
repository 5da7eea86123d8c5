package template

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// source checks the base image.
func (v *validator) source(p string, s *Source) {
	if *s == (Source{}) {
		v.add(p, `for example {"type": "PlatformImage", "publisher": "Debian", "offer": "debian-12", "sku": "12", "version": "latest"}`, "source is required")
		return
	}
	k, ok := v.kindOf(p, sourceUnion, s.Type, s)
	if !ok {
		return
	}
	label := sourceUnion.label(k.name)
	switch k.name {
	case SourcePlatformImage:
		for _, f := range []struct{ name, value string }{{"publisher", s.Publisher}, {"offer", s.Offer}, {"sku", s.Sku}, {"version", s.Version}} {
			v.required(p, f.name, f.value, label)
		}
		v.planInfo(jsonpath.Key(p, "planInfo"), s.PlanInfo)
	case SourceManagedImage:
		if v.required(p, "imageId", s.ImageID, label) {
			v.armID(jsonpath.Key(p, "imageId"), s.ImageID, "a managed image", "Microsoft.Compute/images")
		}
	case SourceSharedImageVersion:
		if v.required(p, "imageVersionId", s.ImageVersionID, label) {
			v.imageVersionID(jsonpath.Key(p, "imageVersionId"), s.ImageVersionID)
		}
	case SourceDiskImage:
		v.diskImage(p, s)
	}
}

func (v *validator) planInfo(p string, pi *PlanInfo) {
	if pi == nil {
		return
	}
	for _, f := range []struct{ name, value string }{{"planName", pi.PlanName}, {"planProduct", pi.PlanProduct}, {"planPublisher", pi.PlanPublisher}} {
		if f.value == "" {
			v.add(jsonpath.Key(p, f.name), "", "required when planInfo is set")
		}
	}
}

// sharedGalleryVersion matches direct-shared and community gallery versions.
var sharedGalleryVersion = regexp.MustCompile(`(?i)^/(sharedGalleries|communityGalleries)/[^/]+/images/[^/]+/versions/[^/]+$`)

func (v *validator) imageVersionID(p, s string) {
	if sharedGalleryVersion.MatchString(s) {
		return
	}
	v.armID(p, s, "a gallery image version", "Microsoft.Compute/galleries/images/versions")
}

// diskImage needs a uri and, always, a checksum: the base of every
// build must be pinned.
func (v *validator) diskImage(p string, s *Source) {
	label := sourceUnion.label(SourceDiskImage)
	if v.required(p, "uri", s.URI, label) {
		v.uri(jsonpath.Key(p, "uri"), s.URI)
	}
	if s.SHA256Checksum == "" {
		v.add(jsonpath.Key(p, "sha256Checksum"), "compute it with: sha256sum FILE", "required for %s", label)
		return
	}
	s.SHA256Checksum = v.checksum(jsonpath.Key(p, "sha256Checksum"), s.SHA256Checksum)
}

var sha256Pattern = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// checksum checks a SHA-256 hex digest and returns it in lower case.
func (v *validator) checksum(p, sum string) string {
	if !sha256Pattern.MatchString(sum) {
		v.add(p, "compute it with: sha256sum FILE", "expected 64 hexadecimal characters (a SHA-256 digest), got %q", sum)
		return sum
	}
	return strings.ToLower(sum)
}

// uri accepts http(s) and file URLs and local paths; it reports whether
// the URI is remote (http or https).
func (v *validator) uri(p, s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		v.add(p, "", "invalid URI %q: %v", s, err)
		return false
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "http" || scheme == "https":
		if u.Host == "" {
			v.add(p, "", "URI %q has no host", s)
		}
		return true
	case scheme == "", scheme == "file", len(scheme) == 1: // a path, file://, or a Windows drive letter
		return false
	}
	v.add(p, "use https://, file:// or a local path", "unsupported URI scheme %q", u.Scheme)
	return false
}

// steps checks customizers or in-VM validations.
func (v *validator) steps(p string, steps []Customizer, u *union) {
	names := map[string]string{}
	for i := range steps {
		sp := jsonpath.Index(p, i)
		c := &steps[i]
		if c.Name != "" {
			if first, dup := names[c.Name]; dup {
				v.add(jsonpath.Key(sp, "name"), "", "duplicate name %q, first used at %s", c.Name, first)
			} else {
				names[c.Name] = sp
			}
		}
		if k, ok := v.kindOf(sp, u, c.Type, c); ok {
			v.step(sp, u, k, c)
		}
	}
}

// windowsOnly are the customizers a local (Linux) build cannot run.
var windowsOnly = []string{CustomizerPowerShell, CustomizerWindowsRestart, CustomizerWindowsUpdate}

func (v *validator) step(p string, u *union, k kind, c *Customizer) {
	if v.env.LocalBuild && slices.Contains(windowsOnly, k.name) {
		v.add(jsonpath.Key(p, "type"), "use Shell, Update or Restart",
			"%s runs only on Windows images built by Azure; kiln builds Linux images locally", u.label(k.name))
	}
	v.duration(jsonpath.Key(p, "timeout"), c.Timeout)
	switch k.name {
	case CustomizerShell, CustomizerPowerShell:
		v.script(p, u.label(k.name), c)
		if c.RunAsSystem && !c.RunElevated {
			v.add(jsonpath.Key(p, "runAsSystem"), "set runElevated to true as well", "runAsSystem requires runElevated")
		}
	case CustomizerFile:
		v.file(p, c)
	case CustomizerWindowsRestart, CustomizerRestart:
		v.duration(jsonpath.Key(p, "restartTimeout"), c.RestartTimeout)
	case CustomizerWindowsUpdate, CustomizerUpdate:
		v.update(p, c)
	case CustomizerHardening:
		v.hardening(p, c)
	}
}

// hardening checks the shape of a Hardening step; the profile's own checks
// (known profile, controls and parameters) run when the build resolves it.
func (v *validator) hardening(p string, c *Customizer) {
	if c.Profile == "" {
		v.add(jsonpath.Key(p, "profile"), "list them with: kiln harden profile list", "missing required field")
	}
	for i, d := range c.Exclude {
		dp := jsonpath.Index(jsonpath.Key(p, "exclude"), i)
		if d.Control == "" {
			v.add(jsonpath.Key(dp, "control"), "", "missing required field")
		}
		if strings.TrimSpace(d.Reason) == "" {
			v.add(jsonpath.Key(dp, "reason"), "an excluded control is a documented deviation: say why", "missing required field")
		}
	}
	if c.Threshold != nil && (*c.Threshold < 0 || *c.Threshold > 100) {
		v.add(jsonpath.Key(p, "threshold"), "a percentage from 0 to 100", "%v is out of range", *c.Threshold)
	}
}

// script checks "exactly one of scriptUri and inline" and the checksum.
func (v *validator) script(p, label string, c *Customizer) {
	switch {
	case c.ScriptURI != "" && len(c.Inline) > 0:
		v.add(p, "", "%s takes scriptUri or inline, not both", label)
	case c.ScriptURI == "" && len(c.Inline) == 0:
		v.add(p, "", "%s needs scriptUri or inline", label)
	case c.ScriptURI != "":
		v.fetched(p, "scriptUri", c.ScriptURI, &c.SHA256Checksum)
	default:
		v.optionalChecksum(p, &c.SHA256Checksum)
	}
}

// fetched checks a downloaded file's URI and checksum: remote files must
// be pinned by sha256Checksum.
func (v *validator) fetched(p, field, uri string, sum *string) {
	remote := v.uri(jsonpath.Key(p, field), uri)
	if remote && *sum == "" {
		v.add(jsonpath.Key(p, "sha256Checksum"), "compute it with: curl -fsSL URL | sha256sum", "required when %s is an http(s) URL", field)
		return
	}
	v.optionalChecksum(p, sum)
}

func (v *validator) optionalChecksum(p string, sum *string) {
	if *sum != "" {
		*sum = v.checksum(jsonpath.Key(p, "sha256Checksum"), *sum)
	}
}

func (v *validator) file(p string, c *Customizer) {
	label := customizerUnion.label(CustomizerFile)
	if v.required(p, "sourceUri", c.SourceURI, label) {
		v.fetched(p, "sourceUri", c.SourceURI, &c.SHA256Checksum)
	} else {
		v.optionalChecksum(p, &c.SHA256Checksum)
	}
	if v.required(p, "destination", c.Destination, label) && !absolutePath(c.Destination) {
		v.add(jsonpath.Key(p, "destination"), "for example /tmp/"+lastElem(c.Destination), "destination %q must be an absolute path", c.Destination)
	}
}

func lastElem(s string) string {
	s = strings.TrimRight(s, `/\`)
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (v *validator) duration(p, s string) {
	if s == "" {
		return
	}
	if d, err := time.ParseDuration(s); err != nil || d <= 0 {
		v.add(p, `a number with a unit, e.g. "5m" or "2h"`, "invalid duration %q", s)
	}
}

func (v *validator) update(p string, c *Customizer) {
	if c.UpdateLimit < 0 {
		v.add(jsonpath.Key(p, "updateLimit"), "0 means 1000", "updateLimit must not be negative, got %d", c.UpdateLimit)
	}
	for i, f := range c.Filters {
		if !strings.HasPrefix(f, "include:") && !strings.HasPrefix(f, "exclude:") {
			v.add(jsonpath.Index(jsonpath.Key(p, "filters"), i), `for example "exclude:linux-image-*"`, "filter %q must start with include: or exclude:", f)
		}
	}
}

func (v *validator) optimize(p string, o *Optimize) {
	if o.VMBoot != nil {
		v.enum(jsonpath.Key(jsonpath.Key(p, "vmBoot"), "state"), o.VMBoot.State, true, "Enabled", "Disabled")
	}
	if w := o.Workload; w != nil {
		wp := jsonpath.Key(p, "workload")
		v.enum(jsonpath.Key(wp, "state"), w.State, true, "Enabled", "Disabled")
		if w.ScriptURI != "" {
			v.fetched(wp, "scriptUri", w.ScriptURI, &w.SHA256Checksum)
		} else {
			v.optionalChecksum(wp, &w.SHA256Checksum)
		}
	}
}

func (v *validator) errorHandling(p string, eh *ErrorHandling) {
	if eh == nil {
		return
	}
	v.enum(jsonpath.Key(p, "onCustomizerError"), eh.OnCustomizerError, true, ErrorHandlingCleanup, ErrorHandlingAbort)
	v.enum(jsonpath.Key(p, "onValidationError"), eh.OnValidationError, true, ErrorHandlingCleanup, ErrorHandlingAbort)
}

func (v *validator) vmProfile(p string, vp *VMProfile) {
	if vp.OSDiskSizeGB < 0 || vp.OSDiskSizeGB > MaxOSDiskSizeGB {
		v.add(jsonpath.Key(p, "osDiskSizeGB"), "0 keeps the source's size", "%d is out of range 0..%d", vp.OSDiskSizeGB, MaxOSDiskSizeGB)
	}
	for i, id := range vp.UserAssignedIdentities {
		v.identityRef(jsonpath.Index(jsonpath.Key(p, "userAssignedIdentities"), i), id)
	}
	if n := vp.VNetConfig; n != nil {
		np := jsonpath.Key(p, "vnetConfig")
		for _, f := range []struct{ name, value string }{{"subnetId", n.SubnetID}, {"containerInstanceSubnetId", n.ContainerInstanceSubnetID}} {
			if f.value != "" {
				v.armID(jsonpath.Key(np, f.name), f.value, "a subnet", "Microsoft.Network/virtualNetworks/subnets")
			}
		}
		if n.ProxyVMSize != "" && n.ContainerInstanceSubnetID != "" {
			v.add(jsonpath.Key(np, "proxyVmSize"), "", "proxyVmSize cannot be set together with containerInstanceSubnetId")
		}
	}
}

var (
	snapshotLayout = "20060102T150405Z"
	packagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9+.\-]*(:[a-z0-9]+)?(=\S+)?$`)
)

func (v *validator) kiln(p string, k *KilnSettings) {
	v.enum(jsonpath.Key(p, "executor"), k.Executor, true, ExecutorChroot, ExecutorVM)
	if k.Snapshot != "" {
		if _, err := time.Parse(snapshotLayout, k.Snapshot); err != nil {
			v.add(jsonpath.Key(p, "snapshot"), "for example 20250101T000000Z", "snapshot %q is not a YYYYMMDDTHHMMSSZ timestamp", k.Snapshot)
		}
	}
	if k.Mirror != "" && !v.uri(jsonpath.Key(p, "mirror"), k.Mirror) {
		v.add(jsonpath.Key(p, "mirror"), "for example https://deb.debian.org/debian", "mirror must be an http(s) URL")
	}
	for i, pkg := range k.Packages {
		if !packagePattern.MatchString(pkg) {
			v.add(jsonpath.Index(jsonpath.Key(p, "packages"), i), "", "%q is not a Debian package name", pkg)
		}
	}
}

// distributors checks the distribution targets.
func (v *validator) distributors(p string, ds []Distributor) {
	if len(ds) == 0 {
		v.add(p, "add a SharedImage, ManagedImage or VHD target", "at least one distribution target is required")
		return
	}
	names := map[string]string{}
	for i := range ds {
		dp := jsonpath.Index(p, i)
		d := &ds[i]
		v.runOutputName(dp, d.RunOutputName, names)
		if k, ok := v.kindOf(dp, distributorUnion, d.Type, d); ok {
			v.distributor(dp, k, d)
		}
	}
}

func (v *validator) runOutputName(p, name string, seen map[string]string) {
	np := jsonpath.Key(p, "runOutputName")
	switch first, dup := seen[name]; {
	case name == "":
		v.add(np, "", "required")
	case !namePattern.MatchString(name):
		v.add(np, "", "%q must be 1 to 64 letters, digits, '-', '_' or '.'", name)
	case dup:
		v.add(np, "", "duplicate runOutputName %q, first used at %s", name, first)
	default:
		seen[name] = p
	}
}

func (v *validator) distributor(p string, k kind, d *Distributor) {
	label := distributorUnion.label(k.name)
	switch k.name {
	case DistributeManagedImage:
		if v.required(p, "imageId", d.ImageID, label) {
			v.armID(jsonpath.Key(p, "imageId"), d.ImageID, "a managed image", "Microsoft.Compute/images")
		}
		v.required(p, "location", d.Location, label)
	case DistributeSharedImage:
		v.sharedImage(p, label, d)
	case DistributeVHD:
		if d.URI != "" {
			v.uri(jsonpath.Key(p, "uri"), d.URI)
		}
	}
}

var storageAccountTypes = []string{"Standard_LRS", "Standard_ZRS", "Premium_LRS"}

func (v *validator) sharedImage(p, label string, d *Distributor) {
	isVersion := false
	if v.required(p, "galleryImageId", d.GalleryImageID, label) {
		id, ok := v.armID(jsonpath.Key(p, "galleryImageId"), d.GalleryImageID, "a gallery image definition or version",
			"Microsoft.Compute/galleries/images", "Microsoft.Compute/galleries/images/versions")
		isVersion = ok && strings.HasSuffix(strings.ToLower(id.ResourceType()), "/versions")
	}
	for i, r := range d.TargetRegions {
		v.targetRegion(jsonpath.Index(jsonpath.Key(p, "targetRegions"), i), r)
	}
	if len(d.TargetRegions) > 0 && (len(d.ReplicationRegions) > 0 || d.StorageAccountType != "") {
		v.add(jsonpath.Key(p, "replicationRegions"), "use targetRegions only", "targetRegions replaces the deprecated replicationRegions and storageAccountType; set one or the other")
	}
	v.enum(jsonpath.Key(p, "storageAccountType"), d.StorageAccountType, true, storageAccountTypes...)
	v.enum(jsonpath.Key(p, "replicationMode"), d.ReplicationMode, true, "Full", "Shallow")
	if d.Versioning != nil {
		v.versioning(jsonpath.Key(p, "versioning"), d.Versioning, isVersion)
	}
}

func (v *validator) targetRegion(p string, r TargetRegion) {
	if r.Name == "" {
		v.add(jsonpath.Key(p, "name"), "", "required")
	}
	if r.ReplicaCount < 0 {
		v.add(jsonpath.Key(p, "replicaCount"), "0 means 1", "replicaCount must not be negative, got %d", r.ReplicaCount)
	}
	v.enum(jsonpath.Key(p, "storageAccountType"), r.StorageAccountType, true, storageAccountTypes...)
}

func (v *validator) versioning(p string, ver *Versioning, explicitVersion bool) {
	k, ok := v.kindOf(p, versioningUnion, ver.Scheme, ver)
	if !ok {
		return
	}
	if explicitVersion {
		v.add(p, "remove versioning or give the image definition's ID", "versioning cannot be used when galleryImageId names a version")
	}
	if k.name == VersioningLatest && ver.Major != nil && *ver.Major < -1 {
		v.add(jsonpath.Key(p, "major"), "-1 means the highest existing major", "major must be -1 or more, got %d", *ver.Major)
	}
}
