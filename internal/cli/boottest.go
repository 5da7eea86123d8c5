package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/hostexec"
)

// bootTestCommand boots a kiln disk image from a throwaway copy, waits for
// the readiness signal, reads the tattoo over SSH and powers it off.
func (a *app) bootTestCommand() *cobra.Command {
	var diskPath, firmware string
	c := &cobra.Command{
		Use: "boot-test", Short: "Boot a disk image under QEMU (UEFI or BIOS) until it is ready and print its tattoo", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			work, err := os.MkdirTemp(a.cfg.RunsDir(), "boot-test-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(work)
			log := build.NewLogger(os.Stderr, nil, nil)
			if firmware != "uefi" && firmware != "bios" {
				return &usageError{fmt.Errorf("--firmware %q: use uefi or bios", firmware)}
			}
			q := &build.QEMU{Runner: hostexec.Exec{}, Accel: a.accelFor, BIOS: firmware == "bios"}
			t0 := time.Now()
			vm, err := q.Boot(c.Context(), diskPath, work, log)
			if err != nil {
				if b, rerr := os.ReadFile(filepath.Join(work, "validation-console.log")); rerr == nil {
					fmt.Fprintf(a.stderr, "serial console:\n%s\n", tailLines(string(b), 30))
				}
				return err
			}
			defer vm.Close(c.Context())
			ready := time.Since(t0)
			fmt.Fprintf(a.stderr, "ready after %s; reading /etc/kiln/tattoo.json over SSH\n", ready.Round(100*time.Millisecond))
			return vm.Run(c.Context(), "cat /etc/kiln/tattoo.json; echo; uname -r; systemctl is-system-running || true", a.stdout)
		},
	}
	c.Flags().StringVar(&diskPath, "disk", "", "raw disk image built by kiln")
	c.Flags().StringVar(&firmware, "firmware", "uefi", "uefi (OVMF) or bios (SeaBIOS)")
	must(c.MarkFlagRequired("disk"))
	return c
}

func tailLines(s string, n int) string {
	lines := splitLines(s)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
