package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

var _ LimitedResources = (*SQLite)(nil)

// The database is opened with _txlock=immediate, so BeginTx is BEGIN
// IMMEDIATE: every guarded write holds the write lock from its first read,
// and the count it checks is the count it commits against.

// CreateResourceLimited implements LimitedResources.
func (s *SQLite) CreateResourceLimited(ctx context.Context, r Resource, c Conditions) (Resource, error) {
	err := s.guardedTx(ctx, func(tx *sql.Tx) error {
		if _, _, err := storedETag(ctx, tx, r.ID); err == nil {
			return fmt.Errorf("resource %s already exists: %w", r.ID, ErrConflict)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := checkConditionsTx(ctx, tx, c, &r, 1); err != nil {
			return err
		}
		var err error
		r, err = writeResourceTx(ctx, tx, r, "")
		return err
	})
	return r, err
}

// DeleteResourceLimited implements LimitedResources.
func (s *SQLite) DeleteResourceLimited(ctx context.Context, id, ifMatch string, c Conditions) error {
	return s.guardedTx(ctx, func(tx *sql.Tx) error {
		if err := checkIfMatch(ctx, tx, id, ifMatch); err != nil {
			return err
		}
		if err := checkConditionsTx(ctx, tx, c, nil, 0); err != nil {
			return err
		}
		return deleteResourceTx(ctx, tx, id)
	})
}

// WriteResources implements LimitedResources.
func (s *SQLite) WriteResources(ctx context.Context, ws []Write) ([]Resource, error) {
	out := make([]Resource, len(ws))
	err := s.guardedTx(ctx, func(tx *sql.Tx) error {
		for i, w := range ws {
			r, err := applyWriteTx(ctx, tx, w)
			if err != nil {
				return err
			}
			out[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func applyWriteTx(ctx context.Context, tx *sql.Tx, w Write) (Resource, error) {
	if w.Delete {
		if err := checkIfMatch(ctx, tx, w.Resource.ID, w.IfMatch); err != nil {
			return w.Resource, err
		}
		return w.Resource, deleteResourceTx(ctx, tx, w.Resource.ID)
	}
	_, created, err := storedETag(ctx, tx, w.Resource.ID)
	switch {
	case errors.Is(err, ErrNotFound) && w.IfMatch == "":
		created = ""
	case err != nil:
		return w.Resource, err
	}
	if err := checkIfMatch(ctx, tx, w.Resource.ID, w.IfMatch); err != nil {
		return w.Resource, err
	}
	return writeResourceTx(ctx, tx, w.Resource, created)
}

func (s *SQLite) guardedTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
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

// storedETag returns the stored ETag and creation time of id.
func storedETag(ctx context.Context, tx *sql.Tx, id string) (string, string, error) {
	var etag, created string
	err := tx.QueryRowContext(ctx, `SELECT etag, created_at FROM resources WHERE id_key = ?`, Key(id)).Scan(&etag, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("resource %s: %w", id, ErrNotFound)
	}
	return etag, created, err
}

// checkIfMatch checks ifMatch (when set) against the stored ETag of id.
func checkIfMatch(ctx context.Context, tx *sql.Tx, id, ifMatch string) error {
	etag, _, err := storedETag(ctx, tx, id)
	switch {
	case err != nil && (ifMatch != "" || !errors.Is(err, ErrNotFound)):
		return err
	case ifMatch != "" && ifMatch != etag:
		return fmt.Errorf("resource %s was changed concurrently (etag %s, expected %s): %w", id, etag, ifMatch, ErrConflict)
	}
	return nil
}

// writeResourceTx writes r with a new ETag; created is the stored creation
// time of a resource being replaced ("" for a new one).
func writeResourceTx(ctx context.Context, tx *sql.Tx, r Resource, created string) (Resource, error) {
	now := time.Now().UTC()
	if created == "" {
		created = formatTime(now)
	}
	r.CreatedAt, r.UpdatedAt, r.ETag = parseTime(created), now, newETag()
	if err := insertResource(ctx, tx, "INSERT OR REPLACE", r, created); err != nil {
		return r, fmt.Errorf("write %s: %w", r.ID, err)
	}
	return r, nil
}

func deleteResourceTx(ctx context.Context, tx *sql.Tx, id string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM resources WHERE id_key = ?`, Key(id))
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("resource %s: %w", id, ErrNotFound)
	}
	return nil
}

// checkConditionsTx checks c inside tx. created is the resource being
// created (nil for a delete), added how many resources the write adds.
func checkConditionsTx(ctx context.Context, tx *sql.Tx, c Conditions, created *Resource, added int) error {
	for _, id := range c.Exists {
		if _, _, err := storedETag(ctx, tx, id); err != nil {
			return err
		}
	}
	for _, q := range c.Quotas {
		if err := countQuotaTx(ctx, tx, q, created, added); err != nil {
			return err
		}
	}
	if c.Check == nil {
		return nil
	}
	existing, err := listResourcesTx(ctx, tx, c.CheckFilter)
	if err != nil {
		return err
	}
	return c.Check(existing)
}

func countQuotaTx(ctx context.Context, tx *sql.Tx, q Quota, created *Resource, added int) error {
	where, args := resourceFilterSQL(q.Filter)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM resources`+where, args...).Scan(&n); err != nil {
		return fmt.Errorf("count resources for quota %s: %w", q.Name, err)
	}
	if created != nil && filterMatches(q.Filter, *created) {
		n += added
	}
	if n > q.Max {
		return &QuotaError{Quota: q, Count: n}
	}
	return nil
}

// matches reports whether r would be listed by f.
func filterMatches(f ListFilter, r Resource) bool {
	eq := func(want, got string) bool { return want == "" || Key(want) == Key(got) }
	return eq(f.Type, r.Type) && eq(f.Subscription, r.Subscription) && eq(f.ResourceGroup, r.ResourceGroup) && eq(f.Parent, r.Parent)
}

func resourceFilterSQL(f ListFilter) (string, []any) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{
		{"type_key", f.Type}, {"subscription", f.Subscription}, {"group_key", f.ResourceGroup}, {"parent_key", f.Parent},
	} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, Key(c.v))
		}
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// orderSQL is the ORDER BY and LIMIT clause of f: by ID, or by sort key
// (highest first with Descending), then paged.
func orderSQL(f ListFilter) string {
	q := " ORDER BY id_key"
	switch {
	case f.BySortKey && f.Descending:
		q = " ORDER BY sort_key DESC" // ties in no particular order, so the index serves it
	case f.BySortKey:
		q = " ORDER BY sort_key"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	return q
}

func listResourcesTx(ctx context.Context, tx *sql.Tx, f ListFilter) ([]Resource, error) {
	where, args := resourceFilterSQL(f)
	rows, err := tx.QueryContext(ctx, `SELECT `+resourceColumns+` FROM resources`+where+orderSQL(f), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var _ ResourceNames = (*SQLite)(nil)

// ListResourceNames implements ResourceNames.
func (s *SQLite) ListResourceNames(ctx context.Context, f ListFilter) ([]string, error) {
	where, args := resourceFilterSQL(f)
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM resources`+where+orderSQL(f), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
