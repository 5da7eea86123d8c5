package gallery

// SigningKey identifies a gallery's ed25519 signing key. The private key
// lives in kiln's key directory, never in the database or a build.
type SigningKey struct {
	// KeyID is the hex sha256 of the public key's PKIX encoding, the keyid
	// of the DSSE signatures it makes.
	KeyID string `json:"keyId"`
	// PublicKey is the public key as a PKIX PEM block.
	PublicKey string `json:"publicKey"`
}

// Evidence is what a published version carries besides its disks, each
// file stored content-addressed beside the replicas in every target
// region (sha256 digests, hex).
type Evidence struct {
	// Manifest is the DSSE envelope of the signed in-toto statement: the
	// artifacts and their digests, the tattoo, compliance report and SBOM
	// digests, the parent and the version ID.
	Manifest string `json:"manifest"`
	// KeyID is the gallery key that signed the manifest.
	KeyID            string `json:"keyId"`
	Tattoo           string `json:"tattoo,omitempty"`
	ComplianceReport string `json:"complianceReport,omitempty"`
	SBOM             string `json:"sbom,omitempty"`
	// BuildRunID is the image template run that produced the version.
	BuildRunID string `json:"buildRunId,omitempty"`
}

// digests lists the evidence files' digests (Manifest first).
func (e *Evidence) digests() []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, d := range []string{e.Manifest, e.Tattoo, e.ComplianceReport, e.SBOM} {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}
