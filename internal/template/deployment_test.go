package template

import (
	"testing"

	"github.com/kiln-dev/kiln/internal/arm"
)

// TestParseResourceFromDeployment evaluates the quickstart-style ARM
// deployment of internal/arm and parses its image template resource: the
// path `kiln deployment group create` takes.
func TestParseResourceFromDeployment(t *testing.T) {
	doc := readTestdata(t, "../../arm/testdata/aib-deployment.json")
	params, err := arm.ParseParameters([]string{"galleryName=myGallery", "imageTemplateName=debian12"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := arm.DeploymentContext{SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "ImageBuilderRG", Location: "eastus"}
	resources, err := arm.EvaluateDeployment(doc, params, ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := resources[0].JSON()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Parse(data, ParseOptions{Filename: "aib-deployment.json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Validate(ValidateEnv{}); err != nil {
		t.Fatal(err)
	}
	if tmpl.Name != "debian12" || tmpl.Properties.BuildTimeoutInMinutes != 120 || tmpl.Properties.Distribute[0].GalleryImageID != testGallery {
		t.Errorf("unexpected template: %+v", tmpl)
	}
	if _, ok := tmpl.Identity.UserAssignedIdentities[testIdentity]; !ok {
		t.Errorf("identity = %+v", tmpl.Identity)
	}
}
