package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testKey is deterministic so that golden envelopes are stable (ed25519
// signatures are deterministic too).
func testKey(t *testing.T, seed byte) KeyPair {
	t.Helper()
	k, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func testManifest() Manifest {
	return Manifest{
		VersionID:              "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/debian12-cis/versions/1.0.0",
		ParentVersionID:        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/debian12/versions/1.4.0",
		ParentDigest:           digest("parent"),
		BuilderID:              "https://kiln.dev/builder/host-01",
		BuilderVersion:         "0.4.0",
		RunID:                  "6f1c0b6e-2f5e-4f0e-9d47-6c0a4c1e9a11",
		TemplateID:             "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/debian12-cis",
		TemplateDigest:         digest("template"),
		StartedOn:              time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC),
		FinishedOn:             time.Date(2025, 6, 1, 10, 7, 30, 0, time.UTC),
		Artifacts:              []Artifact{{Name: "disk.qcow2", SHA256: digest("qcow2")}, {Name: "disk.raw", SHA256: digest("raw")}},
		TattooDigest:           digest("tattoo"),
		ComplianceReportDigest: digest("report"),
		SBOMDigest:             digest("sbom"),
	}
}

func TestPAE(t *testing.T) {
	tests := []struct {
		typ, body, want string
	}{
		// The example of the DSSE protocol description, counted by hand:
		// "http://example.com/HelloWorld" is 7+11+11 = 29 bytes, "hello world" 11.
		{"http://example.com/HelloWorld", "hello world", "DSSEv1 29 http://example.com/HelloWorld 11 hello world"},
		{"", "", "DSSEv1 0  0 "},
		// Lengths count bytes, not characters: "é" is 2 bytes in UTF-8.
		{"é", "0123456789", "DSSEv1 2 é 10 0123456789"},
		{PayloadType, "{}", "DSSEv1 28 application/vnd.in-toto+json 2 {}"},
	}
	for _, tt := range tests {
		if got := string(PAE(tt.typ, []byte(tt.body))); got != tt.want {
			t.Errorf("PAE(%q, %q) = %q, want %q", tt.typ, tt.body, got, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	k := testKey(t, 1)
	env, err := SignManifest(testManifest(), k.Private)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "envelope.json", append(data, '\n'))
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, payload, "", "  "); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "statement.json", append(pretty.Bytes(), '\n'))

	parsed, err := ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Verify(parsed, k.Public)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(testManifest(), st.Manifest()); diff != "" {
		t.Errorf("manifest after the round trip (-want +got):\n%s", diff)
	}
	if env.Signatures[0].KeyID != KeyID(k.Public) {
		t.Errorf("keyid %s, want %s", env.Signatures[0].KeyID, KeyID(k.Public))
	}
}

func TestVerifyFailures(t *testing.T) {
	k := testKey(t, 1)
	good, err := SignManifest(testManifest(), k.Private)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tamper  func(*Envelope)
		key     ed25519.PublicKey
		wantErr error
		msg     string
	}{
		{name: "tampered payload", tamper: func(e *Envelope) {
			p, _ := base64.StdEncoding.DecodeString(e.Payload)
			p = bytes.Replace(p, []byte(digest("qcow2")), []byte(digest("evil")), 1)
			e.Payload = base64.StdEncoding.EncodeToString(p)
		}, wantErr: ErrSignature, msg: "does not match the payload: the payload, its type or the signature was altered"},
		{name: "tampered payload type", tamper: func(e *Envelope) { e.PayloadType = "application/json" },
			wantErr: ErrSignature, msg: "does not match the payload"},
		{name: "tampered signature", tamper: func(e *Envelope) {
			s, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
			s[10] ^= 0x01
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(s)
		}, wantErr: ErrSignature, msg: "does not match the payload"},
		{name: "wrong key", key: testKey(t, 2).Public, wantErr: ErrSignature,
			msg: "the envelope is signed by key(s) " + KeyID(k.Public) + ", not by key " + KeyID(testKey(t, 2).Public)},
		{name: "no signatures", tamper: func(e *Envelope) { e.Signatures = nil }, wantErr: ErrSignature, msg: "has no signatures"},
		{name: "signature not base64", tamper: func(e *Envelope) { e.Signatures[0].Sig = "%%%" }, wantErr: ErrEnvelope, msg: "signature 0 is not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := good
			env.Signatures = append([]Signature(nil), good.Signatures...)
			if tt.tamper != nil {
				tt.tamper(&env)
			}
			key := k.Public
			if tt.key != nil {
				key = tt.key
			}
			_, err := Verify(env, key)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Verify error = %v, want %v containing %q", err, tt.wantErr, tt.msg)
			}
		})
	}
}

func TestVerifyChecksTheStatement(t *testing.T) {
	k := testKey(t, 1)
	env, err := SignPayload(PayloadType, []byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[],"predicateType":"x","predicate":{"buildDefinition":{"buildType":"","externalParameters":{"imageVersionId":""}},"runDetails":{"builder":{"id":""},"metadata":{}}}}`), k.Private)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(env, k.Public)
	for _, want := range []string{"_type is", "predicateType is", "subject is empty", "imageVersionId is empty", "builder.id is empty"} {
		if !errors.Is(err, ErrStatement) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	env, _ = SignPayload("text/plain", []byte("hello"), k.Private)
	if _, err := Verify(env, k.Public); !errors.Is(err, ErrEnvelope) || !strings.Contains(err.Error(), `payloadType is "text/plain"`) {
		t.Errorf("other payload type: %v", err)
	}
	m := testManifest()
	m.Artifacts[0].SHA256 = "ABC"
	if _, err := SignManifest(m, k.Private); !errors.Is(err, ErrStatement) || !strings.Contains(err.Error(), "subject[0] (disk.qcow2) has no valid sha256 digest") {
		t.Errorf("signing a bad manifest: %v", err)
	}
}

func TestVerifyArtifacts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := map[string]string{"disk.qcow2": write("disk.qcow2", "qcow2"), "disk.raw": write("disk.raw", "raw")}
	st, err := NewStatement(testManifest())
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyArtifacts(st, files); err != nil {
		t.Fatal(err)
	}
	if err := VerifyArtifactsInDir(st, dir); err != nil {
		t.Fatal(err)
	}

	write("disk.raw", "rAw") // one byte changed
	files["notes.txt"] = write("notes.txt", "x")
	delete(files, "disk.qcow2")
	err = VerifyArtifacts(st, files)
	var ae *ArtifactError
	if !errors.Is(err, ErrArtifactMismatch) || !errors.As(err, &ae) || len(ae.Mismatches) != 3 {
		t.Fatalf("got %v", err)
	}
	for i, want := range []string{
		"disk.qcow2: no file was given for this artifact",
		"disk.raw: " + files["disk.raw"] + " has sha256 " + digest("rAw") + ", the statement says " + digest("raw"),
		"notes.txt: the statement does not name this artifact",
	} {
		if got := ae.Mismatches[i].Name + ": " + ae.Mismatches[i].Reason; got != want {
			t.Errorf("mismatch %d = %q, want %q", i, got, want)
		}
	}
	if err := VerifyArtifactsInDir(st, dir); !errors.Is(err, ErrArtifactMismatch) || !strings.Contains(err.Error(), "disk.raw: has sha256") {
		t.Errorf("in dir: %v", err)
	}
	st.Subject[0].Name = "../escape"
	if err := VerifyArtifactsInDir(st, dir); err == nil || !strings.Contains(err.Error(), "../escape: cannot read it") {
		t.Errorf("a subject name must not leave the directory: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	k := testKey(t, 3)
	path := filepath.Join(t.TempDir(), "keys", "gallery.key")
	if err := WritePrivateKeyFile(path, k.Private); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if err := WritePrivateKeyFile(path, testKey(t, 4).Private); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	priv, err := ReadPrivateKeyFile(path)
	if err != nil || !priv.Equal(k.Private) {
		t.Fatalf("read back: %v", err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("not a PKCS #8 PEM file:\n%s", data)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable key: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	pubPEM, err := MarshalPublicKey(k.Public)
	if err != nil || !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Fatalf("public PEM: %s %v", pubPEM, err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil || !pub.Equal(k.Public) {
		t.Fatalf("public round trip: %v", err)
	}
	if _, err := ParsePublicKey(data); err == nil || !strings.Contains(err.Error(), `PEM block is "PRIVATE KEY", expected "PUBLIC KEY"`) {
		t.Errorf("private key given as public: %v", err)
	}
	if _, err := ParsePrivateKey([]byte("not pem")); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("garbage: %v", err)
	}
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("does not match %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}
