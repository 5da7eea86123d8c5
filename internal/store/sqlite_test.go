package store_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/store/storetest"
)

func openSQLite(t *testing.T, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%s): %v", path, err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := openSQLite(t, filepath.Join(t.TempDir(), "kiln.db"))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

// Reopening a database runs the migrations again; they must find nothing to
// do and leave the data alone.
func TestSQLiteReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiln.db")
	ctx := t.Context()
	id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RG1"
	run := store.Run{ID: "run-1", TemplateID: id + "/providers/Microsoft.VirtualMachineImages/imageTemplates/t1",
		RunState: "Succeeded", StartTime: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Outputs: json.RawMessage(`{}`)}

	s := openSQLite(t, path)
	created, err := s.CreateResource(ctx, store.Resource{ID: id, Type: "Microsoft.Resources/resourceGroups", Name: "RG1",
		Subscription: "00000000-0000-0000-0000-000000000000", Location: "eastus", Body: json.RawMessage(`{"name":"RG1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "bootstrap", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for _, round := range []string{"first reopen", "second reopen"} {
		t.Run(round, func(t *testing.T) {
			s := openSQLite(t, path)
			defer s.Close()
			got, err := s.GetResource(ctx, id)
			if err != nil {
				t.Fatalf("GetResource: %v", err)
			}
			if diff := cmp.Diff(created, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
				cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Type" || p.Last().String() == ".Subscription" },
					cmp.Comparer(strings.EqualFold))); diff != "" {
				t.Errorf("resource after reopen (-want +got):\n%s", diff)
			}
			r, err := s.GetRun(ctx, "run-1")
			if err != nil {
				t.Fatalf("GetRun: %v", err)
			}
			if r.RunState != "Succeeded" || !r.StartTime.Equal(run.StartTime) {
				t.Errorf("run after reopen = %+v, want state Succeeded started %v", r, run.StartTime)
			}
			if v, err := s.GetMeta(ctx, "bootstrap"); err != nil || v != "v1" {
				t.Errorf("GetMeta(bootstrap) = %q, %v; want \"v1\", nil", v, err)
			}
		})
	}
}

func TestOpenSQLiteCreatesTheDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "nested", "kiln.db")
	s := openSQLite(t, path)
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestOpenSQLiteRefusesAFileThatIsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiln.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not sqlite\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenSQLite(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("OpenSQLite succeeded on a text file")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file %s", err, path)
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		t.Errorf("error %q wraps a store sentinel", err)
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/subscriptions/ABC/resourceGroups/RG", "/subscriptions/abc/resourcegroups/rg"},
		{"/subscriptions/abc/", "/subscriptions/abc"},
		{"/subscriptions/abc//", "/subscriptions/abc"},
		{"Microsoft.Compute/images", "microsoft.compute/images"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := store.Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
