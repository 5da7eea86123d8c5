package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// ibPermissions is kiln image builder permissions: the least-privilege
// role of a template's identity, ready for kiln role definition create.
func (a *app) ibPermissions() *cobra.Command {
	var gn groupName
	c := &cobra.Command{
		Use:   "permissions",
		Short: "Print the minimal role definition the template's identity needs (the actions the run's preflight checks)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			role, reqs, err := a.builder.Permissions(c.Context(), a.admin, gn.group, gn.name)
			if err != nil {
				return err
			}
			if len(reqs) == 0 {
				fmt.Fprintln(a.stderr, "WARNING: this template reads and writes no Azure resource: its identity needs no role")
			} else {
				fmt.Fprintf(a.stderr, "WARNING: assign it to the template's identity at %s (kiln role assignment create --assignee <principalId> --role %q --scope ...)\n",
					strings.Join(role.AssignableScopes, " and "), role.Name)
			}
			return a.print(role)
		},
	}
	gn.flags(c)
	return c
}
