package gallery

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/sign"
)

// ErrVerification is wrapped by *VerificationError.
var ErrVerification = errors.New("image version verification failed")

// File check statuses.
const (
	FileOK       = "ok"
	FileDamaged  = "damaged"
	FileMissing  = "missing"
	FileRepaired = "repaired"
)

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	ID    string `json:"id"`
	KeyID string `json:"keyId"`
	// Signature is "valid" or what is wrong with the signed manifest.
	Signature string        `json:"signature"`
	Regions   []RegionCheck `json:"regions"`
	// Problems lists everything wrong that is still wrong (after repair).
	Problems []string `json:"problems"`
	Verified bool     `json:"verified"`
}

// RegionCheck is the state of a version's files in one region.
type RegionCheck struct {
	Region string      `json:"region"`
	Files  []FileCheck `json:"files"`
}

// FileCheck is one replica or evidence file.
type FileCheck struct {
	Kind   string `json:"kind"` // artifact (with its format), manifest, tattoo, sbom, complianceReport
	SHA256 string `json:"sha256"`
	Path   string `json:"path"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// VerificationError lists what is wrong with a version.
type VerificationError struct {
	ID       string
	Problems []string
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("image version %s does not verify:\n  %s", e.ID, strings.Join(e.Problems, "\n  "))
}

// Unwrap makes errors.Is(err, ErrVerification) true.
func (e *VerificationError) Unwrap() error { return ErrVerification }

// Verify checks a version (id may name latest): the signature of its
// manifest with the gallery's key, that the manifest and the version
// record agree (version ID, artifacts and their digests, tattoo, SBOM and
// report digests, parent), and every file in every region where the
// version is Completed, rehashed. With repair, a damaged or missing file is
// replaced by a copy of a good one from another region. The report says
// what it found; the error is a *VerificationError when anything is still
// wrong.
func (s *Service) Verify(ctx context.Context, p authz.Principal, id string, repair bool) (VerifyReport, error) {
	v, err := s.lookup(ctx, p, id)
	if err != nil {
		return VerifyReport{}, err
	}
	if repair {
		if err := s.check(ctx, p, actionVersionWrite, v.Value.ID); err != nil {
			return VerifyReport{}, err
		}
	}
	rep := VerifyReport{ID: v.Value.ID}
	rep.Regions = s.checkRegions(ctx, v.Value)
	if repair {
		if err := s.repair(ctx, v.Value, &rep); err != nil {
			return rep, err
		}
	}
	s.checkManifest(ctx, v.Value, &rep)
	rep.Problems = append(rep.Problems, fileProblems(rep.Regions)...)
	rep.Verified = len(rep.Problems) == 0
	if !rep.Verified {
		return rep, &VerificationError{ID: v.Value.ID, Problems: rep.Problems}
	}
	return rep, nil
}

// versionFiles are the files a version has in each region.
func versionFiles(v ImageVersion) []FileCheck {
	var out []FileCheck
	for _, a := range v.Properties.StorageProfile.Artifacts {
		out = append(out, FileCheck{Kind: "artifact " + a.Format, SHA256: a.SHA256})
	}
	if ev := v.Properties.Evidence; ev != nil {
		for _, f := range []struct{ kind, sha string }{
			{"manifest", ev.Manifest}, {"tattoo", ev.Tattoo}, {"sbom", ev.SBOM}, {"complianceReport", ev.ComplianceReport},
		} {
			if f.sha != "" {
				out = append(out, FileCheck{Kind: f.kind, SHA256: f.sha})
			}
		}
	}
	return out
}

// checkRegions rehashes every file in every Completed region, the regions
// in parallel.
func (s *Service) checkRegions(ctx context.Context, v ImageVersion) []RegionCheck {
	regions := completedRegionList(v)
	out := make([]RegionCheck, len(regions))
	var wg sync.WaitGroup
	for i, region := range regions {
		out[i] = RegionCheck{Region: region, Files: versionFiles(v)}
		wg.Go(func() { s.checkFiles(ctx, region, out[i].Files) })
	}
	wg.Wait()
	return out
}

func (s *Service) checkFiles(ctx context.Context, region string, files []FileCheck) {
	for i := range files {
		f := &files[i]
		if !s.Regions.HasRegion(region) {
			f.Status, f.Detail = FileMissing, "region "+region+" is no longer configured in kiln.yaml"
			continue
		}
		f.Path, _ = replicate.ReplicaPath(s.Regions.RegionPath(region), f.SHA256)
		switch err := replicate.Verify(ctx, f.Path, f.SHA256); {
		case err == nil:
			f.Status = FileOK
		case errors.Is(err, os.ErrNotExist):
			f.Status, f.Detail = FileMissing, "the file is missing"
		case errors.Is(err, replicate.ErrDamaged):
			f.Status, f.Detail = FileDamaged, err.Error()
		default:
			f.Status, f.Detail = FileDamaged, err.Error()
		}
	}
}

func fileProblems(regions []RegionCheck) []string {
	var out []string
	for _, r := range regions {
		for _, f := range r.Files {
			if f.Status != FileOK && f.Status != FileRepaired {
				out = append(out, fmt.Sprintf("%s: %s %s is %s: %s", r.Region, f.Kind, f.SHA256, f.Status, f.Detail))
			}
		}
	}
	return out
}

// repair replaces each bad file by a copy of a good one from another
// region, under the regions' locks.
func (s *Service) repair(ctx context.Context, v ImageVersion, rep *VerifyReport) error {
	locks, err := s.lockRegions(completedRegionList(v))
	if err != nil {
		return err
	}
	defer locks.release(true)
	for i := range rep.Regions {
		r := &rep.Regions[i]
		for j := range r.Files {
			f := &r.Files[j]
			if f.Status != FileDamaged && f.Status != FileMissing || f.Path == "" {
				continue
			}
			good, ok := goodFile(rep.Regions, f.SHA256)
			if !ok {
				f.Detail += "; no region holds a good copy to repair it from"
				continue
			}
			if _, err := replicate.Repair(ctx, good, f.Path, f.SHA256); err != nil {
				f.Detail += "; repair failed: " + err.Error()
				continue
			}
			f.Status, f.Detail = FileRepaired, "repaired from "+good
		}
	}
	return nil
}

func goodFile(regions []RegionCheck, sha string) (string, bool) {
	for _, r := range regions {
		for _, f := range r.Files {
			if f.SHA256 == sha && f.Status == FileOK {
				return f.Path, true
			}
		}
	}
	return "", false
}

// checkManifest verifies the signed manifest from a good copy and
// compares it with the version record.
func (s *Service) checkManifest(ctx context.Context, v ImageVersion, rep *VerifyReport) {
	fail := func(format string, args ...any) {
		rep.Signature = fmt.Sprintf(format, args...)
		rep.Problems = append(rep.Problems, rep.Signature)
	}
	ev := v.Properties.Evidence
	if ev == nil || ev.Manifest == "" {
		fail("the version has no signed manifest")
		return
	}
	pub, key, err := s.galleryKey(ctx, v)
	rep.KeyID = key.KeyID
	if err != nil {
		fail("cannot get the gallery's key: %v", err)
		return
	}
	if ev.KeyID != key.KeyID {
		fail("the manifest was signed with key %s, the gallery's key is %s", ev.KeyID, key.KeyID)
		return
	}
	st, err := s.readManifest(rep.Regions, ev.Manifest, pub)
	if err != nil {
		fail("%v", err)
		return
	}
	if diffs := manifestDiffs(v, st.Manifest()); len(diffs) > 0 {
		fail("the version record does not match its signed manifest: %s", strings.Join(diffs, "; "))
		return
	}
	rep.Signature = "valid"
}

func (s *Service) galleryKey(ctx context.Context, v ImageVersion) (ed25519.PublicKey, SigningKey, error) {
	ref, err := ParseVersionID(v.ID)
	if err != nil {
		return nil, SigningKey{}, err
	}
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, GalleryID(ref.Subscription, ref.ResourceGroup, ref.Gallery))
	if err != nil {
		return nil, SigningKey{}, err
	}
	return s.publicKey(g.Value)
}

// readManifest verifies the first good copy of the manifest envelope.
func (s *Service) readManifest(regions []RegionCheck, sha string, pub ed25519.PublicKey) (sign.Statement, error) {
	for _, r := range regions {
		if !s.Regions.HasRegion(r.Region) {
			continue
		}
		data, err := readBlob(s.Regions.RegionPath(r.Region), sha)
		if err != nil {
			continue
		}
		env, err := sign.ParseEnvelope(data)
		if err != nil {
			return sign.Statement{}, fmt.Errorf("the signed manifest in %s: %w", r.Region, err)
		}
		st, err := sign.Verify(env, pub)
		if err != nil {
			return st, fmt.Errorf("the signed manifest in %s: %w", r.Region, err)
		}
		return st, nil
	}
	return sign.Statement{}, fmt.Errorf("no region holds a good copy of the signed manifest %s", sha)
}

// manifestDiffs compares the signed manifest with the version record.
func manifestDiffs(v ImageVersion, m sign.Manifest) []string {
	var out []string
	if idKey(m.VersionID) != idKey(v.ID) {
		out = append(out, fmt.Sprintf("it is the manifest of %s", m.VersionID))
	}
	if idKey(m.ParentVersionID) != idKey(v.Properties.ParentVersionID) {
		out = append(out, fmt.Sprintf("it names parent %q, the record %q", m.ParentVersionID, v.Properties.ParentVersionID))
	}
	signed := map[string]string{}
	for _, a := range m.Artifacts {
		signed[a.Name] = a.SHA256
	}
	def := ""
	if ref, err := ParseVersionID(v.ID); err == nil {
		def = ref.Definition
	}
	for _, a := range v.Properties.StorageProfile.Artifacts {
		name := ArtifactName(def, v.Name, a.Format)
		if got, ok := signed[name]; !ok || got != a.SHA256 {
			out = append(out, fmt.Sprintf("the %s artifact %s is not what the manifest signs (%s: %q)", a.Format, a.SHA256, name, got))
		}
	}
	if len(m.Artifacts) != len(v.Properties.StorageProfile.Artifacts) {
		out = append(out, fmt.Sprintf("it signs %d artifacts, the record has %d", len(m.Artifacts), len(v.Properties.StorageProfile.Artifacts)))
	}
	ev := v.Properties.Evidence
	for _, d := range []struct{ what, signed, recorded string }{
		{"tattoo", m.TattooDigest, ev.Tattoo}, {"SBOM", m.SBOMDigest, ev.SBOM}, {"compliance report", m.ComplianceReportDigest, ev.ComplianceReport},
	} {
		if d.signed != d.recorded {
			out = append(out, fmt.Sprintf("the %s digest is %q in the manifest, %q in the record", d.what, d.signed, d.recorded))
		}
	}
	return slices.Clip(out)
}

// ExportResult describes an exported artifact.
type ExportResult struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Path   string `json:"path"`
}

// Export copies the version's artifact of the given format from its
// replica in region ("" for the gallery's location) to dst, verified by
// sha256. id may name latest; versions that cannot be deployed there
// (deleted, revoked, not replicated) are refused.
func (s *Service) Export(ctx context.Context, p authz.Principal, id, format, region, dst string) (ExportResult, error) {
	v, err := s.Resolve(ctx, p, id, region)
	if err != nil {
		return ExportResult{}, err
	}
	if region == "" {
		region = v.Location
	}
	region, _ = s.regionName(region)
	src, err := s.ArtifactPath(v, format, region)
	if err != nil {
		return ExportResult{}, err
	}
	a, _ := artifactOf(v, format)
	res, err := replicate.Copy(ctx, src, dst, a.SHA256)
	if err != nil {
		return ExportResult{}, fmt.Errorf("export %s: %w", v.ID, err)
	}
	if err := os.Chmod(dst, 0o644); err != nil {
		return ExportResult{}, err
	}
	return ExportResult{ID: v.ID, Region: region, Format: a.Format, SHA256: a.SHA256, Size: res.Size, Path: dst}, nil
}
