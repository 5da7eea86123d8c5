package imagebuilder

import (
	"context"

	"github.com/kiln-dev/kiln/internal/authz"
)

// Recorder receives every mutating call for the activity log.
type Recorder interface {
	Record(ctx context.Context, caller authz.Principal, action, scope string, err error)
}

// record reports a call's outcome to the Recorder, if there is one; use it
// deferred, with the call's named error result.
func (s *Service) record(ctx context.Context, p authz.Principal, action, scope string, err *error) {
	if s.Audit != nil {
		s.Audit.Record(ctx, p, action, scope, *err)
	}
}
