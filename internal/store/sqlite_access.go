package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// accessBootstrapKey marks a database whose admin was given its access.
const accessBootstrapKey = "access.bootstrapped"

// generationQuery is the access generation read, prepared once: every
// authorization check makes it, and preparing halves its cost.
type generationQuery struct {
	once sync.Once
	stmt *sql.Stmt
	err  error
}

// AccessGeneration reads the access generation counter.
func (s *SQLite) AccessGeneration(ctx context.Context) (uint64, error) {
	s.gen.once.Do(func() {
		s.gen.stmt, s.gen.err = s.db.PrepareContext(context.WithoutCancel(ctx), `SELECT value FROM meta WHERE key = ?`)
	})
	if s.gen.err != nil {
		return readGeneration(ctx, s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, accessGenerationKey))
	}
	return readGeneration(ctx, s.gen.stmt.QueryRowContext(ctx, accessGenerationKey))
}

func readGeneration(_ context.Context, row *sql.Row) (uint64, error) {
	var v string
	err := row.Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the access generation: %w", err)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the access generation %q is damaged: %w", v, err)
	}
	return n, nil
}

// AccessState reads roles, assignments, memberships and locks in one transaction.
func (s *SQLite) AccessState(ctx context.Context) (AccessState, error) {
	var st AccessState
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if st.Generation, err = readGeneration(ctx, tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, accessGenerationKey)); err != nil {
			return err
		}
		if st.Roles, err = queryRoles(ctx, tx, `SELECT `+roleColumns+` FROM role_definitions ORDER BY guid_key`); err != nil {
			return err
		}
		if st.Assignments, err = queryAssignments(ctx, tx, `SELECT `+assignmentColumns+` FROM role_assignments ORDER BY id_key`); err != nil {
			return err
		}
		if st.Memberships, err = queryMemberships(ctx, tx); err != nil {
			return err
		}
		st.Locks, err = queryLocks(ctx, tx, `SELECT `+lockColumns+` FROM locks ORDER BY id_key`)
		return err
	})
	return st, err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func queryMemberships(ctx context.Context, q querier) ([]Membership, error) {
	rows, err := q.QueryContext(ctx, `SELECT g.id, m.id FROM group_members gm
		JOIN principals g ON g.id_key = gm.group_key JOIN principals m ON m.id_key = gm.member_key
		ORDER BY gm.group_key, gm.member_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.GroupID, &m.MemberID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const roleColumns = `guid_key, role_name, body, created_at, updated_at`

// CreateRoleDefinition inserts a custom role.
func (s *SQLite) CreateRoleDefinition(ctx context.Context, d RoleDefinitionRecord) (RoleDefinitionRecord, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC()
		d.CreatedAt, d.UpdatedAt = now, now
		_, err := tx.ExecContext(ctx, `INSERT INTO role_definitions (`+roleColumns+`, name_key) VALUES (?,?,?,?,?,?)`,
			lower(d.GUID), d.RoleName, string(d.Body), formatTime(now), formatTime(now), roleNameKey(d.RoleName))
		if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
			return fmt.Errorf("a role definition named %q or with GUID %s already exists: %w", d.RoleName, d.GUID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert role definition %q: %w", d.RoleName, err)
		}
		return bumpGeneration(ctx, tx)
	})
	return d, err
}

func roleNameKey(name string) string { return lower(strings.TrimSpace(name)) }

// UpdateRoleDefinition replaces a custom role after check approves of its assignments.
func (s *SQLite) UpdateRoleDefinition(ctx context.Context, d RoleDefinitionRecord, check func([]RoleAssignmentRecord) error) (RoleDefinitionRecord, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := getRole(ctx, tx, d.GUID)
		if err != nil {
			return err
		}
		assigned, err := queryAssignments(ctx, tx, `SELECT `+assignmentColumns+` FROM role_assignments WHERE role_key = ? ORDER BY id_key`, lower(d.GUID))
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(assigned); err != nil {
				return err
			}
		}
		d.CreatedAt, d.UpdatedAt = old.CreatedAt, time.Now().UTC()
		_, err = tx.ExecContext(ctx, `UPDATE role_definitions SET role_name = ?, name_key = ?, body = ?, updated_at = ? WHERE guid_key = ?`,
			d.RoleName, roleNameKey(d.RoleName), string(d.Body), formatTime(d.UpdatedAt), lower(d.GUID))
		if isUniqueViolation(err) {
			return fmt.Errorf("a role definition named %q already exists: %w", d.RoleName, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("update role definition %s: %w", d.GUID, err)
		}
		return bumpGeneration(ctx, tx)
	})
	return d, err
}

// GetRoleDefinition reads a custom role by GUID.
func (s *SQLite) GetRoleDefinition(ctx context.Context, guid string) (RoleDefinitionRecord, error) {
	return getRole(ctx, s.db, guid)
}

func getRole(ctx context.Context, q querier, guid string) (RoleDefinitionRecord, error) {
	roles, err := queryRoles(ctx, q, `SELECT `+roleColumns+` FROM role_definitions WHERE guid_key = ?`, lower(guid))
	if err != nil {
		return RoleDefinitionRecord{}, err
	}
	if len(roles) == 0 {
		return RoleDefinitionRecord{}, fmt.Errorf("role definition %s: %w", guid, ErrNotFound)
	}
	return roles[0], nil
}

// ListRoleDefinitions lists the custom roles by name.
func (s *SQLite) ListRoleDefinitions(ctx context.Context) ([]RoleDefinitionRecord, error) {
	return queryRoles(ctx, s.db, `SELECT `+roleColumns+` FROM role_definitions ORDER BY name_key`)
}

// DeleteRoleDefinition deletes a custom role nobody is assigned.
func (s *SQLite) DeleteRoleDefinition(ctx context.Context, guid string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getRole(ctx, tx, guid); err != nil {
			return err
		}
		var n int
		var first string
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(id), '') FROM role_assignments WHERE role_key = ?`, lower(guid)).Scan(&n, &first)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("role definition %s is still assigned (%d assignments, first %s); delete its assignments first: %w", guid, n, first, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_definitions WHERE guid_key = ?`, lower(guid)); err != nil {
			return fmt.Errorf("delete role definition %s: %w", guid, err)
		}
		return bumpGeneration(ctx, tx)
	})
}

func queryRoles(ctx context.Context, q querier, query string, args ...any) ([]RoleDefinitionRecord, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleDefinitionRecord
	for rows.Next() {
		var d RoleDefinitionRecord
		var body, created, updated string
		if err := rows.Scan(&d.GUID, &d.RoleName, &body, &created, &updated); err != nil {
			return nil, err
		}
		d.Body, d.CreatedAt, d.UpdatedAt = []byte(body), parseTime(created), parseTime(updated)
		out = append(out, d)
	}
	return out, rows.Err()
}

const assignmentColumns = `id, scope, role_key, principal_key, principal_type, body, created_at`

// CreateRoleAssignment inserts an assignment after checking its principal and role.
func (s *SQLite) CreateRoleAssignment(ctx context.Context, a RoleAssignmentRecord, checkRole func(*RoleDefinitionRecord) error) (RoleAssignmentRecord, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkAssignment(ctx, tx, a, checkRole); err != nil {
			return err
		}
		var err error
		a, err = insertAssignment(ctx, tx, a)
		if err != nil {
			return err
		}
		return bumpGeneration(ctx, tx)
	})
	return a, err
}

// checkAssignment checks, inside the transaction, what an assignment refers to.
func checkAssignment(ctx context.Context, tx *sql.Tx, a RoleAssignmentRecord, checkRole func(*RoleDefinitionRecord) error) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM principals WHERE id_key = ?`, lower(a.PrincipalID)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("principal %s does not exist: %w", a.PrincipalID, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := scopeExists(ctx, tx, a.Scope); err != nil {
		return err
	}
	if checkRole == nil {
		return nil
	}
	role, err := getRole(ctx, tx, a.RoleGUID)
	switch {
	case errors.Is(err, ErrNotFound):
		return checkRole(nil)
	case err != nil:
		return err
	}
	return checkRole(&role)
}

func insertAssignment(ctx context.Context, tx *sql.Tx, a RoleAssignmentRecord) (RoleAssignmentRecord, error) {
	a.CreatedAt = time.Now().UTC()
	_, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (id_key, id, scope, scope_key, role_key, principal_key, principal_type, body, created_at)
		VALUES (?,?,?,?,?,?,?,?,?)`,
		Key(a.ID), a.ID, a.Scope, Key(a.Scope), lower(a.RoleGUID), lower(a.PrincipalID), a.PrincipalType, string(a.Body), formatTime(a.CreatedAt))
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return a, fmt.Errorf("RoleAssignmentExists: the role assignment already exists (role %s, principal %s, scope %s): %w", a.RoleGUID, a.PrincipalID, a.Scope, ErrConflict)
	}
	if err != nil {
		return a, fmt.Errorf("insert role assignment %s: %w", a.ID, err)
	}
	return a, nil
}

// scopeExists checks that a scope is a subscription or a stored resource.
func scopeExists(ctx context.Context, q querier, scope string) error {
	k := Key(scope)
	if parts := strings.Split(strings.TrimPrefix(k, "/"), "/"); len(parts) == 2 && parts[0] == "subscriptions" && parts[1] != "" {
		return nil
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM resources WHERE id_key = ?`, k).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("scope %s does not exist: %w", scope, ErrNotFound)
	}
	return err
}

// GetRoleAssignment reads an assignment by ID.
func (s *SQLite) GetRoleAssignment(ctx context.Context, id string) (RoleAssignmentRecord, error) {
	as, err := queryAssignments(ctx, s.db, `SELECT `+assignmentColumns+` FROM role_assignments WHERE id_key = ?`, Key(id))
	if err != nil {
		return RoleAssignmentRecord{}, err
	}
	if len(as) == 0 {
		return RoleAssignmentRecord{}, fmt.Errorf("role assignment %s: %w", id, ErrNotFound)
	}
	return as[0], nil
}

// ListRoleAssignments lists the assignments of some principals, or all.
func (s *SQLite) ListRoleAssignments(ctx context.Context, principalIDs ...string) ([]RoleAssignmentRecord, error) {
	q := `SELECT ` + assignmentColumns + ` FROM role_assignments`
	args := make([]any, len(principalIDs))
	if len(principalIDs) > 0 {
		marks := make([]string, len(principalIDs))
		for i, id := range principalIDs {
			marks[i], args[i] = "?", lower(id)
		}
		q += ` WHERE principal_key IN (` + strings.Join(marks, ",") + `)`
	}
	return queryAssignments(ctx, s.db, q+` ORDER BY id_key`, args...)
}

// DeleteRoleAssignment deletes an assignment.
func (s *SQLite) DeleteRoleAssignment(ctx context.Context, id string) error {
	return s.deleteAccessRow(ctx, `DELETE FROM role_assignments WHERE id_key = ?`, "role assignment", id)
}

func (s *SQLite) deleteAccessRow(ctx context.Context, q, what, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, Key(id))
		if err != nil {
			return fmt.Errorf("delete %s %s: %w", what, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
		}
		return bumpGeneration(ctx, tx)
	})
}

func queryAssignments(ctx context.Context, q querier, query string, args ...any) ([]RoleAssignmentRecord, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleAssignmentRecord
	for rows.Next() {
		var a RoleAssignmentRecord
		var body, created string
		if err := rows.Scan(&a.ID, &a.Scope, &a.RoleGUID, &a.PrincipalID, &a.PrincipalType, &body, &created); err != nil {
			return nil, err
		}
		a.Body, a.CreatedAt = []byte(body), parseTime(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

const lockColumns = `id, scope, name, level, notes, created_at`

// CreateLock inserts a lock at an existing scope.
func (s *SQLite) CreateLock(ctx context.Context, l LockRecord) (LockRecord, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := scopeExists(ctx, tx, l.Scope); err != nil {
			return err
		}
		l.CreatedAt = time.Now().UTC()
		_, err := tx.ExecContext(ctx, `INSERT INTO locks (id_key, scope_key, `+lockColumns+`) VALUES (?,?,?,?,?,?,?,?)`,
			Key(l.ID), Key(l.Scope), l.ID, l.Scope, l.Name, l.Level, l.Notes, formatTime(l.CreatedAt))
		if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
			return fmt.Errorf("a lock named %q already exists at %s: %w", l.Name, l.Scope, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert lock %s: %w", l.ID, err)
		}
		return bumpGeneration(ctx, tx)
	})
	return l, err
}

// GetLock reads a lock by ID.
func (s *SQLite) GetLock(ctx context.Context, id string) (LockRecord, error) {
	ls, err := queryLocks(ctx, s.db, `SELECT `+lockColumns+` FROM locks WHERE id_key = ?`, Key(id))
	if err != nil {
		return LockRecord{}, err
	}
	if len(ls) == 0 {
		return LockRecord{}, fmt.Errorf("lock %s: %w", id, ErrNotFound)
	}
	return ls[0], nil
}

// ListLocks lists every lock.
func (s *SQLite) ListLocks(ctx context.Context) ([]LockRecord, error) {
	return queryLocks(ctx, s.db, `SELECT `+lockColumns+` FROM locks ORDER BY id_key`)
}

// DeleteLock deletes a lock.
func (s *SQLite) DeleteLock(ctx context.Context, id string) error {
	return s.deleteAccessRow(ctx, `DELETE FROM locks WHERE id_key = ?`, "lock", id)
}

func queryLocks(ctx context.Context, q querier, query string, args ...any) ([]LockRecord, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LockRecord
	for rows.Next() {
		var l LockRecord
		var created string
		if err := rows.Scan(&l.ID, &l.Scope, &l.Name, &l.Level, &l.Notes, &created); err != nil {
			return nil, err
		}
		l.CreatedAt = parseTime(created)
		out = append(out, l)
	}
	return out, rows.Err()
}

// DeleteAccessUnder deletes the assignments and locks at or below a scope.
func (s *SQLite) DeleteAccessUnder(ctx context.Context, scope string) (int, error) {
	k := Key(scope)
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"role_assignments", "locks"} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE scope_key = ? OR substr(scope_key, 1, ?) = ?`, k, len(k)+1, k+"/")
			if err != nil {
				return fmt.Errorf("delete %s under %s: %w", table, scope, err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		if total == 0 {
			return nil
		}
		return bumpGeneration(ctx, tx)
	})
	return int(total), err
}

// BootstrapAccess gives the admin its principal and assignments, once.
func (s *SQLite) BootstrapAccess(ctx context.Context, admin Principal, assignments []RoleAssignmentRecord) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, accessBootstrapKey).Scan(&v)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := ensurePrincipal(ctx, tx, admin); err != nil {
			return err
		}
		for _, a := range assignments {
			if _, err := insertAssignment(ctx, tx, a); err != nil && !errors.Is(err, ErrConflict) {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, accessBootstrapKey, formatTime(time.Now())); err != nil {
			return err
		}
		done = true
		return bumpGeneration(ctx, tx)
	})
	return done, err
}

// ensurePrincipal inserts a principal unless one with its ID exists.
func ensurePrincipal(ctx context.Context, tx *sql.Tx, p Principal) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM principals WHERE id_key = ?`, lower(p.ID)).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = insertPrincipal(ctx, tx, p)
	return err
}
