package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

const tokenColumns = `id, principal_key, name, hash, created_by, created_at, expires_at, revoked_at`

// CreateToken inserts an API token of an existing principal.
func (s *SQLite) CreateToken(ctx context.Context, t Token) (Token, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM principals WHERE id_key = ?`, lower(t.PrincipalID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("principal %s does not exist: %w", t.PrincipalID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		t.CreatedAt = time.Now().UTC()
		_, err = tx.ExecContext(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES (?,?,?,?,?,?,?,?)`,
			t.ID, lower(t.PrincipalID), t.Name, t.Hash, t.CreatedBy, formatTime(t.CreatedAt), formatTime(t.ExpiresAt), formatTime(t.RevokedAt))
		if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
			return fmt.Errorf("token %s already exists: %w", t.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert token %s: %w", t.ID, err)
		}
		return nil
	})
	return t, err
}

// GetToken reads a token by ID.
func (s *SQLite) GetToken(ctx context.Context, id string) (Token, error) {
	return s.oneToken(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id)
}

// TokenByHash reads a token by the hash of its secret.
func (s *SQLite) TokenByHash(ctx context.Context, hash string) (Token, error) {
	return s.oneToken(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash)
}

func (s *SQLite) oneToken(ctx context.Context, q, arg string) (Token, error) {
	ts, err := queryTokens(ctx, s.db, q, arg)
	if err != nil {
		return Token{}, err
	}
	if len(ts) == 0 {
		return Token{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	return ts[0], nil
}

// ListTokens lists a principal's tokens, or all, newest first.
func (s *SQLite) ListTokens(ctx context.Context, principalID string) ([]Token, error) {
	q := `SELECT ` + tokenColumns + ` FROM api_tokens`
	var args []any
	if principalID != "" {
		q += ` WHERE principal_key = ?`
		args = append(args, lower(principalID))
	}
	return queryTokens(ctx, s.db, q+` ORDER BY created_at DESC, id`, args...)
}

// RevokeToken marks a token revoked.
func (s *SQLite) RevokeToken(ctx context.Context, id string, at time.Time) (Token, error) {
	var t Token
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ts, err := queryTokens(ctx, tx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return fmt.Errorf("token %s: %w", id, ErrNotFound)
		}
		t = ts[0]
		if !t.RevokedAt.IsZero() {
			return nil
		}
		t.RevokedAt = at.UTC()
		_, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, formatTime(t.RevokedAt), id)
		return err
	})
	return t, err
}

func queryTokens(ctx context.Context, q querier, query string, args ...any) ([]Token, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created, expires, revoked string
		if err := rows.Scan(&t.ID, &t.PrincipalID, &t.Name, &t.Hash, &t.CreatedBy, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, t.ExpiresAt, t.RevokedAt = parseTime(created), parseTime(expires), parseTime(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

const activityColumns = `seq, event_id, correlation_id, event_time, caller_id, caller, operation, scope, subscription, group_key, status, sub_status, message`

// AppendActivity appends an event to the activity log.
func (s *SQLite) AppendActivity(ctx context.Context, e ActivityEvent) (ActivityEvent, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO activity_log (event_id, correlation_id, event_time, caller_id, caller, operation,
		scope, scope_key, subscription, group_key, status, sub_status, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.EventID, e.CorrelationID, formatTime(e.Time), e.CallerID, e.Caller, e.Operation,
		e.Scope, Key(e.Scope), Key(e.Subscription), Key(e.ResourceGroup), e.Status, e.SubStatus, e.Message)
	if isUniqueViolation(err) {
		return e, fmt.Errorf("activity event %s: %w", e.EventID, ErrConflict)
	}
	if err != nil {
		return e, fmt.Errorf("append to the activity log: %w", err)
	}
	e.Seq, _ = res.LastInsertId()
	return e, nil
}

// ListActivity lists matching events, newest first.
func (s *SQLite) ListActivity(ctx context.Context, f ActivityFilter) ([]ActivityEvent, error) {
	var where []string
	var args []any
	add := func(cond string, v ...any) {
		where = append(where, cond)
		args = append(args, v...)
	}
	if f.Subscription != "" {
		add("subscription = ?", Key(f.Subscription))
	}
	if f.ResourceGroup != "" {
		add("group_key = ?", Key(f.ResourceGroup))
	}
	if f.Scope != "" {
		add("scope_key = ?", Key(f.Scope))
	}
	if f.Caller != "" {
		add("(lower(caller) = ? OR lower(caller_id) = ?)", lower(f.Caller), lower(f.Caller))
	}
	if f.CorrelationID != "" {
		add("correlation_id = ?", f.CorrelationID)
	}
	if f.Status != "" {
		add("lower(status) = ?", lower(f.Status))
	}
	if !f.Since.IsZero() {
		add("event_time >= ?", formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		add("event_time <= ?", formatTime(f.Until))
	}
	q := `SELECT ` + activityColumns + ` FROM activity_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return queryActivity(ctx, s.db, q, args...)
}

func queryActivity(ctx context.Context, q querier, query string, args ...any) ([]ActivityEvent, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ActivityEvent
	for rows.Next() {
		var e ActivityEvent
		var at string
		if err := rows.Scan(&e.Seq, &e.EventID, &e.CorrelationID, &at, &e.CallerID, &e.Caller, &e.Operation,
			&e.Scope, &e.Subscription, &e.ResourceGroup, &e.Status, &e.SubStatus, &e.Message); err != nil {
			return nil, err
		}
		e.Time = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
