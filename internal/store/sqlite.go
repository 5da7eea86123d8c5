package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is the embedded store.
type SQLite struct {
	db  *sql.DB
	gen generationQuery // the prepared access generation read (sqlite_access.go)
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database at path and migrates it.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return &SQLite{db: db}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Key is the case-insensitive form of an ARM ID or type used as a key.
func Key(s string) string { return strings.ToLower(strings.TrimRight(s, "/")) }

func newETag() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// timeFormat has a fixed width so that stored times sort as text in time
// order (ListRuns orders by start_time); RFC3339Nano drops trailing zeros,
// which puts 12:00:00Z after 12:00:00.5Z.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// parseTime reads times in timeFormat and in the RFC3339Nano of older databases.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

const resourceColumns = `id, type_key, name, subscription, group_key, parent_key, location, body, etag, created_at, updated_at, sort_key`

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertResource writes r with verb (INSERT or INSERT OR REPLACE); created
// is its stored creation time, r.UpdatedAt the write's.
func insertResource(ctx context.Context, db execer, verb string, r Resource, created string) error {
	_, err := db.ExecContext(ctx, verb+` INTO resources (id_key, `+resourceColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		Key(r.ID), r.ID, Key(r.Type), r.Name, Key(r.Subscription), Key(r.ResourceGroup), Key(r.Parent), r.Location,
		string(r.Body), r.ETag, created, formatTime(r.UpdatedAt), r.SortKey)
	return err
}

// CreateResource inserts r; ErrConflict if the ID exists.
func (s *SQLite) CreateResource(ctx context.Context, r Resource) (Resource, error) {
	now := time.Now().UTC()
	r.CreatedAt, r.UpdatedAt, r.ETag = now, now, newETag()
	err := insertResource(ctx, s.db, "INSERT", r, formatTime(now))
	if err != nil {
		if isUniqueViolation(err) {
			return r, fmt.Errorf("resource %s already exists: %w", r.ID, ErrConflict)
		}
		return r, fmt.Errorf("insert %s: %w", r.ID, err)
	}
	return r, nil
}

// PutResource creates or replaces r, checking ifMatch against the stored ETag.
func (s *SQLite) PutResource(ctx context.Context, r Resource, ifMatch string) (Resource, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, err
	}
	defer tx.Rollback()
	var etag, created string
	err = tx.QueryRowContext(ctx, `SELECT etag, created_at FROM resources WHERE id_key = ?`, Key(r.ID)).Scan(&etag, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if ifMatch != "" {
			return r, fmt.Errorf("resource %s: %w", r.ID, ErrNotFound)
		}
		created = formatTime(time.Now())
	case err != nil:
		return r, err
	case ifMatch != "" && ifMatch != etag:
		return r, fmt.Errorf("resource %s was changed concurrently (etag %s, expected %s): %w", r.ID, etag, ifMatch, ErrConflict)
	}
	now := time.Now().UTC()
	r.CreatedAt, r.UpdatedAt, r.ETag = parseTime(created), now, newETag()
	if err := insertResource(ctx, tx, "INSERT OR REPLACE", r, created); err != nil {
		return r, fmt.Errorf("write %s: %w", r.ID, err)
	}
	return r, tx.Commit()
}

// GetResource reads one resource by ID (case-insensitive).
func (s *SQLite) GetResource(ctx context.Context, id string) (Resource, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id_key = ?`, Key(id))
	r, err := scanResource(row)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("resource %s: %w", id, ErrNotFound)
	}
	return r, err
}

// ListResources lists resources matching f, ordered by ID.
func (s *SQLite) ListResources(ctx context.Context, f ListFilter) ([]Resource, error) {
	where, args := resourceFilterSQL(f)
	q := `SELECT ` + resourceColumns + ` FROM resources` + where
	rows, err := s.db.QueryContext(ctx, q+orderSQL(f), args...)
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

// DeleteResource removes one resource; ErrNotFound if absent.
func (s *SQLite) DeleteResource(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM resources WHERE id_key = ?`, Key(id))
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("resource %s: %w", id, ErrNotFound)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanResource(sc scanner) (Resource, error) {
	var r Resource
	var body, created, updated string
	err := sc.Scan(&r.ID, &r.Type, &r.Name, &r.Subscription, &r.ResourceGroup, &r.Parent, &r.Location, &body, &r.ETag, &created, &updated, &r.SortKey)
	r.Body = []byte(body)
	r.CreatedAt, r.UpdatedAt = parseTime(created), parseTime(updated)
	return r, err
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

const runColumns = `id, template_key, run_state, run_sub_state, message, start_time, end_time, pid, boot_id, work_dir, cancel_requested, outputs`

// CreateRun inserts a run.
func (s *SQLite) CreateRun(ctx context.Context, r Run) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, runArgs(r)...)
	if isUniqueViolation(err) {
		return fmt.Errorf("run %s: %w", r.ID, ErrConflict)
	}
	return err
}

// UpdateRun replaces a run's fields (a cancel request already recorded is kept).
func (s *SQLite) UpdateRun(ctx context.Context, r Run) error {
	args := runArgs(r)
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET run_state=?, run_sub_state=?, message=?, start_time=?, end_time=?, pid=?, boot_id=?, work_dir=?, cancel_requested=MAX(cancel_requested, ?), outputs=? WHERE id=?`,
		append(args[2:], r.ID)...)
	if err != nil {
		return fmt.Errorf("update run %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %s: %w", r.ID, ErrNotFound)
	}
	return nil
}

func runArgs(r Run) []any {
	outputs := string(r.Outputs)
	if outputs == "" {
		outputs = "null"
	}
	return []any{r.ID, Key(r.TemplateID), r.RunState, r.RunSubState, r.Message, formatTime(r.StartTime), formatTime(r.EndTime),
		r.PID, r.BootID, r.WorkDir, boolInt(r.CancelRequested), outputs}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// GetRun reads one run.
func (s *SQLite) GetRun(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return r, err
}

// ListRuns lists a template's runs, newest first; all runs when templateID is "".
func (s *SQLite) ListRuns(ctx context.Context, templateID string) ([]Run, error) {
	q, args := `SELECT `+runColumns+` FROM runs`, []any{}
	if templateID != "" {
		q += ` WHERE template_key = ?`
		args = append(args, Key(templateID))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY start_time DESC, id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RequestCancel flags a run for cancellation; its runner polls the flag.
func (s *SQLite) RequestCancel(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET cancel_requested = 1 WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteRuns removes every run of a template.
func (s *SQLite) DeleteRuns(ctx context.Context, templateID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE template_key = ?`, Key(templateID))
	return err
}

func scanRun(sc scanner) (Run, error) {
	var r Run
	var start, end, outputs string
	var cancel int
	err := sc.Scan(&r.ID, &r.TemplateID, &r.RunState, &r.RunSubState, &r.Message, &start, &end, &r.PID, &r.BootID, &r.WorkDir, &cancel, &outputs)
	r.StartTime, r.EndTime = parseTime(start), parseTime(end)
	r.CancelRequested = cancel != 0
	r.Outputs = []byte(outputs)
	return r, err
}

// GetMeta reads a meta value; ErrNotFound if unset.
func (s *SQLite) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("meta %s: %w", key, ErrNotFound)
	}
	return v, err
}

// SetMeta writes a meta value.
func (s *SQLite) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}
