// Package build runs image templates: a list of steps, each with Run and
// Cleanup, cleaned up in reverse on the way out (Packer's multistep pattern
// with a typed state). The run moves through Azure's sub-states Queued,
// Building, Customizing, Optimizing, Validating and Distributing and ends
// Succeeded, PartiallySucceeded, Failed or Canceled.
package build

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Run states and sub-states, as Azure names them.
const (
	StateRunning            = "Running"
	StateCanceling          = "Canceling"
	StateSucceeded          = "Succeeded"
	StatePartiallySucceeded = "PartiallySucceeded"
	StateFailed             = "Failed"
	StateCanceled           = "Canceled"

	SubQueued       = "Queued"
	SubBuilding     = "Building"
	SubCustomizing  = "Customizing"
	SubOptimizing   = "Optimizing"
	SubValidating   = "Validating"
	SubDistributing = "Distributing"
)

// Step is one stage of a build.
type Step interface {
	// Name is shown in logs and errors.
	Name() string
	// SubState is the runSubState while the step runs.
	SubState() string
	// Run does the work; an error stops the build.
	Run(ctx context.Context, s *State) error
	// Cleanup undoes what Run left behind; it runs for every step that
	// started, in reverse order, whether the build failed or not.
	Cleanup(s *State)
}

// StepError is a step that failed.
type StepError struct {
	Step     string
	SubState string
	Err      error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// runSteps runs steps in order and cleans up the started ones in reverse.
func runSteps(ctx context.Context, steps []Step, s *State) error {
	var started []Step
	var err error
	for _, st := range steps {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
			break
		}
		s.setSubState(st.SubState())
		s.Log.Printf("(telemetry) Starting step %s", st.Name())
		t0 := time.Now()
		started = append(started, st)
		runErr := st.Run(ctx, s)
		d := time.Since(t0)
		s.Timings = append(s.Timings, Timing{Step: st.Name(), SubState: st.SubState(), Seconds: d.Round(time.Millisecond).Seconds()})
		if runErr != nil {
			s.Log.Printf("(telemetry) Step %s failed after %s: %v", st.Name(), d.Round(time.Millisecond), runErr)
			err = &StepError{Step: st.Name(), SubState: st.SubState(), Err: runErr}
			break
		}
		s.Log.Printf("(telemetry) Ending step %s (%s)", st.Name(), d.Round(time.Millisecond))
	}
	for i := len(started) - 1; i >= 0; i-- {
		started[i].Cleanup(s)
	}
	return err
}

// Timing is how long one step took.
type Timing struct {
	Step     string  `json:"step"`
	SubState string  `json:"subState"`
	Seconds  float64 `json:"seconds"`
}

// ErrCanceled marks a run stopped by a cancel request.
var ErrCanceled = errors.New("the run was canceled")
