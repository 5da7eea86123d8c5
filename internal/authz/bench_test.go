package authz

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The benchmark tenant: 10 subscriptions of 10 resource groups, 100 groups
// nested up to five deep (with a cycle), 500 users in one to three groups
// each, 20 custom roles, and exactly 1,000 role assignments at
// subscription, group and resource scopes, a third of them to groups.
const (
	benchSubscriptions = 10
	benchGroupsPerSub  = 10
	benchGroups        = 100
	benchUsers         = 500
	benchCustomRoles   = 20
	benchAssignments   = 1000
)

type benchTenant struct {
	state State
	// user is a member of one leaf group only; the grant of
	// benchAllowed reaches it through four levels of nesting.
	user      Principal
	allowed   benchCase
	denied    benchCase
	mixed     []benchCase
	resources []string
}

type benchCase struct{ action, scope string }

func benchSub(i int) string { return fmt.Sprintf("/subscriptions/%08d-0000-0000-0000-000000000000", i) }

func benchRG(sub, g int) string { return fmt.Sprintf("%s/resourceGroups/rg-%d", benchSub(sub), g) }

func benchGroup(i int) string { return fmt.Sprintf("60000000-0000-0000-0000-%012d", i) }

func benchUser(i int) string { return fmt.Sprintf("50000000-0000-0000-0000-%012d", i) }

func benchResources(rg string) []string {
	gallery := rg + "/providers/Microsoft.Compute/galleries/gal"
	return []string{
		rg + "/providers/Microsoft.Compute/images/img",
		gallery,
		gallery + "/images/debian12/versions/1.0.0",
		rg + "/providers/Microsoft.VirtualMachineImages/imageTemplates/debian12",
		rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib",
	}
}

func newBenchTenant() benchTenant {
	rng := rand.New(rand.NewPCG(1, 2))
	var t benchTenant
	var scopes []string
	for s := range benchSubscriptions {
		scopes = append(scopes, benchSub(s))
		for g := range benchGroupsPerSub {
			rg := benchRG(s, g)
			res := benchResources(rg)
			scopes = append(scopes, rg)
			scopes = append(scopes, res...)
			t.resources = append(t.resources, res...)
		}
	}
	t.state.Roles = benchRoles(rng)
	t.state.Memberships = benchMemberships(rng)
	t.state.Assignments = benchAssignmentList(rng, t.state.Roles, scopes)

	leaf := benchGroup(benchGroups - 1) // 99 ⊂ 32 ⊂ 10 ⊂ 3 ⊂ 0
	t.user = Principal{ID: benchUser(benchUsers), Type: TypeUser}
	t.state.Memberships = append(t.state.Memberships, Membership{GroupID: leaf, MemberID: t.user.ID})
	target := benchResources(benchRG(0, 7))[2]
	t.allowed = benchCase{"Microsoft.Compute/galleries/images/versions/read", target}
	t.denied = benchCase{"Microsoft.Authorization/policyExemptions/delete", target}
	for range 64 {
		t.mixed = append(t.mixed, benchCase{knownActions[rng.IntN(len(knownActions))], t.resources[rng.IntN(len(t.resources))]})
	}
	return t
}

// benchRoles makes custom roles of three to six patterns each, some of
// them wildcards, some with NotActions.
func benchRoles(rng *rand.Rand) []RoleDefinition {
	wild := []string{"*/read", "Microsoft.Compute/*", "Microsoft.Compute/galleries/*/read", "Microsoft.VirtualMachineImages/imageTemplates/*"}
	var roles []RoleDefinition
	for i := range benchCustomRoles {
		var actions []string
		for range 3 + rng.IntN(4) {
			actions = append(actions, knownActions[rng.IntN(len(knownActions))])
		}
		if i%3 == 0 {
			actions = append(actions, wild[rng.IntN(len(wild))])
		}
		perm := Permission{Actions: actions}
		if i%4 == 0 {
			perm.NotActions = []string{"Microsoft.Compute/*/delete"}
		}
		roles = append(roles, RoleDefinition{
			GUID: fmt.Sprintf("70000000-0000-0000-0000-%012d", i), RoleName: fmt.Sprintf("bench role %d", i),
			RoleType: RoleTypeCustom, Permissions: []Permission{perm}, AssignableScopes: []string{"/subscriptions/00000000-0000-0000-0000-000000000000"},
		})
	}
	// Role 0 always grants gallery reads: the benchmark's allowed check.
	roles[0].Permissions[0].Actions = append(roles[0].Permissions[0].Actions, "Microsoft.Compute/galleries/*/read")
	roles[0].Permissions[0].NotActions = nil
	return roles
}

// benchMemberships nests group i in group (i-1)/3, closes one cycle, and
// puts each user in one to three random groups.
func benchMemberships(rng *rand.Rand) []Membership {
	var ms []Membership
	for i := 1; i < benchGroups; i++ {
		ms = append(ms, Membership{GroupID: benchGroup((i - 1) / 3), MemberID: benchGroup(i)})
	}
	ms = append(ms, Membership{GroupID: benchGroup(40), MemberID: benchGroup(0)}) // 0 ⊂ 40 ⊂ 13 ⊂ 4 ⊂ 1 ⊂ 0
	for u := range benchUsers {
		for range 1 + rng.IntN(3) {
			ms = append(ms, Membership{GroupID: benchGroup(rng.IntN(benchGroups)), MemberID: benchUser(u)})
		}
	}
	return ms
}

// benchAssignmentList makes exactly benchAssignments assignments: the one
// the allowed check relies on (role 0 to the root group at subscription
// 0), then random ones, a third of them to groups.
func benchAssignmentList(rng *rand.Rand, custom []RoleDefinition, scopes []string) []RoleAssignment {
	roleGUIDs := []string{ReaderRoleGUID, ContributorRoleGUID, KilnImageTemplateIdentityRoleGUID, KilnImageTemplateOperatorRoleGUID}
	for _, r := range custom {
		roleGUIDs = append(roleGUIDs, r.GUID)
	}
	list := []RoleAssignment{{ID: "bench-0", Scope: benchSub(0), RoleDefinitionID: custom[0].GUID, PrincipalID: benchGroup(0), PrincipalType: TypeGroup}}
	for i := 1; i < benchAssignments; i++ {
		who, typ := benchUser(rng.IntN(benchUsers)), TypeUser
		if i%3 == 0 {
			who, typ = benchGroup(rng.IntN(benchGroups)), TypeGroup
		}
		list = append(list, RoleAssignment{
			ID: fmt.Sprintf("bench-%d", i), Scope: scopes[rng.IntN(len(scopes))],
			RoleDefinitionID: RoleDefinitionID(roleGUIDs[rng.IntN(len(roleGUIDs))]), PrincipalID: who, PrincipalType: typ,
		})
	}
	return list
}

func newBenchSnapshot(b *testing.B) (*Snapshot, benchTenant) {
	b.Helper()
	t := newBenchTenant()
	if n := len(t.state.Assignments); n != benchAssignments {
		b.Fatalf("%d assignments, want %d", n, benchAssignments)
	}
	s, err := NewSnapshot(t.state)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Check(context.Background(), t.user, t.allowed.action, t.allowed.scope); err != nil {
		b.Fatalf("allowed case: %v", err)
	}
	if err := s.Check(context.Background(), t.user, t.denied.action, t.denied.scope); err == nil {
		b.Fatal("denied case is allowed")
	}
	if len(s.GroupsOf(t.user.ID)) < 5 {
		b.Fatalf("user's groups %v: want at least five levels of nesting", s.GroupsOf(t.user.ID))
	}
	return s, t
}

// BenchmarkCheck measures one authorization check in a tenant of 1,000
// role assignments and 100 nested groups. The budget is 20 µs a check.
func BenchmarkCheck(b *testing.B) {
	s, t := newBenchSnapshot(b)
	ctx := context.Background()
	run := func(name string, cases []benchCase, p Principal) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := cases[i%len(cases)]
				_ = s.Check(ctx, p, c.action, c.scope)
				i++
			}
		})
	}
	run("allowed-via-nested-group", []benchCase{t.allowed}, t.user)
	run("denied", []benchCase{t.denied}, t.user)
	run("mixed-actions-and-scopes", t.mixed, t.user)
	busiest, most := Principal{}, -1
	for u := range benchUsers {
		if n := len(s.view(benchUser(u)).grants); n > most {
			busiest, most = Principal{ID: benchUser(u)}, n
		}
	}
	run("mixed-busiest-user", t.mixed, busiest)
}

// BenchmarkCheckParallel is BenchmarkCheck's mixed case from every CPU.
func BenchmarkCheckParallel(b *testing.B) {
	s, t := newBenchSnapshot(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c := t.mixed[i%len(t.mixed)]
			_ = s.Check(ctx, t.user, c.action, c.scope)
			i++
		}
	})
}

// BenchmarkCacheCheck is a check through Cache: one Generation call more.
func BenchmarkCacheCheck(b *testing.B) {
	t := newBenchTenant()
	c := NewCache(staticSource{t.state})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Check(ctx, t.user, t.allowed.action, t.allowed.scope)
	}
}

type staticSource struct{ st State }

func (staticSource) Generation(context.Context) (uint64, error) { return 1, nil }
func (s staticSource) State(context.Context) (State, error)     { return s.st, nil }

// BenchmarkFirstCheckOfAPrincipal measures the one-off cost of a
// principal's first check: expanding its groups and indexing its grants.
func BenchmarkFirstCheckOfAPrincipal(b *testing.B) {
	s, t := newBenchSnapshot(b)
	key := strings.ToLower(t.user.ID)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.buildView(key)
	}
}

// BenchmarkNewSnapshot measures compiling the tenant's state.
func BenchmarkNewSnapshot(b *testing.B) {
	t := newBenchTenant()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewSnapshot(t.state); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActionPatternMatches measures matching one compiled pattern.
func BenchmarkActionPatternMatches(b *testing.B) {
	p, err := CompileActionPattern("Microsoft.Compute/galleries/*/read")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Matches("Microsoft.Compute/galleries/images/versions/read")
	}
}
