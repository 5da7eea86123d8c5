package gallery

import (
	"fmt"
	"time"
)

// SharingPermissions are the values of sharingProfile.permissions.
var SharingPermissions = []string{"Private", "Groups", "Community"}

// DefaultSoftDeleteRetention is how long a soft-deleted version stays
// recoverable when the gallery sets no retention (Azure: 7 days).
const DefaultSoftDeleteRetention = 7 * 24 * time.Hour

// ValidateGallery checks a gallery being created or replaced.
func ValidateGallery(g Gallery) error {
	var es Errors
	es.addErr("name", ValidateGalleryName(g.Name))
	if g.Location == "" {
		es.add("location", "the location is missing", "give the region the gallery lives in, e.g. eastus")
	}
	if sp := g.Properties.SharingProfile; sp != nil {
		checkEnum(&es, "properties.sharingProfile.permissions", sp.Permissions, SharingPermissions, false)
	}
	if sd := g.Properties.SoftDeletePolicy; sd != nil && sd.RetentionPeriodInDays < 0 {
		es.add("properties.softDeletePolicy.retentionPeriodInDays", fmt.Sprintf("%d is negative", sd.RetentionPeriodInDays), "")
	}
	return es.err()
}

// CheckGalleryUpdate checks that an update keeps the gallery's location.
func CheckGalleryUpdate(old, next Gallery) error {
	if !SameRegion(old.Location, next.Location) {
		e := immutableError("gallery", "location", old.Location, next.Location)
		e.Path = "location"
		return Errors{e}
	}
	return nil
}

// SoftDeleteRetention reports whether the gallery soft-deletes versions,
// and for how long they stay recoverable.
func (g *Gallery) SoftDeleteRetention() (time.Duration, bool) {
	sd := g.Properties.SoftDeletePolicy
	if sd == nil || !sd.IsSoftDeleteEnabled {
		return 0, false
	}
	if sd.RetentionPeriodInDays > 0 {
		return time.Duration(sd.RetentionPeriodInDays) * 24 * time.Hour, true
	}
	return DefaultSoftDeleteRetention, true
}
