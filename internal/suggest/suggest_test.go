package suggest

import "testing"

func TestNearest(t *testing.T) {
	names := []string{"scriptUri", "sha256Checksum", "inline", "type", "name"}
	for _, tc := range []struct{ in, want string }{
		{"scriptURI", "scriptUri"}, // case only
		{"scriptUrl", "scriptUri"}, // one edit
		{"sha256checksun", "sha256Checksum"},
		{"inlin", "inline"},
		{"tpe", "type"},     // short names allow two edits
		{"destination", ""}, // nothing close
		{"x", ""},
		{"", ""},
	} {
		if got := Nearest(tc.in, names); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := DidYouMean("Shel", []string{"Shell", "File"}); got != `did you mean "Shell"?` {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("zzz", []string{"Shell"}); got != "" {
		t.Errorf("DidYouMean with no close name = %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"é", "e", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
