package rbac_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// BenchmarkStoreBackedCheck is one authorization check the way every
// service call makes it: through the cache over the store (one
// generation read, then the snapshot), in a tenant of 1,000 role
// assignments and 100 nested groups. bench/access.sh prints it.
func BenchmarkStoreBackedCheck(b *testing.B) {
	b.Setenv("KILN_SUBSCRIPTION_ID", "")
	ctx := context.Background()
	e := openEnv(b, filepath.Join(b.TempDir(), "kiln.db"))
	who := seedTenant(b, e, 1000, 100)
	scope := e.rbac.GroupScope("rg7") + "/providers/Microsoft.Compute/images/img"
	if err := e.cache.Check(ctx, who, "Microsoft.Compute/images/read", scope); err != nil {
		b.Fatalf("the benchmark's principal is denied: %v", err)
	}
	b.ResetTimer()
	for b.Loop() {
		_ = e.cache.Check(ctx, who, "Microsoft.Compute/images/read", scope)
	}
}

// seedTenant stores groups nested in a chain, users in them, and
// assignments spread over groups and scopes; it returns a user whose
// grant comes through the deepest group.
func seedTenant(b *testing.B, e *env, assignments, groups int) authz.Principal {
	b.Helper()
	ctx := context.Background()
	for i := range 10 {
		_, err := e.st.CreateResource(ctx, store.Resource{ID: e.rbac.GroupScope(fmt.Sprintf("rg%d", i)), Type: "Microsoft.Resources/resourceGroups",
			Name: fmt.Sprintf("rg%d", i), Subscription: e.defaults.SubscriptionID, Body: []byte(`{}`)})
		check(b, err)
	}
	ids := make([]string, groups)
	for i := range groups {
		ids[i] = uuid.NewString()
		_, err := e.st.CreatePrincipal(ctx, store.Principal{ID: ids[i], Type: authz.TypeGroup, DisplayName: fmt.Sprintf("g%d", i), Body: []byte(`{}`)})
		check(b, err)
		if i > 0 {
			check(b, e.st.AddMember(ctx, ids[i-1], ids[i]))
		}
	}
	user := uuid.NewString()
	_, err := e.st.CreatePrincipal(ctx, store.Principal{ID: user, Type: authz.TypeUser, DisplayName: "u", SignInName: "u@example.com", Body: []byte(`{}`)})
	check(b, err)
	check(b, e.st.AddMember(ctx, ids[groups-1], user))
	roles := []string{authz.ReaderRoleGUID, authz.ContributorRoleGUID, authz.KilnImageTemplateOperatorRoleGUID}
	for i := range assignments {
		scope := e.rbac.GroupScope(fmt.Sprintf("rg%d", i%10))
		id := scope + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString()
		_, err := e.st.CreateRoleAssignment(ctx, store.RoleAssignmentRecord{ID: id, Scope: scope, RoleGUID: roles[(i/10)%len(roles)],
			PrincipalID: ids[(i/30)%groups], PrincipalType: authz.TypeGroup, Body: []byte(`{}`)}, nil)
		check(b, err)
	}
	return authz.Principal{ID: user, Type: authz.TypeUser}
}

func check(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
