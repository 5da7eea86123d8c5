package directory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// TokenPrefix starts every API token secret, so that a leaked one is easy
// to recognise (and to scan for).
const TokenPrefix = "kiln_"

// DefaultTokenLifetime is how long a token lives when no expiry is given.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// Token statuses.
const (
	TokenActive  = "Active"
	TokenExpired = "Expired"
	TokenRevoked = "Revoked"
)

// ErrTokenInvalid is wrapped by every refusal of Authenticate.
var ErrTokenInvalid = errors.New("invalid API token")

// TokenView is an API token as kiln lists it; the secret is never in it.
type TokenView struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	PrincipalID   string `json:"principalId"`
	PrincipalName string `json:"principalName"`
	CreatedBy     string `json:"createdBy"`
	CreatedOn     string `json:"createdOn"`
	ExpiresOn     string `json:"expiresOn"`
	RevokedOn     string `json:"revokedOn,omitempty"`
	Status        string `json:"status"`
}

// NewToken is a token just created: the only time its secret is shown.
type NewToken struct {
	TokenView
	Token string `json:"token"`
}

// Tokens manages API tokens of principals, for the HTTP API (and
// KILN_TOKEN on the command line). A token acts as its principal, so
// minting, listing or revoking another principal's tokens is guarded
// like a role assignment change (see the package comment); a principal
// manages its own tokens freely.
type Tokens struct {
	Store     Store
	Authz     authz.Checker
	Directory *Service
	Audit     Recorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Tokens) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Tokens) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if s.Audit != nil {
		s.Audit.Record(ctx, p, action, scope, *err)
	}
}

// guardOthers checks the caller may manage the tokens of owner.
func (s *Tokens) guardOthers(ctx context.Context, p authz.Principal, owner, action string) error {
	if strings.EqualFold(p.ID, owner) {
		return nil
	}
	return s.Directory.guard(ctx, p, action)
}

// Create mints a token for a principal (a reference Resolve accepts; ""
// for the caller) that expires after ttl (0: DefaultTokenLifetime).
func (s *Tokens) Create(ctx context.Context, p authz.Principal, principalRef, name string, ttl time.Duration) (_ NewToken, err error) {
	owner, err := s.owner(ctx, p, principalRef)
	if err != nil {
		return NewToken{}, err
	}
	defer s.record(ctx, p, "Microsoft.Directory/tokens/write", s.Directory.entity("tokens", owner.ID), &err)
	if ttl < 0 {
		return NewToken{}, fmt.Errorf("a token's lifetime must be positive, got %s", ttl)
	}
	if ttl == 0 {
		ttl = DefaultTokenLifetime
	}
	if err := s.guardOthers(ctx, p, owner.ID, GuardCreate); err != nil {
		return NewToken{}, err
	}
	secret, err := newSecret()
	if err != nil {
		return NewToken{}, err
	}
	now := s.now().UTC()
	t, err := s.Store.CreateToken(ctx, store.Token{ID: uuid.NewString(), PrincipalID: owner.ID, Name: name,
		Hash: hashSecret(secret), CreatedBy: p.ID, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return NewToken{}, err
	}
	return NewToken{TokenView: s.view(t, owner), Token: secret}, nil
}

// owner resolves the principal whose tokens a call is about.
func (s *Tokens) owner(ctx context.Context, p authz.Principal, ref string) (store.Principal, error) {
	if ref == "" {
		ref = p.ID
	}
	return s.Directory.Resolve(ctx, ref)
}

// List lists the tokens of a principal ("" for the caller), or of every
// principal when all is set, newest first.
func (s *Tokens) List(ctx context.Context, p authz.Principal, principalRef string, all bool) ([]TokenView, error) {
	ownerID := ""
	if !all {
		owner, err := s.owner(ctx, p, principalRef)
		if err != nil {
			return nil, err
		}
		ownerID = owner.ID
	}
	if all || !strings.EqualFold(ownerID, p.ID) {
		if err := s.Authz.Check(ctx, p, "Microsoft.Authorization/roleAssignments/read", s.Directory.subscription()); err != nil {
			return nil, err
		}
	}
	ts, err := s.Store.ListTokens(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	out := make([]TokenView, len(ts))
	for i, t := range ts {
		owner, _ := s.Store.GetPrincipal(ctx, t.PrincipalID)
		out[i] = s.view(t, owner)
	}
	return out, nil
}

// Revoke revokes a token by ID; revoking twice is harmless.
func (s *Tokens) Revoke(ctx context.Context, p authz.Principal, id string) (_ TokenView, err error) {
	t, err := s.Store.GetToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return TokenView{}, fmt.Errorf("token %s does not exist; list tokens with kiln token list: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return TokenView{}, err
	}
	defer s.record(ctx, p, "Microsoft.Directory/tokens/delete", s.Directory.entity("tokens", t.PrincipalID), &err)
	if err := s.guardOthers(ctx, p, t.PrincipalID, GuardDelete); err != nil {
		return TokenView{}, err
	}
	t, err = s.Store.RevokeToken(ctx, id, s.now())
	if err != nil {
		return TokenView{}, err
	}
	owner, _ := s.Store.GetPrincipal(ctx, t.PrincipalID)
	return s.view(t, owner), nil
}

// Authenticate returns the principal a token secret acts as. Unknown,
// revoked and expired tokens, and tokens whose principal is gone, are
// refused with an error wrapping ErrTokenInvalid.
func (s *Tokens) Authenticate(ctx context.Context, secret string) (authz.Principal, error) {
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, TokenPrefix) {
		return authz.Principal{}, fmt.Errorf("%w: kiln tokens start with %q", ErrTokenInvalid, TokenPrefix)
	}
	hash := hashSecret(secret)
	t, err := s.Store.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return authz.Principal{}, fmt.Errorf("%w: no such token", ErrTokenInvalid)
	}
	if err != nil {
		return authz.Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
		return authz.Principal{}, fmt.Errorf("%w: no such token", ErrTokenInvalid)
	}
	switch status(t, s.now()) {
	case TokenRevoked:
		return authz.Principal{}, fmt.Errorf("%w: token %s was revoked on %s", ErrTokenInvalid, t.ID, t.RevokedAt.Format(time.RFC3339))
	case TokenExpired:
		return authz.Principal{}, fmt.Errorf("%w: token %s expired on %s; create a new one with kiln token create", ErrTokenInvalid, t.ID, t.ExpiresAt.Format(time.RFC3339))
	}
	owner, err := s.Store.GetPrincipal(ctx, t.PrincipalID)
	if err != nil {
		return authz.Principal{}, fmt.Errorf("%w: the token's principal %s is gone", ErrTokenInvalid, t.PrincipalID)
	}
	return Principal(owner), nil
}

func status(t store.Token, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return TokenRevoked
	case !now.Before(t.ExpiresAt):
		return TokenExpired
	}
	return TokenActive
}

func (s *Tokens) view(t store.Token, owner store.Principal) TokenView {
	v := TokenView{ID: t.ID, Name: t.Name, PrincipalID: t.PrincipalID, PrincipalName: Principal(owner).Name, CreatedBy: t.CreatedBy,
		CreatedOn: t.CreatedAt.UTC().Format(time.RFC3339), ExpiresOn: t.ExpiresAt.UTC().Format(time.RFC3339), Status: status(t, s.now())}
	if owner.ID != "" {
		v.PrincipalID = owner.ID
	}
	if !t.RevokedAt.IsZero() {
		v.RevokedOn = t.RevokedAt.UTC().Format(time.RFC3339)
	}
	return v
}

// newSecret makes a token secret: the prefix and 256 random bits.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a token secret: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is what the store keeps of a secret. A plain SHA-256 is
// enough: the secret has 256 bits of entropy, so there is nothing to
// guess.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
