package qemu

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// OverlayArgs builds the qemu-img command line creating a qcow2 overlay on
// top of base (an absolute path) in baseFormat.
func OverlayArgs(base, overlay, baseFormat string) []string {
	return []string{"create", "-q", "-f", "qcow2", "-b", base, "-F", baseFormat, overlay}
}

// CreateOverlay creates a throwaway qcow2 overlay whose writes leave base
// untouched.
func CreateOverlay(ctx context.Context, r hostexec.Runner, base, overlay, baseFormat string) error {
	abs, err := filepath.Abs(base)
	if err != nil {
		return fmt.Errorf("create overlay on %s: %w", base, err)
	}
	if baseFormat == "" {
		return fmt.Errorf("create overlay on %s: base format required", base)
	}
	if _, err := r.Run(ctx, hostexec.Command{Name: "qemu-img", Args: OverlayArgs(abs, overlay, baseFormat)}); err != nil {
		return fmt.Errorf("create overlay on %s: %w", base, err)
	}
	return nil
}
