package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/config"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/source"
)

// sigCommand is az sig: galleries, image definitions and image versions.
func (a *app) sigCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sig", Short: "Manage image galleries, image definitions and image versions (az sig)"}
	cmd.AddCommand(a.sigCreate(), a.sigList(), a.sigShow(), a.sigUpdate(), a.sigDelete(), a.sigShowSigningKey(),
		a.sigDefinitionCommand(), a.sigVersionCommand())
	return cmd
}

// opened is a command's RunE that opens kiln first, then does its work.
func (a *app) opened(do func(c *cobra.Command) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, _ []string) error {
		if err := a.open(c.Context()); err != nil {
			return err
		}
		return do(c)
	}
}

// newGalleryService wires the gallery service of an opened app. The
// gallery needs the store's guarded writes (store.LimitedResources).
func (a *app) newGalleryService(cfg config.Config) (*gallery.Service, error) {
	st, ok := a.st.(gallery.Store)
	if !ok {
		return nil, fmt.Errorf("the %T store has no guarded writes, which the gallery needs", a.st)
	}
	l := cfg.Gallery.Limits
	return &gallery.Service{
		Store: st, Authz: a.checker, Regions: cfg, KeyDir: cfg.KeysDir(), Audit: a.acc.activity,
		Limits: gallery.Limits{
			GalleriesPerSubscription: l.GalleriesPerSubscription, ImageDefinitionsPerGallery: l.ImageDefinitionsPerGallery,
			VersionsPerImageDefinition: l.VersionsPerImageDefinition, TargetRegionsPerVersion: l.TargetRegionsPerVersion,
			ReplicasPerRegion: l.ReplicasPerRegion,
		},
		BeforeCommit: publishPauseHook(),
	}, nil
}

// pauseEnv names a test hook: when set, a publish writes the version ID to
// the file it names just before its commit and waits until the file is
// removed (the crash test kills kiln there).
const pauseEnv = "KILN_TEST_PAUSE_PUBLISH"

func publishPauseHook() func(context.Context, gallery.ImageVersion) error {
	path := os.Getenv(pauseEnv)
	if path == "" {
		return nil
	}
	return func(ctx context.Context, v gallery.ImageVersion) error {
		if err := os.WriteFile(path, []byte(v.ID), 0o644); err != nil {
			return err
		}
		for {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// sigNames are the -g/-r/-i/-e flags that name gallery resources.
type sigNames struct {
	group, gallery, definition, version string
}

func (n *sigNames) galleryFlags(c *cobra.Command) {
	c.Flags().StringVarP(&n.group, "resource-group", "g", "", "resource group")
	c.Flags().StringVarP(&n.gallery, "gallery-name", "r", "", "gallery name")
	must(c.MarkFlagRequired("resource-group"))
	must(c.MarkFlagRequired("gallery-name"))
}

func (n *sigNames) definitionFlags(c *cobra.Command) {
	n.galleryFlags(c)
	c.Flags().StringVarP(&n.definition, "gallery-image-definition", "i", "", "image definition name")
	must(c.MarkFlagRequired("gallery-image-definition"))
}

func (a *app) galleryID(n sigNames) string {
	return gallery.GalleryID(a.defaults.SubscriptionID, n.group, n.gallery)
}

func (a *app) definitionID(n sigNames) string {
	return gallery.DefinitionID(a.defaults.SubscriptionID, n.group, n.gallery, n.definition)
}

// printAz prints a resource in az's flattened shape.
func (a *app) printAz(v any, extra ...member) error {
	flat, err := azShape(v, extra...)
	if err != nil {
		return err
	}
	return a.print(flat)
}

func printAzList[T any](a *app, items []T) error {
	flat, err := azShapes(items)
	if err != nil {
		return err
	}
	return a.print(flat)
}

// optionalBool is a true|false flag that may be left out.
type optionalBool struct {
	set   bool
	value bool
}

func (b *optionalBool) String() string {
	if !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) Type() string { return "true|false" }

func (a *app) sigCreate() *cobra.Command {
	var n sigNames
	var location, description string
	var softDelete optionalBool
	var tags []string
	c := &cobra.Command{
		Use: "create", Short: "Create a gallery (or update it), with its signing key", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			t, err := parseTags(tags)
			if err != nil {
				return err
			}
			if location == "" {
				if g, err := a.groups.Get(c.Context(), a.admin, n.group); err == nil {
					location = g.Location
				}
			}
			g := gallery.Gallery{ID: a.galleryID(n), Location: location, Tags: t, Properties: gallery.GalleryProperties{Description: description}}
			if softDelete.set {
				g.Properties.SoftDeletePolicy = &gallery.SoftDeletePolicy{IsSoftDeleteEnabled: softDelete.value}
			}
			out, err := a.gallery.CreateGallery(c.Context(), a.admin, g)
			if err != nil {
				return err
			}
			return a.printAz(out)
		}),
	}
	n.galleryFlags(c)
	c.Flags().StringVarP(&location, "location", "l", "", "region (default: the resource group's)")
	c.Flags().StringVar(&description, "description", "", "description")
	c.Flags().Var(&softDelete, "soft-delete", "soft-delete image versions (kiln's default: true)")
	c.Flags().StringSliceVar(&tags, "tags", nil, "space-separated tags: key[=value]")
	return c
}

func (a *app) sigList() *cobra.Command {
	var group string
	c := &cobra.Command{
		Use: "list", Short: "List galleries", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			gs, err := a.gallery.ListGalleries(c.Context(), a.admin, a.defaults.SubscriptionID, group)
			if err != nil {
				return err
			}
			return printAzList(a, gs)
		}),
	}
	c.Flags().StringVarP(&group, "resource-group", "g", "", "resource group (default: all)")
	return c
}

func (a *app) sigShow() *cobra.Command {
	var n sigNames
	c := &cobra.Command{
		Use: "show", Short: "Show a gallery", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			g, err := a.gallery.GetGallery(c.Context(), a.admin, a.galleryID(n))
			if err != nil {
				return err
			}
			return a.printAz(g)
		}),
	}
	n.galleryFlags(c)
	return c
}

func (a *app) sigUpdate() *cobra.Command {
	var n sigNames
	var description string
	var softDelete optionalBool
	var tags, sets []string
	c := &cobra.Command{
		Use: "update", Short: "Update a gallery's description, tags or soft-delete policy", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			t, err := parseTags(tags)
			if err != nil {
				return err
			}
			g, err := a.gallery.UpdateGallery(c.Context(), a.admin, a.galleryID(n), func(g *gallery.Gallery) error {
				if c.Flags().Changed("description") {
					g.Properties.Description = description
				}
				if c.Flags().Changed("tags") {
					g.Tags = t
				}
				if softDelete.set {
					g.Properties.SoftDeletePolicy = &gallery.SoftDeletePolicy{IsSoftDeleteEnabled: softDelete.value}
				}
				return applySets(g, sets)
			})
			if err != nil {
				return err
			}
			return a.printAz(g)
		}),
	}
	n.galleryFlags(c)
	c.Flags().StringVar(&description, "description", "", "description")
	c.Flags().Var(&softDelete, "soft-delete", "soft-delete image versions")
	c.Flags().StringSliceVar(&tags, "tags", nil, "space-separated tags: key[=value] (replaces the tags)")
	c.Flags().StringArrayVar(&sets, "set", nil, "set a property: path=value on the shape show prints (repeatable)")
	return c
}

func (a *app) sigDelete() *cobra.Command {
	var n sigNames
	c := &cobra.Command{
		Use: "delete", Short: "Delete a gallery that has no image definitions", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			return a.gallery.DeleteGallery(c.Context(), a.admin, a.galleryID(n))
		}),
	}
	n.galleryFlags(c)
	return c
}

func (a *app) sigShowSigningKey() *cobra.Command {
	var n sigNames
	var file string
	c := &cobra.Command{
		Use:   "show-signing-key",
		Short: "Print the gallery's public signing key (PEM), to verify its versions elsewhere",
		Long: "Print the gallery's ed25519 public key as a PKIX PEM block. Each image version's manifest is a DSSE\n" +
			"envelope signed with the gallery's private key, which never leaves kiln's key directory.",
		Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			k, err := a.gallery.SigningKey(c.Context(), a.admin, a.galleryID(n))
			if err != nil {
				return err
			}
			if file != "" {
				return os.WriteFile(file, []byte(k.PublicKey), 0o644)
			}
			if c.Flags().Changed("output") {
				return a.print(k)
			}
			_, err = fmt.Fprint(a.stdout, k.PublicKey)
			return err
		}),
	}
	n.galleryFlags(c)
	c.Flags().StringVarP(&file, "file", "f", "", "write the PEM to this file instead")
	return c
}

func (a *app) sigDefinitionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "image-definition", Short: "Manage image definitions (az sig image-definition)"}
	cmd.AddCommand(a.defCreate(), a.defList(), a.defShow(), a.defUpdate(), a.defDelete(), a.defApplyLifecycle())
	return cmd
}

// definitionFlags are the properties create takes.
type definitionFlags struct {
	location, publisher, offer, sku, osType, osState, hyperV, arch string
	endOfLife, description, eula, privacyURI, releaseNoteURI       string
	features, tags                                                 []string
	minCPU, maxCPU, minMemory, maxMemory                           int
}

func (f *definitionFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVarP(&f.location, "location", "l", "", "region (default: the gallery's)")
	fl.StringVar(&f.publisher, "publisher", "", "publisher of the image identifier")
	fl.StringVar(&f.offer, "offer", "", "offer of the image identifier")
	fl.StringVar(&f.sku, "sku", "", "sku of the image identifier")
	fl.StringVar(&f.osType, "os-type", "", "Linux or Windows")
	fl.StringVar(&f.osState, "os-state", "", "Generalized or Specialized")
	fl.StringVar(&f.hyperV, "hyper-v-generation", "", "V1 or V2 (default V2)")
	fl.StringVar(&f.arch, "architecture", "", "x64 or Arm64 (default x64)")
	fl.StringVar(&f.endOfLife, "end-of-life-date", "", "end-of-life date, e.g. 2030-01-31")
	fl.StringVar(&f.description, "description", "", "description")
	fl.StringVar(&f.eula, "eula", "", "end-user license agreement")
	fl.StringVar(&f.privacyURI, "privacy-statement-uri", "", "privacy statement URI")
	fl.StringVar(&f.releaseNoteURI, "release-note-uri", "", "release note URI")
	fl.StringSliceVar(&f.features, "features", nil, `space-separated features: name=value, e.g. "SecurityType=TrustedLaunchSupported"`)
	fl.StringSliceVar(&f.tags, "tags", nil, "space-separated tags: key[=value]")
	fl.IntVar(&f.minCPU, "minimum-cpu-core", 0, "recommended minimum vCPUs")
	fl.IntVar(&f.maxCPU, "maximum-cpu-core", 0, "recommended maximum vCPUs")
	fl.IntVar(&f.minMemory, "minimum-memory", 0, "recommended minimum memory (GB)")
	fl.IntVar(&f.maxMemory, "maximum-memory", 0, "recommended maximum memory (GB)")
	for _, name := range []string{"publisher", "offer", "sku", "os-type", "os-state"} {
		must(c.MarkFlagRequired(name))
	}
}

func (f *definitionFlags) definition(c *cobra.Command, id string) (gallery.ImageDefinition, error) {
	tags, err := parseTags(f.tags)
	if err != nil {
		return gallery.ImageDefinition{}, err
	}
	features, err := parseFeatures(f.features)
	if err != nil {
		return gallery.ImageDefinition{}, err
	}
	d := gallery.ImageDefinition{ID: id, Location: f.location, Tags: tags, Properties: gallery.ImageDefinitionProperties{
		Identifier: gallery.ImageIdentifier{Publisher: f.publisher, Offer: f.offer, Sku: f.sku},
		OSType:     f.osType, OSState: f.osState, HyperVGeneration: f.hyperV, Architecture: f.arch, Features: features,
		Description: f.description, Eula: f.eula, PrivacyStatementURI: f.privacyURI, ReleaseNoteURI: f.releaseNoteURI,
		Recommended: recommended(c, f),
	}}
	if f.endOfLife != "" {
		eol, err := gallery.ParseDate(f.endOfLife)
		if err != nil {
			return d, &usageError{fmt.Errorf("--end-of-life-date: %w", err)}
		}
		d.Properties.EndOfLifeDate = &eol
	}
	return d, nil
}

func recommended(c *cobra.Command, f *definitionFlags) *gallery.Recommended {
	pick := func(flag string, v int) *int {
		if !c.Flags().Changed(flag) {
			return nil
		}
		return &v
	}
	cpu := &gallery.ResourceRange{Min: pick("minimum-cpu-core", f.minCPU), Max: pick("maximum-cpu-core", f.maxCPU)}
	mem := &gallery.ResourceRange{Min: pick("minimum-memory", f.minMemory), Max: pick("maximum-memory", f.maxMemory)}
	if cpu.Min == nil && cpu.Max == nil && mem.Min == nil && mem.Max == nil {
		return nil
	}
	return &gallery.Recommended{VCPUs: cpu, Memory: mem}
}

// parseFeatures parses az's --features: name=value pairs.
func parseFeatures(in []string) ([]gallery.Feature, error) {
	var out []gallery.Feature
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			name, value, ok := strings.Cut(f, "=")
			if !ok || name == "" {
				return nil, &usageError{fmt.Errorf("invalid feature %q: use name=value, e.g. SecurityType=TrustedLaunchSupported", f)}
			}
			out = append(out, gallery.Feature{Name: name, Value: value})
		}
	}
	return out, nil
}

func (a *app) defCreate() *cobra.Command {
	var n sigNames
	var f definitionFlags
	c := &cobra.Command{
		Use: "create", Short: "Create an image definition (or update one: its identity cannot change)", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			d, err := f.definition(c, a.definitionID(n))
			if err != nil {
				return err
			}
			out, err := a.gallery.CreateDefinition(c.Context(), a.admin, d)
			if err != nil {
				return err
			}
			return a.printAz(out)
		}),
	}
	n.definitionFlags(c)
	f.register(c)
	return c
}

func (a *app) defList() *cobra.Command {
	var n sigNames
	c := &cobra.Command{
		Use: "list", Short: "List a gallery's image definitions", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			ds, err := a.gallery.ListDefinitions(c.Context(), a.admin, a.galleryID(n))
			if err != nil {
				return err
			}
			return printAzList(a, ds)
		}),
	}
	n.galleryFlags(c)
	return c
}

func (a *app) defShow() *cobra.Command {
	var n sigNames
	c := &cobra.Command{
		Use: "show", Short: "Show an image definition", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			d, err := a.gallery.GetDefinition(c.Context(), a.admin, a.definitionID(n))
			if err != nil {
				return err
			}
			return a.printAz(d)
		}),
	}
	n.definitionFlags(c)
	return c
}

// lifecycleFlags set a definition's lifecycle rules.
type lifecycleFlags struct {
	keepNewest, deprecateAfter, eolAfter, deleteAfter int
	excludeTags                                       []string
	clear                                             bool
}

func (l *lifecycleFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.IntVar(&l.keepNewest, "keep-newest", 0, "lifecycle: keep the newest N versions (0: off)")
	fl.IntVar(&l.deprecateAfter, "deprecate-after-days", 0, "lifecycle: deprecate versions published more than D days ago (0: off)")
	fl.IntVar(&l.eolAfter, "eol-after-days", 0, "lifecycle: end the life of versions deprecated more than D days ago (0: off)")
	fl.IntVar(&l.deleteAfter, "delete-after-days", 0, "lifecycle: delete versions D days after their end of life (0: off)")
	fl.StringSliceVar(&l.excludeTags, "exclude-tags", nil, "lifecycle: leave versions with these tags alone: key=value or key=* (space-separated)")
	fl.BoolVar(&l.clear, "clear-lifecycle-rules", false, "remove the lifecycle rules")
}

func (l *lifecycleFlags) apply(c *cobra.Command, d *gallery.ImageDefinition) error {
	if l.clear {
		d.Properties.LifecycleRules = nil
		return nil
	}
	changed := false
	for _, name := range []string{"keep-newest", "deprecate-after-days", "eol-after-days", "delete-after-days", "exclude-tags"} {
		changed = changed || c.Flags().Changed(name)
	}
	if !changed {
		return nil
	}
	r := d.Properties.LifecycleRules
	if r == nil {
		r = &gallery.LifecycleRules{}
	}
	set := func(flag string, dst *int, v int) {
		if c.Flags().Changed(flag) {
			*dst = v
		}
	}
	set("keep-newest", &r.KeepNewest, l.keepNewest)
	set("deprecate-after-days", &r.DeprecateAfterDays, l.deprecateAfter)
	set("eol-after-days", &r.EndOfLifeAfterDays, l.eolAfter)
	set("delete-after-days", &r.DeleteAfterDays, l.deleteAfter)
	if c.Flags().Changed("exclude-tags") {
		tags, err := parseTags(l.excludeTags)
		if err != nil {
			return err
		}
		r.ExcludeTags = tags
	}
	d.Properties.LifecycleRules = r
	return nil
}

func (a *app) defUpdate() *cobra.Command {
	var n sigNames
	var description, eol, eula string
	var tags, sets []string
	var life lifecycleFlags
	c := &cobra.Command{
		Use: "update", Short: "Update an image definition: description, end of life, tags, lifecycle rules, --set", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			t, err := parseTags(tags)
			if err != nil {
				return err
			}
			d, err := a.gallery.UpdateDefinition(c.Context(), a.admin, a.definitionID(n), func(d *gallery.ImageDefinition) error {
				if c.Flags().Changed("description") {
					d.Properties.Description = description
				}
				if c.Flags().Changed("eula") {
					d.Properties.Eula = eula
				}
				if c.Flags().Changed("tags") {
					d.Tags = t
				}
				if c.Flags().Changed("end-of-life-date") {
					when, err := gallery.ParseDate(eol)
					if err != nil {
						return &usageError{fmt.Errorf("--end-of-life-date: %w", err)}
					}
					d.Properties.EndOfLifeDate = &when
				}
				if err := life.apply(c, d); err != nil {
					return err
				}
				return applySets(d, sets)
			})
			if err != nil {
				return err
			}
			return a.printAz(d)
		}),
	}
	n.definitionFlags(c)
	c.Flags().StringVar(&description, "description", "", "description")
	c.Flags().StringVar(&eol, "end-of-life-date", "", "end-of-life date, e.g. 2030-01-31")
	c.Flags().StringVar(&eula, "eula", "", "end-user license agreement")
	c.Flags().StringSliceVar(&tags, "tags", nil, "space-separated tags: key[=value] (replaces the tags)")
	c.Flags().StringArrayVar(&sets, "set", nil, "set a property: path=value on the shape show prints (repeatable)")
	life.register(c)
	return c
}

func (a *app) defDelete() *cobra.Command {
	var n sigNames
	c := &cobra.Command{
		Use: "delete", Short: "Delete an image definition that has no versions (soft-deleted ones included)", Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			return a.gallery.DeleteDefinition(c.Context(), a.admin, a.definitionID(n))
		}),
	}
	n.definitionFlags(c)
	return c
}

// lifecycleRow is one line of the apply-lifecycle report.
type lifecycleRow struct {
	Version string `json:"version"`
	Action  string `json:"action"`
	Reason  string `json:"reason"`
}

func (a *app) defApplyLifecycle() *cobra.Command {
	var n sigNames
	var dryRun bool
	c := &cobra.Command{
		Use:   "apply-lifecycle",
		Short: "Apply the definition's lifecycle rules now and report what was done",
		Long: "Apply the lifecycle rules set with image-definition update (--keep-newest, --deprecate-after-days,\n" +
			"--eol-after-days, --delete-after-days, --exclude-tags): each version moves at most one step\n" +
			"(active → deprecated → end of life → deleted), soft-deleted versions past their retention are purged.\n" +
			"The report lists each action and each version left alone, with the reason.",
		Args: cobra.NoArgs,
		RunE: a.opened(func(c *cobra.Command) error {
			plan, err := a.gallery.ApplyLifecycle(c.Context(), a.admin, a.definitionID(n), dryRun)
			if err != nil {
				return err
			}
			if a.format == "table" || a.format == "tsv" {
				return a.print(lifecycleRows(plan))
			}
			return a.print(struct {
				gallery.LifecyclePlan
				DryRun bool `json:"dryRun"`
			}{plan, dryRun})
		}),
	}
	n.definitionFlags(c)
	c.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be done, change nothing")
	return c
}

func lifecycleRows(p gallery.LifecyclePlan) []lifecycleRow {
	rows := []lifecycleRow{}
	for _, x := range p.Actions {
		rows = append(rows, lifecycleRow{Version: x.Version, Action: string(x.Action), Reason: x.Reason})
	}
	for _, s := range p.Skipped {
		rows = append(rows, lifecycleRow{Version: s.Version, Action: "skip", Reason: s.Reason})
	}
	return rows
}

// rawJSON marshals v for --query-friendly extra members.
func rawJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return data
}

// galleryArtifacts lets chained builds read their source from the gallery:
// the version is resolved in the build's region with the build identity's
// rights, and its qcow2 replica there is the base disk.
type galleryArtifacts struct{ gallery *gallery.Service }

var _ source.GalleryArtifacts = galleryArtifacts{}

// ResolveArtifact implements source.GalleryArtifacts.
func (g galleryArtifacts) ResolveArtifact(ctx context.Context, as authz.Principal, id, region string) (string, string, string, error) {
	v, err := g.gallery.Resolve(ctx, as, id, region)
	if err != nil {
		return "", "", "", err
	}
	path, err := g.gallery.ArtifactPath(v, "qcow2", region)
	if err != nil {
		return "", "", "", err
	}
	for _, a := range v.Properties.StorageProfile.Artifacts {
		if strings.EqualFold(a.Format, "qcow2") {
			return v.ID, path, a.SHA256, nil
		}
	}
	return "", "", "", fmt.Errorf("image version %s has no qcow2 artifact", v.ID)
}
