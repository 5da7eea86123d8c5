package build

import (
	"strings"
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

func TestParseARF(t *testing.T) {
	arf := `<?xml version="1.0"?>
<arf:asset-report-collection xmlns:arf="urn:oasis:names:tc:dital:arf" xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2">
 <arf:reports><arf:report><arf:content>
  <xccdf:TestResult id="r">
   <xccdf:rule-result idref="xccdf_rule_sshd_disable_root_login" severity="high"><xccdf:result>fail</xccdf:result><xccdf:ident>CCE-1</xccdf:ident></xccdf:rule-result>
   <xccdf:rule-result idref="xccdf_rule_umask"><xccdf:result>pass</xccdf:result></xccdf:rule-result>
   <xccdf:rule-result idref="xccdf_rule_x"><xccdf:result>notapplicable</xccdf:result></xccdf:rule-result>
   <xccdf:rule-result idref="xccdf_rule_unselected"><xccdf:result>notselected</xccdf:result></xccdf:rule-result>
   <xccdf:rule-result idref="xccdf_rule_y"><xccdf:result>error</xccdf:result></xccdf:rule-result>
  </xccdf:TestResult>
 </arf:content></arf:report></arf:reports>
</arf:asset-report-collection>`
	got, err := ParseARF(strings.NewReader(arf))
	if err != nil {
		t.Fatal(err)
	}
	want := OscapSummary{Counts: map[string]int{"fail": 1, "pass": 1, "notapplicable": 1, "error": 1},
		Failed: []string{"xccdf_rule_sshd_disable_root_login", "xccdf_rule_y"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Total() != 4 || got.String() != "1 error, 1 fail, 1 notapplicable, 1 pass" {
		t.Errorf("Total %d, String %q", got.Total(), got.String())
	}
	if _, err := ParseARF(strings.NewReader("<a><b>")); err == nil {
		t.Error("a truncated ARF parsed without error")
	}
}
