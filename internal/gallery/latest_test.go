package gallery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLatest(t *testing.T) {
	tests := []struct {
		name     string
		versions []ImageVersion
		region   string
		want     string // version name, "" when none qualifies
		wantErr  string // substring of the error when want is ""
	}{
		{
			name:     "numeric order, not string order",
			versions: []ImageVersion{ver("1.2.0"), ver("1.10.0"), ver("1.9.99")},
			region:   "eastus", want: "1.10.0",
		},
		{
			name:     "region names compare like Azure's",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0")},
			region:   "East US", want: "2.0.0",
		},
		{
			name:     "still replicating in the region",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", replication("westeurope", ReplicationReplicating))},
			region:   "westeurope", want: "1.0.0",
		},
		{
			name:     "replicating elsewhere does not matter",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", replication("westeurope", ReplicationReplicating))},
			region:   "eastus", want: "2.0.0",
		},
		{
			name:     "failed replication",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", replication("westeurope", ReplicationFailed))},
			region:   "westeurope", want: "1.0.0",
		},
		{
			name:     "not a target region",
			versions: []ImageVersion{ver("1.0.0", replication("northeurope", ReplicationCompleted)), ver("2.0.0")},
			region:   "northeurope", want: "1.0.0",
		},
		{
			name:     "excluded globally",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", excludeGlobal)},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "regional false overrides global exclude",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", excludeGlobal, excludeIn("westeurope", false))},
			region:   "westeurope", want: "2.0.0",
		},
		{
			name:     "global exclude still applies where the region has no flag",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", excludeGlobal, excludeIn("westeurope", false))},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "regional true overrides global include",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", excludeIn("eastus", true))},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "revoked now",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", revoked(at(-1)))},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "revocation takes effect at its exact time",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", revoked(t0))},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "revocation scheduled later is not in force yet",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", revoked(t0.Add(time.Second)))},
			region:   "eastus", want: "2.0.0",
		},
		{
			name:     "soft-deleted",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", softDeleted(at(-1), at(6)))},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "still being created",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", provisioning(ProvisioningCreating))},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "being updated stays deployable",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", provisioning(ProvisioningUpdating))},
			region:   "eastus", want: "2.0.0",
		},
		{
			name:     "deprecated and eol stay deployable",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", state(StateEndOfLife, at(-1)))},
			region:   "eastus", want: "2.0.0",
		},
		{
			name:     "invalid names are ignored",
			versions: []ImageVersion{ver("1.0.0"), ver("9.9")},
			region:   "eastus", want: "1.0.0",
		},
		{
			name:     "global: highest qualifying in any region",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", replication("eastus", ReplicationReplicating))},
			region:   "", want: "2.0.0",
		},
		{
			name:     "global: excluded wherever it is replicated",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", replication("eastus", ReplicationReplicating), excludeIn("westeurope", true))},
			region:   "", want: "1.0.0",
		},
		{
			name:     "global: regional include beats global exclude",
			versions: []ImageVersion{ver("1.0.0"), ver("2.0.0", excludeGlobal, excludeIn("westeurope", false))},
			region:   "", want: "2.0.0",
		},
		{
			name:     "no versions",
			versions: nil, region: "eastus",
			wantErr: "there is no latest image version in region eastus: the definition has no versions",
		},
		{
			name: "none qualifies, reasons counted",
			versions: []ImageVersion{
				ver("1.0.0", revoked(at(-2))), ver("2.0.0", excludeGlobal), ver("3.0.0", replication("eastus", ReplicationReplicating)),
				ver("4.0.0", softDeleted(at(-1), at(6))), ver("5.0.0", revoked(at(-1))), ver("bad"),
			},
			region:  "eastus",
			wantErr: "of 6 version(s), 1: its name is not a Major.Minor.Patch version, 1: it is deleted, 2: it is revoked, 1: its replication to eastus is not Completed, 1: it is excluded from latest in eastus",
		},
		{
			name:     "global none",
			versions: []ImageVersion{ver("1.0.0", excludeGlobal)},
			region:   "", wantErr: "there is no latest image version: of 1 version(s), 1: it is excluded from latest in any region",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Latest(tt.versions, tt.region, t0)
			if tt.want != "" {
				if err != nil || got.Name != tt.want {
					t.Fatalf("Latest = %q, %v; want %q", got.Name, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrNoLatest) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Latest error = %v, want ErrNoLatest containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestLatestMatchesReference compares Latest with a direct reading of the
// rules on random inputs: small version ranges (so duplicates such as
// 1.0.0 and 1.00.0 occur), random states, any order.
func TestLatestMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for round := range 2000 {
		n := r.IntN(40)
		vs := make([]ImageVersion, n)
		for i := range vs {
			name := fmt.Sprintf("%d.%d.%d", r.IntN(3), r.IntN(3), r.IntN(3))
			if r.IntN(10) == 0 {
				name = fmt.Sprintf("%d.0%d.%d", r.IntN(3), r.IntN(3), r.IntN(3))
			}
			vs[i] = randomVersion(r, name)
		}
		for _, region := range []string{"eastus", "westeurope", ""} {
			want, wantOK := referenceLatest(vs, region)
			got, err := Latest(vs, region, t0)
			if wantOK != (err == nil) || wantOK && got.ID != want.ID {
				t.Fatalf("round %d region %q: Latest = %s, %v; reference = %s, %v", round, region, got.ID, err, want.ID, wantOK)
			}
		}
	}
}

func randomVersion(r *rand.Rand, name string) ImageVersion {
	states := []string{ReplicationCompleted, ReplicationCompleted, ReplicationReplicating, ReplicationFailed}
	v := ver(name, replication("eastus", states[r.IntN(4)]), replication("westeurope", states[r.IntN(4)]))
	v.ID = fmt.Sprintf("%s#%d", v.ID, r.Int())
	switch r.IntN(8) {
	case 0:
		excludeGlobal(&v)
	case 1:
		excludeIn("eastus", r.IntN(2) == 0)(&v)
	case 2:
		revoked(t0.Add(time.Duration(r.IntN(3)-1) * time.Hour))(&v)
	case 3:
		softDeleted(at(-1), at(6))(&v)
	}
	return v
}

// referenceLatest reads the rules literally: sort by version (stable, so
// the earliest of equal versions wins) and take the first that qualifies.
func referenceLatest(vs []ImageVersion, region string) (ImageVersion, bool) {
	sorted := slices.Clone(vs)
	slices.SortStableFunc(sorted, func(a, b ImageVersion) int { return CompareVersionNames(b.Name, a.Name) })
	for _, v := range sorted {
		if WhyNotLatest(v, region, t0) == "" {
			return v, true
		}
	}
	return ImageVersion{}, false
}

func TestLatestFallsBackBelowTopList(t *testing.T) {
	var vs []ImageVersion
	for i := range 30 {
		opts := []vopt{}
		if i >= 5 {
			opts = append(opts, replication("westeurope", ReplicationReplicating))
		}
		vs = append(vs, ver(fmt.Sprintf("1.0.%d", i), opts...))
	}
	for _, order := range []string{"ascending", "descending"} {
		got, err := Latest(vs, "westeurope", t0)
		if err != nil || got.Name != "1.0.4" {
			t.Fatalf("%s: Latest = %q, %v; want 1.0.4", order, got.Name, err)
		}
		slices.Reverse(vs)
	}
}

func TestWhyNotLatest(t *testing.T) {
	if r := WhyNotLatest(ver("1.0.0"), "eastus", t0); r != "" {
		t.Errorf("eligible version: %q", r)
	}
	if r := WhyNotLatest(ver("1.0.0", excludeIn("eastus", true)), "eastus", t0); r != "it is excluded from latest in eastus" {
		t.Errorf("got %q", r)
	}
}

// latestFixture is n versions of one definition, in the given order, each
// replicated to three regions; every seventh is excluded, every eleventh
// revoked, every thirteenth still replicating in westus.
func latestFixture(n int, order string) []ImageVersion {
	regions := []string{"eastus", "westeurope", "westus"}
	vs := make([]ImageVersion, n)
	for i := range vs {
		name := fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10)
		v := ImageVersion{Name: name, Properties: ImageVersionProperties{ProvisioningState: ProvisioningSucceeded,
			ReplicationStatus: &ReplicationStatus{}}}
		for _, r := range regions {
			v.Properties.PublishingProfile.TargetRegions = append(v.Properties.PublishingProfile.TargetRegions, TargetRegion{Name: r, RegionalReplicaCount: 1})
			v.Properties.ReplicationStatus.Summary = append(v.Properties.ReplicationStatus.Summary, RegionReplication{Region: r, State: ReplicationCompleted, Progress: 100})
		}
		switch {
		case i%7 == 0:
			v.Properties.PublishingProfile.ExcludeFromLatest = true
		case i%11 == 0:
			v.Properties.Revocation = &Revocation{RevokedAt: t0.Add(-time.Hour)}
		case i%13 == 0:
			v.Properties.ReplicationStatus.Summary[2].State = ReplicationReplicating
		}
		if order == "none" || order == "fallback" && i >= n-20 {
			v.Properties.ReplicationStatus.Summary[2].State = ReplicationFailed
		}
		vs[i] = v
	}
	if order == "shuffled" {
		r := rand.New(rand.NewPCG(1, 2))
		r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
	}
	return vs
}

// BenchmarkLatest resolves latest in one region among 10,000 versions.
// The target is 1 ms per resolution or less. "ascending" is sorted input
// (every version beats the previous best), "fallback" has the 20 highest
// versions failed in the region (more than Latest's top list, so it
// rescans), "none" has nothing qualifying and builds the error.
func BenchmarkLatest(b *testing.B) {
	for _, order := range []string{"shuffled", "ascending", "fallback", "none"} {
		vs := latestFixture(10_000, order)
		b.Run(order, func(b *testing.B) {
			for b.Loop() {
				v, err := Latest(vs, "westus", t0)
				if order != "none" && (err != nil || v.Name == "") {
					b.Fatal(err)
				}
			}
		})
	}
	vs := latestFixture(10_000, "shuffled")
	b.Run("global", func(b *testing.B) {
		for b.Loop() {
			if _, err := Latest(vs, "", t0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
