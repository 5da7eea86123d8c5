package store_test

import (
	"path/filepath"
	"testing"

	"github.com/kiln-dev/kiln/internal/store/storetest"
)

func TestSQLiteLimitedConformance(t *testing.T) {
	storetest.RunLimited(t, func(t *testing.T) storetest.LimitedStore {
		s := openSQLite(t, filepath.Join(t.TempDir(), "kiln.db"))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}
