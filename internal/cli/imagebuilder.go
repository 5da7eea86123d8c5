package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/imagebuilder"
	"github.com/kiln-dev/kiln/internal/template"
)

func (a *app) imageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage managed images and image templates (az image)"}
	cmd.AddCommand(a.imageBuilderCommand())
	cmd.AddCommand(a.managedImageCommands()...)
	cmd.AddCommand(a.bootTestCommand())
	return cmd
}

// loadTemplate reads and strictly decodes a template file.
func loadTemplate(path string) (template.ImageTemplate, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return template.ImageTemplate{}, "", fmt.Errorf("read template: %w", err)
	}
	t, err := template.Parse(data, template.ParseOptions{Filename: path})
	if err != nil {
		return template.ImageTemplate{}, "", err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	return *t, dir, err
}

type groupName struct{ group, name string }

func (g *groupName) flags(c *cobra.Command) {
	c.Flags().StringVarP(&g.group, "resource-group", "g", "", "resource group")
	c.Flags().StringVarP(&g.name, "name", "n", "", "image template name")
	must(c.MarkFlagRequired("resource-group"))
	must(c.MarkFlagRequired("name"))
}

func (a *app) imageBuilderCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Manage and run image templates (az image builder)"}
	cmd.AddCommand(a.ibCreate(), a.ibShow(), a.ibList(), a.ibRun(), a.ibCancel(), a.ibDelete(), a.ibLogs(), a.ibShowRuns(), a.ibOutput(), a.ibReport(), a.ibPermissions())
	return cmd
}

func (a *app) ibCreate() *cobra.Command {
	var gn groupName
	var file, location string
	c := &cobra.Command{
		Use: "create", Short: "Create an image template from Azure Image Builder JSON or YAML", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			t, dir, err := loadTemplate(file)
			if err != nil {
				return err
			}
			if location != "" {
				t.Location = location
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			out, err := a.builder.Create(c.Context(), a.admin, imagebuilder.CreateRequest{Group: gn.group, Name: gn.name, Template: t, TemplateDir: dir})
			if err != nil {
				return err
			}
			if ar := t.Properties.AutoRun; ar != nil && ar.State == "Enabled" {
				// autoRun: the template runs once, right after creation.
				return a.runAndReport(c, gn.group, gn.name, false)
			}
			return a.print(out)
		},
	}
	gn.flags(c)
	c.Flags().StringVar(&file, "image-template", "", "template file (JSON or YAML; bare properties or a full resource)")
	c.Flags().StringVarP(&location, "location", "l", "", "location (default: the resource group's)")
	must(c.MarkFlagRequired("image-template"))
	return c
}

func (a *app) ibShow() *cobra.Command {
	var gn groupName
	c := &cobra.Command{
		Use: "show", Short: "Show an image template and its lastRunStatus", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			t, err := a.builder.Get(c.Context(), a.admin, gn.group, gn.name)
			if err != nil {
				return err
			}
			return a.print(t)
		},
	}
	gn.flags(c)
	return c
}

func (a *app) ibList() *cobra.Command {
	var group string
	c := &cobra.Command{
		Use: "list", Short: "List image templates", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			ts, err := a.builder.List(c.Context(), a.admin, group)
			if err != nil {
				return err
			}
			return a.print(ts)
		},
	}
	c.Flags().StringVarP(&group, "resource-group", "g", "", "resource group (default: all)")
	return c
}

func (a *app) ibRun() *cobra.Command {
	var gn groupName
	var refresh bool
	c := &cobra.Command{
		Use: "run", Short: "Run an image template and wait for the result", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.runAndReport(c, gn.group, gn.name, refresh)
		},
	}
	gn.flags(c)
	c.Flags().BoolVar(&refresh, "refresh-base", false, "bootstrap a fresh base image even if one is cached")
	return c
}

// runAndReport runs a template with live progress and maps the result to the exit code.
func (a *app) runAndReport(c *cobra.Command, group, name string, refresh bool) error {
	prog := newProgress(a.stderr, a.verbose)
	defer prog.Close()
	t, err := a.builder.Run(c.Context(), a.admin, group, name, imagebuilder.RunOptions{Observe: prog.Line, OnSubState: prog.SubState, RefreshBase: refresh})
	prog.Close()
	if err != nil {
		return err
	}
	if err := a.print(t); err != nil {
		return err
	}
	st := t.Properties.LastRunStatus
	if st != nil && st.RunState != build.StateSucceeded {
		return &exitCode{code: 1, msg: fmt.Sprintf("run %s %s: %s", st.RunID, st.RunState, st.Message)}
	}
	return nil
}

func (a *app) ibCancel() *cobra.Command {
	var gn groupName
	c := &cobra.Command{
		Use: "cancel", Short: "Cancel the running build of an image template", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			t, err := a.builder.Cancel(c.Context(), a.admin, gn.group, gn.name)
			if err != nil {
				return err
			}
			return a.print(t)
		},
	}
	gn.flags(c)
	return c
}

func (a *app) ibDelete() *cobra.Command {
	var gn groupName
	c := &cobra.Command{
		Use: "delete", Short: "Delete an image template", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			return a.builder.Delete(c.Context(), a.admin, gn.group, gn.name)
		},
	}
	gn.flags(c)
	return c
}

func (a *app) ibLogs() *cobra.Command {
	var gn groupName
	var runID string
	var follow, validation bool
	c := &cobra.Command{
		Use: "logs", Short: "Print customization.log (or validation.log) of the latest run", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			which := "customization"
			if validation {
				which = "validation"
			}
			return a.builder.Logs(c.Context(), a.admin, gn.group, gn.name, runID, which, follow, a.stdout)
		},
	}
	gn.flags(c)
	c.Flags().StringVar(&runID, "run", "", "run ID (default: the latest)")
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the run ends")
	c.Flags().BoolVar(&validation, "validation", false, "print validation.log instead")
	return c
}

func (a *app) ibShowRuns() *cobra.Command {
	var gn groupName
	c := &cobra.Command{
		Use: "show-runs", Short: "List the runs of an image template, newest first", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			runs, err := a.builder.Runs(c.Context(), a.admin, gn.group, gn.name)
			if err != nil {
				return err
			}
			return a.print(runs)
		},
	}
	gn.flags(c)
	return c
}

func (a *app) ibOutput() *cobra.Command {
	cmd := &cobra.Command{Use: "output", Short: "Run outputs of an image template"}
	var gn groupName
	list := &cobra.Command{
		Use: "list", Short: "List the run outputs of the latest run", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			outs, err := a.builder.RunOutputs(c.Context(), a.admin, gn.group, gn.name)
			if err != nil {
				return err
			}
			return a.print(outs)
		},
	}
	gn.flags(list)
	var gn2 groupName
	var runID string
	artifacts := &cobra.Command{
		Use: "artifacts", Short: "Show the artifacts, tattoo and step timings of a run", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			out, _, err := a.builder.Outcome(c.Context(), a.admin, gn2.group, gn2.name, runID)
			if err != nil {
				return err
			}
			return a.print(out)
		},
	}
	gn2.flags(artifacts)
	artifacts.Flags().StringVar(&runID, "run", "", "run ID (default: the latest)")
	cmd.AddCommand(list, artifacts)
	return cmd
}
