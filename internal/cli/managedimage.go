package cli

import (
	"github.com/spf13/cobra"
)

// managedImageCommands are az image list/show/delete for managed images.
func (a *app) managedImageCommands() []*cobra.Command {
	var group, name string
	id := func() string {
		return "/subscriptions/" + a.defaults.SubscriptionID + "/resourceGroups/" + group + "/providers/Microsoft.Compute/images/" + name
	}
	list := &cobra.Command{
		Use: "list", Short: "List managed images", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			imgs, err := a.images.List(c.Context(), a.admin, a.defaults.SubscriptionID, group)
			if err != nil {
				return err
			}
			return a.print(imgs)
		},
	}
	list.Flags().StringVarP(&group, "resource-group", "g", "", "resource group (default: all)")
	show := &cobra.Command{
		Use: "show", Short: "Show a managed image", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			img, err := a.images.Get(c.Context(), a.admin, id())
			if err != nil {
				return err
			}
			return a.print(img)
		},
	}
	del := &cobra.Command{
		Use: "delete", Short: "Delete a managed image", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.images.Delete(c.Context(), a.admin, id())
		},
	}
	for _, c := range []*cobra.Command{show, del} {
		c.Flags().StringVarP(&group, "resource-group", "g", "", "resource group")
		c.Flags().StringVarP(&name, "name", "n", "", "image name")
		must(c.MarkFlagRequired("resource-group"))
		must(c.MarkFlagRequired("name"))
	}
	return []*cobra.Command{list, show, del}
}
