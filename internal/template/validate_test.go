package template

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateAcceptsTheFixtures(t *testing.T) {
	for _, name := range []string{"valid/debian-hardened.json", "valid/debian-hardened.yaml", "valid/bare-properties.json", "valid/minimal.yaml"} {
		tmpl := mustParse(t, name)
		if err := tmpl.Validate(ValidateEnv{Filename: name}); err != nil {
			t.Errorf("%s:\n%v", name, err)
		}
	}
}

func TestValidateNormalizesChecksums(t *testing.T) {
	tmpl := mustParse(t, "valid/debian-hardened.json")
	if err := tmpl.Validate(ValidateEnv{}); err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.Properties.Customize[0].SHA256Checksum, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"; got != want {
		t.Errorf("checksum = %s, want %s", got, want)
	}
}

// validateCases change a valid template and list the exact errors Validate
// must then report.
var validateCases = []struct {
	name   string
	change func(t *ImageTemplate)
	want   string
}{
	{"source is required", func(t *ImageTemplate) { t.Properties.Source = Source{} },
		`properties.source: source is required (for example {"type": "PlatformImage", "publisher": "Debian", "offer": "debian-12", "sku": "12", "version": "latest"})`},
	{"source type is required", func(t *ImageTemplate) { t.Properties.Source.Type = "" },
		`properties.source.type: required (one of PlatformImage, ManagedImage, SharedImageVersion, DiskImage)`},
	{"PlatformImage fields", func(t *ImageTemplate) {
		t.Properties.Source = Source{Type: "PlatformImage", Publisher: "Debian", PlanInfo: &PlanInfo{PlanName: "p"}}
	},
		"properties.source.offer: required for a PlatformImage source\n" +
			"properties.source.sku: required for a PlatformImage source\n" +
			"properties.source.version: required for a PlatformImage source\n" +
			"properties.source.planInfo.planProduct: required when planInfo is set\n" +
			"properties.source.planInfo.planPublisher: required when planInfo is set"},
	{"fields of another source kind", func(t *ImageTemplate) { t.Properties.Source.ImageID = "x" },
		`properties.source.imageId: field "imageId" is not valid for a PlatformImage source; valid fields: type, publisher, offer, sku, version, exactVersion, planInfo`},
	{"ManagedImage source", func(t *ImageTemplate) {
		t.Properties.Source = Source{Type: "ManagedImage", ImageID: testGallery}
	},
		`properties.source.imageId: expected the ID of a managed image, got the ID of a Microsoft.Compute/galleries/images (expected /subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name})`},
	{"SharedImageVersion source", func(t *ImageTemplate) {
		t.Properties.Source = Source{Type: "SharedImageVersion", ImageVersionID: "subscriptions/x"}
	},
		`properties.source.imageVersionId: "subscriptions/x" is not a resource ID: it must start with "/" (expected /subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{name}/images/{name}/versions/{name})`},
	{"SharedImageVersion latest and shared galleries", func(t *ImageTemplate) {
		t.Properties.Source = Source{Type: "SharedImageVersion", ImageVersionID: testGallery + "/versions/latest"}
		t.Properties.Customize[0].SHA256Checksum = "abc"
	},
		`properties.customize[0].sha256Checksum: expected 64 hexadecimal characters (a SHA-256 digest), got "abc" (compute it with: sha256sum FILE)`},
	{"DiskImage needs a checksum", func(t *ImageTemplate) {
		t.Properties.Source = Source{Type: "DiskImage", URI: "ftp://example.com/x.qcow2"}
	},
		"properties.source.uri: unsupported URI scheme \"ftp\" (use https://, file:// or a local path)\n" +
			"properties.source.sha256Checksum: required for a DiskImage source (compute it with: sha256sum FILE)"},
	{"duplicate customizer names", func(t *ImageTemplate) {
		t.Properties.Customize[3].Name = "motd"
	},
		`properties.customize[3].name: duplicate name "motd", first used at properties.customize[1]`},
	{"Shell needs exactly one of scriptUri and inline", func(t *ImageTemplate) {
		t.Properties.Customize[0].Inline = []string{"echo"}
		t.Properties.Customize[1].Inline = nil
	},
		"properties.customize[0]: a Shell customizer takes scriptUri or inline, not both\n" +
			"properties.customize[1]: a Shell customizer needs scriptUri or inline"},
	{"remote scripts need a checksum, local ones do not", func(t *ImageTemplate) {
		t.Properties.Customize[0].SHA256Checksum = ""
		t.Properties.Customize[1] = Customizer{Type: "Shell", Name: "local", ScriptURI: "scripts/local.sh"}
		t.Properties.Customize[2].SourceURI = "https://example.com/audit.rules"
	},
		"properties.customize[0].sha256Checksum: required when scriptUri is an http(s) URL (compute it with: curl -fsSL URL | sha256sum)\n" +
			"properties.customize[2].sha256Checksum: required when sourceUri is an http(s) URL (compute it with: curl -fsSL URL | sha256sum)"},
	{"File destination", func(t *ImageTemplate) {
		t.Properties.Customize[2].Destination = "etc/audit/rules.d/audit.rules"
		t.Properties.Customize = append(t.Properties.Customize, Customizer{Type: "File", Name: "win", SourceURI: "a", Destination: `C:\a`}, Customizer{Type: "File", Name: "empty"})
	},
		"properties.customize[2].destination: destination \"etc/audit/rules.d/audit.rules\" must be an absolute path (for example /tmp/audit.rules)\n" +
			"properties.customize[6].sourceUri: required for a File customizer\n" +
			"properties.customize[6].destination: required for a File customizer"},
	{"customizer types", func(t *ImageTemplate) {
		t.Properties.Customize[0].Type = ""
		t.Properties.Customize[1].Type = "Bash"
	},
		"properties.customize[0].type: required (one of Shell, PowerShell, File, WindowsRestart, WindowsUpdate, Update, Restart, Hardening)\n" +
			"properties.customize[1].type: unknown customizer type \"Bash\"; valid values: Shell, PowerShell, File, WindowsRestart, WindowsUpdate, Update, Restart, Hardening"},
	{"fields of another customizer kind", func(t *ImageTemplate) { t.Properties.Customize[2].Inline = []string{"x"} },
		`properties.customize[2].inline: field "inline" is not valid for a File customizer; valid fields: name, type, sourceUri, destination, sha256Checksum, timeout`},
	{"step timeouts", func(t *ImageTemplate) {
		t.Properties.Customize[0].Timeout = "ten minutes"
		t.Properties.Validate.InVMValidations[0].Timeout = "-5s"
	},
		"properties.customize[0].timeout: invalid duration \"ten minutes\" (a number with a unit, e.g. \"5m\" or \"2h\")\n" +
			"properties.validate.inVMValidations[0].timeout: invalid duration \"-5s\" (a number with a unit, e.g. \"5m\" or \"2h\")"},
	{"restart, update and PowerShell settings", func(t *ImageTemplate) {
		t.Properties.Customize[3].UpdateLimit = -1
		t.Properties.Customize[3].Filters = []string{"linux-image-*"}
		t.Properties.Customize[4].RestartTimeout = "5 minutes"
		t.Properties.Customize = append(t.Properties.Customize, Customizer{Type: "PowerShell", Inline: []string{"x"}, RunAsSystem: true})
	},
		"properties.customize[3].updateLimit: updateLimit must not be negative, got -1 (0 means 1000)\n" +
			"properties.customize[3].filters[0]: filter \"linux-image-*\" must start with include: or exclude: (for example \"exclude:linux-image-*\")\n" +
			"properties.customize[4].restartTimeout: invalid duration \"5 minutes\" (a number with a unit, e.g. \"5m\" or \"2h\")\n" +
			"properties.customize[5].runAsSystem: runAsSystem requires runElevated (set runElevated to true as well)"},
	{"in-VM validations", func(t *ImageTemplate) {
		t.Properties.Validate.InVMValidations = append(t.Properties.Validate.InVMValidations,
			Customizer{Type: "Shell", Name: "sshd-config", Inline: []string{"true"}},
			Customizer{Type: "Update"})
	},
		"properties.validate.inVMValidations[1].name: duplicate name \"sshd-config\", first used at properties.validate.inVMValidations[0]\n" +
			"properties.validate.inVMValidations[2].type: unknown validator type \"Update\"; valid values: Shell, PowerShell, File"},
	{"build timeout", func(t *ImageTemplate) { t.Properties.BuildTimeoutInMinutes = 961 },
		`properties.buildTimeoutInMinutes: 961 is out of range 0..960 (0 means 240 (4 hours))`},
	{"distribute is required", func(t *ImageTemplate) { t.Properties.Distribute = nil },
		`properties.distribute: at least one distribution target is required (add a SharedImage, ManagedImage or VHD target)`},
	{"runOutputName", func(t *ImageTemplate) {
		t.Properties.Distribute[1].RunOutputName = "debian12-sig"
		t.Properties.Distribute = append(t.Properties.Distribute,
			Distributor{Type: "VHD"}, Distributor{Type: "VHD", RunOutputName: "has space"}, Distributor{Type: "VHD", RunOutputName: strings.Repeat("x", 65)})
	},
		"properties.distribute[1].runOutputName: duplicate runOutputName \"debian12-sig\", first used at properties.distribute[0]\n" +
			"properties.distribute[2].runOutputName: required\n" +
			"properties.distribute[3].runOutputName: \"has space\" must be 1 to 64 letters, digits, '-', '_' or '.'\n" +
			"properties.distribute[4].runOutputName: \"" + strings.Repeat("x", 65) + "\" must be 1 to 64 letters, digits, '-', '_' or '.'"},
	{"ManagedImage target", func(t *ImageTemplate) {
		t.Properties.Distribute[1] = Distributor{Type: "ManagedImage", RunOutputName: "mi", ImageID: testRG + "/providers/Microsoft.Compute/disks/d"}
	},
		"properties.distribute[1].imageId: expected the ID of a managed image, got the ID of a Microsoft.Compute/disks (expected /subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{name})\n" +
			"properties.distribute[1].location: required for a ManagedImage distributor"},
	{"SharedImage target", func(t *ImageTemplate) {
		d := &t.Properties.Distribute[0]
		d.GalleryImageID = testGallery + "/versions/1.0.0"
		d.ReplicationRegions = []string{"eastus"}
		d.TargetRegions = append(d.TargetRegions, TargetRegion{ReplicaCount: -1, StorageAccountType: "standard_lrs"})
		d.ReplicationMode = "Deep"
		d.Versioning.Major = intPtr(-2)
	},
		"properties.distribute[0].targetRegions[2].name: required\n" +
			"properties.distribute[0].targetRegions[2].replicaCount: replicaCount must not be negative, got -1 (0 means 1)\n" +
			"properties.distribute[0].targetRegions[2].storageAccountType: \"standard_lrs\" is not one of Standard_LRS, Standard_ZRS, Premium_LRS (did you mean \"Standard_LRS\"?)\n" +
			"properties.distribute[0].replicationRegions: targetRegions replaces the deprecated replicationRegions and storageAccountType; set one or the other (use targetRegions only)\n" +
			"properties.distribute[0].replicationMode: \"Deep\" is not one of Full, Shallow\n" +
			"properties.distribute[0].versioning: versioning cannot be used when galleryImageId names a version (remove versioning or give the image definition's ID)\n" +
			"properties.distribute[0].versioning.major: major must be -1 or more, got -2 (-1 means the highest existing major)"},
	{"SharedImage gallery ID", func(t *ImageTemplate) {
		t.Properties.Distribute[0].GalleryImageID = testRG + "/providers/Microsoft.Compute/galleries/myGallery"
		t.Properties.Distribute[0].Versioning = &Versioning{}
	},
		"properties.distribute[0].galleryImageId: expected the ID of a gallery image definition or version, got the ID of a Microsoft.Compute/galleries (expected /subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}/images/{definition}[/versions/{version}])\n" +
			"properties.distribute[0].versioning.scheme: required (one of Latest, Source)"},
	{"fields of another distributor kind", func(t *ImageTemplate) { t.Properties.Distribute[1].GalleryImageID = testGallery },
		`properties.distribute[1].galleryImageId: field "galleryImageId" is not valid for a VHD distributor; valid fields: type, runOutputName, artifactTags, uri`},
	{"error handling, VM profile, staging group, autoRun", func(t *ImageTemplate) {
		t.Properties.ErrorHandling.OnCustomizerError = "Abort"
		t.Properties.VMProfile.OSDiskSizeGB = 4096
		t.Properties.VMProfile.UserAssignedIdentities = []string{testRG}
		t.Properties.VMProfile.VNetConfig = &VNetConfig{SubnetID: testRG + "/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
			ContainerInstanceSubnetID: testRG + "/providers/Microsoft.Network/virtualNetworks/v/subnets/aci", ProxyVMSize: "Standard_A1_v2"}
		t.Properties.StagingResourceGroup = "IT_staging"
		t.Properties.AutoRun = &AutoRun{State: "On"}
	},
		"properties.errorHandling.onCustomizerError: \"Abort\" is not one of cleanup, abort (did you mean \"abort\"?)\n" +
			"properties.vmProfile.osDiskSizeGB: 4096 is out of range 0..4095 (0 keeps the source's size)\n" +
			"properties.vmProfile.userAssignedIdentities[0]: expected the ID of a user-assigned identity, got the ID of a Microsoft.Resources/resourceGroups (expected /subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name})\n" +
			"properties.vmProfile.vnetConfig.proxyVmSize: proxyVmSize cannot be set together with containerInstanceSubnetId\n" +
			"properties.stagingResourceGroup: \"IT_staging\" is not a resource ID: it must start with \"/\" (expected /subscriptions/{subscriptionId}/resourceGroups/{name})\n" +
			"properties.autoRun.state: \"On\" is not one of Enabled, Disabled"},
	{"identity", func(t *ImageTemplate) {
		t.Identity.Type = "SystemAssigned"
		t.Identity.UserAssignedIdentities["/subscriptions/x/resourceGroups/y"] = UserAssignedIdentity{}
	},
		"identity.type: identity type must be UserAssigned or None, got \"SystemAssigned\" (Image Builder uses a single user-assigned identity, not a system-assigned one)\n" +
			"identity.userAssignedIdentities[\"/subscriptions/x/resourceGroups/y\"]: expected the ID of a user-assigned identity, got the ID of a Microsoft.Resources/resourceGroups (expected /subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name})"},
	{"a single identity", func(t *ImageTemplate) {
		t.Identity.UserAssignedIdentities[testRG+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/second"] = UserAssignedIdentity{}
	},
		`identity.userAssignedIdentities: Image Builder supports a single identity, got 2`},
	{"None takes no identities", func(t *ImageTemplate) { t.Identity.Type = "None" },
		`identity.userAssignedIdentities: an identity of type None takes no user-assigned identities`},
	{"envelope", func(t *ImageTemplate) {
		t.Type = "Microsoft.Compute/images"
		t.Name = "my template"
	},
		"type: resource type \"Microsoft.Compute/images\" is not an image template (expected \"Microsoft.VirtualMachineImages/imageTemplates\")\n" +
			"name: invalid name \"my template\": use 1 to 64 letters, digits, '-', '_' or '.'"},
	{"optimize", func(t *ImageTemplate) {
		t.Properties.Optimize.VMBoot.State = "enabled"
		t.Properties.Optimize.Workload = &OptimizeWorkload{State: "Enabled", ScriptURI: "https://example.com/w.sh", SHA256Checksum: "x"}
	},
		"properties.optimize.vmBoot.state: \"enabled\" is not one of Enabled, Disabled (did you mean \"Enabled\"?)\n" +
			"properties.optimize.workload.sha256Checksum: expected 64 hexadecimal characters (a SHA-256 digest), got \"x\" (compute it with: sha256sum FILE)"},
	{"URIs", func(t *ImageTemplate) {
		t.Properties.Customize[0].ScriptURI = "https:///no-host.sh"
		t.Properties.Customize[1] = Customizer{Type: "Shell", Name: "win", ScriptURI: `C:\scripts\a.ps1`}
		t.Properties.Distribute[1].URI = "s3://bucket/x.vhd"
		t.Properties.Source = Source{Type: "SharedImageVersion", ImageVersionID: "/sharedGalleries/g/images/i/versions/latest"}
	},
		"properties.customize[0].scriptUri: URI \"https:///no-host.sh\" has no host\n" +
			"properties.distribute[1].uri: unsupported URI scheme \"s3\" (use https://, file:// or a local path)"},
	{"kiln settings", func(t *ImageTemplate) {
		t.Properties.Kiln = &KilnSettings{Executor: "qemu", Snapshot: "2025-01-01", Mirror: "deb.debian.org", Packages: []string{"ok", "Bad Name", "curl=7.88.1-10"}}
	},
		"properties.x-kiln.executor: \"qemu\" is not one of chroot, vm\n" +
			"properties.x-kiln.snapshot: snapshot \"2025-01-01\" is not a YYYYMMDDTHHMMSSZ timestamp (for example 20250101T000000Z)\n" +
			"properties.x-kiln.mirror: mirror must be an http(s) URL (for example https://deb.debian.org/debian)\n" +
			"properties.x-kiln.packages[1]: \"Bad Name\" is not a Debian package name"},
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := mustParse(t, "valid/debian-hardened.json")
			tc.change(tmpl)
			err := tmpl.Validate(ValidateEnv{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate succeeded")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestValidateIdentityExists(t *testing.T) {
	tmpl := mustParse(t, "valid/debian-hardened.json")
	var asked []string
	err := tmpl.Validate(ValidateEnv{Filename: "t.json", IdentityExists: func(id string) bool {
		asked = append(asked, id)
		return false
	}})
	want := `t.json: identity.userAssignedIdentities["` + testIdentity + `"]: identity "AIBIdentity" does not exist in resource group "ImageBuilderRG" (create it with: kiln identity create -g ImageBuilderRG -n AIBIdentity)`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if len(asked) != 1 || asked[0] != testIdentity {
		t.Errorf("IdentityExists called with %q", asked)
	}
	if err := tmpl.Validate(ValidateEnv{IdentityExists: func(string) bool { return true }}); err != nil {
		t.Errorf("existing identity: %v", err)
	}
}

func TestValidateLocalBuildRefusesWindowsCustomizers(t *testing.T) {
	tmpl := mustParse(t, "valid/debian-hardened.json")
	tmpl.Properties.Customize = append(tmpl.Properties.Customize,
		Customizer{Type: "PowerShell", Inline: []string{"Get-Date"}},
		Customizer{Type: "WindowsUpdate"},
		Customizer{Type: "WindowsRestart"})
	if err := tmpl.Validate(ValidateEnv{}); err != nil {
		t.Fatalf("an Azure build accepts Windows customizers: %v", err)
	}
	err := tmpl.Validate(ValidateEnv{LocalBuild: true})
	want := "properties.customize[5].type: a PowerShell customizer runs only on Windows images built by Azure; kiln builds Linux images locally (use Shell, Update or Restart)\n" +
		"properties.customize[6].type: a WindowsUpdate customizer runs only on Windows images built by Azure; kiln builds Linux images locally (use Shell, Update or Restart)\n" +
		"properties.customize[7].type: a WindowsRestart customizer runs only on Windows images built by Azure; kiln builds Linux images locally (use Shell, Update or Restart)"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"debian12-hardened": true, "a.b_c-1": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "has space": false, "slash/name": false, "ünïcode": false,
	} {
		err := ValidateName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) does not wrap ErrInvalidName", name)
		}
	}
}

func TestBuildTimeout(t *testing.T) {
	for minutes, want := range map[int]time.Duration{0: 4 * time.Hour, 1: time.Minute, 960: 16 * time.Hour} {
		if got := (Properties{BuildTimeoutInMinutes: minutes}).BuildTimeout(); got != want {
			t.Errorf("BuildTimeout(%d) = %v, want %v", minutes, got, want)
		}
	}
}

func TestContentHash(t *testing.T) {
	a := mustParse(t, "valid/debian-hardened.json")
	b := mustParse(t, "valid/debian-hardened.yaml")
	h := a.ContentHash()
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("ContentHash = %q, want 64 lower-case hex digits", h)
	}
	if h != b.ContentHash() || h != a.ContentHash() {
		t.Errorf("equal templates hash differently")
	}
	b.Properties.Customize[1].Inline[0] += " "
	if h == b.ContentHash() {
		t.Errorf("a changed script does not change the hash")
	}
}
