package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/arm"
	"github.com/kiln-dev/kiln/internal/imagebuilder"
	"github.com/kiln-dev/kiln/internal/template"
)

func (a *app) resourceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "resource", Short: "Generic resource commands (az resource)"}
	var group, name, rtype, props string
	var full bool
	create := &cobra.Command{
		Use: "create", Short: "Create a resource from its JSON (image templates)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if !strings.EqualFold(rtype, template.ResourceType) {
				return &usageError{fmt.Errorf("--resource-type %q is not supported by kiln resource create; supported: %s", rtype, template.ResourceType)}
			}
			data, dir, err := readPropertiesArg(props)
			if err != nil {
				return err
			}
			if !full {
				return &usageError{fmt.Errorf("pass the whole resource with --is-full-object (kiln reads image templates as full resources)")}
			}
			source := "--properties"
			if f, ok := strings.CutPrefix(props, "@"); ok {
				source = f
			}
			t, err := template.Parse(data, template.ParseOptions{Filename: source})
			if err != nil {
				return err
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			out, err := a.builder.Create(c.Context(), a.admin, imagebuilder.CreateRequest{Group: group, Name: name, Template: *t, TemplateDir: dir})
			if err != nil {
				return err
			}
			return a.print(out)
		},
	}
	create.Flags().StringVarP(&group, "resource-group", "g", "", "resource group")
	create.Flags().StringVarP(&name, "name", "n", "", "resource name")
	create.Flags().StringVar(&rtype, "resource-type", template.ResourceType, "resource type")
	create.Flags().StringVarP(&props, "properties", "p", "", "the resource JSON, or @file")
	create.Flags().BoolVar(&full, "is-full-object", false, "the properties are the whole resource")
	for _, f := range []string{"resource-group", "name", "properties"} {
		must(create.MarkFlagRequired(f))
	}

	var action, id string
	invoke := &cobra.Command{
		Use: "invoke-action", Short: "Invoke an action (Run, Cancel) on an image template", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if id != "" {
				pid, err := arm.ParseID(id)
				if err != nil {
					return &usageError{err}
				}
				group, name = pid.ResourceGroup(), pid.Name()
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			switch strings.ToLower(action) {
			case "run":
				return a.runAndReport(c, group, name, false)
			case "cancel":
				t, err := a.builder.Cancel(c.Context(), a.admin, group, name)
				if err != nil {
					return err
				}
				return a.print(t)
			}
			return &usageError{fmt.Errorf("unknown action %q: image templates support Run and Cancel", action)}
		},
	}
	invoke.Flags().StringVarP(&group, "resource-group", "g", "", "resource group")
	invoke.Flags().StringVarP(&name, "name", "n", "", "resource name")
	invoke.Flags().StringVar(&rtype, "resource-type", template.ResourceType, "resource type")
	invoke.Flags().StringVar(&id, "ids", "", "resource ID")
	invoke.Flags().StringVar(&action, "action", "", "Run or Cancel")
	must(invoke.MarkFlagRequired("action"))
	cmd.AddCommand(create, invoke)
	return cmd
}

// readPropertiesArg reads "@file" or inline JSON; dir is where relative URIs resolve.
func readPropertiesArg(v string) ([]byte, string, error) {
	if p, ok := strings.CutPrefix(v, "@"); ok {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, "", err
		}
		dir, err := filepath.Abs(filepath.Dir(p))
		return data, dir, err
	}
	wd, _ := os.Getwd()
	return []byte(v), wd, nil
}

func (a *app) deploymentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "deployment", Short: "ARM template deployments (az deployment)"}
	grp := &cobra.Command{Use: "group", Short: "Deployments at resource group scope"}
	var group, file string
	var params []string
	create := &cobra.Command{
		Use: "create", Short: "Deploy an ARM template (image templates inside it are created)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			doc, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			values, err := arm.ParseParameters(params)
			if err != nil {
				return &usageError{err}
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			g, err := a.groups.Get(c.Context(), a.admin, group)
			if err != nil {
				return err
			}
			dctx := arm.DeploymentContext{SubscriptionID: a.defaults.SubscriptionID, TenantID: a.defaults.TenantID, ResourceGroup: group, Location: g.Location}
			resources, err := arm.EvaluateDeployment(doc, values, dctx)
			if err != nil {
				return err
			}
			dir, _ := filepath.Abs(filepath.Dir(file))
			var created []imagebuilder.Template
			for i, r := range resources {
				if !strings.EqualFold(r.Type, template.ResourceType) {
					return fmt.Errorf("resources[%d]: type %q cannot be deployed by kiln yet (supported: %s)", i, r.Type, template.ResourceType)
				}
				data, err := r.JSON()
				if err != nil {
					return err
				}
				t, err := template.Parse(data, template.ParseOptions{Filename: fmt.Sprintf("%s resources[%d]", file, i)})
				if err != nil {
					return err
				}
				out, err := a.builder.Create(c.Context(), a.admin, imagebuilder.CreateRequest{Group: group, Name: r.Name, Template: *t, TemplateDir: dir, Secrets: r.SecureValues})
				if err != nil {
					return fmt.Errorf("resources[%d] (%s): %w", i, r.Name, err)
				}
				created = append(created, out)
			}
			return a.print(map[string]any{"properties": map[string]any{"provisioningState": "Succeeded", "outputResources": created}})
		},
	}
	create.Flags().StringVarP(&group, "resource-group", "g", "", "resource group")
	create.Flags().StringVarP(&file, "template-file", "f", "", "ARM template file")
	create.Flags().StringArrayVarP(&params, "parameters", "p", nil, "parameters: @file.json, name=value or JSON (repeatable)")
	must(create.MarkFlagRequired("resource-group"))
	must(create.MarkFlagRequired("template-file"))
	grp.AddCommand(create)
	cmd.AddCommand(grp)
	return cmd
}
