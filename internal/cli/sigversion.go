package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/blob"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/replicate"
)

func (a *app) sigVersionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "image-version", Short: "Manage image versions (az sig image-version)"}
	cmd.AddCommand(a.verCreate(), a.verList(), a.verShow(), a.verUpdate(), a.verDelete(), a.verUndelete(),
		a.verRevoke(), a.verUnrevoke(), a.verExport(), a.verVerify())
	return cmd
}

// versionTarget names one version: -g -r -i -e (-e latest works), or --ids
// (a version ID, .../versions/latest or a definition ID).
type versionTarget struct {
	sigNames
	ids string
}

func (t *versionTarget) flags(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVarP(&t.group, "resource-group", "g", "", "resource group")
	fl.StringVarP(&t.gallery, "gallery-name", "r", "", "gallery name")
	fl.StringVarP(&t.definition, "gallery-image-definition", "i", "", "image definition name")
	fl.StringVarP(&t.version, "gallery-image-version", "e", "", "version (Major.Minor.Patch, or latest)")
	fl.StringVar(&t.ids, "ids", "", "the version's ID instead (…/versions/latest and definition IDs resolve to the latest)")
}

func (t *versionTarget) id(a *app) (string, error) {
	if t.ids != "" {
		return t.ids, nil
	}
	if t.group == "" || t.gallery == "" || t.definition == "" || t.version == "" {
		return "", &usageError{errors.New("name the version with -g, -r, -i and -e, or with --ids")}
	}
	return gallery.VersionID(a.defaults.SubscriptionID, t.group, t.gallery, t.definition, t.version), nil
}

// run is the RunE of a command on one version: it opens kiln, resolves the
// version's ID from the flags and calls do with it.
func (t *versionTarget) run(a *app, do func(ctx context.Context, id string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, _ []string) error {
		if err := a.open(c.Context()); err != nil {
			return err
		}
		id, err := t.id(a)
		if err != nil {
			return err
		}
		return do(c.Context(), id)
	}
}

// regionsFlag parses az's --target-regions: name[=replicaCount[=storageAccountType]].
func parseTargetRegions(in []string) ([]gallery.TargetRegion, error) {
	var out []gallery.TargetRegion
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			parts := strings.Split(f, "=")
			if len(parts) > 3 || parts[0] == "" {
				return nil, &usageError{fmt.Errorf("invalid target region %q: use name[=replicaCount[=storageAccountType]]", f)}
			}
			t := gallery.TargetRegion{Name: parts[0]}
			if len(parts) > 1 && parts[1] != "" {
				n, err := strconv.Atoi(parts[1])
				if err != nil {
					return nil, &usageError{fmt.Errorf("invalid replica count %q in target region %q", parts[1], f)}
				}
				t.RegionalReplicaCount = n
			}
			if len(parts) > 2 {
				t.StorageAccountType = parts[2]
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// versionCreateFlags are the flags of image-version create.
type versionCreateFlags struct {
	managedImage, vhd, vhdFormat, endOfLife, storageType string
	regions, tags                                        []string
	replicaCount                                         int
	excludeFromLatest, allowRegionDeletion, blockDelete  bool
}

func (f *versionCreateFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.managedImage, "managed-image", "", "managed image ID (or name in -g) to publish")
	fl.StringVar(&f.vhd, "os-vhd-uri", "", "disk file to publish (path or file:// URI); it is copied into the blob store")
	fl.StringVar(&f.vhdFormat, "os-vhd-format", "", "format of --os-vhd-uri: qcow2, raw or vhd (default: from its extension)")
	fl.StringSliceVar(&f.regions, "target-regions", nil, "space-separated regions: name[=replicaCount[=storageAccountType]] (default: the gallery's location)")
	fl.IntVar(&f.replicaCount, "replica-count", 0, "replica count of regions that give none (default 1)")
	fl.StringVar(&f.storageType, "storage-account-type", "", "storage type of regions that give none (default Standard_LRS)")
	fl.BoolVar(&f.excludeFromLatest, "exclude-from-latest", false, "exclude the version from latest")
	fl.StringVar(&f.endOfLife, "end-of-life-date", "", "end-of-life date, e.g. 2030-01-31")
	fl.StringSliceVar(&f.tags, "tags", nil, "space-separated tags: key[=value]")
	fl.BoolVar(&f.allowRegionDeletion, "allow-replicated-location-deletion", false, "allow removing regions the version is replicated to")
	fl.BoolVar(&f.blockDelete, "block-deletion-before-end-of-life", false, "refuse deletion before the end-of-life date")
}

func (a *app) verCreate() *cobra.Command {
	var n sigNames
	var f versionCreateFlags
	c := &cobra.Command{
		Use:   "create",
		Short: "Publish an image version from a managed image or a disk file, signed and replicated",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			req, err := a.versionRequest(c, n, f)
			if err != nil {
				return err
			}
			v, err := a.gallery.Publish(c.Context(), a.admin, req)
			if err != nil {
				return err
			}
			return a.printAz(v)
		},
	}
	n.definitionFlags(c)
	c.Flags().StringVarP(&n.version, "gallery-image-version", "e", "", "version: Major.Minor.Patch")
	must(c.MarkFlagRequired("gallery-image-version"))
	f.register(c)
	return c
}

func (a *app) versionRequest(c *cobra.Command, n sigNames, f versionCreateFlags) (gallery.PublishRequest, error) {
	regions, err := parseTargetRegions(f.regions)
	if err != nil {
		return gallery.PublishRequest{}, err
	}
	tags, err := parseTags(f.tags)
	if err != nil {
		return gallery.PublishRequest{}, err
	}
	req := gallery.PublishRequest{
		DefinitionID: a.definitionID(n), Version: n.version, TargetRegions: regions, ReplicaCount: f.replicaCount,
		StorageAccountType: f.storageType, ExcludeFromLatest: f.excludeFromLatest, EndOfLifeDate: f.endOfLife, Tags: tags,
		BuilderID: "kiln " + Version + " (kiln sig image-version create)",
		SafetyProfile: &gallery.SafetyProfile{
			AllowDeletionOfReplicatedLocations: f.allowRegionDeletion, BlockDeletionBeforeEndOfLife: f.blockDelete,
		},
	}
	switch {
	case (f.managedImage == "") == (f.vhd == ""):
		return req, &usageError{errors.New("give the source: --managed-image <image ID> or --os-vhd-uri <disk file>")}
	case f.managedImage != "":
		err = a.fromManagedImage(c, n, f.managedImage, &req)
	default:
		err = a.fromDiskFile(c.Context(), f.vhd, f.vhdFormat, &req)
	}
	return req, err
}

func (a *app) fromManagedImage(c *cobra.Command, n sigNames, ref string, req *gallery.PublishRequest) error {
	id := ref
	if !strings.HasPrefix(ref, "/") {
		id = "/subscriptions/" + a.defaults.SubscriptionID + "/resourceGroups/" + n.group + "/providers/Microsoft.Compute/images/" + ref
	}
	img, err := a.images.Get(c.Context(), a.admin, id)
	if err != nil {
		return fmt.Errorf("--managed-image: %w", err)
	}
	for _, art := range img.Properties.Artifacts {
		req.Artifacts = append(req.Artifacts, gallery.Artifact{Format: art.Format, SHA256: art.SHA256, Size: art.Size, Path: art.Path})
	}
	req.SourceID, req.BuildRunID = img.ID, img.Properties.SourceRun
	return nil
}

// fromDiskFile copies a disk file into the blob store (hashing it on the
// way) and publishes that blob.
func (a *app) fromDiskFile(ctx context.Context, ref, format string, req *gallery.PublishRequest) error {
	path := ref
	if u, err := url.Parse(ref); err == nil && u.Scheme == "file" {
		path = u.Path
	}
	if format == "" {
		format = formatOf(path)
	}
	if format == "" {
		return &usageError{fmt.Errorf("--os-vhd-uri %s: cannot tell its format from the extension; give --os-vhd-format qcow2|raw|vhd", ref)}
	}
	sha, size, stored, err := importBlob(ctx, a.cfg.BlobDir(), path)
	if err != nil {
		return fmt.Errorf("--os-vhd-uri: %w", err)
	}
	req.Artifacts = []gallery.Artifact{{Format: format, SHA256: sha, Size: size, Path: stored}}
	return nil
}

func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".qcow2":
		return "qcow2"
	case ".vhd":
		return "vhd"
	case ".raw", ".img":
		return "raw"
	}
	return ""
}

// importBlob copies a file into the blob store, holes kept, and returns
// its digest, size and blob path. The file is hashed, then copied and the
// copy rehashed, so that a file changing meanwhile is refused.
func importBlob(ctx context.Context, dir, path string) (string, int64, string, error) {
	sha, err := replicate.HashFile(ctx, path)
	if err != nil {
		return "", 0, "", err
	}
	dst, err := (&blob.Store{Dir: dir}).Path(sha)
	if err != nil {
		return "", 0, "", err
	}
	if fi, err := os.Stat(dst); err == nil {
		return sha, fi.Size(), dst, nil
	}
	res, err := replicate.Copy(ctx, path, dst, sha)
	if err != nil {
		return "", 0, "", err
	}
	return sha, res.Size, dst, nil
}

func (a *app) verList() *cobra.Command {
	var n sigNames
	var deleted bool
	c := &cobra.Command{
		Use: "list", Short: "List a definition's versions, lowest first", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := a.open(c.Context()); err != nil {
				return err
			}
			vs, err := a.gallery.ListVersions(c.Context(), a.admin, a.definitionID(n), deleted)
			if err != nil {
				return err
			}
			return printAzList(a, vs)
		},
	}
	n.definitionFlags(c)
	c.Flags().BoolVar(&deleted, "include-deleted", false, "include soft-deleted versions")
	return c
}

func (a *app) verShow() *cobra.Command {
	var t versionTarget
	c := &cobra.Command{
		Use:   "show",
		Short: "Show a version, and whether it is outdated relative to its parent's newest version",
		Args:  cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			v, err := a.gallery.Lookup(ctx, a.admin, id)
			if err != nil {
				return err
			}
			anc, err := a.gallery.Ancestry(ctx, a.admin, v)
			if err != nil {
				return err
			}
			return a.printAz(v, member{key: "ancestry", value: rawJSON(anc)})
		}),
	}
	t.flags(c)
	return c
}

// versionUpdate holds the flags of image-version update.
type versionUpdate struct {
	exclude, allowRegionDeletion, blockDelete optionalBool
	regions, tags, sets                       []string
	replicaCount                              int
	eol                                       string
}

func (u *versionUpdate) register(c *cobra.Command) {
	fl := c.Flags()
	fl.Var(&u.exclude, "exclude-from-latest", "exclude the version from latest: true or false")
	fl.StringSliceVar(&u.regions, "target-regions", nil, "the new target regions: name[=replicaCount[=storageAccountType]] (space-separated)")
	fl.IntVar(&u.replicaCount, "replica-count", 0, "replica count of every region")
	fl.StringVar(&u.eol, "end-of-life-date", "", "end-of-life date, e.g. 2030-01-31")
	fl.StringSliceVar(&u.tags, "tags", nil, "space-separated tags: key[=value] (replaces the tags)")
	fl.Var(&u.allowRegionDeletion, "allow-replicated-location-deletion", "allow removing replicated regions: true or false")
	fl.Var(&u.blockDelete, "block-deletion-before-end-of-life", "refuse deletion before the end of life: true or false")
	fl.StringArrayVar(&u.sets, "set", nil, "set a property: path=value on the shape show prints (repeatable)")
}

// change returns the update the flags ask for.
func (u *versionUpdate) change(c *cobra.Command) (func(*gallery.ImageVersion) error, error) {
	regions, err := parseTargetRegions(u.regions)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(u.tags)
	if err != nil {
		return nil, err
	}
	changed := c.Flags().Changed
	return func(v *gallery.ImageVersion) error {
		pp := &v.Properties.PublishingProfile
		if u.exclude.set {
			pp.ExcludeFromLatest = u.exclude.value
		}
		if changed("target-regions") {
			pp.TargetRegions = mergeRegions(pp.TargetRegions, regions)
		}
		if changed("replica-count") {
			for i := range pp.TargetRegions {
				pp.TargetRegions[i].RegionalReplicaCount = u.replicaCount
			}
			pp.ReplicaCount = u.replicaCount
		}
		if changed("end-of-life-date") {
			when, err := gallery.ParseDate(u.eol)
			if err != nil {
				return &usageError{fmt.Errorf("--end-of-life-date: %w", err)}
			}
			pp.EndOfLifeDate = &when
		}
		if changed("tags") {
			v.Tags = tags
		}
		applySafety(v, u.allowRegionDeletion, u.blockDelete)
		return applySets(v, u.sets)
	}, nil
}

func (a *app) verUpdate() *cobra.Command {
	var t versionTarget
	var u versionUpdate
	var c *cobra.Command // the update's flags are read through it
	c = &cobra.Command{
		Use:   "update",
		Short: "Update a version: exclude from latest, target regions (replicated on the way), end of life, safety, tags",
		Args:  cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			change, err := u.change(c)
			if err != nil {
				return err
			}
			v, err := a.gallery.UpdateVersion(ctx, a.admin, id, change)
			if err != nil {
				return err
			}
			return a.printAz(v)
		}),
	}
	t.flags(c)
	u.register(c)
	return c
}

// mergeRegions takes the new list, keeping what it leaves out of regions
// that already exist (their storage type cannot change).
func mergeRegions(old, next []gallery.TargetRegion) []gallery.TargetRegion {
	out := make([]gallery.TargetRegion, len(next))
	for i, t := range next {
		for _, o := range old {
			if gallery.SameRegion(o.Name, t.Name) {
				if t.RegionalReplicaCount == 0 {
					t.RegionalReplicaCount = o.RegionalReplicaCount
				}
				if t.StorageAccountType == "" {
					t.StorageAccountType = o.StorageAccountType
				}
				if t.ExcludeFromLatest == nil {
					t.ExcludeFromLatest = o.ExcludeFromLatest
				}
			}
		}
		out[i] = t
	}
	return out
}

func applySafety(v *gallery.ImageVersion, allow, block optionalBool) {
	if !allow.set && !block.set {
		return
	}
	sp := v.Properties.SafetyProfile
	if sp == nil {
		sp = &gallery.SafetyProfile{}
	}
	if allow.set {
		sp.AllowDeletionOfReplicatedLocations = allow.value
	}
	if block.set {
		sp.BlockDeletionBeforeEndOfLife = block.value
	}
	v.Properties.SafetyProfile = sp
}

func (a *app) verDelete() *cobra.Command {
	var t versionTarget
	var purge bool
	c := &cobra.Command{
		Use:   "delete",
		Short: "Delete a version (soft when the gallery soft-deletes; refused while its safety profile forbids)",
		Args:  cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			return a.gallery.DeleteVersion(ctx, a.admin, id, purge)
		}),
	}
	t.flags(c)
	c.Flags().BoolVar(&purge, "purge", false, "delete for good now, even a soft-deleted version (kiln)")
	return c
}

func (a *app) verUndelete() *cobra.Command {
	var t versionTarget
	c := &cobra.Command{
		Use: "undelete", Short: "Restore a soft-deleted version within its retention", Args: cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			v, err := a.gallery.UndeleteVersion(ctx, a.admin, id)
			if err != nil {
				return err
			}
			return a.printAz(v)
		}),
	}
	t.flags(c)
	return c
}

func (a *app) verRevoke() *cobra.Command {
	var t versionTarget
	var at, reason string
	var cascade bool
	c := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke a version now or at a time, optionally with the versions built from it",
		Long: "Revoke a version: it is never latest again, cannot be a build source, and deploying or exporting it\n" +
			"is refused. --at schedules the revocation; --cascade revokes the versions built from it (chained\n" +
			"builds, in any definition) too. Prints the versions changed.",
		Args: cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			var when time.Time
			if at != "" {
				var err error
				if when, err = gallery.ParseDate(at); err != nil {
					return &usageError{fmt.Errorf("--at: %w", err)}
				}
			}
			vs, err := a.gallery.Revoke(ctx, a.admin, id, when, reason, cascade)
			if err != nil {
				return err
			}
			return printAzList(a, vs)
		}),
	}
	t.flags(c)
	c.Flags().StringVar(&at, "at", "", "when the revocation takes effect (RFC 3339 or a date; default now)")
	c.Flags().StringVar(&reason, "reason", "", "why the version is revoked")
	c.Flags().BoolVar(&cascade, "cascade", false, "revoke the versions built from it too")
	return c
}

func (a *app) verUnrevoke() *cobra.Command {
	var t versionTarget
	c := &cobra.Command{
		Use: "unrevoke", Short: "Lift a revocation, and the revocations descendants inherited from it", Args: cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			vs, err := a.gallery.Unrevoke(ctx, a.admin, id)
			if err != nil {
				return err
			}
			return printAzList(a, vs)
		}),
	}
	t.flags(c)
	return c
}

func (a *app) verExport() *cobra.Command {
	var t versionTarget
	var format, region, file string
	c := &cobra.Command{
		Use:   "export",
		Short: "Copy a version's disk (qcow2, raw or vhd) out of a region to -o FILE, verified by sha256",
		Args:  cobra.NoArgs,
		// -o is the file here, not the output format.
		PersistentPreRunE: func(c *cobra.Command, args []string) error {
			if c.Flags().Changed("output") {
				file, a.format = a.format, "json"
			}
			return c.Root().PersistentPreRunE(c, args)
		},
		RunE: func(c *cobra.Command, _ []string) error {
			if file == "" {
				return &usageError{errors.New("give the file to write with -o FILE")}
			}
			if err := a.open(c.Context()); err != nil {
				return err
			}
			id, err := t.id(a)
			if err != nil {
				return err
			}
			res, err := a.gallery.Export(c.Context(), a.admin, id, format, region, file)
			if err != nil {
				return err
			}
			return a.print(res)
		},
	}
	t.flags(c)
	c.Flags().StringVar(&format, "format", "qcow2", "qcow2, raw or vhd")
	c.Flags().StringVar(&region, "region", "", "region to copy from (default: the gallery's location)")
	return c
}

func (a *app) verVerify() *cobra.Command {
	var t versionTarget
	var repair bool
	c := &cobra.Command{
		Use:   "verify",
		Short: "Verify a version's signature and every digest of every replica; --repair fixes damaged replicas",
		Long: "Check the signed manifest against the gallery's key and the version record, and rehash every\n" +
			"artifact and evidence file in every region. Exits non-zero naming what is wrong. With --repair, a\n" +
			"damaged or missing file is replaced by a copy of a good one from another region.",
		Args: cobra.NoArgs,
		RunE: t.run(a, func(ctx context.Context, id string) error {
			rep, err := a.gallery.Verify(ctx, a.admin, id, repair)
			if rep.ID != "" {
				if perr := a.print(rep); perr != nil && err == nil {
					err = perr
				}
			}
			return err
		}),
	}
	t.flags(c)
	c.Flags().BoolVar(&repair, "repair", false, "repair damaged or missing replicas from good ones")
	return c
}
