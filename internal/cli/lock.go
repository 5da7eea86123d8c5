package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/rbac"
)

// lockCommand is az lock: management locks.
func (a *app) lockCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "lock", Short: "Manage locks on the subscription, resource groups and resources (az lock)"}
	cmd.AddCommand(a.lockCreate(), a.lockList(), a.lockShow(), a.lockDelete())
	return cmd
}

// lockScope are the flags that say what a lock is on, as az lock takes them.
type lockScope struct {
	group, resource, resourceType, namespace, parent string
}

func (l *lockScope) add(c *cobra.Command) {
	c.Flags().StringVarP(&l.group, "resource-group", "g", "", "resource group (default: the subscription)")
	c.Flags().StringVar(&l.resource, "resource", "", "resource name (with --resource-type) or resource ID")
	c.Flags().StringVar(&l.resourceType, "resource-type", "", "resource type, e.g. Microsoft.Compute/images (or images with --namespace)")
	c.Flags().StringVar(&l.namespace, "namespace", "", "provider namespace, e.g. Microsoft.Compute")
	c.Flags().StringVar(&l.parent, "parent", "", "parent path of a child resource, e.g. galleries/myGallery")
}

// scope returns the locked scope the flags name ("" for the subscription).
func (l *lockScope) scope(r *rbac.Service) (string, error) {
	if strings.HasPrefix(l.resource, "/") {
		return l.resource, nil
	}
	if l.resource == "" {
		if l.group == "" {
			return "", nil
		}
		return r.GroupScope(l.group), nil
	}
	if l.group == "" || l.resourceType == "" {
		return "", &usageError{fmt.Errorf("--resource by name needs --resource-group and --resource-type")}
	}
	typ := l.resourceType
	if l.namespace != "" {
		typ = l.namespace + "/" + typ
	}
	ns, rest, ok := strings.Cut(typ, "/")
	if !ok || rest == "" {
		return "", &usageError{fmt.Errorf("--resource-type %q needs its namespace: Namespace/type, or --namespace", l.resourceType)}
	}
	path := ns
	if l.parent != "" {
		path += "/" + strings.Trim(l.parent, "/")
	}
	return r.GroupScope(l.group) + "/providers/" + path + "/" + rest + "/" + l.resource, nil
}

func (a *app) lockCreate() *cobra.Command {
	var req rbac.LockRequest
	var ls lockScope
	c := &cobra.Command{
		Use: "create", Short: "Lock a subscription, resource group or resource (CanNotDelete or ReadOnly)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			scope, err := ls.scope(a.acc.rbac)
			if err != nil {
				return err
			}
			req.Scope = scope
			l, err := a.acc.rbac.CreateLock(c.Context(), a.admin, req)
			if err != nil {
				return err
			}
			return a.print(l)
		},
	}
	c.Flags().StringVarP(&req.Name, "name", "n", "", "lock name")
	c.Flags().StringVarP(&req.Level, "lock-type", "t", "", "CanNotDelete or ReadOnly")
	c.Flags().StringVar(&req.Notes, "notes", "", "why the lock is there")
	ls.add(c)
	must(c.MarkFlagRequired("name"))
	must(c.MarkFlagRequired("lock-type"))
	return c
}

func (a *app) lockList() *cobra.Command {
	var ls lockScope
	c := &cobra.Command{
		Use: "list", Short: "List the locks at a scope and below it", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			scope, err := ls.scope(a.acc.rbac)
			if err != nil {
				return err
			}
			locks, err := a.acc.rbac.ListLocks(c.Context(), a.admin, scope)
			if err != nil {
				return err
			}
			return a.print(locks)
		},
	}
	ls.add(c)
	return c
}

// lockRef is --ids, or --name with the scope flags.
type lockRef struct {
	lockScope
	name, id string
}

func (l *lockRef) add(c *cobra.Command) {
	l.lockScope.add(c)
	c.Flags().StringVarP(&l.name, "name", "n", "", "lock name")
	c.Flags().StringVar(&l.id, "ids", "", "lock ID (instead of --name and the scope flags)")
}

func (l *lockRef) resolve(r *rbac.Service) (string, error) {
	if l.id != "" {
		return l.id, nil
	}
	if l.name == "" {
		return "", &usageError{fmt.Errorf("give --name (with --resource-group or --resource) or --ids")}
	}
	scope, err := l.scope(r)
	if err != nil {
		return "", err
	}
	return r.LockID(scope, l.name)
}

func (a *app) lockShow() *cobra.Command {
	var ref lockRef
	c := &cobra.Command{
		Use: "show", Short: "Show a lock", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			id, err := ref.resolve(a.acc.rbac)
			if err != nil {
				return err
			}
			l, err := a.acc.rbac.GetLock(c.Context(), a.admin, id)
			if err != nil {
				return err
			}
			return a.print(l)
		},
	}
	ref.add(c)
	return c
}

func (a *app) lockDelete() *cobra.Command {
	var ref lockRef
	c := &cobra.Command{
		Use: "delete", Short: "Delete a lock", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			id, err := ref.resolve(a.acc.rbac)
			if err != nil {
				return err
			}
			return a.acc.rbac.DeleteLock(c.Context(), a.admin, id)
		},
	}
	ref.add(c)
	return c
}
