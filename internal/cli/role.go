package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/rbac"
)

// roleCommand is az role: role definitions and assignments.
func (a *app) roleCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "role", Short: "Manage role definitions and role assignments (az role)"}
	def := &cobra.Command{Use: "definition", Short: "Manage role definitions"}
	def.AddCommand(a.roleDefinitionWrite("create"), a.roleDefinitionWrite("update"), a.roleDefinitionList(), a.roleDefinitionShow(), a.roleDefinitionDelete())
	asg := &cobra.Command{Use: "assignment", Short: "Manage role assignments"}
	asg.AddCommand(a.roleAssignmentCreate(), a.roleAssignmentList(), a.roleAssignmentDelete())
	cmd.AddCommand(def, asg)
	return cmd
}

// readJSONArg reads a value that is inline JSON, a file path, or @file.
func readJSONArg(v string) ([]byte, error) {
	if p, ok := strings.CutPrefix(v, "@"); ok {
		return os.ReadFile(p)
	}
	if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return []byte(v), nil
	}
	return os.ReadFile(v)
}

// warnProblems prints warnings as az does, one a line on stderr.
func (a *app) warnProblems(problems []authz.Problem) {
	for _, p := range problems {
		fmt.Fprintf(a.stderr, "WARNING: %s\n", p.Error())
	}
}

func (a *app) roleDefinitionWrite(verb string) *cobra.Command {
	var def string
	c := &cobra.Command{
		Use: verb, Short: strings.ToUpper(verb[:1]) + verb[1:] + " a custom role from Azure's role definition JSON (a file, @file or inline)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			data, err := readJSONArg(def)
			if err != nil {
				return fmt.Errorf("--role-definition: %w", err)
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			write := a.acc.rbac.CreateRole
			if verb == "update" {
				write = a.acc.rbac.UpdateRole
			}
			role, warnings, err := write(c.Context(), a.admin, data)
			a.warnProblems(warnings)
			if err != nil {
				return err
			}
			return a.print(role)
		},
	}
	c.Flags().StringVar(&def, "role-definition", "", "the role definition: a JSON file, @file, or inline JSON")
	must(c.MarkFlagRequired("role-definition"))
	return c
}

func (a *app) roleDefinitionList() *cobra.Command {
	var customOnly, name, scope string
	c := &cobra.Command{
		Use: "list", Short: "List role definitions, built-in and custom", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			custom := false
			if customOnly != "" {
				var err error
				if custom, err = strconv.ParseBool(customOnly); err != nil {
					return &usageError{fmt.Errorf("--custom-role-only takes true or false, got %q", customOnly)}
				}
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			roles, err := a.acc.rbac.ListRoles(c.Context(), a.admin, rbac.RoleQuery{CustomOnly: custom, Name: name, Scope: scope})
			if err != nil {
				return err
			}
			return a.print(roles)
		},
	}
	c.Flags().StringVar(&customOnly, "custom-role-only", "", "true to list custom roles only")
	c.Flags().StringVarP(&name, "name", "n", "", "a role name or GUID")
	c.Flags().StringVar(&scope, "scope", "", "only roles assignable at this scope")
	return c
}

func (a *app) roleDefinitionShow() *cobra.Command {
	var name string
	c := &cobra.Command{
		Use: "show", Short: "Show one role definition", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			role, err := a.acc.rbac.GetRole(c.Context(), a.admin, name)
			if err != nil {
				return err
			}
			return a.print(role)
		},
	}
	c.Flags().StringVarP(&name, "name", "n", "", "a role name, GUID or ID")
	must(c.MarkFlagRequired("name"))
	return c
}

func (a *app) roleDefinitionDelete() *cobra.Command {
	var name string
	c := &cobra.Command{
		Use: "delete", Short: "Delete a custom role nobody is assigned", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.acc.rbac.DeleteRole(c.Context(), a.admin, name)
		},
	}
	c.Flags().StringVarP(&name, "name", "n", "", "a role name, GUID or ID")
	must(c.MarkFlagRequired("name"))
	return c
}

// scopeFlags are --scope and --resource-group, which az role commands
// take in place of each other.
type scopeFlags struct{ scope, group string }

func (f *scopeFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.scope, "scope", "", "scope: the subscription (default), a resource group or a resource ID")
	c.Flags().StringVarP(&f.group, "resource-group", "g", "", "resource group (instead of --scope)")
}

// resolve returns the scope the flags name ("" for the subscription).
func (f *scopeFlags) resolve(r *rbac.Service) (string, error) {
	switch {
	case f.scope != "" && f.group != "":
		return "", &usageError{fmt.Errorf("give --scope or --resource-group, not both")}
	case f.group != "":
		return r.GroupScope(f.group), nil
	}
	return f.scope, nil
}

func (a *app) roleAssignmentCreate() *cobra.Command {
	var req rbac.AssignmentRequest
	var objectID string
	var sf scopeFlags
	c := &cobra.Command{
		Use: "create", Short: "Assign a role to a principal at a scope", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if (req.Assignee == "") == (objectID == "") {
				return &usageError{fmt.Errorf("give one of --assignee and --assignee-object-id")}
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			scope, err := sf.resolve(a.acc.rbac)
			if err != nil {
				return err
			}
			req.Scope, req.Assignee = scope, firstNonEmpty(req.Assignee, objectID)
			out, err := a.acc.rbac.CreateAssignment(c.Context(), a.admin, req)
			if err != nil {
				return err
			}
			return a.print(out)
		},
	}
	c.Flags().StringVar(&req.Assignee, "assignee", "", "principal: object ID, user principal name, appId, display name")
	c.Flags().StringVar(&objectID, "assignee-object-id", "", "principal object ID")
	c.Flags().StringVar(&req.Role, "role", "", "role name, GUID or ID")
	c.Flags().StringVar(&req.Description, "description", "", "why the assignment exists")
	c.Flags().String("assignee-principal-type", "", "accepted for az compatibility; kiln knows each principal's type")
	sf.add(c)
	must(c.MarkFlagRequired("role"))
	return c
}

func (a *app) roleAssignmentList() *cobra.Command {
	var q rbac.AssignmentQuery
	var sf scopeFlags
	c := &cobra.Command{
		Use: "list", Short: "List role assignments (at the subscription unless --scope, --resource-group or --all)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			scope, err := sf.resolve(a.acc.rbac)
			if err != nil {
				return err
			}
			q.Scope = scope
			out, err := a.acc.rbac.ListAssignments(c.Context(), a.admin, q)
			if err != nil {
				return err
			}
			return a.print(out)
		},
	}
	c.Flags().StringVar(&q.Assignee, "assignee", "", "only this principal's assignments")
	c.Flags().StringVar(&q.Role, "role", "", "only this role's assignments")
	c.Flags().BoolVar(&q.All, "all", false, "every assignment in the subscription you may read")
	c.Flags().BoolVar(&q.IncludeInherited, "include-inherited", false, "add the assignments at scopes above")
	c.Flags().BoolVar(&q.IncludeGroups, "include-groups", false, "add the assignments of the assignee's groups")
	sf.add(c)
	return c
}

func (a *app) roleAssignmentDelete() *cobra.Command {
	var d rbac.AssignmentDeletion
	var sf scopeFlags
	c := &cobra.Command{
		Use: "delete", Short: "Delete role assignments by ID, or by assignee and role at a scope", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			scope, err := sf.resolve(a.acc.rbac)
			if err != nil {
				return err
			}
			d.Scope = scope
			_, err = a.acc.rbac.DeleteAssignments(c.Context(), a.admin, d)
			return err
		},
	}
	c.Flags().StringSliceVar(&d.IDs, "ids", nil, "role assignment IDs")
	c.Flags().StringVar(&d.Assignee, "assignee", "", "principal whose assignments to delete")
	c.Flags().StringVar(&d.Role, "role", "", "role whose assignments to delete")
	sf.add(c)
	return c
}
