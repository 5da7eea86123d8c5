package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/harden"
)

func (a *app) hardenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "harden", Short: "Hardening profiles and their controls"}
	profile := &cobra.Command{Use: "profile", Short: "Built-in hardening profiles"}
	list := &cobra.Command{
		Use: "list", Short: "List the built-in profiles", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			type row struct {
				ID          string `json:"id"`
				Title       string `json:"title"`
				Version     string `json:"version"`
				Controls    int    `json:"controls"`
				Description string `json:"description"`
			}
			var out []row
			for _, p := range harden.Builtin() {
				out = append(out, row{p.ID, p.Title, p.Version, len(p.Controls), p.Description})
			}
			return a.print(out)
		},
	}
	show := &cobra.Command{
		Use: "show PROFILE", Short: "Show a profile's controls with their CIS and NIST mappings", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := harden.Lookup(args[0])
			if err != nil {
				return err
			}
			type control struct {
				ID        string   `json:"id"`
				Title     string   `json:"title"`
				CIS       string   `json:"cis"`
				NIST      []string `json:"nist"`
				Runtime   bool     `json:"runtimeCheck"`
				Rationale string   `json:"rationale"`
			}
			type param struct {
				Name        string `json:"name"`
				Type        string `json:"type"`
				Default     any    `json:"default"`
				Description string `json:"description"`
			}
			out := struct {
				ID         string    `json:"id"`
				Title      string    `json:"title"`
				Version    string    `json:"version"`
				Controls   []control `json:"controls"`
				Parameters []param   `json:"parameters"`
			}{ID: p.ID, Title: p.Title, Version: p.Version}
			for _, c := range p.Controls {
				out.Controls = append(out.Controls, control{c.ID, c.Title, c.CIS, c.NIST, c.Runtime != "", c.Rationale})
			}
			for _, ps := range p.Params {
				out.Parameters = append(out.Parameters, param{ps.Name, ps.Type, ps.Default, ps.Description})
			}
			if a.format == "table" && a.query == "" {
				return a.print(controlTable(p))
			}
			return a.print(out)
		},
	}
	profile.AddCommand(list, show)
	cmd.AddCommand(profile)
	return cmd
}

// ibReport prints a run's compliance report (JSON, or the HTML page with -o html).
func (a *app) ibReport() *cobra.Command {
	var gn groupName
	var runID string
	c := &cobra.Command{
		Use: "report", Short: "Show the compliance report of the latest run (-o html for the page)", Args: cobra.NoArgs,
		Annotations: map[string]string{annotationHTML: "true"},
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			_, run, err := a.builder.Outcome(c.Context(), a.admin, gn.group, gn.name, runID)
			if err != nil {
				return err
			}
			dir := filepath.Join(run.WorkDir, "outputs")
			if a.format == "html" {
				page, err := os.ReadFile(filepath.Join(dir, "compliance.html"))
				if err != nil {
					return fmt.Errorf("run %s has no compliance report (the template has no Hardening step, or the run stopped before validation): %w", run.ID, err)
				}
				_, err = a.stdout.Write(page)
				return err
			}
			var report harden.Report
			if err := readJSONFile(filepath.Join(dir, "compliance.json"), &report); err != nil {
				if err2 := readJSONFile(filepath.Join(dir, "compliance-offline.json"), &report); err2 != nil {
					return fmt.Errorf("run %s has no compliance report (the template has no Hardening step, or the run stopped before it): %w", run.ID, err)
				}
			}
			return a.print(report)
		},
	}
	gn.flags(c)
	c.Flags().StringVar(&runID, "run", "", "run ID (default: the latest)")
	return c
}

// controlTable is the table view of a profile: az's table output hides "id"
// keys and nested values, so the control ID gets its own column and the NIST
// controls are joined.
func controlTable(p harden.Profile) any {
	type row struct {
		Control string `json:"control"`
		Title   string `json:"title"`
		CIS     string `json:"cis"`
		NIST    string `json:"nist"`
		Runtime bool   `json:"runtimeCheck"`
	}
	rows := make([]row, 0, len(p.Controls))
	for _, c := range p.Controls {
		rows = append(rows, row{c.ID, c.Title, c.CIS, strings.Join(c.NIST, ", "), c.Runtime != ""})
	}
	return rows
}
