package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// tokenCommand manages API tokens of principals.
func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens of principals (shown once, stored hashed, revocable)"}
	cmd.AddCommand(a.tokenCreate(), a.tokenList(), a.tokenRevoke())
	return cmd
}

func (a *app) tokenCreate() *cobra.Command {
	var principal, name, expiresIn string
	c := &cobra.Command{
		Use: "create", Short: "Create an API token; its secret is printed once and never again", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var ttl time.Duration
			if expiresIn != "" {
				var err error
				if ttl, err = parseDays(expiresIn); err != nil {
					return &usageError{fmt.Errorf("--expires-in: %w", err)}
				}
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			t, err := a.acc.tokens.Create(c.Context(), a.admin, principal, name, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stderr, "WARNING: the token is shown only now; store it safely (kiln keeps only its hash)")
			return a.print(t)
		},
	}
	c.Flags().StringVar(&principal, "principal", "", "the principal the token acts as (default: yourself)")
	c.Flags().StringVar(&name, "name", "", "a name to recognise the token by")
	c.Flags().StringVar(&expiresIn, "expires-in", "", "lifetime, such as 30d, 12h or 1d12h (default 90d)")
	return c
}

func (a *app) tokenList() *cobra.Command {
	var principal string
	var all bool
	c := &cobra.Command{
		Use: "list", Short: "List API tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			ts, err := a.acc.tokens.List(c.Context(), a.admin, principal, all)
			if err != nil {
				return err
			}
			return a.print(ts)
		},
	}
	c.Flags().StringVar(&principal, "principal", "", "whose tokens (default: yours)")
	c.Flags().BoolVar(&all, "all", false, "every principal's tokens")
	return c
}

func (a *app) tokenRevoke() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use: "revoke", Short: "Revoke an API token", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			t, err := a.acc.tokens.Revoke(c.Context(), a.admin, id)
			if err != nil {
				return err
			}
			return a.print(t)
		},
	}
	c.Flags().StringVar(&id, "id", "", "token ID")
	must(c.MarkFlagRequired("id"))
	return c
}

// parseDays reads a duration that may start with days, az style: "30d",
// "6h", "1d12h", "90m".
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("invalid duration %q: use days, hours, minutes or seconds, such as 30d, 6h, 1d12h or 90m", s)
	var total time.Duration
	rest := s
	if i := strings.IndexAny(rest, "dD"); i >= 0 {
		days, err := strconv.Atoi(rest[:i])
		if err != nil || days < 0 || days > 36500 {
			return 0, bad
		}
		total, rest = time.Duration(days)*24*time.Hour, rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return 0, bad
		}
		total += d
	}
	if total <= 0 {
		return 0, bad
	}
	return total, nil
}
