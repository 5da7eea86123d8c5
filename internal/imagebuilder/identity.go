package imagebuilder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kiln-dev/kiln/internal/arm"
	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/template"
)

// Actions a template's identity may need (Image Builder's permissions
// reference: read the source, write the distribution targets).
const (
	ActionImageRead          = "Microsoft.Compute/images/read"
	ActionImageWrite         = "Microsoft.Compute/images/write"
	ActionGalleryRead        = "Microsoft.Compute/galleries/read"
	ActionGalleryImageRead   = "Microsoft.Compute/galleries/images/read"
	ActionGalleryVersionRead = "Microsoft.Compute/galleries/images/versions/read"
	// ActionGalleryVersionWrite publishes a gallery image version.
	ActionGalleryVersionWrite = "Microsoft.Compute/galleries/images/versions/write"
	// ActionIdentityAssign lets a caller give a template an identity to act as.
	ActionIdentityAssign = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
)

// IdentityDirectory resolves a template's user-assigned identity (by its
// ARM ID) to the principal its builds act as.
type IdentityDirectory interface {
	PrincipalOf(ctx context.Context, identityID string) (authz.Principal, error)
}

// Requirement is one action a template's identity needs at one scope.
type Requirement struct {
	Action string `json:"action"`
	Scope  string `json:"scope"`
	// For is the template field that needs it, as a JSON path.
	For string `json:"for"`
}

func (r Requirement) String() string {
	return fmt.Sprintf("%s over scope '%s' (%s)", r.Action, r.Scope, r.For)
}

// RequiredPermissions derives, from a template, the control-plane
// actions its identity needs and where: read on a ManagedImage or
// SharedImageVersion source, write on every ManagedImage and SharedImage
// target (with read on the gallery and image definition). Platform and
// disk-image sources and VHD targets touch no Azure resource and need
// nothing. Both the preflight and `kiln image builder permissions` use
// this, so the role it prints is exactly what the preflight checks.
func RequiredPermissions(t template.ImageTemplate) []Requirement {
	var out []Requirement
	add := func(r ...Requirement) {
		for _, x := range r {
			if !slices.ContainsFunc(out, func(y Requirement) bool {
				return strings.EqualFold(x.Action, y.Action) && strings.EqualFold(x.Scope, y.Scope)
			}) {
				out = append(out, x)
			}
		}
	}
	add(sourceRequirements(t.Properties.Source)...)
	for i, d := range t.Properties.Distribute {
		add(distributeRequirements(fmt.Sprintf("properties.distribute[%d]", i), d)...)
	}
	return out
}

func sourceRequirements(src template.Source) []Requirement {
	switch src.Type {
	case template.SourceManagedImage:
		if id, err := arm.ParseID(src.ImageID); err == nil {
			return []Requirement{{Action: ActionImageRead, Scope: id.String(), For: "properties.source.imageId"}}
		}
	case template.SourceSharedImageVersion:
		// Direct-shared and community gallery references are not ARM
		// IDs: their access is the gallery's sharing, not RBAC.
		if id, err := arm.ParseID(src.ImageVersionID); err == nil && isGalleryVersion(id) {
			return galleryReads(id, "properties.source.imageVersionId")
		}
	}
	return nil
}

// galleryReads are the three reads of a source gallery image version; a
// "latest" version is read through its image definition.
func galleryReads(version arm.ID, path string) []Requirement {
	def := version.Parent()
	versionScope := version.String()
	if strings.EqualFold(version.Name(), "latest") {
		versionScope = def.String()
	}
	return []Requirement{
		{Action: ActionGalleryRead, Scope: def.Parent().String(), For: path},
		{Action: ActionGalleryImageRead, Scope: def.String(), For: path},
		{Action: ActionGalleryVersionRead, Scope: versionScope, For: path},
	}
}

func distributeRequirements(path string, d template.Distributor) []Requirement {
	switch d.Type {
	case template.DistributeManagedImage:
		if id, err := arm.ParseID(d.ImageID); err == nil {
			return []Requirement{{Action: ActionImageWrite, Scope: id.String(), For: path + ".imageId"}}
		}
	case template.DistributeSharedImage:
		if id, err := arm.ParseID(d.GalleryImageID); err == nil {
			return galleryWrite(id, path+".galleryImageId")
		}
	}
	return nil
}

// galleryWrite is what publishing to a gallery image needs: read the
// gallery and the definition, write the version (at the named version,
// or at the definition when kiln numbers the version).
func galleryWrite(id arm.ID, path string) []Requirement {
	def, versionScope := id, id.String()
	if isGalleryVersion(id) {
		def = id.Parent()
	}
	if !strings.EqualFold(def.ResourceType(), "Microsoft.Compute/galleries/images") {
		return nil
	}
	return []Requirement{
		{Action: ActionGalleryRead, Scope: def.Parent().String(), For: path},
		{Action: ActionGalleryImageRead, Scope: def.String(), For: path},
		{Action: ActionGalleryVersionWrite, Scope: versionScope, For: path},
	}
}

func isGalleryVersion(id arm.ID) bool {
	return strings.EqualFold(id.ResourceType(), "Microsoft.Compute/galleries/images/versions")
}

// identityOf returns the ARM ID of a template's user-assigned identity.
func identityOf(t template.ImageTemplate) (string, bool) {
	if t.Identity == nil || !strings.EqualFold(t.Identity.Type, "UserAssigned") {
		return "", false
	}
	for id := range t.Identity.UserAssignedIdentities {
		return id, true // Validate allows exactly one
	}
	return "", false
}

// checkIdentityAssign is Create's check: giving a template an identity
// lets whoever runs the template act as it, so the caller needs
// assign/action on the identity, which must exist.
func (s *Service) checkIdentityAssign(ctx context.Context, p authz.Principal, t template.ImageTemplate) error {
	id, ok := identityOf(t)
	if !ok {
		return nil
	}
	if err := s.Authz.Check(ctx, p, ActionIdentityAssign, id); err != nil {
		return fmt.Errorf("identity.userAssignedIdentities: %w", err)
	}
	_, err := s.identityPrincipal(ctx, id)
	return err
}

func (s *Service) identityPrincipal(ctx context.Context, id string) (authz.Principal, error) {
	if s.Identities == nil {
		return authz.Principal{}, fmt.Errorf("identity %s: this installation cannot resolve managed identities", id)
	}
	return s.Identities.PrincipalOf(ctx, id)
}

// runAs is Run's preflight: it returns the principal the build acts as
// and, before anything is built, checks that this principal may read the
// source and write every target, failing fast with every missing action
// and scope. A template without an identity keeps working as it did
// before identities existed: its build acts as the caller, whose own
// permissions then decide (Azure requires an identity; kiln does not, so
// that templates for local builds stay short).
func (s *Service) runAs(ctx context.Context, caller authz.Principal, templateID string, t template.ImageTemplate) (authz.Principal, error) {
	as := caller
	if id, ok := identityOf(t); ok {
		var err error
		if as, err = s.identityPrincipal(ctx, id); err != nil {
			return authz.Principal{}, fmt.Errorf("PreflightFailed: image template %s acts as its identity: %w", templateID, err)
		}
	}
	if err := s.Preflight(ctx, as, templateID, t); err != nil {
		return authz.Principal{}, err
	}
	return as, nil
}

// Preflight checks every requirement of the template for the principal
// its build acts as; see RequiredPermissions.
func (s *Service) Preflight(ctx context.Context, as authz.Principal, templateID string, t template.ImageTemplate) error {
	pe := &PreflightError{TemplateID: templateID, Identity: as}
	for _, r := range RequiredPermissions(t) {
		err := s.Authz.Check(ctx, as, r.Action, r.Scope)
		var denied *authz.AuthorizationFailedError
		var locked *authz.ScopeLockedError
		switch {
		case err == nil:
		case errors.As(err, &denied):
			pe.Missing = append(pe.Missing, r)
		case errors.As(err, &locked):
			pe.Locked = append(pe.Locked, LockedRequirement{Requirement: r, Err: locked})
		default:
			return fmt.Errorf("preflight of %s: %w", templateID, err)
		}
	}
	if len(pe.Missing) == 0 && len(pe.Locked) == 0 {
		return nil
	}
	return pe
}

// LockedRequirement is a requirement a lock refuses.
type LockedRequirement struct {
	Requirement
	Err *authz.ScopeLockedError
}

// PreflightError is a run refused before it starts: the principal the
// build would act as lacks permissions, or locks forbid its writes.
type PreflightError struct {
	TemplateID string
	Identity   authz.Principal
	Missing    []Requirement
	Locked     []LockedRequirement
}

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PreflightFailed: the build of image template %s acts as %s, which cannot do what it needs", e.TemplateID, e.Identity)
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, "; missing %d permission(s):", len(e.Missing))
		for _, r := range e.Missing {
			b.WriteString("\n  - " + r.String())
		}
	}
	for _, l := range e.Locked {
		fmt.Fprintf(&b, "\n  - %s is blocked by a lock: %v", l.Requirement, l.Err)
	}
	if len(e.Missing) > 0 {
		group, name := templateGroupAndName(e.TemplateID)
		fmt.Fprintf(&b, "\ngrant them with a role: kiln image builder permissions -g %s -n %s > role.json; kiln role definition create --role-definition role.json; "+
			"kiln role assignment create --assignee %s --role <its Name> --scope <each of its AssignableScopes>", group, name, e.Identity.ID)
	}
	return b.String()
}

func templateGroupAndName(id string) (string, string) {
	parsed, err := arm.ParseID(id)
	if err != nil {
		return "<group>", "<template>"
	}
	return parsed.ResourceGroup(), parsed.Name()
}

// RoleFile is a role definition in the shape of the az CLI's
// --role-definition file.
type RoleFile struct {
	Name             string   `json:"Name"`
	IsCustom         bool     `json:"IsCustom"`
	Description      string   `json:"Description"`
	Actions          []string `json:"Actions"`
	NotActions       []string `json:"NotActions"`
	DataActions      []string `json:"DataActions"`
	NotDataActions   []string `json:"NotDataActions"`
	AssignableScopes []string `json:"AssignableScopes"`
}

// MinimalRole is the least-privilege role for a template's identity: the
// actions of RequiredPermissions, assignable at the resource groups that
// hold their scopes (the resources a build writes do not exist yet, so a
// group is the narrowest scope an assignment can name). A template that
// needs nothing gets a role with no actions, assignable at its own group.
func MinimalRole(templateID string, t template.ImageTemplate) RoleFile {
	group, name := templateGroupAndName(templateID)
	role := RoleFile{Name: fmt.Sprintf("Image template identity %s/%s", group, name), IsCustom: true,
		Description: fmt.Sprintf("Least privilege for the identity of image template %s, derived by kiln image builder permissions", templateID),
		Actions:     []string{}, NotActions: []string{}, DataActions: []string{}, NotDataActions: []string{}, AssignableScopes: []string{}}
	for _, r := range RequiredPermissions(t) {
		if !slices.Contains(role.Actions, r.Action) {
			role.Actions = append(role.Actions, r.Action)
		}
		if g := groupScopeOf(r.Scope); !slices.ContainsFunc(role.AssignableScopes, func(s string) bool { return strings.EqualFold(s, g) }) {
			role.AssignableScopes = append(role.AssignableScopes, g)
		}
	}
	slices.Sort(role.Actions)
	if len(role.AssignableScopes) == 0 {
		role.AssignableScopes = append(role.AssignableScopes, groupScopeOf(templateID))
	}
	slices.Sort(role.AssignableScopes)
	return role
}

// groupScopeOf is the resource group scope that holds a resource, or the
// scope itself when it is not in a group.
func groupScopeOf(scope string) string {
	id, err := arm.ParseID(scope)
	if err != nil || id.ResourceGroup() == "" {
		return scope
	}
	return arm.ResourceGroupID(id.Subscription(), id.ResourceGroup()).String()
}

// Permissions returns the minimal role of a stored template's identity
// and the requirements it covers. The caller needs read on the template.
func (s *Service) Permissions(ctx context.Context, p authz.Principal, group, name string) (RoleFile, []Requirement, error) {
	id := s.ID(group, name)
	if err := s.Authz.Check(ctx, p, ActionRead, id); err != nil {
		return RoleFile{}, nil, err
	}
	r, st, err := s.load(ctx, group, name)
	if err != nil {
		return RoleFile{}, nil, err
	}
	return MinimalRole(r.ID, st.Template), RequiredPermissions(st.Template), nil
}
