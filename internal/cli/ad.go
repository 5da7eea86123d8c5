package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/authz"
)

// adCommand is az ad: the tenant's directory of users, service
// principals and groups.
func (a *app) adCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ad", Short: "Manage the tenant's users, service principals and groups (az ad)"}
	cmd.AddCommand(a.adUserCommand(), a.adSPCommand(), a.adGroupCommand(), a.adSignedInUserCommand())
	return cmd
}

func (a *app) adUserCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var displayName, upn, password string
	create := &cobra.Command{
		Use: "create", Short: "Create a user", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			if password != "" {
				fmt.Fprintln(a.stderr, "WARNING: kiln users sign in with API tokens (kiln token create --principal ...); the password is not kept")
			}
			u, err := a.acc.dir.CreateUser(c.Context(), a.admin, displayName, upn)
			if err != nil {
				return err
			}
			return a.print(u)
		},
	}
	create.Flags().StringVar(&displayName, "display-name", "", "the user's display name")
	create.Flags().StringVar(&upn, "user-principal-name", "", "the user's principal name, name@domain")
	create.Flags().StringVar(&password, "password", "", "accepted for az compatibility and ignored")
	must(create.MarkFlagRequired("display-name"))
	must(create.MarkFlagRequired("user-principal-name"))
	cmd.AddCommand(create)
	cmd.AddCommand(a.adObjectCommands("user", authz.TypeUser, "id", "")...)
	return cmd
}

func (a *app) adSPCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sp", Short: "Manage service principals"}
	var displayName string
	create := &cobra.Command{
		Use: "create", Short: "Create a service principal (with a fresh appId)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			sp, err := a.acc.dir.CreateServicePrincipal(c.Context(), a.admin, displayName)
			if err != nil {
				return err
			}
			return a.print(sp)
		},
	}
	create.Flags().StringVar(&displayName, "display-name", "", "the service principal's display name")
	must(create.MarkFlagRequired("display-name"))
	cmd.AddCommand(create)
	cmd.AddCommand(a.adObjectCommands("service principal", authz.TypeServicePrincipal, "id", "")...)
	return cmd
}

// adObjectCommands are show, list and delete of one kind of principal,
// which show and delete name with the flag az uses (--id, --group).
func (a *app) adObjectCommands(what, typ, flag, short string) []*cobra.Command {
	var id string
	show := &cobra.Command{
		Use: "show", Short: "Show a " + what, Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			obj, err := a.acc.dir.Get(c.Context(), id, typ)
			if err != nil {
				return err
			}
			return a.print(obj)
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List " + what + "s", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			objs, err := a.acc.dir.List(c.Context(), typ)
			if err != nil {
				return err
			}
			return a.print(objs)
		},
	}
	del := &cobra.Command{
		Use: "delete", Short: "Delete a " + what + ", with its role assignments, memberships and tokens", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.acc.dir.Delete(c.Context(), a.admin, id, typ)
		},
	}
	for _, c := range []*cobra.Command{show, del} {
		c.Flags().StringVarP(&id, flag, short, "", "object ID, user principal name, appId or display name")
		must(c.MarkFlagRequired(flag))
	}
	return []*cobra.Command{show, list, del}
}

func (a *app) adGroupCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage security groups"}
	var displayName, nickname, description string
	create := &cobra.Command{
		Use: "create", Short: "Create a security group", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			g, err := a.acc.dir.CreateGroup(c.Context(), a.admin, displayName, nickname, description)
			if err != nil {
				return err
			}
			return a.print(g)
		},
	}
	create.Flags().StringVar(&displayName, "display-name", "", "the group's display name")
	create.Flags().StringVar(&nickname, "mail-nickname", "", "the group's mail nickname")
	create.Flags().StringVar(&description, "description", "", "what the group is for")
	must(create.MarkFlagRequired("display-name"))
	must(create.MarkFlagRequired("mail-nickname"))
	cmd.AddCommand(create, a.adMemberCommand())
	cmd.AddCommand(a.adObjectCommands("group", authz.TypeGroup, "group", "g")...)
	return cmd
}

// adMemberCommand is az ad group member.
func (a *app) adMemberCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "Manage group members (nested groups count transitively)"}
	var group, member string
	add := &cobra.Command{
		Use: "add", Short: "Add a member to a group", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.acc.dir.AddMember(c.Context(), a.admin, group, member)
		},
	}
	remove := &cobra.Command{
		Use: "remove", Short: "Remove a direct member from a group", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.acc.dir.RemoveMember(c.Context(), a.admin, group, member)
		},
	}
	check := &cobra.Command{
		Use: "check", Short: "Check whether a principal is in a group, directly or through other groups", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			in, err := a.acc.dir.IsMember(c.Context(), group, member)
			if err != nil {
				return err
			}
			return a.print(map[string]bool{"value": in})
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List a group's direct members", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			ms, err := a.acc.dir.Members(c.Context(), group)
			if err != nil {
				return err
			}
			return a.print(ms)
		},
	}
	for _, c := range []*cobra.Command{add, remove, check, list} {
		c.Flags().StringVarP(&group, "group", "g", "", "group object ID or display name")
		must(c.MarkFlagRequired("group"))
	}
	for _, c := range []*cobra.Command{add, remove, check} {
		c.Flags().StringVar(&member, "member-id", "", "member object ID (or name)")
		must(c.MarkFlagRequired("member-id"))
	}
	cmd.AddCommand(add, remove, check, list)
	return cmd
}

// adSignedInUserCommand is az ad signed-in-user: who kiln acts as.
func (a *app) adSignedInUserCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "signed-in-user", Short: "The principal kiln acts as (the admin, --as or KILN_TOKEN)"}
	show := &cobra.Command{
		Use: "show", Short: "Show the acting principal", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			obj, err := a.acc.dir.Get(c.Context(), a.admin.ID, "")
			if err != nil {
				return err
			}
			return a.print(obj)
		},
	}
	cmd.AddCommand(show)
	return cmd
}
