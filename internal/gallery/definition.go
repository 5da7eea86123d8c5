package gallery

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Enumerations of definition and version properties, in Azure's spelling.
// Values are matched case-insensitively and stored in this spelling.
var (
	OSTypes             = []string{"Linux", "Windows"}
	OSStates            = []string{"Generalized", "Specialized"}
	HyperVGenerations   = []string{"V1", "V2"}
	Architectures       = []string{"x64", "Arm64"}
	StorageAccountTypes = []string{"Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS", "StandardSSD_LRS"}
	SecurityTypes       = []string{"Standard", "TrustedLaunchSupported", "TrustedLaunch", "ConfidentialVMSupported", "ConfidentialVM", "TrustedLaunchAndConfidentialVmSupported"}
)

// Defaults applied by NormalizeDefinition and NormalizeVersion.
const (
	// DefaultHyperVGeneration follows API 2025-03-03, which defaults new
	// definitions to V2 (UEFI), the way kiln's images boot.
	DefaultHyperVGeneration   = "V2"
	DefaultArchitecture       = "x64"
	DefaultStorageAccountType = "Standard_LRS"
	DefaultReplicaCount       = 1
)

// canonical returns the allowed spelling of v, matched case-insensitively.
func canonical(v string, allowed []string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, true
		}
	}
	return v, false
}

// NormalizeDefinition fills defaults (hyperVGeneration, architecture) and
// spells enumerations as Azure does. Unknown values are left for
// ValidateDefinition to report.
func NormalizeDefinition(d *ImageDefinition) {
	p := &d.Properties
	d.Type = ImageDefinitionType
	if p.HyperVGeneration == "" {
		p.HyperVGeneration = DefaultHyperVGeneration
	}
	if p.Architecture == "" {
		p.Architecture = DefaultArchitecture
	}
	p.OSType, _ = canonical(p.OSType, OSTypes)
	p.OSState, _ = canonical(p.OSState, OSStates)
	p.HyperVGeneration, _ = canonical(p.HyperVGeneration, HyperVGenerations)
	p.Architecture, _ = canonical(p.Architecture, Architectures)
	for i := range p.Features {
		if strings.EqualFold(p.Features[i].Name, "SecurityType") {
			p.Features[i].Value, _ = canonical(p.Features[i].Value, SecurityTypes)
		}
	}
}

// ValidateDefinition checks a definition being created or replaced; now
// is used to require a future endOfLifeDate. All problems are reported.
func ValidateDefinition(d ImageDefinition, now time.Time) error {
	var es Errors
	p := &d.Properties
	es.addErr("name", ValidateDefinitionName(d.Name))
	if d.Location == "" {
		es.add("location", "the location is missing", "give the region the definition lives in, e.g. eastus")
	}
	es.addErr("properties.identifier.publisher", ValidatePublisher(p.Identifier.Publisher))
	es.addErr("properties.identifier.offer", ValidateOffer(p.Identifier.Offer))
	es.addErr("properties.identifier.sku", ValidateSku(p.Identifier.Sku))
	checkEnum(&es, "properties.osType", p.OSType, OSTypes, true)
	checkEnum(&es, "properties.osState", p.OSState, OSStates, true)
	checkEnum(&es, "properties.hyperVGeneration", p.HyperVGeneration, HyperVGenerations, false)
	checkEnum(&es, "properties.architecture", p.Architecture, Architectures, false)
	checkFeatures(&es, p)
	checkRecommended(&es, p.Recommended)
	checkURI(&es, "properties.privacyStatementUri", p.PrivacyStatementURI)
	checkURI(&es, "properties.releaseNoteUri", p.ReleaseNoteURI)
	checkFutureDate(&es, "properties.endOfLifeDate", p.EndOfLifeDate, now)
	if p.LifecycleRules != nil {
		es.addErr("properties.lifecycleRules", p.LifecycleRules.Validate())
	}
	return es.err()
}

func checkEnum(es *Errors, path, v string, allowed []string, required bool) {
	if v == "" {
		if required {
			es.add(path, "the value is missing", "one of "+strings.Join(allowed, ", "))
		}
		return
	}
	if _, ok := canonical(v, allowed); !ok {
		es.add(path, fmt.Sprintf("%q is not allowed", v), "one of "+strings.Join(allowed, ", "))
	}
}

func checkFeatures(es *Errors, p *ImageDefinitionProperties) {
	seen := map[string]bool{}
	for i, f := range p.Features {
		path := fmt.Sprintf("properties.features[%d]", i)
		key := strings.ToLower(f.Name)
		switch {
		case f.Name == "":
			es.add(path+".name", "the feature name is missing", "")
		case seen[key]:
			es.add(path+".name", fmt.Sprintf("feature %q is given twice", f.Name), "")
		}
		seen[key] = true
		if key != "securitytype" {
			continue
		}
		checkEnum(es, path+".value", f.Value, SecurityTypes, true)
		if needsGen2(f.Value) && !strings.EqualFold(p.HyperVGeneration, "V2") {
			es.add(path+".value", fmt.Sprintf("SecurityType %s needs hyperVGeneration V2, the definition has %q", f.Value, p.HyperVGeneration), "set --hyper-v-generation V2")
		}
	}
}

func needsGen2(securityType string) bool {
	return !strings.EqualFold(securityType, "Standard") && securityType != ""
}

func checkRecommended(es *Errors, r *Recommended) {
	if r == nil {
		return
	}
	checkRange(es, "properties.recommended.vCPUs", r.VCPUs)
	checkRange(es, "properties.recommended.memory", r.Memory)
}

func checkRange(es *Errors, path string, r *ResourceRange) {
	if r == nil {
		return
	}
	if r.Min != nil && *r.Min < 0 {
		es.add(path+".min", fmt.Sprintf("%d is negative", *r.Min), "")
	}
	if r.Max != nil && *r.Max < 0 {
		es.add(path+".max", fmt.Sprintf("%d is negative", *r.Max), "")
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		es.add(path, fmt.Sprintf("min %d is greater than max %d", *r.Min, *r.Max), "")
	}
}

func checkURI(es *Errors, path, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		es.add(path, fmt.Sprintf("%q is not an absolute URI", s), "for example https://example.com/privacy")
	}
}

func checkFutureDate(es *Errors, path string, t *time.Time, now time.Time) {
	if t != nil && !t.After(now) {
		es.add(path, fmt.Sprintf("EndOfLifeDate must be set to a future date; %s is not after %s", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)), "")
	}
}

// ParseDate parses a user-given date: RFC 3339 ("2030-01-31T00:00:00Z")
// or a plain date ("2030-01-31", midnight UTC).
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %q is not a date; use 2030-01-31 or 2030-01-31T00:00:00Z", ErrInvalid, s)
}

// immutableDefinitionFields are the definition properties that cannot
// change after creation, with their JSON paths.
var immutableDefinitionFields = []struct {
	path string
	get  func(*ImageDefinitionProperties) string
}{
	{"identifier.publisher", func(p *ImageDefinitionProperties) string { return p.Identifier.Publisher }},
	{"identifier.offer", func(p *ImageDefinitionProperties) string { return p.Identifier.Offer }},
	{"identifier.sku", func(p *ImageDefinitionProperties) string { return p.Identifier.Sku }},
	{"osType", func(p *ImageDefinitionProperties) string { return p.OSType }},
	{"osState", func(p *ImageDefinitionProperties) string { return p.OSState }},
	{"hyperVGeneration", func(p *ImageDefinitionProperties) string { return p.HyperVGeneration }},
	{"architecture", func(p *ImageDefinitionProperties) string { return p.Architecture }},
	{"purchasePlan", func(p *ImageDefinitionProperties) string { return planString(p.PurchasePlan) }},
}

func planString(p *PurchasePlan) string {
	if p == nil {
		return ""
	}
	return p.Publisher + "/" + p.Product + "/" + p.Name
}

// CheckDefinitionUpdate checks that an update (next, after
// NormalizeDefinition) changes no immutable property of old: the
// identifier, osType, osState, hyperVGeneration, architecture and
// purchasePlan never change, and features change only with
// allowUpdateImage. Values compare case-insensitively.
func CheckDefinitionUpdate(old, next ImageDefinition) error {
	var es Errors
	for _, f := range immutableDefinitionFields {
		was, now := f.get(&old.Properties), f.get(&next.Properties)
		if !strings.EqualFold(was, now) {
			es = append(es, immutableError("galleryImage", f.path, was, now))
		}
	}
	if !next.Properties.AllowUpdateImage && !sameFeatures(old.Properties.Features, next.Properties.Features) {
		e := immutableError("galleryImage", "features", featureString(old.Properties.Features), featureString(next.Properties.Features))
		e.Hint = "set allowUpdateImage to true to change features"
		es = append(es, e)
	}
	if !strings.EqualFold(NormalizeRegion(old.Location), NormalizeRegion(next.Location)) {
		es = append(es, immutableError("galleryImage", "location", old.Location, next.Location))
	}
	return es.err()
}

// immutableError is Azure's "Changing property ... is not allowed".
func immutableError(resource, path, was, now string) *FieldError {
	return &FieldError{
		Path:    "properties." + path,
		Message: fmt.Sprintf("Changing property '%s.properties.%s' is not allowed: it is %q and cannot change to %q", resource, path, was, now),
		Hint:    "create a new resource for a different value",
		Kind:    ErrImmutable,
	}
}

func sameFeatures(a, b []Feature) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]Feature{}
	for _, f := range a {
		m[strings.ToLower(f.Name)] = f
	}
	for _, f := range b {
		g, ok := m[strings.ToLower(f.Name)]
		if !ok || !strings.EqualFold(g.Value, f.Value) || g.StartsAtVersion != f.StartsAtVersion {
			return false
		}
	}
	return true
}

func featureString(fs []Feature) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + "=" + f.Value
	}
	return strings.Join(parts, ",")
}

// CheckUniqueIdentifier refuses a definition whose publisher/offer/sku
// triplet another definition of the gallery already uses.
func CheckUniqueIdentifier(existing []ImageDefinition, d ImageDefinition) error {
	id := d.Properties.Identifier
	for _, e := range existing {
		eid := e.Properties.Identifier
		if strings.EqualFold(e.Name, d.Name) {
			continue
		}
		if strings.EqualFold(eid.Publisher, id.Publisher) && strings.EqualFold(eid.Offer, id.Offer) && strings.EqualFold(eid.Sku, id.Sku) {
			return &FieldError{
				Path:    "properties.identifier",
				Message: fmt.Sprintf("Gallery image: %s identified by (publisher:%s, offer:%s, sku:%s) already exists.", e.Name, eid.Publisher, eid.Offer, eid.Sku),
				Hint:    "the publisher/offer/sku triplet is unique within a gallery; change one of them",
				Kind:    ErrConflict,
			}
		}
	}
	return nil
}

// CheckDeleteDefinition refuses to delete a definition that still has
// versions, soft-deleted ones included.
func CheckDeleteDefinition(d ImageDefinition, versions []ImageVersion) error {
	return checkNoChildren("image definition "+d.Name, len(versions), "image version")
}

// CheckDeleteGallery refuses to delete a gallery that still has definitions.
func CheckDeleteGallery(g Gallery, definitions []ImageDefinition) error {
	return checkNoChildren("gallery "+g.Name, len(definitions), "image definition")
}

func checkNoChildren(what string, n int, child string) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%w: Can not delete resource before nested resources are deleted: %s still has %d %s(s), soft-deleted ones included; delete (and purge) them first", ErrDeletionBlocked, what, n, child)
}
