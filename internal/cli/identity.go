package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/arm"
	"github.com/kiln-dev/kiln/internal/directory"
)

// identityCommand is az identity: user-assigned managed identities.
func (a *app) identityCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "identity", Short: "Manage user-assigned managed identities (az identity)"}
	cmd.AddCommand(a.identityCreate(), a.identityShow(), a.identityList(), a.identityDelete())
	return cmd
}

// identityRef is -g/-n or --ids.
type identityRef struct{ group, name, id string }

func (r *identityRef) flags(c *cobra.Command) {
	c.Flags().StringVarP(&r.group, "resource-group", "g", "", "resource group")
	c.Flags().StringVarP(&r.name, "name", "n", "", "identity name")
	c.Flags().StringVar(&r.id, "ids", "", "identity resource ID (instead of -g and -n)")
}

// resolve returns the identity's ARM ID.
func (r *identityRef) resolve(ids *directory.Identities) (string, error) {
	if r.id != "" {
		if _, err := arm.ParseID(r.id); err != nil {
			return "", &usageError{err}
		}
		return r.id, nil
	}
	if r.group == "" || r.name == "" {
		return "", &usageError{fmt.Errorf("give --resource-group and --name, or --ids")}
	}
	return ids.ID(r.group, r.name), nil
}

func (a *app) identityCreate() *cobra.Command {
	var group, name, location string
	var tags []string
	c := &cobra.Command{
		Use: "create", Short: "Create a user-assigned managed identity (or update its tags)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			t, err := parseTags(tags)
			if err != nil {
				return err
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			ident, err := a.acc.identities.Create(c.Context(), a.admin, group, name, location, t)
			if err != nil {
				return err
			}
			return a.print(ident)
		},
	}
	c.Flags().StringVarP(&group, "resource-group", "g", "", "resource group")
	c.Flags().StringVarP(&name, "name", "n", "", "identity name")
	c.Flags().StringVarP(&location, "location", "l", "", "location (default: the resource group's)")
	c.Flags().StringSliceVar(&tags, "tags", nil, "space-separated tags: key[=value]")
	must(c.MarkFlagRequired("resource-group"))
	must(c.MarkFlagRequired("name"))
	return c
}

func (a *app) identityShow() *cobra.Command {
	var ref identityRef
	c := &cobra.Command{
		Use: "show", Short: "Show a managed identity", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			id, err := ref.resolve(a.acc.identities)
			if err != nil {
				return err
			}
			ident, err := a.acc.identities.GetByID(c.Context(), a.admin, id)
			if err != nil {
				return err
			}
			return a.print(ident)
		},
	}
	ref.flags(c)
	return c
}

func (a *app) identityList() *cobra.Command {
	var group string
	c := &cobra.Command{
		Use: "list", Short: "List managed identities", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			list, err := a.acc.identities.List(c.Context(), a.admin, group)
			if err != nil {
				return err
			}
			return a.print(list)
		},
	}
	c.Flags().StringVarP(&group, "resource-group", "g", "", "resource group (default: all)")
	return c
}

func (a *app) identityDelete() *cobra.Command {
	var ref identityRef
	c := &cobra.Command{
		Use: "delete", Short: "Delete a managed identity, with its role assignments", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			id, err := ref.resolve(a.acc.identities)
			if err != nil {
				return err
			}
			return a.acc.identities.DeleteByID(c.Context(), a.admin, id)
		},
	}
	ref.flags(c)
	return c
}
