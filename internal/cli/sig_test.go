package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-dev/kiln/internal/image"
	"github.com/kiln-dev/kiln/internal/store"
)

const twoRegions = "defaultLocation: eastus\nregions:\n  - name: eastus\n  - name: westeurope\n"

const testDef = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/D"

// kilnIn runs the CLI in-process with KILN_HOME set.
func kilnIn(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(args, &out, &errb); code != 0 {
		t.Fatalf("kiln %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

func newHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "kiln.yaml"), []byte(twoRegions), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

var setupArgs = [][]string{
	{"group", "create", "-n", "RG", "-l", "eastus", "-o", "none"},
	{"sig", "create", "-g", "RG", "-r", "G", "-o", "none"},
	{"sig", "image-definition", "create", "-g", "RG", "-r", "G", "-i", "D", "--publisher", "P", "--offer", "O", "--sku", "S",
		"--os-type", "Linux", "--os-state", "Generalized", "-o", "none"},
}

// A version can be published from a managed image, without a build.
func TestSigVersionFromManagedImage(t *testing.T) {
	home := newHome(t)
	t.Setenv("KILN_HOME", home)
	t.Setenv("KILN_SUBSCRIPTION_ID", "")
	t.Setenv(pauseEnv, "")
	for _, args := range setupArgs {
		kilnIn(t, args...)
	}
	content := []byte("a managed image's qcow2")
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])
	blob := filepath.Join(home, "blobs", "sha256", sha[:2], sha)
	os.MkdirAll(filepath.Dir(blob), 0o755)
	if err := os.WriteFile(blob, content, 0o444); err != nil {
		t.Fatal(err)
	}
	imgID := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RG/providers/Microsoft.Compute/images/img"
	putImage(t, home, image.Image{ID: imgID, Name: "img", Type: image.ResourceType, Location: "eastus", Properties: image.Properties{
		Artifacts: []image.Artifact{{Format: "qcow2", SHA256: sha, Size: int64(len(content)), Path: blob}}, SourceRun: "run-42"}})

	out := kilnIn(t, "sig", "image-version", "create", "-g", "RG", "-r", "G", "-i", "D", "-e", "1.0.0", "--managed-image", imgID,
		"--query", "[storageProfile.source.id, storageProfile.artifacts[0].sha256, evidence.buildRunId]", "-o", "tsv")
	if want := imgID + "\n" + sha + "\nrun-42\n"; out != want {
		t.Errorf("published from a managed image: %q, want %q", out, want)
	}
	out = kilnIn(t, "sig", "image-version", "create", "-g", "RG", "-r", "G", "-i", "D", "-e", "1.0.1", "--managed-image", "img", "--query", "name", "-o", "tsv")
	if out != "1.0.1\n" {
		t.Errorf("--managed-image by name: %q", out)
	}
	var errb bytes.Buffer
	if Main([]string{"sig", "image-version", "create", "-g", "RG", "-r", "G", "-i", "D", "-e", "1.0.2", "--managed-image", "nope"}, &bytes.Buffer{}, &errb) == 0 ||
		!strings.Contains(errb.String(), "ResourceNotFound") {
		t.Errorf("--managed-image of a missing image: %q", errb.String())
	}
}

func putImage(t *testing.T, home string, img image.Image) {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), filepath.Join(home, "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	body, _ := json.Marshal(img)
	_, err = st.PutResource(t.Context(), store.Resource{ID: img.ID, Type: image.ResourceType, Name: img.Name,
		Subscription: "00000000-0000-0000-0000-000000000000", ResourceGroup: "RG",
		Parent: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RG", Location: "eastus", Body: body}, "")
	if err != nil {
		t.Fatal(err)
	}
}

// buildKiln builds the kiln binary for tests that need a real process.
func buildKiln(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiln")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/kiln-dev/kiln/cmd/kiln")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashEnv runs a built kiln against one home.
type crashEnv struct {
	t    *testing.T
	bin  string
	home string
}

func (e crashEnv) command(extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), "KILN_HOME="+e.home, "KILN_SUBSCRIPTION_ID=", pauseEnv+"=")
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

func (e crashEnv) run(args ...string) string {
	e.t.Helper()
	out, err := e.command(nil, args...).Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		e.t.Fatalf("kiln %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func (e crashEnv) publish(version, disk string, extraEnv ...string) *exec.Cmd {
	cmd := e.command(extraEnv, "sig", "image-version", "create", "-g", "RG", "-r", "G", "-i", "D", "-e", version,
		"--os-vhd-uri", disk, "--target-regions", "eastus westeurope", "-o", "none")
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	return cmd
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// versions lists the published versions (every kiln start runs Recover
// first).
func (e crashEnv) versions() []string {
	out := strings.TrimSpace(e.run("sig", "image-version", "list", "-g", "RG", "-r", "G", "-i", "D", "--include-deleted", "--query", "[].name", "-o", "tsv"))
	if out == "" {
		return nil
	}
	return strings.Fields(out)
}

// regionFiles lists every file under the regions' blob trees.
func (e crashEnv) regionFiles() []string {
	var out []string
	for _, r := range []string{"eastus", "westeurope"} {
		root := filepath.Join(e.home, "regions", r, "sha256")
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, r+"/"+d.Name())
			}
			return nil
		})
	}
	return out
}

func randomDisk(t *testing.T, size int) string {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPublishSurvivesSIGKILL kills a real kiln during publishes: right
// before the commit (KILN_TEST_PAUSE_PUBLISH), then at moments spread over
// a publish. After each kill the next kiln start must show the version
// whole — verifiable in both regions — or not at all, and leave no file
// that no version references.
func TestPublishSurvivesSIGKILL(t *testing.T) {
	e := crashEnv{t: t, bin: buildKiln(t), home: newHome(t)}
	for _, args := range setupArgs {
		e.run(args...)
	}

	t.Run("before the commit", func(t *testing.T) {
		pause := filepath.Join(t.TempDir(), "paused")
		cmd := e.publish("1.0.0", randomDisk(t, 4<<20), pauseEnv+"="+pause)
		waitFor(t, pause, cmd)
		if files := e.regionFiles(); len(files) < 4 {
			t.Fatalf("the paused publish has not written its files yet: %v", files)
		}
		kill(t, cmd)
		if vs := e.versions(); len(vs) != 0 {
			t.Fatalf("versions after a kill before the commit: %v", vs)
		}
		if files := e.regionFiles(); len(files) != 0 {
			t.Fatalf("the restart left the killed publish's files: %v", files)
		}
	})

	t.Run("at any moment", func(t *testing.T) {
		// How long a whole publish takes here, to spread the kills over it.
		start := time.Now()
		if err := e.publish("2.0.0", randomDisk(t, 48<<20)).Wait(); err != nil {
			t.Fatal(err)
		}
		whole := time.Since(start)
		const kills = 12
		for i := range kills {
			version := fmt.Sprintf("2.1.%d", i)
			cmd := e.publish(version, randomDisk(t, 48<<20))
			time.Sleep(whole * time.Duration(i) / kills)
			kill(t, cmd)
			e.checkWholeOrAbsent(version)
		}
	})
}

func waitFor(t *testing.T, path string, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	kill(t, cmd)
	t.Fatalf("the publish never paused at %s", path)
}

// checkWholeOrAbsent: after a kill, version is visible and verifies, or
// is not visible; and no region holds an unreferenced file.
func (e crashEnv) checkWholeOrAbsent(version string) {
	t := e.t
	t.Helper()
	before := len(e.regionFiles())
	present := false
	for _, v := range e.versions() {
		present = present || v == version
	}
	if present {
		e.run("sig", "image-version", "verify", "-g", "RG", "-r", "G", "-i", "D", "-e", version, "-o", "none")
	}
	referenced := e.referenced()
	for _, f := range e.regionFiles() {
		if !referenced[filepath.Base(f)] {
			t.Errorf("after killing the publish of %s (visible: %v), %s is left behind", version, present, f)
		}
	}
	t.Logf("killed the publish of %s: %d region files before the restart, visible after it: %v", version, before, present)
}

// referenced are the digests the stored versions reference.
func (e crashEnv) referenced() map[string]bool {
	var vs []struct {
		StorageProfile struct {
			Artifacts []struct {
				SHA256 string `json:"sha256"`
			} `json:"artifacts"`
		} `json:"storageProfile"`
		Evidence map[string]string `json:"evidence"`
	}
	out := e.run("sig", "image-version", "list", "-g", "RG", "-r", "G", "-i", "D", "--include-deleted")
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		e.t.Fatalf("list: %v\n%s", err, out)
	}
	refs := map[string]bool{}
	for _, v := range vs {
		for _, a := range v.StorageProfile.Artifacts {
			refs[a.SHA256] = true
		}
		for k, d := range v.Evidence {
			if k != "keyId" && k != "buildRunId" {
				refs[d] = true
			}
		}
	}
	return refs
}
