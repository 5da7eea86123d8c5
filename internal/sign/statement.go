package sign

import (
	"errors"
	"fmt"
	"time"
)

// Identifiers of the formats kiln emits.
const (
	// StatementType is the in-toto Statement v1 _type.
	StatementType = "https://in-toto.io/Statement/v1"
	// ProvenanceType is the SLSA Provenance v1 predicateType.
	ProvenanceType = "https://slsa.dev/provenance/v1"
	// BuildType says how to read kiln's buildDefinition.
	BuildType = "https://kiln.dev/image-build/v1"
)

// Names of the byproducts in the provenance's runDetails.
const (
	TattooName           = "tattoo.json"
	ComplianceReportName = "compliance-report"
	SBOMName             = "sbom.spdx.json"
)

// ErrStatement is wrapped by every error about a statement's content.
var ErrStatement = errors.New("invalid statement")

// Manifest is what kiln signs for a gallery version.
type Manifest struct {
	// VersionID is the gallery image version's ARM ID.
	VersionID string
	// ParentVersionID is the gallery version the image was built from, if any,
	// and ParentDigest the sha256 of its primary artifact when known.
	ParentVersionID string
	ParentDigest    string
	// BuilderID is a URI naming the builder (kiln and the host), and
	// BuilderVersion kiln's version.
	BuilderID      string
	BuilderVersion string
	// RunID is the image template run; TemplateID and TemplateDigest the
	// template and the sha256 of its content.
	RunID          string
	TemplateID     string
	TemplateDigest string
	StartedOn      time.Time
	FinishedOn     time.Time
	// Artifacts are the disk files of the version.
	Artifacts []Artifact
	// Digests (sha256, hex) of the tattoo, the compliance report and the SBOM.
	TattooDigest           string
	ComplianceReportDigest string
	SBOMDigest             string
}

// Artifact is one file of a version.
type Artifact struct {
	Name   string // e.g. "disk.qcow2"
	SHA256 string // hex
}

// Statement is an in-toto Statement v1 with a SLSA Provenance v1 predicate.
type Statement struct {
	Type          string               `json:"_type"`
	Subject       []ResourceDescriptor `json:"subject"`
	PredicateType string               `json:"predicateType"`
	Predicate     Provenance           `json:"predicate"`
}

// ResourceDescriptor is in-toto's ResourceDescriptor (the fields kiln uses).
type ResourceDescriptor struct {
	Name   string            `json:"name,omitempty"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// Provenance is the SLSA Provenance v1 predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built, from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ExternalParameters are the inputs the user controls: the template and
// the version it publishes.
type ExternalParameters struct {
	ImageVersionID string `json:"imageVersionId"`
	TemplateID     string `json:"templateId,omitempty"`
	TemplateSHA256 string `json:"templateSha256,omitempty"`
}

// RunDetails says who built it, when, and what else the build produced.
type RunDetails struct {
	Builder    Builder              `json:"builder"`
	Metadata   BuildMetadata        `json:"metadata"`
	Byproducts []ResourceDescriptor `json:"byproducts,omitempty"`
}

// Builder identifies the builder.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// BuildMetadata is the run's identity and times.
type BuildMetadata struct {
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// NewStatement renders a manifest as a statement and validates it.
func NewStatement(m Manifest) (Statement, error) {
	st := Statement{
		Type:          StatementType,
		PredicateType: ProvenanceType,
		Predicate: Provenance{
			BuildDefinition: BuildDefinition{
				BuildType:          BuildType,
				ExternalParameters: ExternalParameters{ImageVersionID: m.VersionID, TemplateID: m.TemplateID, TemplateSHA256: m.TemplateDigest},
			},
			RunDetails: RunDetails{
				Builder:  Builder{ID: m.BuilderID},
				Metadata: BuildMetadata{InvocationID: m.RunID, StartedOn: timePtr(m.StartedOn), FinishedOn: timePtr(m.FinishedOn)},
			},
		},
	}
	for _, a := range m.Artifacts {
		st.Subject = append(st.Subject, ResourceDescriptor{Name: a.Name, Digest: sha256Digest(a.SHA256)})
	}
	if m.ParentVersionID != "" || m.ParentDigest != "" {
		st.Predicate.BuildDefinition.ResolvedDependencies = []ResourceDescriptor{{URI: m.ParentVersionID, Digest: sha256Digest(m.ParentDigest)}}
	}
	if m.BuilderVersion != "" {
		st.Predicate.RunDetails.Builder.Version = map[string]string{"kiln": m.BuilderVersion}
	}
	st.Predicate.RunDetails.Byproducts = byproducts(m)
	return st, st.Validate()
}

func byproducts(m Manifest) []ResourceDescriptor {
	var out []ResourceDescriptor
	for _, b := range []struct{ name, digest string }{
		{TattooName, m.TattooDigest}, {ComplianceReportName, m.ComplianceReportDigest}, {SBOMName, m.SBOMDigest},
	} {
		if b.digest != "" {
			out = append(out, ResourceDescriptor{Name: b.name, Digest: sha256Digest(b.digest)})
		}
	}
	return out
}

func sha256Digest(hex string) map[string]string {
	if hex == "" {
		return nil
	}
	return map[string]string{"sha256": hex}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Validate checks what kiln relies on: the statement and predicate types,
// at least one subject, a name and a well-formed sha256 digest on every
// subject, a well-formed digest on every descriptor, the version ID and
// the builder ID.
func (st Statement) Validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if st.Type != StatementType {
		fail("_type is %q, expected %q", st.Type, StatementType)
	}
	if st.PredicateType != ProvenanceType {
		fail("predicateType is %q, expected %q", st.PredicateType, ProvenanceType)
	}
	if len(st.Subject) == 0 {
		fail("subject is empty: a statement must name at least one artifact")
	}
	for i, s := range st.Subject {
		if s.Name == "" {
			fail("subject[%d] has no name", i)
		}
		if !isSHA256(s.Digest["sha256"]) {
			fail("subject[%d] (%s) has no valid sha256 digest: %q", i, s.Name, s.Digest["sha256"])
		}
	}
	p := st.Predicate
	if p.BuildDefinition.ExternalParameters.ImageVersionID == "" {
		fail("predicate.buildDefinition.externalParameters.imageVersionId is empty")
	}
	if p.RunDetails.Builder.ID == "" {
		fail("predicate.runDetails.builder.id is empty")
	}
	checkDescriptors(fail, "resolvedDependencies", p.BuildDefinition.ResolvedDependencies)
	checkDescriptors(fail, "byproducts", p.RunDetails.Byproducts)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrStatement, errors.Join(errs...))
}

func checkDescriptors(fail func(string, ...any), what string, ds []ResourceDescriptor) {
	for i, d := range ds {
		if d.Name == "" && d.URI == "" && len(d.Digest) == 0 {
			fail("%s[%d] is empty", what, i)
		}
		if h, ok := d.Digest["sha256"]; ok && !isSHA256(h) {
			fail("%s[%d] has a malformed sha256 digest %q", what, i, h)
		}
	}
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Manifest reads the manifest back from a statement made by NewStatement.
func (st Statement) Manifest() Manifest {
	p := st.Predicate
	m := Manifest{
		VersionID:      p.BuildDefinition.ExternalParameters.ImageVersionID,
		TemplateID:     p.BuildDefinition.ExternalParameters.TemplateID,
		TemplateDigest: p.BuildDefinition.ExternalParameters.TemplateSHA256,
		BuilderID:      p.RunDetails.Builder.ID,
		BuilderVersion: p.RunDetails.Builder.Version["kiln"],
		RunID:          p.RunDetails.Metadata.InvocationID,
	}
	if t := p.RunDetails.Metadata.StartedOn; t != nil {
		m.StartedOn = *t
	}
	if t := p.RunDetails.Metadata.FinishedOn; t != nil {
		m.FinishedOn = *t
	}
	for _, s := range st.Subject {
		m.Artifacts = append(m.Artifacts, Artifact{Name: s.Name, SHA256: s.Digest["sha256"]})
	}
	if deps := p.BuildDefinition.ResolvedDependencies; len(deps) > 0 {
		m.ParentVersionID, m.ParentDigest = deps[0].URI, deps[0].Digest["sha256"]
	}
	for _, b := range p.RunDetails.Byproducts {
		switch b.Name {
		case TattooName:
			m.TattooDigest = b.Digest["sha256"]
		case ComplianceReportName:
			m.ComplianceReportDigest = b.Digest["sha256"]
		case SBOMName:
			m.SBOMDigest = b.Digest["sha256"]
		}
	}
	return m
}
