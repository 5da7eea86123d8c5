package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/imagebuilder"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/template"
)

// DefaultBuildGroup holds templates created by `kiln build`.
const DefaultBuildGroup = "kiln-builds"

func (a *app) buildCommand() *cobra.Command {
	var group, name string
	var refresh bool
	c := &cobra.Command{
		Use:   "build TEMPLATE",
		Short: "Create and run an image template in one step, Packer style; the exit code is the result",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			t, dir, err := loadTemplate(args[0])
			if err != nil {
				return err
			}
			if name == "" {
				name = firstNonEmpty(t.Name, templateNameFromFile(args[0]))
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			ctx := c.Context()
			if _, err := a.groups.Get(ctx, a.admin, group); err != nil {
				if _, err := a.groups.Create(ctx, a.admin, group, firstNonEmpty(t.Location, a.cfg.DefaultLocation), nil); err != nil {
					return err
				}
			}
			// A rebuild replaces the template of the same name (build is create + run).
			if err := a.builder.Delete(ctx, a.admin, group, name); err != nil && !isNotFound(err) {
				return err
			}
			if _, err := a.builder.Create(ctx, a.admin, imagebuilder.CreateRequest{Group: group, Name: name, Template: t, TemplateDir: dir}); err != nil {
				return err
			}
			return a.runAndReport(c, group, name, refresh)
		},
	}
	c.Flags().StringVarP(&group, "resource-group", "g", DefaultBuildGroup, "resource group for the template (created if missing)")
	c.Flags().StringVarP(&name, "name", "n", "", "template name (default: the file name)")
	c.Flags().BoolVar(&refresh, "refresh-base", false, "bootstrap a fresh base image even if one is cached")
	return c
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, store.ErrNotFound) }

// templateNameFromFile derives a valid template name from a file name.
func templateNameFromFile(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, r := range base {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.", r)) {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		s = "template"
	}
	return s
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func (a *app) templateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Work with image template files"}
	validate := &cobra.Command{
		Use:   "validate TEMPLATE...",
		Short: "Check template files strictly (schema and semantics) without running them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			type result struct {
				File  string `json:"file"`
				Valid bool   `json:"valid"`
			}
			var out []result
			var failed []string
			for _, f := range args {
				t, _, err := loadTemplate(f)
				if err == nil {
					err = t.Validate(template.ValidateEnv{})
				}
				if err == nil {
					err = build.CheckHardening(t.Properties)
				}
				if err != nil {
					failed = append(failed, err.Error())
				}
				out = append(out, result{File: f, Valid: err == nil})
			}
			if len(failed) > 0 {
				return fmt.Errorf("invalid template:\n%s", strings.Join(failed, "\n"))
			}
			return a.print(out)
		},
	}
	cmd.AddCommand(validate)
	return cmd
}
