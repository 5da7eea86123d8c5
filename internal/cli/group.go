package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) groupCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage resource groups (az group)"}
	var name, location string
	var tags []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a resource group, or update its tags",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			t, err := parseTags(tags)
			if err != nil {
				return err
			}
			if location == "" {
				location = a.cfg.DefaultLocation
			}
			g, err := a.groups.Create(c.Context(), a.admin, name, location, t)
			if err != nil {
				return err
			}
			return a.print(g)
		},
	}
	create.Flags().StringVarP(&name, "name", "n", "", "resource group name")
	create.Flags().StringVarP(&location, "location", "l", "", "region (default: kiln.yaml defaultLocation)")
	create.Flags().StringSliceVar(&tags, "tags", nil, "space-separated tags: key[=value]")
	must(create.MarkFlagRequired("name"))

	show := &cobra.Command{
		Use: "show", Short: "Show a resource group", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			g, err := a.groups.Get(c.Context(), a.admin, name)
			if err != nil {
				return err
			}
			return a.print(g)
		},
	}
	show.Flags().StringVarP(&name, "name", "n", "", "resource group name")
	must(show.MarkFlagRequired("name"))

	list := &cobra.Command{
		Use: "list", Short: "List resource groups", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			gs, err := a.groups.List(c.Context(), a.admin)
			if err != nil {
				return err
			}
			return a.print(gs)
		},
	}

	var yes bool
	del := &cobra.Command{
		Use: "delete", Short: "Delete a resource group and everything in it", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			if !yes {
				return &usageError{fmt.Errorf("deleting resource group %q deletes everything in it; confirm with --yes", name)}
			}
			return a.deleteGroup(c, name)
		},
	}
	del.Flags().StringVarP(&name, "name", "n", "", "resource group name")
	del.Flags().BoolVarP(&yes, "yes", "y", false, "do not prompt for confirmation")
	must(del.MarkFlagRequired("name"))

	cmd.AddCommand(create, show, list, del)
	return cmd
}

// deleteGroup deletes a group with everything in it. The group's delete
// is authorized first (locks anywhere in the group refuse it as a
// whole); then its templates, images, galleries and identities go, with
// the role assignments at or below it, and the group last.
func (a *app) deleteGroup(c *cobra.Command, name string) error {
	return a.groups.DeleteCascade(c.Context(), a.admin, name, func(ctx context.Context) error {
		if err := a.deleteGroupContents(ctx, name); err != nil {
			return err
		}
		return a.acc.rbac.ForgetScope(ctx, a.groups.GroupID(name))
	})
}

// deleteGroupContents deletes the templates, images, galleries and
// identities of a group.
func (a *app) deleteGroupContents(ctx context.Context, name string) error {
	if err := a.gallery.DeleteGroupGalleries(ctx, a.admin, a.defaults.SubscriptionID, name); err != nil {
		return err
	}
	ts, err := a.builder.List(ctx, a.admin, name)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if err := a.builder.Delete(ctx, a.admin, name, t.Name); err != nil {
			return err
		}
	}
	imgs, err := a.images.List(ctx, a.admin, a.defaults.SubscriptionID, name)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		if err := a.images.Delete(ctx, a.admin, img.ID); err != nil {
			return err
		}
	}
	ids, err := a.acc.identities.List(ctx, a.admin, name)
	if err != nil {
		return err
	}
	for _, ident := range ids {
		if err := a.acc.identities.DeleteByID(ctx, a.admin, ident.ID); err != nil {
			return err
		}
	}
	return nil
}

// parseTags parses az-style tags: key=value or key.
func parseTags(in []string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, t := range in {
		for _, f := range strings.Fields(t) {
			k, v, _ := strings.Cut(f, "=")
			if k == "" {
				return nil, &usageError{fmt.Errorf("invalid tag %q: use key=value", f)}
			}
			out[k] = v
		}
	}
	return out, nil
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
