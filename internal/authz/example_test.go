package authz_test

import (
	"context"
	"fmt"

	"github.com/kiln-dev/kiln/internal/authz"
)

// A custom role from an az CLI file, granted to a group that holds a
// managed identity, checked at two scopes; then a lock on the group.
func Example() {
	const group = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/ImageBuilderRG"
	role, warnings, err := authz.ParseRoleDefinition([]byte(`{
		"Name": "Image Publisher",
		"Actions": ["Microsoft.Compute/images/*", "Microsoft.Compute/galleries/*/read"],
		"AssignableScopes": ["` + group + `"]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("warnings:", len(warnings))
	role.GUID = "5e1f0000-0000-0000-0000-000000000001"

	identity := authz.Principal{ID: "7d000000-0000-0000-0000-000000000001", Name: "aib", Type: authz.TypeManagedIdentity}
	builders := "6b000000-0000-0000-0000-000000000001"
	state := authz.State{
		Roles:       []authz.RoleDefinition{role},
		Assignments: []authz.RoleAssignment{{Scope: group, RoleDefinitionID: role.GUID, PrincipalID: builders, PrincipalType: authz.TypeGroup}},
		Memberships: []authz.Membership{{GroupID: builders, MemberID: identity.ID}},
	}
	snap, err := authz.NewSnapshot(state)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	image := group + "/providers/Microsoft.Compute/images/debian12"
	fmt.Println(snap.Check(ctx, identity, "Microsoft.Compute/images/write", image) == nil)
	fmt.Println(snap.Check(ctx, identity, "Microsoft.Compute/images/write", "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/other") == nil)

	state.Locks = []authz.Lock{{Name: "keep", Scope: group, Level: authz.LockCanNotDelete}}
	if snap, err = authz.NewSnapshot(state); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Check(ctx, identity, "Microsoft.Compute/images/write", image) == nil)
	fmt.Println(snap.Check(ctx, identity, "Microsoft.Compute/images/delete", image))
	// Output:
	// warnings: 0
	// true
	// false
	// true
	// ScopeLocked: the scope '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/ImageBuilderRG/providers/Microsoft.Compute/images/debian12' cannot perform delete operation because the following scope(s) are locked: '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/ImageBuilderRG/providers/Microsoft.Authorization/locks/keep' (CanNotDelete); remove the lock and try again (kiln lock delete --ids /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/ImageBuilderRG/providers/Microsoft.Authorization/locks/keep)
}
