package gallery

import (
	"errors"
	"fmt"
)

// Limits are kiln's gallery quotas. They are configured in kiln.yaml
// under gallery.limits, one key per field (the yaml tag).
type Limits struct {
	GalleriesPerSubscription   int `yaml:"galleriesPerSubscription" json:"galleriesPerSubscription"`
	ImageDefinitionsPerGallery int `yaml:"imageDefinitionsPerGallery" json:"imageDefinitionsPerGallery"`
	VersionsPerImageDefinition int `yaml:"versionsPerImageDefinition" json:"versionsPerImageDefinition"`
	TargetRegionsPerVersion    int `yaml:"targetRegionsPerVersion" json:"targetRegionsPerVersion"`
	// ReplicasPerRegion bounds regionalReplicaCount (and replicaCount), which
	// must lie in 1..ReplicasPerRegion.
	ReplicasPerRegion int `yaml:"replicasPerRegion" json:"replicasPerRegion"`
}

// Limit names one of the Limits; its value is the kiln.yaml key under
// gallery.limits.
type Limit string

// The limits.
const (
	LimitGalleries     Limit = "galleriesPerSubscription"
	LimitDefinitions   Limit = "imageDefinitionsPerGallery"
	LimitVersions      Limit = "versionsPerImageDefinition"
	LimitTargetRegions Limit = "targetRegionsPerVersion"
	LimitReplicas      Limit = "replicasPerRegion"
)

// limitInfo describes a limit for error messages: what is counted and in what.
var limitInfo = map[Limit]struct{ what, in string }{
	LimitGalleries:     {"galleries", "a subscription"},
	LimitDefinitions:   {"image definitions", "a gallery"},
	LimitVersions:      {"image versions", "an image definition"},
	LimitTargetRegions: {"target regions", "an image version"},
	LimitReplicas:      {"replicas", "a region"},
}

// DefaultLimits are kiln's defaults: 1,000 galleries per subscription,
// 1,000 definitions per gallery, 1,000 versions per definition, 100 target
// regions per version and 50 replicas per region.
func DefaultLimits() Limits {
	return Limits{
		GalleriesPerSubscription:   1000,
		ImageDefinitionsPerGallery: 1000,
		VersionsPerImageDefinition: 1000,
		TargetRegionsPerVersion:    100,
		ReplicasPerRegion:          50,
	}
}

// Get returns the value of one limit.
func (l Limits) Get(which Limit) (int, error) {
	switch which {
	case LimitGalleries:
		return l.GalleriesPerSubscription, nil
	case LimitDefinitions:
		return l.ImageDefinitionsPerGallery, nil
	case LimitVersions:
		return l.VersionsPerImageDefinition, nil
	case LimitTargetRegions:
		return l.TargetRegionsPerVersion, nil
	case LimitReplicas:
		return l.ReplicasPerRegion, nil
	}
	return 0, fmt.Errorf("%w: unknown gallery limit %q", ErrInvalid, which)
}

// Validate checks that every limit is at least 1.
func (l Limits) Validate() error {
	var errs []error
	for _, which := range []Limit{LimitGalleries, LimitDefinitions, LimitVersions, LimitTargetRegions, LimitReplicas} {
		if v, _ := l.Get(which); v < 1 {
			errs = append(errs, fmt.Errorf("%w: %s is %d; it must be at least 1", ErrInvalid, ConfigKey(which), v))
		}
	}
	return errors.Join(errs...)
}

// ConfigKey is the kiln.yaml key that sets a limit.
func ConfigKey(which Limit) string { return "gallery.limits." + string(which) }

// Check reports a *LimitError when count (the number there would be after
// the operation) is above the limit.
func (l Limits) Check(which Limit, count int) error {
	max, err := l.Get(which)
	if err != nil {
		return err
	}
	if count <= max {
		return nil
	}
	return &LimitError{Limit: which, Max: max, Count: count}
}

// LimitError is a limit that would be exceeded.
type LimitError struct {
	Limit Limit
	Max   int
	Count int
}

func (e *LimitError) Error() string {
	info := limitInfo[e.Limit]
	return fmt.Sprintf("limit %s exceeded: %s may hold at most %d %s, this would make %d; remove some or raise %s in kiln.yaml",
		e.Limit, info.in, e.Max, info.what, e.Count, ConfigKey(e.Limit))
}

// Unwrap makes errors.Is(err, ErrLimitExceeded) true.
func (e *LimitError) Unwrap() error { return ErrLimitExceeded }

// checkReplicaCount checks a replica count: 0 means "not given", otherwise
// it must lie in 1..ReplicasPerRegion.
func (l Limits) checkReplicaCount(n int) error {
	if n == 0 {
		return nil
	}
	if n < 0 {
		return &FieldError{Message: fmt.Sprintf("replica count %d is negative; it must be between 1 and %d", n, l.ReplicasPerRegion), Kind: ErrInvalid}
	}
	return l.Check(LimitReplicas, n)
}
