package build

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/source"
	"github.com/kiln-dev/kiln/internal/template"
)

// stepPreflight checks, before anything is downloaded or written, that the
// host has what the build needs and room for it.
type stepPreflight struct{}

func (*stepPreflight) Name() string     { return "preflight" }
func (*stepPreflight) SubState() string { return SubQueued }
func (*stepPreflight) Cleanup(*State)   {}

func (*stepPreflight) Run(ctx context.Context, s *State) error {
	src := s.Job.Template.Properties.Source
	if _, ok := s.Engine.Sources[src.Type]; !ok {
		return fmt.Errorf("%w: source type %q cannot be built in this installation", source.ErrUnsupportedSource, src.Type)
	}
	if src.Type == template.SourcePlatformImage {
		if _, err := source.DebianSuite(src); err != nil {
			return err
		}
	}
	if s.Engine.HostCheck != nil {
		if err := s.Engine.HostCheck(ctx); err != nil {
			return err
		}
	}
	if k := s.Job.Template.Properties.Kiln; k != nil && k.OpenSCAP != nil && len(hostexec.Missing("oscap")) > 0 {
		return errors.New("properties.x-kiln.openscap: the OpenSCAP validator needs oscap on this host: apt-get install -y openscap-scanner")
	}
	need := int64(3) << 30
	if vp := s.Job.Template.Properties.VMProfile; vp != nil && vp.OSDiskSizeGB > 0 {
		// raw and VHD are sparse, but a full disk can fill them.
		need = int64(vp.OSDiskSizeGB)<<30 + (1 << 30)
	}
	free, err := freeBytes(s.WorkDir)
	if err != nil {
		return err
	}
	if free < need {
		return fmt.Errorf("not enough free disk space in %s: %d MiB free, this build needs about %d MiB; free some space or point KILN_HOME at a larger disk", s.WorkDir, free>>20, need>>20)
	}
	return nil
}

func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("check free space in %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
