package gallery

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// NormalizeVersion fills a new version's defaults: replicaCount 1,
// storageAccountType Standard_LRS, the home region (location) as the only
// target region when none is given, each region's replica count and
// storage type from the global ones, lifecycle state active.
func NormalizeVersion(v *ImageVersion) {
	v.Type = ImageVersionType
	pp := &v.Properties.PublishingProfile
	if pp.ReplicaCount == 0 {
		pp.ReplicaCount = DefaultReplicaCount
	}
	if pp.StorageAccountType == "" {
		pp.StorageAccountType = DefaultStorageAccountType
	}
	pp.StorageAccountType, _ = canonical(pp.StorageAccountType, StorageAccountTypes)
	if len(pp.TargetRegions) == 0 && v.Location != "" {
		pp.TargetRegions = []TargetRegion{{Name: v.Location}}
	}
	for i := range pp.TargetRegions {
		t := &pp.TargetRegions[i]
		if t.RegionalReplicaCount == 0 {
			t.RegionalReplicaCount = pp.ReplicaCount
		}
		if t.StorageAccountType == "" {
			t.StorageAccountType = pp.StorageAccountType
		}
		t.StorageAccountType, _ = canonical(t.StorageAccountType, StorageAccountTypes)
	}
	if v.Properties.LifecycleState == "" {
		v.Properties.LifecycleState = StateActive
	}
}

// ValidateVersion checks a version being created: its name, target
// regions (unique, containing the home region, within the limits), replica
// counts, storage types, end-of-life date (after now), artifacts and parent.
func ValidateVersion(v ImageVersion, l Limits, now time.Time) error {
	var es Errors
	if _, err := ParseVersion(v.Name); err != nil {
		es.addErr("name", err)
	}
	if v.Location == "" {
		es.add("location", "the location (the version's home region) is missing", "")
	}
	pp := &v.Properties.PublishingProfile
	checkTargetRegions(&es, v.Location, pp.TargetRegions, l)
	es.addErr("properties.publishingProfile.replicaCount", l.checkReplicaCount(pp.ReplicaCount))
	checkEnum(&es, "properties.publishingProfile.storageAccountType", pp.StorageAccountType, StorageAccountTypes, false)
	checkFutureDate(&es, "properties.publishingProfile.endOfLifeDate", pp.EndOfLifeDate, now)
	checkArtifacts(&es, v.Properties.StorageProfile.Artifacts)
	if p := v.Properties.ParentVersionID; p != "" {
		if _, err := ParseVersionID(p); err != nil {
			es.addErr("properties.parentVersionId", err)
		}
	}
	if s := v.Properties.LifecycleState; s != "" && !s.valid() {
		es.add("properties.lifecycleState", fmt.Sprintf("%q is not a lifecycle state", s), "one of active, deprecated, eol")
	}
	return es.err()
}

func checkTargetRegions(es *Errors, home string, regions []TargetRegion, l Limits) {
	const path = "properties.publishingProfile.targetRegions"
	if err := l.Check(LimitTargetRegions, len(regions)); err != nil {
		es.addErr(path, err)
	}
	seen := map[string]bool{}
	hasHome := len(regions) == 0
	for i, t := range regions {
		p := fmt.Sprintf("%s[%d]", path, i)
		key := NormalizeRegion(t.Name)
		switch {
		case key == "":
			es.add(p+".name", "the region name is missing", "")
		case seen[key]:
			es.add(p+".name", fmt.Sprintf("Duplicate regions are not allowed in target publishing regions: %s is listed twice", t.Name), "")
		}
		seen[key] = true
		hasHome = hasHome || SameRegion(t.Name, home)
		es.addErr(p+".regionalReplicaCount", l.checkReplicaCount(t.RegionalReplicaCount))
		checkEnum(es, p+".storageAccountType", t.StorageAccountType, StorageAccountTypes, false)
	}
	if !hasHome && home != "" {
		es.add(path, fmt.Sprintf("Gallery image version publishing profile regions %s must contain the location of image version %s", regionList(regions), home), "add "+home+" to the target regions")
	}
}

func regionList(regions []TargetRegion) string {
	names := make([]string, len(regions))
	for i, t := range regions {
		names[i] = t.Name
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func checkArtifacts(es *Errors, arts []Artifact) {
	for i, a := range arts {
		p := fmt.Sprintf("properties.storageProfile.artifacts[%d]", i)
		if a.Format == "" {
			es.add(p+".format", "the artifact format is missing", "qcow2, raw or vhd")
		}
		if !isHexDigest(a.SHA256) {
			es.add(p+".sha256", fmt.Sprintf("%q is not a sha256 digest", a.SHA256), "64 lower-case hexadecimal digits")
		}
		if a.Size < 0 {
			es.add(p+".size", fmt.Sprintf("size %d is negative", a.Size), "")
		}
	}
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckVersionUpdate checks an update of a version (next, after
// NormalizeVersion) against the stored one. Azure lets target regions,
// replica counts, exclude-from-latest and the end-of-life date change;
// the home region, storage types, storage profile and parent do not.
// Removing a region the version is replicated to needs
// safetyProfile.allowDeletionOfReplicatedLocations.
func CheckVersionUpdate(old, next ImageVersion) error {
	var es Errors
	if !SameRegion(old.Location, next.Location) {
		es = append(es, immutableError("galleryImageVersion", "location", old.Location, next.Location))
		es[len(es)-1].Path = "location"
	}
	op, np := &old.Properties.PublishingProfile, &next.Properties.PublishingProfile
	if !strings.EqualFold(op.StorageAccountType, np.StorageAccountType) {
		es = append(es, immutableError("galleryImageVersion", "publishingProfile.storageAccountType", op.StorageAccountType, np.StorageAccountType))
	}
	for _, t := range np.TargetRegions {
		if was, ok := old.TargetRegion(t.Name); ok && !strings.EqualFold(was.StorageAccountType, t.StorageAccountType) {
			es = append(es, immutableError("galleryImageVersion", "publishingProfile.targetRegions["+t.Name+"].storageAccountType", was.StorageAccountType, t.StorageAccountType))
		}
	}
	if !sameStorageProfile(old.Properties.StorageProfile, next.Properties.StorageProfile) {
		es = append(es, immutableError("galleryImageVersion", "storageProfile", "the stored artifacts", "different artifacts"))
	}
	if !strings.EqualFold(old.Properties.ParentVersionID, next.Properties.ParentVersionID) {
		es = append(es, immutableError("galleryImageVersion", "parentVersionId", old.Properties.ParentVersionID, next.Properties.ParentVersionID))
	}
	if err := CheckRegionRemoval(old, next); err != nil {
		es.addErr("properties.publishingProfile.targetRegions", err)
	}
	return es.err()
}

func sameStorageProfile(a, b StorageProfile) bool {
	srcA, srcB := "", ""
	if a.Source != nil {
		srcA = a.Source.ID
	}
	if b.Source != nil {
		srcB = b.Source.ID
	}
	return strings.EqualFold(srcA, srcB) && slices.Equal(a.Artifacts, b.Artifacts)
}

// CheckRegionRemoval refuses to drop target regions that the version has
// been replicated to unless its safety profile allows it.
func CheckRegionRemoval(old, next ImageVersion) error {
	if sp := old.Properties.SafetyProfile; sp != nil && sp.AllowDeletionOfReplicatedLocations {
		return nil
	}
	var removed []string
	for _, t := range old.Properties.PublishingProfile.TargetRegions {
		if _, kept := next.TargetRegion(t.Name); !kept && old.ReplicationState(t.Name) == ReplicationCompleted {
			removed = append(removed, t.Name)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	return &FieldError{
		Message: fmt.Sprintf("image version %s is replicated to %s and its safety profile does not allow deleting replicated locations", old.Name, strings.Join(removed, ", ")),
		Hint:    "set safetyProfile.allowDeletionOfReplicatedLocations to true first",
		Kind:    ErrDeletionBlocked,
	}
}
