package gallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/replicate"
	"github.com/kiln-dev/kiln/internal/sign"
	"github.com/kiln-dev/kiln/internal/store"
)

// PublishRequest asks for a new image version.
type PublishRequest struct {
	// DefinitionID is /subscriptions/../galleries/G/images/D.
	DefinitionID string
	// Version is explicit ("1.2.3"), or "" to take the next patch after
	// the highest existing version (the Latest scheme of Image Builder).
	Version string
	// Major, with Version "", takes the next patch within this major.
	Major *int
	// TargetRegions: name, regionalReplicaCount, storageAccountType,
	// excludeFromLatest; empty means the gallery's location only.
	TargetRegions []TargetRegion
	// ReplicaCount and StorageAccountType are the defaults of target
	// regions that give none (1 and Standard_LRS when zero).
	ReplicaCount       int
	StorageAccountType string
	ExcludeFromLatest  bool
	// EndOfLifeDate is RFC 3339 or a plain date, "" for none.
	EndOfLifeDate string
	// Tags are the version's tags (Image Builder's artifactTags).
	Tags map[string]string
	// Artifacts are the disk files: format (qcow2, raw or vhd), sha256,
	// size and path of a verified blob.
	Artifacts []Artifact
	// Tattoo is the image's tattoo record.
	Tattoo json.RawMessage
	// ComplianceReport and SBOM are paths of the compliance report and of
	// an SPDX JSON SBOM; "" for none.
	ComplianceReport string
	SBOM             string
	// Parent is the version the image was built from (chained builds).
	Parent string
	// BuildRunID and BuilderID identify the run and the builder.
	BuildRunID, BuilderID string
	// SourceID is recorded as storageProfile.source.id (a managed image).
	SourceID string
	// SafetyProfile, when set, protects the version against deletion.
	SafetyProfile *SafetyProfile
}

// Artifact formats a version may carry.
var ArtifactFormats = []string{"qcow2", "raw", "vhd"}

// maxAutoVersionRetry bounds how often a publish that picked its version
// number itself picks again after losing it to a concurrent publish.
const maxAutoVersionRetry = 8

// publication is a publish in progress.
type publication struct {
	req     PublishRequest
	gallery Gallery
	def     ImageDefinition
	version ImageVersion
	regions []string          // configured names
	sources map[string]string // artifact sha256 → blob path
	parent  string            // digest of the parent's primary artifact
	docs    []document
}

// Publish makes a new image version atomically. It validates the request,
// replicates every artifact into each target region (content-addressed,
// compared with its verified source, renamed into place), stores the
// tattoo, SBOM and compliance report beside them, signs the manifest with
// the gallery's key and stores it too; then one store write — which also
// enforces the versions-per-definition limit and refuses a version that
// exists — makes the version visible with replicationStatus Completed in
// every region. A crash or an error before that write leaves no version,
// only unreferenced files that Recover removes. Of concurrent publishes of
// one version exactly one succeeds; the others get a conflict (ErrConflict),
// except that a request without an explicit version takes the next free
// number instead.
func (s *Service) Publish(ctx context.Context, p authz.Principal, r PublishRequest) (_ ImageVersion, err error) {
	start, scope := time.Now(), r.DefinitionID
	defer func() { s.record(ctx, p, actionVersionWrite, scope, &err) }()
	pub, err := s.preparePublish(ctx, p, r)
	if err != nil {
		return ImageVersion{}, err
	}
	scope = pub.version.ID
	s.trace("prepare", start)
	locks, err := s.lockRegions(pub.regions)
	if err != nil {
		return ImageVersion{}, err
	}
	committed := false
	defer func() { locks.release(committed) }()
	if err := s.replicateArtifacts(ctx, pub); err != nil {
		return ImageVersion{}, err
	}
	if err := s.storeDocuments(pub); err != nil {
		return ImageVersion{}, err
	}
	v, clean, err := s.commitWithRetry(ctx, p, pub)
	committed = err == nil && clean
	return v, err
}

func (s *Service) preparePublish(ctx context.Context, p authz.Principal, r PublishRequest) (*publication, error) {
	ref, err := ParseDefinitionID(r.DefinitionID)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	def, err := load[ImageDefinition](ctx, s.Store, "image definition", ImageDefinitionType, ref.String())
	if err != nil {
		return nil, err
	}
	g, err := load[Gallery](ctx, s.Store, "gallery", GalleryType, ref.GalleryID())
	if err != nil {
		return nil, err
	}
	pub := &publication{req: r, gallery: g.Value, def: def.Value}
	siblings, err := s.siblingNames(ctx, def.Value.ID)
	if err != nil {
		return nil, err
	}
	if err := s.nameVersion(pub, siblings); err != nil {
		return nil, err
	}
	if err := s.check(ctx, p, actionVersionWrite, pub.version.ID); err != nil {
		return nil, err
	}
	if err := s.buildVersion(ctx, pub); err != nil {
		return nil, err
	}
	if pub.docs, err = readDocuments(r); err != nil {
		return nil, err
	}
	return pub, s.precheck(pub, siblings)
}

func (s *Service) siblings(ctx context.Context, defID string) ([]ImageVersion, error) {
	vs, err := list[ImageVersion](ctx, s.Store, "image version", store.ListFilter{Type: ImageVersionType, Parent: defID})
	return values(vs), err
}

// siblingNames are a definition's versions with their names only (the
// store is not asked for the bodies): what numbering needs.
func (s *Service) siblingNames(ctx context.Context, defID string) ([]ImageVersion, error) {
	names, err := s.Store.ListResourceNames(ctx, store.ListFilter{Type: ImageVersionType, Parent: defID})
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", defID, err)
	}
	return namesOnly(names), nil
}

func namesOnly(names []string) []ImageVersion {
	out := make([]ImageVersion, len(names))
	for i, n := range names {
		out[i].Name = n
	}
	return out
}

// nameVersion sets the version's name and ID: the requested one, or the
// next patch.
func (s *Service) nameVersion(pub *publication, siblings []ImageVersion) error {
	name := pub.req.Version
	if name == "" {
		next, err := nextPatch(siblings, pub.req.Major)
		if err != nil {
			return err
		}
		name = next.String()
	} else if _, err := ParseVersion(name); err != nil {
		return Errors{&FieldError{Path: "name", Message: err.Error(), Hint: versionHint, Kind: ErrInvalid}}
	}
	pub.version.Name = name
	pub.version.ID = pub.def.ID + "/versions/" + name
	return nil
}

// nextPatch is the version after the highest existing one (within major
// when given): its patch plus one; 1.0.0 (major.0.0) when there is none.
func nextPatch(existing []ImageVersion, major *int) (Version, error) {
	if major != nil && (*major < 0 || *major > math.MaxInt32) {
		return Version{}, fmt.Errorf("%w: versioning major %d is not between 0 and %d", ErrInvalid, *major, math.MaxInt32)
	}
	var top Version
	found := false
	for _, v := range existing {
		w, ok := parseVersion(v.Name)
		if !ok || (major != nil && int(w.Major) != *major) {
			continue
		}
		if !found || top.Less(w) {
			top, found = w, true
		}
	}
	switch {
	case !found && major != nil:
		return Version{Major: int32(*major)}, nil
	case !found:
		return Version{Major: 1}, nil
	case top.Patch == math.MaxInt32:
		return Version{}, fmt.Errorf("%w: version %s has the highest patch number; publish an explicit version with a higher minor", ErrInvalid, top)
	}
	top.Patch++
	return top, nil
}

// buildVersion fills the version from the request and validates it.
func (s *Service) buildVersion(ctx context.Context, pub *publication) error {
	r, now := pub.req, s.now()
	v := &pub.version
	v.Type, v.Location, v.Tags = ImageVersionType, pub.gallery.Location, r.Tags
	props := &v.Properties
	props.ProvisioningState = ProvisioningSucceeded
	props.ParentVersionID = r.Parent
	props.SafetyProfile = r.SafetyProfile
	if props.SafetyProfile == nil {
		props.SafetyProfile = &SafetyProfile{}
	}
	pp := &props.PublishingProfile
	pp.ExcludeFromLatest, pp.PublishedDate = r.ExcludeFromLatest, &now
	pp.ReplicaCount, pp.StorageAccountType = r.ReplicaCount, r.StorageAccountType
	var es Errors
	if r.EndOfLifeDate != "" {
		eol, err := ParseDate(r.EndOfLifeDate)
		es.addErr("properties.publishingProfile.endOfLifeDate", err)
		pp.EndOfLifeDate = &eol
	}
	pp.TargetRegions = s.targetRegions(&es, r.TargetRegions)
	NormalizeVersion(v)
	es.addErr("", ValidateVersion(*v, s.limits(), now))
	pub.sources = s.artifacts(&es, pub)
	if r.SourceID != "" {
		props.StorageProfile.Source = &VersionSource{ID: r.SourceID}
	}
	if len(es) > 0 {
		return es
	}
	for _, t := range pp.TargetRegions {
		pub.regions = append(pub.regions, t.Name)
	}
	return s.findParent(ctx, pub)
}

// targetRegions maps the requested regions to configured names.
func (s *Service) targetRegions(es *Errors, in []TargetRegion) []TargetRegion {
	out := make([]TargetRegion, 0, len(in))
	for i, t := range in {
		name, err := s.regionName(t.Name)
		if err != nil {
			es.addErr(fmt.Sprintf("properties.publishingProfile.targetRegions[%d].name", i), err)
			name = t.Name
		}
		t.Name = name
		out = append(out, t)
	}
	return out
}

// artifacts checks the artifact files and records them in the version's
// storage profile with their region-relative paths; it returns the
// sources by digest.
func (s *Service) artifacts(es *Errors, pub *publication) map[string]string {
	sources := map[string]string{}
	seen := map[string]bool{}
	if len(pub.req.Artifacts) == 0 {
		es.add("properties.storageProfile.artifacts", "the version has no artifacts", "give at least one disk file (qcow2, raw or vhd)")
	}
	var out []Artifact
	for i, a := range pub.req.Artifacts {
		path := fmt.Sprintf("properties.storageProfile.artifacts[%d]", i)
		format, ok := canonical(a.Format, ArtifactFormats)
		if !ok {
			es.add(path+".format", fmt.Sprintf("format %q is not allowed", a.Format), "one of qcow2, raw, vhd")
		} else if seen[format] {
			es.add(path+".format", fmt.Sprintf("format %s is given twice", format), "")
		}
		seen[format] = true
		size, err := artifactFile(a)
		es.addErr(path+".path", err)
		rel, _ := replicate.ReplicaPath("", a.SHA256)
		sources[a.SHA256] = a.Path
		out = append(out, Artifact{Format: format, SHA256: a.SHA256, Size: size, Path: strings.TrimPrefix(rel, "/")})
	}
	pub.version.Properties.StorageProfile.Artifacts = out
	pub.version.Properties.StorageProfile.OSDiskImage = osDisk(out)
	checkArtifacts(es, out)
	return sources
}

// artifactFile checks that the artifact's file is a regular file of its
// size (the size is taken from the file when not given) and returns it.
// The content is not rehashed: the build verified it into the blob store.
func artifactFile(a Artifact) (int64, error) {
	fi, err := os.Stat(a.Path)
	switch {
	case err != nil:
		return a.Size, fmt.Errorf("%w: artifact file: %w", ErrInvalid, err)
	case !fi.Mode().IsRegular():
		return a.Size, fmt.Errorf("%w: artifact %s is not a regular file", ErrInvalid, a.Path)
	case a.Size != 0 && a.Size != fi.Size():
		return a.Size, fmt.Errorf("%w: artifact %s has %d bytes, the request says %d", ErrInvalid, a.Path, fi.Size(), a.Size)
	}
	return fi.Size(), nil
}

func osDisk(arts []Artifact) *OSDiskImage {
	for _, a := range arts {
		if a.Format == "raw" {
			return &OSDiskImage{SizeInGB: int((a.Size + 1<<30 - 1) >> 30), HostCaching: "ReadOnly"}
		}
	}
	return &OSDiskImage{HostCaching: "ReadOnly"}
}

// findParent records the digest of the parent's primary artifact. A
// parent that is gone (purged since the build started) is recorded by ID
// only.
func (s *Service) findParent(ctx context.Context, pub *publication) error {
	id := pub.req.Parent
	if id == "" {
		return nil
	}
	if idKey(id) == idKey(pub.version.ID) {
		return fmt.Errorf("%w: image version %s cannot be its own parent", ErrInvalid, id)
	}
	parent, err := load[ImageVersion](ctx, s.Store, "image version", ImageVersionType, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	pub.parent = primaryDigest(parent.Value)
	return nil
}

func primaryDigest(v ImageVersion) string {
	arts := v.Properties.StorageProfile.Artifacts
	for _, a := range arts {
		if a.Format == "qcow2" {
			return a.SHA256
		}
	}
	if len(arts) > 0 {
		return arts[0].SHA256
	}
	return ""
}

// precheck refuses, before anything is copied, a version that exists or
// one the limit has no room for; the commit checks both again.
func (s *Service) precheck(pub *publication, siblings []ImageVersion) error {
	if _, err := CheckNewVersionName(siblings, pub.version.Name); err != nil {
		return conflictf("%v", err)
	}
	return s.limits().Check(LimitVersions, len(siblings)+1)
}

// replicateArtifacts copies every artifact into every target region, the
// regions in parallel.
//
// Verification: the source is a blob whose sha256 the build computed while
// writing it, read-only and content-addressed, so publishing does not
// hash it again. Each copy is proven equal to that source instead
// (replicate.VerifySource): free for reflinks, whose blocks are the
// source's, and a byte comparison of the page-cached files otherwise,
// several times faster than rehashing (sha256 runs at ~230 MB/s on CPUs
// without SHA extensions: 9 s for a 2 GiB image, per region). Damage at
// rest is what `verify` is for: it rehashes every replica.
func (s *Service) replicateArtifacts(ctx context.Context, pub *publication) error {
	defer s.trace("replicate", time.Now())
	errs := make([]error, len(pub.regions))
	var wg sync.WaitGroup
	for i, region := range pub.regions {
		wg.Go(func() { errs[i] = s.replicateTo(ctx, region, pub) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Service) replicateTo(ctx context.Context, region string, pub *publication) error {
	dir := s.Regions.RegionPath(region)
	for _, a := range pub.version.Properties.StorageProfile.Artifacts {
		_, err := replicate.ReplicateWith(ctx, pub.sources[a.SHA256], dir, a.SHA256, replicate.Options{Verify: replicate.VerifySource})
		if err != nil {
			return fmt.Errorf("replicate the %s artifact to %s: %w", a.Format, region, err)
		}
	}
	return nil
}

// document is a tattoo, SBOM or compliance report to store.
type document struct {
	what   string
	data   []byte
	digest func(*Evidence) *string
}

// readDocuments reads and checks the documents before anything is copied.
func readDocuments(r PublishRequest) ([]document, error) {
	docs := []document{
		{what: "tattoo", data: r.Tattoo, digest: func(e *Evidence) *string { return &e.Tattoo }},
		{what: "SBOM", digest: func(e *Evidence) *string { return &e.SBOM }},
		{what: "compliance report", digest: func(e *Evidence) *string { return &e.ComplianceReport }},
	}
	var out []document
	for i, path := range []string{"", r.SBOM, r.ComplianceReport} {
		data, err := documentBytes(docs[i].what, path, docs[i].data)
		if err != nil {
			return nil, err
		}
		if data != nil {
			docs[i].data = data
			out = append(out, docs[i])
		}
	}
	return out, nil
}

// storeDocuments stores the documents in every region and records their
// digests.
func (s *Service) storeDocuments(pub *publication) error {
	defer s.trace("documents", time.Now())
	ev := &Evidence{BuildRunID: pub.req.BuildRunID}
	for _, d := range pub.docs {
		sha, err := s.putEverywhere(pub.regions, d.data)
		if err != nil {
			return fmt.Errorf("store the %s: %w", d.what, err)
		}
		*d.digest(ev) = sha
	}
	pub.version.Properties.Evidence = ev
	return nil
}

// documentBytes reads a document (from path, or data as given) and checks
// that it is JSON; nil when there is none.
func documentBytes(what, path string, data []byte) ([]byte, error) {
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("%w: read the %s: %w", ErrInvalid, what, err)
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%w: the %s is not JSON", ErrInvalid, what)
	}
	return data, nil
}

func (s *Service) putEverywhere(regions []string, data []byte) (string, error) {
	var sha string
	for _, r := range regions {
		var err error
		if sha, err = putBlob(s.Regions.RegionPath(r), data); err != nil {
			return "", err
		}
	}
	return sha, nil
}

// commitWithRetry seals and commits; a version number picked by the
// service and taken meanwhile is picked again. clean is false when an
// earlier attempt left a manifest no version references.
func (s *Service) commitWithRetry(ctx context.Context, p authz.Principal, pub *publication) (ImageVersion, bool, error) {
	for attempt := 0; ; attempt++ {
		v, err := s.sealAndCommit(ctx, pub)
		if err == nil || pub.req.Version != "" || !errors.Is(err, ErrConflict) || attempt == maxAutoVersionRetry {
			return v, attempt == 0, err
		}
		siblings, err := s.siblingNames(ctx, pub.def.ID)
		if err != nil {
			return ImageVersion{}, false, err
		}
		if err := s.nameVersion(pub, siblings); err != nil {
			return ImageVersion{}, false, err
		}
		if err := s.check(ctx, p, actionVersionWrite, pub.version.ID); err != nil {
			return ImageVersion{}, false, err
		}
	}
}

// sealAndCommit signs the manifest, stores it in every region, and makes
// the version visible in one store write.
func (s *Service) sealAndCommit(ctx context.Context, pub *publication) (ImageVersion, error) {
	start := time.Now()
	v := pub.version
	env, keyID, err := s.signManifest(pub)
	if err != nil {
		return v, err
	}
	ev := *v.Properties.Evidence
	ev.KeyID = keyID
	if ev.Manifest, err = s.putEverywhere(pub.regions, env); err != nil {
		return v, fmt.Errorf("store the signed manifest: %w", err)
	}
	v.Properties.Evidence = &ev
	v.Properties.ReplicationStatus = completed(pub.regions)
	s.trace("sign", start)
	if s.BeforeCommit != nil {
		if err := s.BeforeCommit(ctx, v); err != nil {
			return v, fmt.Errorf("publish %s: %w", v.ID, err)
		}
	}
	defer s.trace("commit", time.Now())
	return v, s.commit(ctx, v, pub.def.ID)
}

func completed(regions []string) *ReplicationStatus {
	st := &ReplicationStatus{AggregatedState: AggregatedCompleted}
	for _, r := range regions {
		st.Summary = append(st.Summary, RegionReplication{Region: r, State: ReplicationCompleted, Progress: 100})
	}
	return st
}

// Manifest builds the signed manifest of a version from its record.
func (v ImageVersion) Manifest(definition, builderID, parentDigest string) sign.Manifest {
	m := sign.Manifest{VersionID: v.ID, ParentVersionID: v.Properties.ParentVersionID, ParentDigest: parentDigest, BuilderID: builderID}
	for _, a := range v.Properties.StorageProfile.Artifacts {
		m.Artifacts = append(m.Artifacts, sign.Artifact{Name: ArtifactName(definition, v.Name, a.Format), SHA256: a.SHA256})
	}
	if ev := v.Properties.Evidence; ev != nil {
		m.RunID = ev.BuildRunID
		m.TattooDigest, m.ComplianceReportDigest, m.SBOMDigest = ev.Tattoo, ev.ComplianceReport, ev.SBOM
	}
	return m
}

// ArtifactName is the name of an artifact in manifests and exports:
// <definition>-<version>.<format>.
func ArtifactName(definition, version, format string) string {
	return definition + "-" + version + "." + format
}

func (s *Service) signManifest(pub *publication) ([]byte, string, error) {
	priv, key, err := s.privateKey(pub.gallery)
	if err != nil {
		return nil, "", err
	}
	builder := pub.req.BuilderID
	if builder == "" {
		builder = "https://kiln.dev/builder"
	}
	env, err := sign.SignManifest(pub.version.Manifest(pub.def.Name, builder, pub.parent), priv)
	if err != nil {
		return nil, "", err
	}
	data, err := json.Marshal(env)
	return data, key.KeyID, err
}

// commit is the one store write of a publish.
func (s *Service) commit(ctx context.Context, v ImageVersion, defID string) error {
	r, err := s.versionResource(v)
	if err != nil {
		return err
	}
	siblings := store.ListFilter{Type: ImageVersionType, Parent: defID}
	_, err = s.Store.CreateResourceLimited(ctx, r, store.Conditions{
		Exists:      []string{defID},
		Quotas:      []store.Quota{{Name: string(LimitVersions), Filter: siblings, Max: s.limits().VersionsPerImageDefinition}},
		CheckFilter: siblings,
		Check: func(existing []store.Resource) error {
			names := make([]string, len(existing))
			for i, r := range existing {
				names[i] = r.Name
			}
			_, err := CheckNewVersionName(namesOnly(names), v.Name)
			return err
		},
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflictf("image version %s already exists: another publish of the same version won", v.ID)
	case errors.Is(err, ErrConflict):
		return conflictf("%v", err)
	case errors.Is(err, store.ErrNotFound):
		return &NotFoundError{What: "image definition", ID: defID}
	}
	return limitError(err, LimitVersions)
}

// versionResource is the stored form of a version.
func (s *Service) versionResource(v ImageVersion) (store.Resource, error) {
	ref, err := ParseVersionID(v.ID)
	if err != nil {
		return store.Resource{}, err
	}
	r, err := resourceOf(v.ID, ImageVersionType, v.Name, v.Location, ref.DefinitionID(), v)
	r.SortKey = VersionSortKey(v.Name)
	return r, err
}

// VersionSortKey orders versions by Major.Minor.Patch as text, so that the
// store can return the highest first (each part is at most 2147483647).
func VersionSortKey(name string) string {
	v, ok := parseVersion(name)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%010d.%010d.%010d", v.Major, v.Minor, v.Patch)
}
