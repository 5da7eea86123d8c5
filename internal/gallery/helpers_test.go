package gallery

import (
	"time"
)

// t0 is the "now" of most tests.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func at(days int) time.Time { return t0.Add(time.Duration(days) * 24 * time.Hour) }

func ptr[T any](v T) *T { return &v }

// vopt changes a test version.
type vopt func(*ImageVersion)

// ver is a published version of definition "def", replicated (Completed)
// to eastus and westeurope, unless opts say otherwise.
func ver(name string, opts ...vopt) ImageVersion {
	return defVer("def", name, opts...)
}

func defVer(def, name string, opts ...vopt) ImageVersion {
	v := ImageVersion{
		ID: VersionID("sub", "rg", "g", def, name), Name: name, Type: ImageVersionType, Location: "eastus",
		Properties: ImageVersionProperties{
			ProvisioningState: ProvisioningSucceeded,
			PublishingProfile: PublishingProfile{
				TargetRegions: []TargetRegion{{Name: "eastus", RegionalReplicaCount: 1}, {Name: "westeurope", RegionalReplicaCount: 1}},
				PublishedDate: ptr(at(-1)),
			},
			ReplicationStatus: &ReplicationStatus{AggregatedState: AggregatedCompleted, Summary: []RegionReplication{
				{Region: "eastus", State: ReplicationCompleted, Progress: 100},
				{Region: "westeurope", State: ReplicationCompleted, Progress: 100},
			}},
		},
	}
	for _, o := range opts {
		o(&v)
	}
	return v
}

func replication(region, state string) vopt {
	return func(v *ImageVersion) {
		for i, s := range v.Properties.ReplicationStatus.Summary {
			if SameRegion(s.Region, region) {
				v.Properties.ReplicationStatus.Summary[i].State = state
				return
			}
		}
		v.Properties.ReplicationStatus.Summary = append(v.Properties.ReplicationStatus.Summary, RegionReplication{Region: region, State: state})
	}
}

func excludeGlobal(v *ImageVersion) { v.Properties.PublishingProfile.ExcludeFromLatest = true }

func excludeIn(region string, exclude bool) vopt {
	return func(v *ImageVersion) {
		for i, t := range v.Properties.PublishingProfile.TargetRegions {
			if SameRegion(t.Name, region) {
				v.Properties.PublishingProfile.TargetRegions[i].ExcludeFromLatest = ptr(exclude)
			}
		}
	}
}

func revoked(when time.Time) vopt {
	return func(v *ImageVersion) { v.Properties.Revocation = &Revocation{RevokedAt: when, Reason: "test"} }
}

func softDeleted(when, purge time.Time) vopt {
	return func(v *ImageVersion) { v.Properties.Deletion = &Deletion{DeletedAt: when, PurgeAt: purge} }
}

func provisioning(state string) vopt {
	return func(v *ImageVersion) { v.Properties.ProvisioningState = state }
}

func published(when time.Time) vopt {
	return func(v *ImageVersion) { v.Properties.PublishingProfile.PublishedDate = &when }
}

func state(s LifecycleState, since time.Time) vopt {
	return func(v *ImageVersion) {
		v.Properties.LifecycleState = s
		if s == StateDeprecated {
			v.Properties.DeprecatedAt = &since
		}
		if s == StateEndOfLife {
			v.Properties.PublishingProfile.EndOfLifeDate = &since
		}
	}
}

func endOfLife(when time.Time) vopt {
	return func(v *ImageVersion) { v.Properties.PublishingProfile.EndOfLifeDate = &when }
}

func blockDeletion(v *ImageVersion) {
	v.Properties.SafetyProfile = &SafetyProfile{BlockDeletionBeforeEndOfLife: true}
}

func tagged(k, val string) vopt {
	return func(v *ImageVersion) {
		if v.Tags == nil {
			v.Tags = map[string]string{}
		}
		v.Tags[k] = val
	}
}

func parent(id string) vopt {
	return func(v *ImageVersion) { v.Properties.ParentVersionID = id }
}
