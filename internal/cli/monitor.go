package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/audit"
)

// monitorCommand is az monitor: the activity log.
func (a *app) monitorCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "monitor", Short: "Read the activity log (az monitor)"}
	log := &cobra.Command{Use: "activity-log", Short: "The log of every mutating call: who, what, where, when, and the result"}
	log.AddCommand(a.activityLogList())
	cmd.AddCommand(log)
	return cmd
}

func (a *app) activityLogList() *cobra.Command {
	var q audit.Query
	var offset, start, end string
	c := &cobra.Command{
		Use: "list", Short: "List activity log events, newest first", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := activityWindow(&q, offset, start, end); err != nil {
				return &usageError{err}
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			events, err := a.acc.activity.List(c.Context(), a.admin, q)
			if err != nil {
				return err
			}
			return a.print(events)
		},
	}
	c.Flags().StringVarP(&q.ResourceGroup, "resource-group", "g", "", "events in this resource group")
	c.Flags().StringVar(&q.ResourceID, "resource-id", "", "events on this resource")
	c.Flags().StringVar(&q.Caller, "caller", "", "events of this caller (name or object ID)")
	c.Flags().StringVar(&q.CorrelationID, "correlation-id", "", "events of one kiln invocation")
	c.Flags().StringVar(&q.Status, "status", "", "Succeeded or Failed")
	c.Flags().IntVar(&q.MaxEvents, "max-events", 50, "at most this many events")
	c.Flags().StringVar(&offset, "offset", "6h", "how far back from --end-time (or now), such as 1h or 2d")
	c.Flags().StringVar(&start, "start-time", "", "start of the window, RFC 3339 (instead of --offset)")
	c.Flags().StringVar(&end, "end-time", "", "end of the window, RFC 3339 (default: now)")
	return c
}

// activityWindow sets a query's time window from az's flags.
func activityWindow(q *audit.Query, offset, start, end string) error {
	until := time.Now()
	if end != "" {
		t, err := time.Parse(time.RFC3339, end)
		if err != nil {
			return fmt.Errorf("--end-time %q: use RFC 3339, such as 2025-01-31T12:00:00Z", end)
		}
		until, q.Until = t, t
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			return fmt.Errorf("--start-time %q: use RFC 3339, such as 2025-01-31T12:00:00Z", start)
		}
		q.Since = t
		return nil
	}
	d, err := parseDays(offset)
	if err != nil {
		return fmt.Errorf("--offset: %w", err)
	}
	q.Since = until.Add(-d)
	return nil
}
