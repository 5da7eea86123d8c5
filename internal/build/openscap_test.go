package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOscapArgs(t *testing.T) {
	got := OscapArgs("/ds.xml", "xccdf_p", "/out/arf.xml", "/out/r.html")
	want := []string{"xccdf", "eval", "--profile", "xccdf_p", "--results-arf", "/out/arf.xml", "--report", "/out/r.html", "/ds.xml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseOscapOutput(t *testing.T) {
	out := "Title\tDisable SSH Root Login\nRule\txccdf_rule_sshd_disable_root_login\nIdent\tCCE-1\nResult\tfail\n\n" +
		"Title\tSet umask\nRule\txccdf_rule_umask\nResult\tpass\n\nRule\txccdf_rule_x\nResult\tnotapplicable\n" +
		"Rule\txccdf_rule_y\nResult\terror\n"
	got := ParseOscapOutput(out)
	want := OscapSummary{Counts: map[string]int{"fail": 1, "pass": 1, "notapplicable": 1, "error": 1},
		Failed: []string{"xccdf_rule_sshd_disable_root_login", "xccdf_rule_y"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Total() != 4 || got.String() != "1 error, 1 fail, 1 notapplicable, 1 pass" {
		t.Errorf("Total %d, String %q", got.Total(), got.String())
	}
}
