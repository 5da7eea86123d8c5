// Package e2e holds the end-to-end tests: they build kiln, really bootstrap
// Debian with mmdebstrap, customize, assemble and publish an image, then
// boot it under QEMU. They need root and the host packages of
// scripts/setup, and run when KILN_E2E=1 (as `make test` and CI do).
package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-dev/kiln/internal/disk"
	"github.com/kiln-dev/kiln/internal/tattoo"
)

// sharedHome is one KILN_HOME for all end-to-end tests, so the Debian base
// is bootstrapped once (KILN_E2E_HOME keeps it between runs).
var sharedHome string

func TestMain(m *testing.M) {
	sharedHome = os.Getenv("KILN_E2E_HOME")
	tmp := ""
	if sharedHome == "" {
		var err error
		tmp, err = os.MkdirTemp("", "kiln-e2e-")
		if err != nil {
			panic(err)
		}
		sharedHome = filepath.Join(tmp, "home")
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

type env struct {
	t    *testing.T
	bin  string
	home string
	root string // repository root
}

func setup(t *testing.T) *env {
	t.Helper()
	if os.Getenv("KILN_E2E") != "1" {
		t.Skip("end-to-end builds run with KILN_E2E=1 (make test)")
	}
	if os.Getuid() != 0 {
		t.Fatal("KILN_E2E=1 but not root: builds need root (chroot, mounts)")
	}
	for _, p := range []string{"mmdebstrap", "qemu-system-x86_64", "qemu-img", "mke2fs", "grub-mkimage", "mcopy", "sfdisk"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("KILN_E2E=1 but %s is missing: run scripts/setup", p)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, root: root, bin: filepath.Join(t.TempDir(), "kiln")}
	e.home = sharedHome
	build := exec.Command("go", "build", "-o", e.bin, "./cmd/kiln")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return e
}

// kiln runs the binary and returns stdout, stderr and the exit code.
func (e *env) kiln(args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "KILN_HOME="+e.home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("kiln %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (e *env) mustKiln(args ...string) string {
	e.t.Helper()
	out, stderr, code := e.kiln(args...)
	if code != 0 {
		e.t.Fatalf("kiln %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

type artifact struct {
	Format, Path, SHA256 string
	VirtualSize          int64
}

func TestHelloLinuxEndToEnd(t *testing.T) {
	e := setup(t)
	e.mustKiln("group", "create", "-n", "ImageBuilderRG", "-l", "eastus")
	e.mustKiln("template", "validate", "examples/hello-linux.json")
	e.mustKiln("build", "examples/hello-linux.json", "-g", "ImageBuilderRG", "-n", "hello", "-o", "none")

	state := strings.TrimSpace(e.mustKiln("image", "builder", "show", "-g", "ImageBuilderRG", "-n", "hello", "--query", "properties.lastRunStatus.runState", "-o", "tsv"))
	if state != "Succeeded" {
		t.Fatalf("lastRunStatus.runState = %q, want Succeeded", state)
	}
	logs := e.mustKiln("image", "builder", "logs", "-g", "ImageBuilderRG", "-n", "hello")
	for _, want := range []string{"Starting provisioner Shell customizer \"install-motd\"", "jq-1.6", "uploaded files/hello.conf to /tmp/hello.conf", "generalized the image"} {
		if !strings.Contains(logs, want) {
			t.Errorf("customization.log lacks %q", want)
		}
	}

	var arts []artifact
	if err := json.Unmarshal([]byte(e.mustKiln("image", "builder", "output", "artifacts", "-g", "ImageBuilderRG", "-n", "hello", "--query", "artifacts")), &arts); err != nil {
		t.Fatal(err)
	}
	byFormat := map[string]artifact{}
	for _, a := range arts {
		byFormat[a.Format] = a
		got, err := disk.SHA256File(a.Path)
		if err != nil || got != a.SHA256 {
			t.Errorf("%s artifact %s: sha256 %s, recorded %s (%v)", a.Format, a.Path, got, a.SHA256, err)
		}
	}
	raw, qcow, vhd := byFormat["raw"], byFormat["qcow2"], byFormat["vhd"]
	if raw.Path == "" || qcow.Path == "" || vhd.Path == "" {
		t.Fatalf("artifacts: %+v, want raw, qcow2 and vhd", arts)
	}

	t.Run("qcow2 and raw hold the same disk", func(t *testing.T) {
		out, err := exec.Command("qemu-img", "compare", "-f", "qcow2", "-F", "raw", qcow.Path, raw.Path).CombinedOutput()
		if err != nil {
			t.Fatalf("qemu-img compare: %v\n%s", err, out)
		}
	})
	t.Run("the VHD is a fixed VHD Azure accepts", func(t *testing.T) {
		out, err := exec.Command("qemu-img", "info", "--output=json", "-f", "vpc", vhd.Path).Output()
		if err != nil {
			t.Fatalf("qemu-img info: %v", err)
		}
		var info struct {
			Format      string `json:"format"`
			VirtualSize int64  `json:"virtual-size"`
		}
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatal(err)
		}
		if info.Format != "vpc" || info.VirtualSize%(1<<20) != 0 {
			t.Errorf("qemu-img info: format %s, virtual size %d; want vpc and a whole number of MiB", info.Format, info.VirtualSize)
		}
		footer, err := disk.VerifyVHDFooter(vhd.Path)
		if err != nil {
			t.Fatalf("VHD footer: %v", err)
		}
		if footer.DiskTypeName() != "fixed" || footer.CurrentSize != info.VirtualSize {
			t.Errorf("VHD footer: %+v", footer)
		}
	})
	t.Run("the tattoo is inside the image", func(t *testing.T) {
		rec := readTattoo(t, raw.Path)
		if rec.Template.Name != "hello" || rec.RunID == "" || rec.Source.Offer != "debian-12" || !strings.Contains(rec.OSVersion, "Debian GNU/Linux 12") {
			t.Errorf("tattoo: %+v", rec)
		}
		if len(rec.Customizers) != 4 || rec.Customizers[1].SHA256 == "" {
			t.Errorf("tattoo customizers: %+v", rec.Customizers)
		}
	})
	t.Run("the managed image points at the artifacts", func(t *testing.T) {
		out := e.mustKiln("image", "show", "-g", "ImageBuilderRG", "-n", "hello-linux", "--query", "properties.storageProfile.osDisk.osState", "-o", "tsv")
		if strings.TrimSpace(out) != "Generalized" {
			t.Errorf("osState = %q", out)
		}
	})
	t.Run("the raw disk boots under UEFI to the readiness signal", func(t *testing.T) {
		out := e.mustKiln("image", "boot-test", "--disk", raw.Path)
		if !strings.Contains(out, `"runId"`) || !strings.Contains(out, "cloud-amd64") {
			t.Errorf("boot-test output lacks the tattoo or kernel:\n%s", out)
		}
	})
	t.Run("the raw disk boots under BIOS too", func(t *testing.T) {
		out := e.mustKiln("image", "boot-test", "--firmware", "bios", "--disk", raw.Path)
		if !strings.Contains(out, `"runId"`) {
			t.Errorf("boot-test output lacks the tattoo:\n%s", out)
		}
	})
	t.Run("a DiskImage source builds on the published qcow2, with an Update step", func(t *testing.T) {
		dir := t.TempDir()
		tmpl := `{
  "source": {"type": "DiskImage", "uri": "` + qcow.Path + `", "sha256Checksum": "` + qcow.SHA256 + `"},
  "customize": [
    {"type": "Update", "name": "security-updates", "filters": ["exclude:linux-image-*"], "updateLimit": 5},
    {"type": "Shell", "name": "layer", "inline": ["test -f /etc/hello.conf", "echo second layer | sudo tee /etc/layer2"]}
  ],
  "distribute": [{"type": "VHD", "runOutputName": "layered"}]
}`
		if err := os.WriteFile(filepath.Join(dir, "layered.json"), []byte(tmpl), 0o644); err != nil {
			t.Fatal(err)
		}
		e.mustKiln("build", filepath.Join(dir, "layered.json"), "-g", "ImageBuilderRG", "-n", "layered", "-o", "none")
		logs := e.mustKiln("image", "builder", "logs", "-g", "ImageBuilderRG", "-n", "layered")
		for _, want := range []string{"disk-image source " + qcow.Path + " is qcow2", "Update: "} {
			if !strings.Contains(logs, want) {
				t.Errorf("customization.log lacks %q", want)
			}
		}
		rec := readTattoo(t, layeredRaw(t, e))
		if rec.Source.Type != "DiskImage" || rec.Source.BaseDigest != "sha256:"+qcow.SHA256 {
			t.Errorf("tattoo source: %+v", rec.Source)
		}
	})
	t.Run("a failing script fails the run and distributes nothing", func(t *testing.T) {
		out, stderr, code := e.kiln("build", "internal/e2e/testdata/failing-script.json", "-g", "ImageBuilderRG", "-n", "failing", "-o", "none")
		if code == 0 {
			t.Fatalf("build of a failing script exited 0:\n%s", out)
		}
		for _, want := range []string{"exited with code 7", "about to fail", "Failed"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("error lacks %q:\n%s", want, stderr)
			}
		}
		if _, _, code := e.kiln("image", "show", "-g", "ImageBuilderRG", "-n", "never-created"); code == 0 {
			t.Error("a failed run created its managed image")
		}
		logs := e.mustKiln("image", "builder", "logs", "-g", "ImageBuilderRG", "-n", "failing")
		if !strings.Contains(logs, "using cached base") {
			t.Error("the second build did not reuse the cached base")
		}
	})
	t.Run("a checksum mismatch names both hashes", func(t *testing.T) {
		_, stderr, code := e.kiln("build", "internal/e2e/testdata/bad-checksum.json", "-g", "ImageBuilderRG", "-n", "badsum", "-o", "none")
		if code == 0 || !strings.Contains(stderr, "sha256 checksum mismatch") || !strings.Contains(stderr, "0000000000000000000000000000000000000000000000000000000000000000") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}

// layeredRaw returns the raw artifact of the "layered" template's last run.
func layeredRaw(t *testing.T, e *env) string {
	t.Helper()
	var arts []artifact
	if err := json.Unmarshal([]byte(e.mustKiln("image", "builder", "output", "artifacts", "-g", "ImageBuilderRG", "-n", "layered", "--query", "artifacts")), &arts); err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		if a.Format == "raw" {
			return a.Path
		}
	}
	t.Fatal("no raw artifact")
	return ""
}

// readTattoo mounts the raw disk's root partition read-only and reads the tattoo.
func readTattoo(t *testing.T, raw string) tattoo.Record {
	t.Helper()
	fi, err := os.Stat(raw)
	if err != nil {
		t.Fatal(err)
	}
	l, err := disk.PlanLayout(fi.Size(), "")
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	opts := "ro,loop,offset=" + itoa(l.Root.Offset()) + ",sizelimit=" + itoa(l.Root.Size())
	if out, err := exec.Command("mount", "-o", opts, raw, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	rec, err := tattoo.Read(mnt)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(mnt, "etc/hello.conf")); err != nil || !strings.Contains(string(data), "hello from kiln") {
		t.Errorf("/etc/hello.conf: %q %v", data, err)
	}
	if data, err := os.ReadFile(filepath.Join(mnt, "etc/machine-id")); err != nil || len(data) != 0 {
		t.Errorf("/etc/machine-id should be empty in a generalized image: %q %v", data, err)
	}
	if keys, _ := filepath.Glob(filepath.Join(mnt, "etc/ssh/ssh_host_*")); len(keys) != 0 {
		t.Errorf("SSH host keys left in the image: %v", keys)
	}
	return rec
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
