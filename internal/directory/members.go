package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/store"
)

// group resolves a reference that must name a group.
func (s *Service) group(ctx context.Context, ref string) (store.Principal, error) {
	g, err := s.Resolve(ctx, ref)
	if err != nil {
		return g, err
	}
	if g.Type != authz.TypeGroup {
		return g, fmt.Errorf("%q is a %s, not a group: %w", ref, g.Type, store.ErrNotFound)
	}
	return g, nil
}

// AddMember puts a user, service principal, managed identity or group in a
// group. A group inside a group passes its roles on to the inner group's
// members, transitively; cycles are refused.
func (s *Service) AddMember(ctx context.Context, p authz.Principal, groupRef, memberRef string) (err error) {
	g, err := s.group(ctx, groupRef)
	if err != nil {
		return err
	}
	defer s.record(ctx, p, "Microsoft.Directory/groups/members/write", s.entity("groups", g.ID), &err)
	m, err := s.Resolve(ctx, memberRef)
	if err != nil {
		return err
	}
	if err := s.guard(ctx, p, GuardCreate); err != nil {
		return err
	}
	if err := s.Store.AddMember(ctx, g.ID, m.ID); err != nil {
		return fmt.Errorf("add %s to group %s: %w", m.DisplayName, g.DisplayName, err)
	}
	return nil
}

// RemoveMember takes a direct member out of a group.
func (s *Service) RemoveMember(ctx context.Context, p authz.Principal, groupRef, memberRef string) (err error) {
	g, err := s.group(ctx, groupRef)
	if err != nil {
		return err
	}
	defer s.record(ctx, p, "Microsoft.Directory/groups/members/delete", s.entity("groups", g.ID), &err)
	m, err := s.Resolve(ctx, memberRef)
	if err != nil {
		return err
	}
	if err := s.guard(ctx, p, GuardDelete); err != nil {
		return err
	}
	return s.Store.RemoveMember(ctx, g.ID, m.ID)
}

// Members lists a group's direct members as directory objects.
func (s *Service) Members(ctx context.Context, groupRef string) ([]json.RawMessage, error) {
	g, err := s.group(ctx, groupRef)
	if err != nil {
		return nil, err
	}
	ms, err := s.Store.ListMembers(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out, nil
}

// IsMember reports whether a principal is in a group, directly or
// through other groups, as `az ad group member check` does.
func (s *Service) IsMember(ctx context.Context, groupRef, memberRef string) (bool, error) {
	g, err := s.group(ctx, groupRef)
	if err != nil {
		return false, err
	}
	m, err := s.Resolve(ctx, memberRef)
	if err != nil {
		return false, err
	}
	seen := map[string]bool{}
	queue := []string{g.ID}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		if seen[strings.ToLower(next)] {
			continue
		}
		seen[strings.ToLower(next)] = true
		members, err := s.Store.ListMembers(ctx, next)
		if err != nil {
			return false, err
		}
		for _, x := range members {
			if strings.EqualFold(x.ID, m.ID) {
				return true, nil
			}
			if x.Type == authz.TypeGroup {
				queue = append(queue, x.ID)
			}
		}
	}
	return false, nil
}
