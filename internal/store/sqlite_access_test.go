package store_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/store"
)

// The activity log cannot be edited even with SQL: triggers refuse it.
func TestSQLiteActivityLogIsAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiln.db")
	s := openSQLite(t, path)
	defer s.Close()
	if _, err := s.AppendActivity(t.Context(), store.ActivityEvent{EventID: "e1", Operation: "x/write", Scope: "/subscriptions/s", Status: "Succeeded"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`UPDATE activity_log SET status = 'Failed'`, `DELETE FROM activity_log`} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want the append-only refusal", q, err)
		}
	}
	if es, _ := s.ListActivity(t.Context(), store.ActivityFilter{}); len(es) != 1 || es[0].Status != "Succeeded" {
		t.Errorf("after the refused edits the log holds %+v", es)
	}
}

// Another process's change moves the generation this one reads, so its
// authorization cache knows it is stale.
func TestSQLiteAccessGenerationIsShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiln.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	before, err := b.AccessGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateRoleDefinition(ctx, store.RoleDefinitionRecord{GUID: "bbbbbbbb-0000-0000-0000-000000000001", RoleName: "R", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	after, err := b.AccessGeneration(ctx)
	if err != nil || after == before {
		t.Errorf("generation seen by the other handle: %d -> %d (%v); want a change", before, after, err)
	}
}
