package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse checks that Parse never panics and that what it accepts
// survives a round trip: marshal the result to JSON, parse it again, and
// get the same template (empty and absent lists and maps are the same).
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := os.ReadDir(dir)
		for _, e := range files {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(data)
			}
		}
	}
	for _, tc := range parseErrorCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := Parse(data, ParseOptions{Filename: "fuzz"})
		if err != nil {
			return
		}
		_ = first.Validate(ValidateEnv{IdentityExists: func(string) bool { return false }, LocalBuild: true})
		out, err := json.Marshal(first)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		second, err := Parse(out, ParseOptions{})
		if err != nil {
			t.Fatalf("re-parse of %s failed:\n%v", out, err)
		}
		if diff := cmp.Diff(first, second, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the template (-first +second):\n%s", diff)
		}
	})
}
