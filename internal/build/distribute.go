package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/kiln-dev/kiln/internal/template"
)

// stepDistribute stores the artifacts and creates each distribution target.
type stepDistribute struct{}

func (*stepDistribute) Name() string     { return "distribute" }
func (*stepDistribute) SubState() string { return SubDistributing }
func (*stepDistribute) Cleanup(*State)   {}

func (*stepDistribute) Run(ctx context.Context, s *State) error {
	if s.Engine.Publish == nil {
		return errors.New("no publisher is configured")
	}
	arts, err := s.Engine.Publish.StoreArtifacts(ctx, s.Artifacts)
	if err != nil {
		return fmt.Errorf("store artifacts: %w", err)
	}
	s.Artifacts = arts
	var errs []error
	for i, d := range s.Job.Template.Properties.Distribute {
		out, err := s.Engine.Publish.Distribute(ctx, s.Job.Identity, s.Job, d, arts, s.Tattoo)
		if err != nil {
			out = RunOutput{Name: d.RunOutputName, Type: d.Type, ProvisioningState: "Failed"}
			errs = append(errs, fmt.Errorf("distribute[%d] (%s %q): %w", i, d.Type, d.RunOutputName, err))
		}
		s.Outputs = append(s.Outputs, out)
		s.Log.Printf("distributed %s %q: %s %s", d.Type, d.RunOutputName, out.ProvisioningState, firstOf(out.ArtifactID, out.ArtifactURI))
	}
	return errors.Join(errs...)
}

var _ = template.DistributeVHD
