package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// Lock is a management lock as `az lock create/show/list` prints it.
type Lock struct {
	ID            string   `json:"id"`
	Level         string   `json:"level"`
	Name          string   `json:"name"`
	Notes         *string  `json:"notes"`
	Owners        []string `json:"owners"`
	ResourceGroup string   `json:"resourceGroup,omitempty"`
	Type          string   `json:"type"`
}

// LockRequest creates a lock.
type LockRequest struct {
	Name  string
	Level string // CanNotDelete or ReadOnly, ignoring case
	Notes string
	// Scope is the locked subscription, group or resource; "" is the
	// tenant's subscription.
	Scope string
}

func lockView(l store.LockRecord) Lock {
	v := Lock{ID: l.ID, Level: l.Level, Name: l.Name, ResourceGroup: groupOf(l.Scope), Type: authz.LockType}
	if l.Notes != "" {
		notes := l.Notes
		v.Notes = &notes
	}
	return v
}

// checkLockName applies Azure's rule for lock names.
func checkLockName(name string) error {
	if name == "" || len(name) > 260 || strings.ContainsAny(name, `<>%&:\?/`) {
		return fmt.Errorf("invalid lock name %q: use 1-260 characters without < > %% & : \\ ? /", name)
	}
	return nil
}

// CreateLock locks a scope. Only principals with
// Microsoft.Authorization/locks/write there (Owner, User Access
// Administrator) may; the scope must exist. A lock binds everyone,
// Owners included, at its scope and below.
func (s *Service) CreateLock(ctx context.Context, p authz.Principal, req LockRequest) (_ Lock, err error) {
	scope, err := s.Scope(req.Scope)
	if err != nil {
		return Lock{}, err
	}
	l := authz.Lock{Name: req.Name, Scope: scope}
	defer s.record(ctx, p, LockWrite, l.ID(), &err)
	if err := checkLockName(req.Name); err != nil {
		return Lock{}, err
	}
	if l.Level, err = authz.ParseLockLevel(req.Level); err != nil {
		return Lock{}, err
	}
	if err := s.Authz.Check(ctx, p, LockWrite, scope); err != nil {
		return Lock{}, err
	}
	rec, err := s.Store.CreateLock(ctx, store.LockRecord{ID: l.ID(), Scope: scope, Name: l.Name, Level: string(l.Level), Notes: req.Notes})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Lock{}, fmt.Errorf("cannot lock %s: it does not exist: %w", scope, store.ErrNotFound)
	case errors.Is(err, store.ErrConflict):
		return Lock{}, fmt.Errorf("a lock named %q already exists at %s; delete it or choose another name: %w", l.Name, scope, store.ErrConflict)
	case err != nil:
		return Lock{}, err
	}
	return lockView(rec), nil
}

// LockID is the ID of the lock named name at scope ("" for the subscription).
func (s *Service) LockID(scope, name string) (string, error) {
	scope, err := s.Scope(scope)
	if err != nil {
		return "", err
	}
	return authz.Lock{Name: name, Scope: scope}.ID(), nil
}

// GetLock reads a lock by ID.
func (s *Service) GetLock(ctx context.Context, p authz.Principal, id string) (Lock, error) {
	rec, err := s.Store.GetLock(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Lock{}, fmt.Errorf("LockNotFound: the lock %s could not be found: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Lock{}, err
	}
	if err := s.Authz.Check(ctx, p, LockRead, rec.Scope); err != nil {
		return Lock{}, err
	}
	return lockView(rec), nil
}

// ListLocks lists the locks at or below scope ("" for the subscription).
func (s *Service) ListLocks(ctx context.Context, p authz.Principal, scope string) ([]Lock, error) {
	scope, err := s.Scope(scope)
	if err != nil {
		return nil, err
	}
	if err := s.Authz.Check(ctx, p, LockRead, scope); err != nil {
		return nil, err
	}
	recs, err := s.Store.ListLocks(ctx)
	if err != nil {
		return nil, err
	}
	out := []Lock{}
	for _, r := range recs {
		if atOrBelow(r.Scope, scope) {
			out = append(out, lockView(r))
		}
	}
	return out, nil
}

// DeleteLock removes a lock; locks never block their own removal.
func (s *Service) DeleteLock(ctx context.Context, p authz.Principal, id string) (err error) {
	defer s.record(ctx, p, LockDelete, id, &err)
	rec, err := s.Store.GetLock(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("LockNotFound: the lock %s could not be found: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := s.Authz.Check(ctx, p, LockDelete, rec.Scope); err != nil {
		return err
	}
	return s.Store.DeleteLock(ctx, id)
}

// ForgetScope deletes the role assignments and locks at or below a scope
// that is being deleted, as Azure deletes a resource group's extension
// resources with it. The caller must have authorized the deletion.
func (s *Service) ForgetScope(ctx context.Context, scope string) error {
	_, err := s.Store.DeleteAccessUnder(ctx, scope)
	return err
}
