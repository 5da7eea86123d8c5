package rbac

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// Bootstrap gives the bootstrapped admin its directory entry and makes it
// Owner of the tenant's subscription, once per database: a fresh one, or
// one made before role assignments were stored (the admin was then Owner
// by construction). It is idempotent and safe to call from concurrent
// processes; once done, it never undoes a later change.
func Bootstrap(ctx context.Context, st store.Access, d tenancy.Defaults) error {
	adminBody, err := json.Marshal(directory.User{ODataType: "#microsoft.graph.user", ID: d.Admin.ID, DisplayName: d.Admin.Name,
		UserPrincipalName: d.Admin.Name, BusinessPhones: []string{}, AccountEnabled: true, CreatedDateTime: time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	admin := store.Principal{ID: d.Admin.ID, TenantID: d.TenantID, Type: authz.TypeUser, DisplayName: d.Admin.Name,
		SignInName: d.Admin.Name, Body: adminBody}
	owner, err := ownerAssignment(d)
	if err != nil {
		return err
	}
	done, err := st.BootstrapAccess(ctx, admin, []store.RoleAssignmentRecord{owner})
	if err != nil {
		return fmt.Errorf("bootstrap access control: %w", err)
	}
	if done {
		slog.Debug("made the admin Owner of the subscription", "admin", d.Admin.ID, "scope", d.SubscriptionScope())
	}
	return nil
}

// ownerAssignment is the admin's Owner assignment at the subscription;
// its GUID is derived from the tenant's IDs, so every process makes the
// same one.
func ownerAssignment(d tenancy.Defaults) (store.RoleAssignmentRecord, error) {
	guid := uuid.NewSHA1(uuid.NameSpaceOID, []byte("kiln/bootstrap/owner/"+d.SubscriptionID+"/"+d.Admin.ID)).String()
	scope := d.SubscriptionScope()
	id := scope + roleAssignmentsMarker + guid
	a := Assignment{CreatedBy: d.Admin.ID, CreatedOn: time.Now().UTC().Format(time.RFC3339), ID: id, Name: guid,
		PrincipalID: d.Admin.ID, PrincipalType: authz.TypeUser,
		RoleDefinitionID: scope + "/providers/" + authz.RoleDefinitionType + "/" + authz.OwnerRoleGUID, Scope: scope, Type: RoleAssignmentType}
	body, err := json.Marshal(a)
	if err != nil {
		return store.RoleAssignmentRecord{}, err
	}
	return store.RoleAssignmentRecord{ID: id, Scope: scope, RoleGUID: authz.OwnerRoleGUID, PrincipalID: d.Admin.ID,
		PrincipalType: authz.TypeUser, Body: body}, nil
}
