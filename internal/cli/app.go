// Package cli is kiln's command line: cobra commands that mirror the az CLI
// (group, image builder, ...) plus kiln's own (build, template validate,
// doctor). Commands are thin adapters over the domain services; every
// command prints with -o json|jsonc|yaml|table|tsv|none and filters with
// --query (JMESPath).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kiln-dev/kiln/internal/authz"
	"github.com/kiln-dev/kiln/internal/blob"
	"github.com/kiln-dev/kiln/internal/build"
	"github.com/kiln-dev/kiln/internal/config"
	"github.com/kiln-dev/kiln/internal/gallery"
	"github.com/kiln-dev/kiln/internal/hostexec"
	"github.com/kiln-dev/kiln/internal/image"
	"github.com/kiln-dev/kiln/internal/imagebuilder"
	"github.com/kiln-dev/kiln/internal/output"
	"github.com/kiln-dev/kiln/internal/source"
	"github.com/kiln-dev/kiln/internal/store"
	"github.com/kiln-dev/kiln/internal/template"
	"github.com/kiln-dev/kiln/internal/tenancy"
)

// Version is kiln's version, set at link time.
var Version = "0.1.0-dev"

// app holds the global flags and the lazily opened services.
type app struct {
	stdout, stderr io.Writer
	format         string
	query          string
	verbose        bool

	cfg      config.Config
	st       store.Store
	defaults tenancy.Defaults
	admin    authz.Principal
	checker  authz.Checker
	groups   *tenancy.Groups
	images   *image.Service
	builder  *imagebuilder.Service
	gallery  *gallery.Service

	// admin above is the acting principal: the bootstrapped admin unless
	// --as (as) or KILN_TOKEN names another; acc holds the identity and
	// access services (access.go).
	as  string
	acc *access
}

// Main runs the CLI and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if a.st != nil {
		a.st.Close()
	}
	if err != nil {
		var ue *usageError
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		if errors.As(err, &ue) {
			return 2
		}
		var ex *exitCode
		if errors.As(err, &ex) {
			return ex.code
		}
		return 1
	}
	return 0
}

// usageError is a bad command line (exit 2, as az).
type usageError struct{ error }

// exitCode carries a specific exit code (a build that failed).
type exitCode struct {
	code int
	msg  string
}

func (e *exitCode) Error() string { return e.msg }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "kiln",
		Short:         "kiln builds, hardens, publishes and governs golden VM images, locally, with Azure's formats",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.ParseFormat(a.format)
			if err != nil && !(a.format == "html" && cmd.Annotations[annotationHTML] == "true") {
				return &usageError{err}
			}
			if err == nil {
				a.format = f
			}
			level := slog.LevelWarn
			if a.verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})))
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.format, "output", "o", "json", "output format: json, jsonc, yaml, table, tsv, none")
	pf.StringVar(&a.query, "query", "", "JMESPath query applied to the output")
	pf.BoolVar(&a.verbose, "verbose", false, "log more")
	pf.StringVar(&a.as, "as", "", "act as another principal (name, user principal name or object ID; local mode)")
	root.AddCommand(a.groupCommand(), a.imageCommand(), a.buildCommand(), a.templateCommand(), a.doctorCommand(),
		a.resourceCommand(), a.deploymentCommand(), a.hardenCommand())
	root.AddCommand(a.identityCommand(), a.roleCommand(), a.lockCommand(), a.adCommand(), a.tokenCommand(), a.monitorCommand())
	root.AddCommand(a.sigCommand(), a.accountCommand())
	return root
}

// annotationHTML marks commands that also print -o html.
const annotationHTML = "kiln/html"

// readJSONFile decodes a JSON file.
func readJSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// print writes v in the chosen format.
func (a *app) print(v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		v = []any{} // az prints [] for an empty list, never null
	}
	return output.Write(a.stdout, v, output.Options{Format: a.format, Query: a.query, Color: output.ColorEnabled(a.stdout)})
}

// open loads the configuration, opens the store and wires the services.
func (a *app) open(ctx context.Context) error {
	if a.st != nil {
		return nil
	}
	home, err := config.HomeDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create KILN_HOME %s: %w", home, err)
	}
	cfg, err := config.Load(home)
	if err != nil {
		return err
	}
	st, err := store.OpenSQLite(ctx, cfg.DBPath())
	if err != nil {
		return err
	}
	defaults, err := tenancy.Bootstrap(ctx, st)
	if err != nil {
		st.Close()
		return err
	}
	a.cfg, a.st, a.defaults, a.admin = cfg, st, defaults, defaults.Admin
	if err := a.openAccess(ctx); err != nil {
		return err
	}
	a.groups = &tenancy.Groups{Store: st, Authz: a.checker, Defaults: defaults, HasRegion: cfg.HasRegion, Regions: cfg.RegionNames(), Audit: a.acc.activity}
	a.images = &image.Service{Store: st, Authz: a.checker, Audit: a.acc.activity}
	if a.gallery, err = a.newGalleryService(cfg); err != nil {
		return err
	}
	runner := hostexec.Exec{}
	disks := &source.DiskImage{Runner: runner, CacheDir: cfg.CacheDir()}
	engine := &build.Engine{
		Runner: runner,
		Sources: map[string]source.Resolver{
			template.SourcePlatformImage:      &source.Debian{Runner: runner, CacheDir: cfg.CacheDir(), Mirror: cfg.Build.Mirror, MaxAge: cfg.Build.BaseMaxAge.Duration},
			template.SourceDiskImage:          disks,
			template.SourceSharedImageVersion: &source.SharedImageVersion{Gallery: galleryArtifacts{a.gallery}, Disk: disks},
		},
		Publish:        &imagebuilder.Publisher{Blobs: &blob.Store{Dir: cfg.BlobDir()}, Images: a.images, Gallery: a.gallery},
		BuilderVersion: "kiln " + Version,
		Disk:           diskTools{runner: runner},
	}
	engine.HostCheck = hostCheck
	vm := &build.QEMU{Runner: runner, Accel: a.accelFor}
	engine.Boot, engine.VM = vm, vm.StartVMExecutor
	a.builder = &imagebuilder.Service{Store: st, Authz: a.checker, Defaults: defaults, Groups: a.groups, Engine: engine,
		RunsDir: cfg.RunsDir(), KeepRuns: cfg.Build.KeepRuns,
		IdentityExists: a.acc.identities.Exists, Identities: a.acc.identities, Audit: a.acc.activity}
	if err := a.gallery.Recover(ctx); err != nil {
		return err
	}
	return a.builder.Recover(ctx)
}
