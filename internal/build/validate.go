package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/kiln-dev/kiln/internal/tattoo"

	"github.com/kiln-dev/kiln/internal/executor"
	"github.com/kiln-dev/kiln/internal/template"
)

// Booter boots an assembled disk from a throwaway copy, waits for the
// readiness signal and returns an executor connected to the running system.
type Booter interface {
	Boot(ctx context.Context, rawDisk, workDir string, log *Logger) (executor.Executor, error)
}

// stepValidate boots the image and runs validate.inVMValidations inside it.
// A failure stops distribution unless continueDistributeOnFailure is set.
type stepValidate struct{}

func (*stepValidate) Name() string     { return "validate" }
func (*stepValidate) SubState() string { return SubValidating }
func (*stepValidate) Cleanup(*State)   {}

func (*stepValidate) Run(ctx context.Context, s *State) error {
	err := validate(ctx, s, s.Job.Template.Properties.Validate)
	if err == nil {
		s.ValLog.Printf("validation passed")
		return nil
	}
	return validationFailed(ctx, s, err)
}

// validationFailed applies Azure's semantics to a failed validation:
// errorHandling.onValidationError abort keeps the work directory, and
// continueDistributeOnFailure distributes anyway (the run ends
// PartiallySucceeded).
func validationFailed(ctx context.Context, s *State, err error) error {
	v := s.Job.Template.Properties.Validate
	s.ValLog.Printf("validation failed: %v", err)
	if onError(s.Job.Template.Properties.ErrorHandling, false) == template.ErrorHandlingAbort {
		s.KeepWork = true
	}
	if v != nil && v.ContinueDistributeOnFailure && ctx.Err() == nil {
		s.ValidationErr = err
		return nil
	}
	return fmt.Errorf("validation failed, nothing was distributed: %w (validation.log: kiln image builder logs --validation)", err)
}

func validate(ctx context.Context, s *State, v *template.Validate) error {
	if k := s.Job.Template.Properties.Kiln; k != nil && k.OpenSCAP != nil {
		if err := runOpenSCAP(ctx, s, k.OpenSCAP); err != nil {
			return err
		}
	}
	if s.Engine.Boot == nil {
		return errors.New("boot validation needs QEMU, which this installation cannot start (run kiln doctor)")
	}
	t0 := time.Now()
	console := filepath.Join(s.WorkDir, ConsoleLogName)
	defer keepConsole(s, console) // runs after the VM is closed
	ex, err := s.Engine.Boot.Boot(ctx, s.RawPath, s.WorkDir, s.ValLog)
	if err != nil {
		return fmt.Errorf("boot the image: %w; the serial console's last lines:\n%s", err, consoleTail(console, 15))
	}
	defer ex.Close(context.WithoutCancel(ctx))
	s.ValLog.Printf("the image booted and is ready in %s", elapsed(t0))
	if err := checkTattoo(ctx, s, ex); err != nil {
		return err
	}
	if err := checkCompliance(ctx, s, ex); err != nil {
		return err
	}
	var steps []template.Customizer
	if v != nil {
		steps = v.InVMValidations
	}
	for i, c := range steps {
		label := fmt.Sprintf("%s validator %q (inVMValidations[%d])", c.Type, c.Name, i)
		t1 := time.Now()
		s.ValLog.Printf("(telemetry) Starting validator %s", label)
		if err := runOne(ctx, s, ex, s.ValLog, fmt.Sprintf("v%d", i), c, template.DefaultValidatorTimeout); err != nil {
			return fmt.Errorf("%s failed: %w", label, err)
		}
		s.ValLog.Printf("(telemetry) ending %s (%s)", label, elapsed(t1))
	}
	return nil
}

// checkTattoo reads the tattoo back from the running system and compares it
// with the run's record.
func checkTattoo(ctx context.Context, s *State, ex executor.Executor) error {
	if s.Tattoo.Schema == "" {
		return nil // sourceValidationOnly: nothing was tattooed
	}
	var out strings.Builder
	if err := ex.Run(ctx, "cat "+tattoo.Path, &out); err != nil {
		return fmt.Errorf("read the tattoo in the running image: %w", err)
	}
	var got tattoo.Record
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		return fmt.Errorf("the tattoo in the running image is not valid JSON: %w", err)
	}
	want, _ := json.Marshal(s.Tattoo)
	have, _ := json.Marshal(got)
	if string(want) != string(have) {
		return fmt.Errorf("the tattoo in the running image differs from the run's record")
	}
	s.ValLog.Printf("tattoo read back from the running image matches the run's record (run %s)", got.RunID)
	return nil
}

// ConsoleLogName is the validation VM's serial console in the work directory.
const ConsoleLogName = "validation-console.log"

// keepConsole copies the validation VM's serial console into validation.log,
// which outlives the work directory.
func keepConsole(s *State, path string) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return
	}
	s.ValLog.Printf("serial console of the validation VM (%d bytes):", len(data))
	for _, line := range consoleLines(data) {
		s.ValLog.Printf("[console] %s", line)
	}
}

// consoleTail returns the last n lines of the serial console.
func consoleTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no serial console output: " + err.Error() + ")"
	}
	lines := consoleLines(data)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(the VM printed nothing on its serial console)"
	}
	return "  " + strings.Join(lines, "\n  ")
}

// consoleLines splits console output into printable lines: carriage
// returns and terminal escape sequences (firmware and systemd colours) go.
func consoleLines(data []byte) []string {
	text := ansiEscape.ReplaceAllString(string(data), "")
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(strings.ReplaceAll(l, "\r", ""), " ")
		if l = strings.Map(printable, l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var ansiEscape = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>c])`)

func printable(r rune) rune {
	if r == '\t' || unicode.IsPrint(r) {
		return r
	}
	return -1
}
