package cli

import (
	"github.com/spf13/cobra"
)

// accountView is az account show's shape.
type accountView struct {
	EnvironmentName string      `json:"environmentName"`
	ID              string      `json:"id"`
	IsDefault       bool        `json:"isDefault"`
	Name            string      `json:"name"`
	State           string      `json:"state"`
	TenantID        string      `json:"tenantId"`
	User            accountUser `json:"user"`
}

type accountUser struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// accountCommand is az account: the subscription kiln works in and who acts.
func (a *app) accountCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "The subscription and the acting principal (az account)"}
	cmd.AddCommand(&cobra.Command{
		Use: "show", Short: "Show the subscription and the acting principal", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			userType := "user"
			if a.admin.Type != "" && a.admin.Type != "User" {
				userType = "servicePrincipal"
			}
			return a.print(accountView{
				EnvironmentName: "kiln", ID: a.defaults.SubscriptionID, IsDefault: true, Name: a.defaults.Subscription,
				State: "Enabled", TenantID: a.defaults.TenantID, User: accountUser{Name: a.admin.Name, Type: userType},
			})
		},
	})
	return cmd
}
