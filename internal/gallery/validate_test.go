package gallery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func definition(opts ...func(*ImageDefinition)) ImageDefinition {
	d := ImageDefinition{
		ID:   DefinitionID("sub", "rg", "g", "debian12-cis"),
		Name: "debian12-cis", Location: "eastus",
		Properties: ImageDefinitionProperties{
			Identifier: ImageIdentifier{Publisher: "Contoso", Offer: "debian-12", Sku: "12-cis-gen2"},
			OSType:     "linux", OSState: "generalized",
		},
	}
	for _, o := range opts {
		o(&d)
	}
	NormalizeDefinition(&d)
	return d
}

func TestNormalizeDefinition(t *testing.T) {
	d := definition()
	p := d.Properties
	if p.OSType != "Linux" || p.OSState != "Generalized" || p.HyperVGeneration != "V2" || p.Architecture != "x64" || d.Type != ImageDefinitionType {
		t.Fatalf("normalized %+v", p)
	}
}

func TestValidateDefinition(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*ImageDefinition)
		wantErr []string // one substring per expected error, in order
	}{
		{name: "valid"},
		{name: "everything missing", change: func(d *ImageDefinition) { *d = ImageDefinition{} }, wantErr: []string{
			"name: invalid image definition name", "location: the location is missing",
			"properties.identifier.publisher: invalid publisher", "properties.identifier.offer", "properties.identifier.sku",
			"properties.osType: the value is missing (one of Linux, Windows)", "properties.osState: the value is missing",
		}},
		{name: "bad enum", change: func(d *ImageDefinition) { d.Properties.OSType = "BeOS" }, wantErr: []string{`properties.osType: "BeOS" is not allowed (one of Linux, Windows)`}},
		{name: "recommended min above max", change: func(d *ImageDefinition) {
			d.Properties.Recommended = &Recommended{VCPUs: &ResourceRange{Min: ptr(8), Max: ptr(2)}}
		}, wantErr: []string{"properties.recommended.vCPUs: min 8 is greater than max 2"}},
		{name: "end of life in the past", change: func(d *ImageDefinition) { d.Properties.EndOfLifeDate = ptr(at(-1)) },
			wantErr: []string{"properties.endOfLifeDate: EndOfLifeDate must be set to a future date"}},
		{name: "trusted launch needs gen2", change: func(d *ImageDefinition) {
			d.Properties.HyperVGeneration = "V1"
			d.Properties.Features = []Feature{{Name: "SecurityType", Value: "TrustedLaunch"}}
		}, wantErr: []string{"properties.features[0].value: SecurityType TrustedLaunch needs hyperVGeneration V2"}},
		{name: "duplicate feature", change: func(d *ImageDefinition) {
			d.Properties.Features = []Feature{{Name: "IsHibernateSupported", Value: "True"}, {Name: "ishibernatesupported", Value: "False"}}
		}, wantErr: []string{`properties.features[1].name: feature "ishibernatesupported" is given twice`}},
		{name: "relative privacy URI", change: func(d *ImageDefinition) { d.Properties.PrivacyStatementURI = "privacy.html" },
			wantErr: []string{`properties.privacyStatementUri: "privacy.html" is not an absolute URI`}},
		{name: "negative lifecycle rule", change: func(d *ImageDefinition) { d.Properties.LifecycleRules = &LifecycleRules{DeleteAfterDays: -2} },
			wantErr: []string{"properties.lifecycleRules.deleteAfterDays: -2 is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := definition()
			if tt.change != nil {
				tt.change(&d)
			}
			checkErrors(t, ValidateDefinition(d, t0), tt.wantErr)
		})
	}
}

// checkErrors matches each error line with a substring, in order.
func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v is not Errors", err)
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, e := range es {
		if !strings.Contains(e.Error(), want[i]) {
			t.Errorf("error %d = %q, want it to contain %q", i, e.Error(), want[i])
		}
	}
}

func TestCheckDefinitionUpdate(t *testing.T) {
	old := definition()
	tests := []struct {
		name    string
		change  func(*ImageDefinition)
		wantErr []string
	}{
		{name: "updatable fields", change: func(d *ImageDefinition) {
			d.Properties.Description = "new"
			d.Properties.EndOfLifeDate = ptr(at(100))
			d.Properties.Recommended = &Recommended{Memory: &ResourceRange{Min: ptr(2)}}
			d.Properties.OSType = "LINUX"
		}},
		{name: "identifier and OS", change: func(d *ImageDefinition) {
			d.Properties.Identifier.Sku = "other"
			d.Properties.OSType = "Windows"
			d.Properties.HyperVGeneration = "V1"
		}, wantErr: []string{
			`Changing property 'galleryImage.properties.identifier.sku' is not allowed: it is "12-cis-gen2" and cannot change to "other"`,
			`Changing property 'galleryImage.properties.osType' is not allowed`,
			`Changing property 'galleryImage.properties.hyperVGeneration' is not allowed`,
		}},
		{name: "os state and architecture", change: func(d *ImageDefinition) {
			d.Properties.OSState = "Specialized"
			d.Properties.Architecture = "Arm64"
		}, wantErr: []string{"properties.osState", "properties.architecture"}},
		{name: "features need allowUpdateImage", change: func(d *ImageDefinition) {
			d.Properties.Features = []Feature{{Name: "SecurityType", Value: "TrustedLaunchSupported"}}
		}, wantErr: []string{"set allowUpdateImage to true to change features"}},
		{name: "features with allowUpdateImage", change: func(d *ImageDefinition) {
			d.Properties.Features = []Feature{{Name: "SecurityType", Value: "TrustedLaunchSupported"}}
			d.Properties.AllowUpdateImage = true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := definition(tt.change)
			err := CheckDefinitionUpdate(old, next)
			checkErrors(t, err, tt.wantErr)
			if err != nil && !errors.Is(err, ErrImmutable) {
				t.Errorf("error does not wrap ErrImmutable")
			}
		})
	}
}

func TestCheckUniqueIdentifier(t *testing.T) {
	existing := []ImageDefinition{definition()}
	other := definition(func(d *ImageDefinition) { d.Name = "other"; d.Properties.Identifier.Publisher = "CONTOSO" })
	err := CheckUniqueIdentifier(existing, other)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "Gallery image: debian12-cis identified by (publisher:Contoso, offer:debian-12, sku:12-cis-gen2) already exists.") {
		t.Fatalf("got %v", err)
	}
	if err := CheckUniqueIdentifier(existing, definition()); err != nil {
		t.Fatalf("replacing the same definition: %v", err)
	}
}

func TestDeleteNested(t *testing.T) {
	if err := CheckDeleteDefinition(definition(), []ImageVersion{ver("1.0.0", softDeleted(t0, at(7)))}); !errors.Is(err, ErrDeletionBlocked) {
		t.Errorf("definition with a soft-deleted version: %v", err)
	}
	if err := CheckDeleteGallery(Gallery{Name: "g"}, nil); err != nil {
		t.Errorf("empty gallery: %v", err)
	}
}

func newVersion(opts ...vopt) ImageVersion {
	v := ImageVersion{
		ID: VersionID("sub", "rg", "g", "def", "1.0.0"), Name: "1.0.0", Location: "eastus",
		Properties: ImageVersionProperties{
			PublishingProfile: PublishingProfile{TargetRegions: []TargetRegion{{Name: "eastus"}, {Name: "westeurope", RegionalReplicaCount: 3}}},
			StorageProfile:    StorageProfile{Artifacts: []Artifact{{Format: "qcow2", SHA256: strings.Repeat("ab", 32), Size: 1 << 30, Path: "blobs/sha256/ab/abab"}}},
		},
	}
	for _, o := range opts {
		o(&v)
	}
	NormalizeVersion(&v)
	return v
}

func TestNormalizeVersion(t *testing.T) {
	v := newVersion()
	want := []TargetRegion{
		{Name: "eastus", RegionalReplicaCount: 1, StorageAccountType: "Standard_LRS"},
		{Name: "westeurope", RegionalReplicaCount: 3, StorageAccountType: "Standard_LRS"},
	}
	if diff := cmp.Diff(want, v.Properties.PublishingProfile.TargetRegions); diff != "" {
		t.Fatalf("target regions (-want +got):\n%s", diff)
	}
	home := ImageVersion{Location: "westus"}
	NormalizeVersion(&home)
	if tr := home.Properties.PublishingProfile.TargetRegions; len(tr) != 1 || tr[0].Name != "westus" || home.Properties.LifecycleState != StateActive {
		t.Fatalf("defaults: %+v", home.Properties)
	}
}

func TestValidateVersion(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*ImageVersion)
		limits  func(*Limits)
		wantErr []string
	}{
		{name: "valid"},
		{name: "bad name", change: func(v *ImageVersion) { v.Name = "1.0" }, wantErr: []string{`name: invalid image version name "1.0"`}},
		{name: "home region missing", change: func(v *ImageVersion) {
			v.Properties.PublishingProfile.TargetRegions = v.Properties.PublishingProfile.TargetRegions[1:]
		}, wantErr: []string{"Gallery image version publishing profile regions [westeurope] must contain the location of image version eastus"}},
		{name: "duplicate region", change: func(v *ImageVersion) {
			v.Properties.PublishingProfile.TargetRegions = append(v.Properties.PublishingProfile.TargetRegions, TargetRegion{Name: "West Europe"})
		}, wantErr: []string{"targetRegions[2].name: Duplicate regions are not allowed in target publishing regions: West Europe is listed twice"}},
		{name: "replica count above the limit", change: func(v *ImageVersion) {
			v.Properties.PublishingProfile.TargetRegions[1].RegionalReplicaCount = 51
		}, wantErr: []string{"targetRegions[1].regionalReplicaCount: limit replicasPerRegion exceeded: a region may hold at most 50 replicas, this would make 51; remove some or raise gallery.limits.replicasPerRegion in kiln.yaml"}},
		{name: "negative replica count", change: func(v *ImageVersion) { v.Properties.PublishingProfile.ReplicaCount = -1 },
			wantErr: []string{"publishingProfile.replicaCount: replica count -1 is negative; it must be between 1 and 50"}},
		{name: "too many regions", limits: func(l *Limits) { l.TargetRegionsPerVersion = 1 },
			wantErr: []string{"targetRegions: limit targetRegionsPerVersion exceeded: an image version may hold at most 1 target regions, this would make 2"}},
		{name: "storage type", change: func(v *ImageVersion) { v.Properties.PublishingProfile.StorageAccountType = "Cold_LRS" },
			wantErr: []string{`storageAccountType: "Cold_LRS" is not allowed`}},
		{name: "bad artifact", change: func(v *ImageVersion) {
			v.Properties.StorageProfile.Artifacts[0].SHA256 = "ABC"
			v.Properties.StorageProfile.Artifacts[0].Format = ""
		}, wantErr: []string{"artifacts[0].format: the artifact format is missing", `artifacts[0].sha256: "ABC" is not a sha256 digest`}},
		{name: "bad parent", change: func(v *ImageVersion) { v.Properties.ParentVersionID = "/subscriptions/s/resourceGroups/rg" },
			wantErr: []string{"properties.parentVersionId: \"/subscriptions/s/resourceGroups/rg\" is not an image version ID"}},
		{name: "end of life now", change: func(v *ImageVersion) { v.Properties.PublishingProfile.EndOfLifeDate = ptr(t0) },
			wantErr: []string{"EndOfLifeDate must be set to a future date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVersion()
			if tt.change != nil {
				tt.change(&v)
			}
			l := DefaultLimits()
			if tt.limits != nil {
				tt.limits(&l)
			}
			err := ValidateVersion(v, l, t0)
			checkErrors(t, err, tt.wantErr)
			if strings.Contains(tt.name, "above the limit") && !errors.Is(err, ErrLimitExceeded) {
				t.Errorf("error does not wrap ErrLimitExceeded")
			}
		})
	}
}

func TestCheckVersionUpdate(t *testing.T) {
	old := newVersion(func(v *ImageVersion) {
		v.Properties.ReplicationStatus = &ReplicationStatus{Summary: []RegionReplication{
			{Region: "eastus", State: ReplicationCompleted}, {Region: "westeurope", State: ReplicationCompleted},
		}}
	})
	dropWesteurope := func(v *ImageVersion) {
		v.Properties.PublishingProfile.TargetRegions = v.Properties.PublishingProfile.TargetRegions[:1]
	}
	tests := []struct {
		name    string
		old     func(*ImageVersion)
		change  func(*ImageVersion)
		wantErr []string
	}{
		{name: "updatable fields", change: func(v *ImageVersion) {
			v.Properties.PublishingProfile.ExcludeFromLatest = true
			v.Properties.PublishingProfile.TargetRegions[1].RegionalReplicaCount = 5
			v.Properties.PublishingProfile.TargetRegions = append(v.Properties.PublishingProfile.TargetRegions, TargetRegion{Name: "westus", StorageAccountType: "Standard_ZRS"})
		}},
		{name: "storage and source", change: func(v *ImageVersion) {
			v.Properties.PublishingProfile.StorageAccountType = "Premium_LRS"
			v.Properties.PublishingProfile.TargetRegions[1].StorageAccountType = "Standard_ZRS"
			v.Properties.StorageProfile.Artifacts = nil
			v.Properties.ParentVersionID = base100
		}, wantErr: []string{
			"'galleryImageVersion.properties.publishingProfile.storageAccountType' is not allowed",
			"'galleryImageVersion.properties.publishingProfile.targetRegions[westeurope].storageAccountType' is not allowed",
			"'galleryImageVersion.properties.storageProfile' is not allowed",
			"'galleryImageVersion.properties.parentVersionId' is not allowed",
		}},
		{name: "removing a replicated region", change: dropWesteurope,
			wantErr: []string{"is replicated to westeurope and its safety profile does not allow deleting replicated locations (set safetyProfile.allowDeletionOfReplicatedLocations to true first)"}},
		{name: "removing a replicated region when allowed", change: dropWesteurope, old: func(v *ImageVersion) {
			v.Properties.SafetyProfile = &SafetyProfile{AllowDeletionOfReplicatedLocations: true}
		}},
		{name: "removing a region not replicated yet", change: dropWesteurope, old: replication("westeurope", ReplicationReplicating)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := old
			o.Properties.ReplicationStatus = &ReplicationStatus{Summary: append([]RegionReplication(nil), old.Properties.ReplicationStatus.Summary...)}
			o.Properties.PublishingProfile.TargetRegions = append([]TargetRegion(nil), old.Properties.PublishingProfile.TargetRegions...)
			if tt.old != nil {
				tt.old(&o)
			}
			next := o
			next.Properties.PublishingProfile.TargetRegions = append([]TargetRegion(nil), o.Properties.PublishingProfile.TargetRegions...)
			next.Properties.StorageProfile.Artifacts = append([]Artifact(nil), o.Properties.StorageProfile.Artifacts...)
			tt.change(&next)
			checkErrors(t, CheckVersionUpdate(o, next), tt.wantErr)
		})
	}
}

func TestValidateGallery(t *testing.T) {
	g := Gallery{Name: "my-gallery", Properties: GalleryProperties{SharingProfile: &SharingProfile{Permissions: "Public"}}}
	checkErrors(t, ValidateGallery(g), []string{`name: invalid gallery name "my-gallery"`, "location: the location is missing", `permissions: "Public" is not allowed`})
	g = Gallery{Name: "myGallery", Location: "eastus", Properties: GalleryProperties{SoftDeletePolicy: &SoftDeletePolicy{IsSoftDeleteEnabled: true}}}
	checkErrors(t, ValidateGallery(g), nil)
	if d, ok := g.SoftDeleteRetention(); !ok || d != 7*24*time.Hour {
		t.Errorf("retention %v %v", d, ok)
	}
	moved := g
	moved.Location = "westus"
	checkErrors(t, CheckGalleryUpdate(g, moved), []string{"location: Changing property 'gallery.properties.location' is not allowed"})
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2030-01-31":           time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC),
		"2030-01-31T10:00:00Z": time.Date(2030, 1, 31, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := ParseDate(in); err != nil || !got.Equal(want) {
			t.Errorf("ParseDate(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseDate("31/01/2030"); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v", err)
	}
}
