package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// inTx runs fn in one (immediate) transaction and commits when it returns nil.
func (s *SQLite) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// accessGenerationKey is the meta key of the access generation counter.
const accessGenerationKey = "access.generation"

// bumpGeneration moves the access generation, inside the caller's transaction.
func bumpGeneration(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, '1')
		ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`, accessGenerationKey)
	if err != nil {
		return fmt.Errorf("move the access generation: %w", err)
	}
	return nil
}

func lower(s string) string { return strings.ToLower(s) }

const principalColumns = `id, tenant_id, type, display_name, sign_in, resource_id, body, created_at`

// CreatePrincipal inserts a principal.
func (s *SQLite) CreatePrincipal(ctx context.Context, p Principal) (Principal, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = insertPrincipal(ctx, tx, p)
		return err
	})
	return p, err
}

func insertPrincipal(ctx context.Context, tx *sql.Tx, p Principal) (Principal, error) {
	if p.ID == "" || p.Type == "" {
		return p, fmt.Errorf("a principal needs an ID and a type")
	}
	p.CreatedAt = time.Now().UTC()
	_, err := tx.ExecContext(ctx, `INSERT INTO principals (id_key, `+principalColumns+`, name_key, sign_in_key, resource_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		lower(p.ID), p.ID, p.TenantID, p.Type, p.DisplayName, p.SignInName, p.ResourceID, string(p.Body), formatTime(p.CreatedAt),
		lower(p.DisplayName), lower(p.SignInName), Key(p.ResourceID))
	if isUniqueViolation(err) {
		return p, fmt.Errorf("a %s with ID %s or sign-in name %q already exists: %w", p.Type, p.ID, p.SignInName, ErrConflict)
	}
	if err != nil {
		return p, fmt.Errorf("insert principal %s: %w", p.ID, err)
	}
	return p, nil
}

// CreateManagedIdentity inserts an identity's resource and principal together.
func (s *SQLite) CreateManagedIdentity(ctx context.Context, r Resource, p Principal) (Resource, Principal, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC()
		r.CreatedAt, r.UpdatedAt, r.ETag = now, now, newETag()
		err := insertResource(ctx, tx, "INSERT", r, formatTime(now))
		if isUniqueViolation(err) {
			return fmt.Errorf("resource %s already exists: %w", r.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert %s: %w", r.ID, err)
		}
		p.ResourceID = r.ID
		p, err = insertPrincipal(ctx, tx, p)
		return err
	})
	return r, p, err
}

// DeleteManagedIdentity deletes an identity's resource and principal together.
func (s *SQLite) DeleteManagedIdentity(ctx context.Context, resourceID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE id_key = ?`, Key(resourceID))
		if err != nil {
			return fmt.Errorf("delete %s: %w", resourceID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("resource %s: %w", resourceID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM principals WHERE resource_key = ?`, Key(resourceID)); err != nil {
			return fmt.Errorf("delete the principal of %s: %w", resourceID, err)
		}
		return bumpGeneration(ctx, tx)
	})
}

// GetPrincipal reads a principal by ID.
func (s *SQLite) GetPrincipal(ctx context.Context, id string) (Principal, error) {
	p, err := scanPrincipal(s.db.QueryRowContext(ctx, `SELECT `+principalColumns+` FROM principals WHERE id_key = ?`, lower(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("principal %s: %w", id, ErrNotFound)
	}
	return p, err
}

// PrincipalByResource reads a managed identity's principal by the identity's ARM ID.
func (s *SQLite) PrincipalByResource(ctx context.Context, resourceID string) (Principal, error) {
	p, err := scanPrincipal(s.db.QueryRowContext(ctx, `SELECT `+principalColumns+` FROM principals WHERE resource_key = ?`, Key(resourceID)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("managed identity %s: %w", resourceID, ErrNotFound)
	}
	return p, err
}

// FindPrincipals lists the principals that ref names in any way.
func (s *SQLite) FindPrincipals(ctx context.Context, ref string) ([]Principal, error) {
	k := lower(ref)
	return s.queryPrincipals(ctx, `SELECT `+principalColumns+` FROM principals
		WHERE id_key = ? OR sign_in_key = ? OR resource_key = ? OR name_key = ? ORDER BY id_key`, k, k, Key(ref), k)
}

// ListPrincipals lists principals of one type, or all.
func (s *SQLite) ListPrincipals(ctx context.Context, typ string) ([]Principal, error) {
	q := `SELECT ` + principalColumns + ` FROM principals`
	var args []any
	if typ != "" {
		q += ` WHERE type = ?`
		args = append(args, typ)
	}
	return s.queryPrincipals(ctx, q+` ORDER BY name_key, id_key`, args...)
}

// DeletePrincipal deletes a principal that is not a managed identity.
func (s *SQLite) DeletePrincipal(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var resourceID string
		err := tx.QueryRowContext(ctx, `SELECT resource_id FROM principals WHERE id_key = ?`, lower(id)).Scan(&resourceID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("principal %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if resourceID != "" {
			return fmt.Errorf("principal %s is the managed identity %s; delete the identity instead: %w", id, resourceID, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM principals WHERE id_key = ?`, lower(id)); err != nil {
			return fmt.Errorf("delete principal %s: %w", id, err)
		}
		return bumpGeneration(ctx, tx)
	})
}

// AddMember puts a principal in a group.
func (s *SQLite) AddMember(ctx context.Context, groupID, memberID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkMembership(ctx, tx, groupID, memberID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_key, member_key, created_at) VALUES (?,?,?)`,
			lower(groupID), lower(memberID), formatTime(time.Now()))
		if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
			return fmt.Errorf("%s is already a member of group %s: %w", memberID, groupID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("add %s to group %s: %w", memberID, groupID, err)
		}
		return bumpGeneration(ctx, tx)
	})
}

// checkMembership checks that a membership may be added: both exist, the
// group is a group, and no cycle follows.
func checkMembership(ctx context.Context, tx *sql.Tx, groupID, memberID string) error {
	var groupType string
	err := tx.QueryRowContext(ctx, `SELECT type FROM principals WHERE id_key = ?`, lower(groupID)).Scan(&groupType)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("group %s: %w", groupID, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if groupType != PrincipalTypeGroup {
		return fmt.Errorf("%s is a %s, not a group: %w", groupID, groupType, ErrConflict)
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM principals WHERE id_key = ?`, lower(memberID)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("member %s: %w", memberID, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if lower(groupID) == lower(memberID) {
		return fmt.Errorf("group %s cannot be a member of itself: %w", groupID, ErrConflict)
	}
	err = tx.QueryRowContext(ctx, `WITH RECURSIVE below(k) AS (
			SELECT member_key FROM group_members WHERE group_key = ?
			UNION
			SELECT gm.member_key FROM group_members gm JOIN below ON gm.group_key = below.k)
		SELECT 1 FROM below WHERE k = ? LIMIT 1`, lower(memberID), lower(groupID)).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("group %s already contains group %s, directly or through other groups; adding it would make a cycle: %w", memberID, groupID, ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	return nil
}

// RemoveMember takes a direct member out of a group.
func (s *SQLite) RemoveMember(ctx context.Context, groupID, memberID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_key = ? AND member_key = ?`, lower(groupID), lower(memberID))
		if err != nil {
			return fmt.Errorf("remove %s from group %s: %w", memberID, groupID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s is not a direct member of group %s: %w", memberID, groupID, ErrNotFound)
		}
		return bumpGeneration(ctx, tx)
	})
}

// ListMembers lists a group's direct members.
func (s *SQLite) ListMembers(ctx context.Context, groupID string) ([]Principal, error) {
	if _, err := s.GetPrincipal(ctx, groupID); err != nil {
		return nil, err
	}
	return s.queryPrincipals(ctx, `SELECT `+prefixed("p.", principalColumns)+` FROM principals p
		JOIN group_members gm ON gm.member_key = p.id_key WHERE gm.group_key = ? ORDER BY p.name_key, p.id_key`, lower(groupID))
}

// prefixed qualifies each column of a column list.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ", ")
	for i, c := range parts {
		parts[i] = prefix + c
	}
	return strings.Join(parts, ", ")
}

func (s *SQLite) queryPrincipals(ctx context.Context, q string, args ...any) ([]Principal, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func scanPrincipal(sc scanner) (Principal, error) {
	var p Principal
	var body, created string
	err := sc.Scan(&p.ID, &p.TenantID, &p.Type, &p.DisplayName, &p.SignInName, &p.ResourceID, &body, &created)
	p.Body = []byte(body)
	p.CreatedAt = parseTime(created)
	return p, err
}

func isPrimaryKeyViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "PRIMARY KEY constraint failed")
}
