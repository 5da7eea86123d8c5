package e2e

import (
	"strings"
	"testing"
)

// TestValidationSemantics follows Azure's validate section: a failing
// validator with continueDistributeOnFailure distributes anyway and ends
// PartiallySucceeded; a hanging validator is stopped by its timeout;
// sourceValidationOnly boots the source alone and distributes nothing.
func TestValidationSemantics(t *testing.T) {
	e := setup(t)
	e.mustKiln("group", "create", "-n", "ValidateRG", "-l", "eastus", "-o", "none")

	t.Run("a hanging validator times out; continueDistributeOnFailure distributes and ends PartiallySucceeded", func(t *testing.T) {
		_, stderr, code := e.kiln("build", "internal/e2e/testdata/validate-partial.json", "-g", "ValidateRG", "-n", "partial", "-o", "none")
		state := e.mustKiln("image", "builder", "show", "-g", "ValidateRG", "-n", "partial", "--query", "properties.lastRunStatus.[runState, message]", "-o", "tsv")
		if !strings.HasPrefix(state, "PartiallySucceeded") || !strings.Contains(state, `Shell validator "hangs"`) || !strings.Contains(state, "did not finish within its timeout of 15s") {
			t.Errorf("lastRunStatus = %s (exit %d)\n%s", state, code, stderr)
		}
		outs := strings.TrimSpace(e.mustKiln("image", "builder", "output", "list", "-g", "ValidateRG", "-n", "partial", "--query", "[?provisioningState=='Succeeded'] | length(@)"))
		if outs != "1" {
			t.Errorf("%s outputs distributed, want the VHD", outs)
		}
		vlog := e.mustKiln("image", "builder", "logs", "-g", "ValidateRG", "-n", "partial", "--validation")
		for _, want := range []string{`ending Shell validator "marker-present"`, "waiting forever", "[console]", "KILN-READY"} {
			if !strings.Contains(vlog, want) {
				t.Errorf("validation.log lacks %q", want)
			}
		}
	})

	t.Run("sourceValidationOnly validates the source image and distributes nothing", func(t *testing.T) {
		e.mustKiln("build", "internal/e2e/testdata/validate-source-only.json", "-g", "ValidateRG", "-n", "source", "-o", "none")
		state := strings.TrimSpace(e.mustKiln("image", "builder", "show", "-g", "ValidateRG", "-n", "source", "--query", "properties.lastRunStatus.runState", "-o", "tsv"))
		if state != "Succeeded" {
			t.Errorf("runState = %s", state)
		}
		if n := strings.TrimSpace(e.mustKiln("image", "builder", "output", "list", "-g", "ValidateRG", "-n", "source", "--query", "length(@)")); n != "0" {
			t.Errorf("sourceValidationOnly distributed %s outputs", n)
		}
		logs := e.mustKiln("image", "builder", "logs", "-g", "ValidateRG", "-n", "source")
		if strings.Contains(logs, "never-runs") && strings.Contains(logs, "Starting provisioner") {
			t.Error("a customizer ran under sourceValidationOnly")
		}
	})
}
