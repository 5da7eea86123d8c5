package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
