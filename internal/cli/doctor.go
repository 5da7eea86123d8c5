package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/config"
	"github.com/kiln-dev/kiln/internal/doctor"
)

func (a *app) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the host: programs, root, loop devices and whether KVM really works",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			env := doctor.DefaultEnv()
			env.ProbeAccel = func(ctx context.Context) (string, string, error) {
				return probeAccel(ctx, "auto")
			}
			rep := doctor.Run(c.Context(), env)
			if a.format == "json" && !c.Flags().Changed("output") {
				fmt.Fprint(a.stdout, rep.Text())
			} else if err := a.print(rep); err != nil {
				return err
			}
			if !rep.OK() {
				return &exitCode{code: 1, msg: "the host is missing what builds need (see above)"}
			}
			return nil
		},
	}
}

// accelCachePath is where the accelerator probe result is kept.
func accelCachePath() string {
	home, err := config.HomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "kiln-accel.json")
	}
	return filepath.Join(home, "state", "accel.json")
}

// hostCheck runs the doctor's checks (without the accelerator probe) before
// a build and refuses to start when something is missing.
func hostCheck(ctx context.Context) error {
	rep := doctor.Run(ctx, doctor.DefaultEnv())
	if rep.OK() {
		return nil
	}
	var missing []string
	for _, c := range rep.Checks {
		if c.Status == doctor.StatusMissing || c.Status == doctor.StatusFail {
			missing = append(missing, c.Name+": "+c.Detail)
		}
	}
	msg := "the host cannot build images: " + strings.Join(missing, "; ")
	if line := rep.AptInstallLine(); line != "" {
		msg += "; install what is missing with: " + line
	}
	return errors.New(msg + " (kiln doctor shows every check)")
}
