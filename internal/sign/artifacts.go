package sign

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// ErrArtifactMismatch is wrapped by *ArtifactError.
var ErrArtifactMismatch = errors.New("artifacts do not match the signed statement")

// Mismatch is one artifact that does not match its subject.
type Mismatch struct {
	Name   string // subject name
	Path   string // file checked, "" when none was given
	Want   string // sha256 in the statement, "" for a file the statement does not name
	Got    string // sha256 of the file, "" when it could not be read
	Reason string
}

// ArtifactError lists every mismatch found.
type ArtifactError struct {
	Mismatches []Mismatch
}

func (e *ArtifactError) Error() string {
	lines := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		lines[i] = m.Name + ": " + m.Reason
	}
	return fmt.Sprintf("%d artifact(s) do not match the signed statement:\n  %s", len(e.Mismatches), strings.Join(lines, "\n  "))
}

// Unwrap makes errors.Is(err, ErrArtifactMismatch) true.
func (e *ArtifactError) Unwrap() error { return ErrArtifactMismatch }

// VerifyArtifacts rehashes files (subject name → path) and checks them
// against the statement's subjects. Every subject needs a file and every
// file a subject; all mismatches are reported in one *ArtifactError.
func VerifyArtifacts(st Statement, files map[string]string) error {
	var ms []Mismatch
	named := map[string]bool{}
	for _, s := range st.Subject {
		named[s.Name] = true
		want := s.Digest["sha256"]
		path, ok := files[s.Name]
		if !ok {
			ms = append(ms, Mismatch{Name: s.Name, Want: want, Reason: "no file was given for this artifact"})
			continue
		}
		if m, bad := checkFile(s.Name, path, want); bad {
			ms = append(ms, m)
		}
	}
	ms = append(ms, unnamedFiles(files, named)...)
	if len(ms) == 0 {
		return nil
	}
	return &ArtifactError{Mismatches: ms}
}

func checkFile(name, path, want string) (Mismatch, bool) {
	m := Mismatch{Name: name, Path: path, Want: want}
	got, err := fileSHA256(path)
	switch {
	case err != nil:
		m.Reason = fmt.Sprintf("cannot read %s: %v", path, err)
	case got != want:
		m.Got = got
		m.Reason = fmt.Sprintf("%s has sha256 %s, the statement says %s", path, got, want)
	default:
		return m, false
	}
	return m, true
}

func unnamedFiles(files map[string]string, named map[string]bool) []Mismatch {
	var extra []string
	for name := range files {
		if !named[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	ms := make([]Mismatch, len(extra))
	for i, name := range extra {
		ms[i] = Mismatch{Name: name, Path: files[name], Reason: "the statement does not name this artifact"}
	}
	return ms
}

// VerifyArtifactsInDir checks the subjects against files named like them
// inside dir. Names cannot reach outside dir (the directory is opened as
// an os.Root).
func VerifyArtifactsInDir(st Statement, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("verify artifacts: %w", err)
	}
	defer root.Close()
	var ms []Mismatch
	for _, s := range st.Subject {
		want := s.Digest["sha256"]
		m := Mismatch{Name: s.Name, Path: s.Name, Want: want}
		got, err := rootFileSHA256(root, s.Name)
		switch {
		case err != nil:
			m.Reason = fmt.Sprintf("cannot read it in %s: %v", dir, err)
		case got != want:
			m.Got, m.Reason = got, fmt.Sprintf("has sha256 %s, the statement says %s", got, want)
		default:
			continue
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil
	}
	return &ArtifactError{Mismatches: ms}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return readerSHA256(f)
}

func rootFileSHA256(root *os.Root, name string) (string, error) {
	f, err := root.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return readerSHA256(f)
}

func readerSHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
