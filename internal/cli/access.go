package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/audit"
	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/directory"
	"github.com/kiln-dev/kiln/internal/rbac"
)

// tokenEnv names the environment variable that makes kiln act as the
// principal of an API token.
const tokenEnv = "KILN_TOKEN"

// access holds the identity and access services of an opened app.
type access struct {
	cache      *authz.Cache
	activity   *audit.Log
	dir        *directory.Service
	identities *directory.Identities
	tokens     *directory.Tokens
	rbac       *rbac.Service
}

// openAccess wires authorization (a cache over the store's RBAC state,
// replacing the bootstrap-only checker), the directory, RBAC, tokens and
// the activity log, gives the admin its Owner assignment on first use
// (also in homes made before assignments were stored), and settles who
// acts: the admin, or the principal named by --as or KILN_TOKEN.
func (a *app) openAccess(ctx context.Context) error {
	if err := rbac.Bootstrap(ctx, a.st, a.defaults); err != nil {
		return err
	}
	ac := &access{cache: authz.NewCache(rbac.Source{Store: a.st})}
	a.checker = ac.cache
	ac.activity = &audit.Log{Store: a.st, Authz: ac.cache, TenantID: a.defaults.TenantID,
		SubscriptionID: a.defaults.SubscriptionID, CorrelationID: uuid.NewString()}
	ac.dir = &directory.Service{Store: a.st, Authz: ac.cache, Defaults: a.defaults, Audit: ac.activity}
	ac.identities = &directory.Identities{Store: a.st, Authz: ac.cache, Defaults: a.defaults, Audit: ac.activity}
	ac.tokens = &directory.Tokens{Store: a.st, Authz: ac.cache, Directory: ac.dir, Audit: ac.activity}
	ac.rbac = &rbac.Service{Store: a.st, Authz: ac.cache, Defaults: a.defaults, Directory: ac.dir, Audit: ac.activity}
	a.acc = ac
	return a.actAs(ctx)
}

// actAs replaces the acting principal when --as or KILN_TOKEN says so.
// --as is local mode: whoever can open KILN_HOME can act as anyone, as
// they could edit the database anyway.
func (a *app) actAs(ctx context.Context) error {
	token := os.Getenv(tokenEnv)
	switch {
	case a.as != "" && token != "":
		return &usageError{fmt.Errorf("--as and %s both name who acts; give one", tokenEnv)}
	case a.as != "":
		p, err := a.acc.dir.Resolve(ctx, a.as)
		if err != nil {
			return fmt.Errorf("--as: %w", err)
		}
		if p.Type == authz.TypeGroup {
			return &usageError{fmt.Errorf("--as: %q is a group; act as one of its members", a.as)}
		}
		a.admin = directory.Principal(p)
	case token != "":
		p, err := a.acc.tokens.Authenticate(ctx, token)
		if err != nil {
			return fmt.Errorf("%s: %w", tokenEnv, err)
		}
		a.admin = p
	}
	return nil
}
