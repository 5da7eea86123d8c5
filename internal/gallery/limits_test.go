package gallery

import (
	"errors"
	"strings"
	"testing"
)

func TestLimits(t *testing.T) {
	l := DefaultLimits()
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		which   Limit
		count   int
		wantErr string
	}{
		{LimitGalleries, 1000, ""},
		{LimitGalleries, 1001, "limit galleriesPerSubscription exceeded: a subscription may hold at most 1000 galleries, this would make 1001; remove some or raise gallery.limits.galleriesPerSubscription in kiln.yaml"},
		{LimitDefinitions, 1001, "a gallery may hold at most 1000 image definitions"},
		{LimitVersions, 1001, "an image definition may hold at most 1000 image versions"},
		{LimitTargetRegions, 100, ""},
		{LimitTargetRegions, 101, "gallery.limits.targetRegionsPerVersion"},
		{LimitReplicas, 50, ""},
		{LimitReplicas, 51, "a region may hold at most 50 replicas"},
		{Limit("bogus"), 1, `unknown gallery limit "bogus"`},
	}
	for _, tt := range tests {
		err := l.Check(tt.which, tt.count)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s %d: %v", tt.which, tt.count, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s %d: got %v, want %q", tt.which, tt.count, err, tt.wantErr)
		}
		var le *LimitError
		if tt.which != "bogus" && (!errors.Is(err, ErrLimitExceeded) || !errors.As(err, &le) || le.Max != 1000 && le.Max != 100 && le.Max != 50) {
			t.Errorf("%s: %v is not a *LimitError", tt.which, err)
		}
	}
	l.ReplicasPerRegion = 0
	if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "gallery.limits.replicasPerRegion is 0; it must be at least 1") {
		t.Errorf("Validate: %v", err)
	}
}
