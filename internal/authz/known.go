package authz

import (
	"fmt"
	"slices"

	"github.com/kiln-dev/kiln/internal/suggest"
)

// knownActions are the control-plane actions kiln checks or is about to:
// Azure's names for the operations of the resources kiln keeps. A role
// pattern that matches none of them grants nothing in kiln (yet), which
// ParseRoleDefinition reports as a warning.
var knownActions = []string{
	"Microsoft.Resources/subscriptions/read",
	"Microsoft.Resources/subscriptions/resourceGroups/read",
	"Microsoft.Resources/subscriptions/resourceGroups/write",
	"Microsoft.Resources/subscriptions/resourceGroups/delete",
	"Microsoft.Resources/deployments/read",
	"Microsoft.Resources/deployments/write",
	"Microsoft.Resources/deployments/delete",
	"Microsoft.Resources/deployments/validate/action",
	"Microsoft.Resources/deployments/cancel/action",

	"Microsoft.VirtualMachineImages/imageTemplates/read",
	"Microsoft.VirtualMachineImages/imageTemplates/write",
	"Microsoft.VirtualMachineImages/imageTemplates/delete",
	"Microsoft.VirtualMachineImages/imageTemplates/run/action",
	"Microsoft.VirtualMachineImages/imageTemplates/cancel/action",

	"Microsoft.Compute/images/read",
	"Microsoft.Compute/images/write",
	"Microsoft.Compute/images/delete",
	"Microsoft.Compute/galleries/read",
	"Microsoft.Compute/galleries/write",
	"Microsoft.Compute/galleries/delete",
	"Microsoft.Compute/galleries/share/action",
	"Microsoft.Compute/galleries/images/read",
	"Microsoft.Compute/galleries/images/write",
	"Microsoft.Compute/galleries/images/delete",
	"Microsoft.Compute/galleries/images/versions/read",
	"Microsoft.Compute/galleries/images/versions/write",
	"Microsoft.Compute/galleries/images/versions/delete",
	"Microsoft.Compute/virtualMachines/read",
	"Microsoft.Compute/virtualMachines/write",
	"Microsoft.Compute/virtualMachines/delete",
	"Microsoft.Compute/virtualMachines/start/action",
	"Microsoft.Compute/virtualMachines/restart/action",
	"Microsoft.Compute/virtualMachines/powerOff/action",
	"Microsoft.Compute/virtualMachines/deallocate/action",

	"Microsoft.ManagedIdentity/userAssignedIdentities/read",
	"Microsoft.ManagedIdentity/userAssignedIdentities/write",
	"Microsoft.ManagedIdentity/userAssignedIdentities/delete",
	"Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",

	"Microsoft.Network/virtualNetworks/read",
	"Microsoft.Network/virtualNetworks/subnets/read",
	"Microsoft.Network/virtualNetworks/subnets/join/action",

	"Microsoft.Storage/storageAccounts/read",
	"Microsoft.Storage/storageAccounts/write",
	"Microsoft.Storage/storageAccounts/delete",
	"Microsoft.Storage/storageAccounts/listKeys/action",
	"Microsoft.Storage/storageAccounts/blobServices/containers/read",
	"Microsoft.Storage/storageAccounts/blobServices/containers/write",
	"Microsoft.Storage/storageAccounts/blobServices/containers/delete",
	"Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",

	"Microsoft.Authorization/roleDefinitions/read",
	"Microsoft.Authorization/roleDefinitions/write",
	"Microsoft.Authorization/roleDefinitions/delete",
	"Microsoft.Authorization/roleAssignments/read",
	"Microsoft.Authorization/roleAssignments/write",
	"Microsoft.Authorization/roleAssignments/delete",
	"Microsoft.Authorization/locks/read",
	"Microsoft.Authorization/locks/write",
	"Microsoft.Authorization/locks/delete",
	"Microsoft.Authorization/policyDefinitions/read",
	"Microsoft.Authorization/policyDefinitions/write",
	"Microsoft.Authorization/policyDefinitions/delete",
	"Microsoft.Authorization/policySetDefinitions/read",
	"Microsoft.Authorization/policySetDefinitions/write",
	"Microsoft.Authorization/policySetDefinitions/delete",
	"Microsoft.Authorization/policyAssignments/read",
	"Microsoft.Authorization/policyAssignments/write",
	"Microsoft.Authorization/policyAssignments/delete",
	"Microsoft.Authorization/policyExemptions/read",
	"Microsoft.Authorization/policyExemptions/write",
	"Microsoft.Authorization/policyExemptions/delete",

	"Microsoft.PolicyInsights/policyStates/queryResults/action",
	"Microsoft.PolicyInsights/policyStates/summarize/action",

	// Reading the activity log (az monitor activity-log list).
	"Microsoft.Insights/eventtypes/values/read",
}

// knownDataActions are the data-plane actions kiln knows: blob access to
// private scripts and artifacts, the one data plane Image Builder's
// identities use.
var knownDataActions = []string{
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
}

// KnownActions returns the control-plane actions kiln knows, in a fresh
// slice.
func KnownActions() []string { return slices.Clone(knownActions) }

// KnownDataActions returns the data-plane actions kiln knows, in a fresh
// slice.
func KnownDataActions() []string { return slices.Clone(knownDataActions) }

// plane says whether an action is a control-plane (management) action,
// matched against Actions/NotActions, or a data action, matched against
// DataActions/NotDataActions only.
type plane int

const (
	controlPlane plane = iota
	dataPlane
)

func (pl plane) known() []string {
	if pl == dataPlane {
		return knownDataActions
	}
	return knownActions
}

func (pl plane) listName() string {
	if pl == dataPlane {
		return "DataActions"
	}
	return "Actions"
}

// unknownActionWarning returns a warning, with ok true, when a valid
// pattern matches no action kiln knows in its plane.
func unknownActionWarning(p ActionPattern, pl plane) (msg, hint string, ok bool) {
	if matchesAnyKnown(p, pl) {
		return "", "", false
	}
	other := dataPlane
	if pl == dataPlane {
		other = controlPlane
	}
	if matchesAnyKnown(p, other) {
		return fmt.Sprintf("%q is a %s action; in %s it grants nothing", p.text, planeWord(other), pl.listName()),
			fmt.Sprintf("move it to %s (or Not%s)", other.listName(), other.listName()), true
	}
	hint = "kiln keeps it, but it has no effect until kiln has such an action"
	if !p.HasWildcard() {
		if near := suggest.Nearest(p.text, pl.known()); near != "" && near != p.text {
			hint = fmt.Sprintf("did you mean %q?", near)
		}
	}
	return fmt.Sprintf("%q matches no action kiln knows", p.text), hint, true
}

func planeWord(pl plane) string {
	if pl == dataPlane {
		return "data"
	}
	return "control-plane"
}

func matchesAnyKnown(p ActionPattern, pl plane) bool {
	for _, a := range pl.known() {
		if p.Matches(a) {
			return true
		}
	}
	return false
}
