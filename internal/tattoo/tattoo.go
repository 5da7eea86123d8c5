// Package tattoo holds an image's provenance record: a JSON document written
// to /etc/kiln/tattoo.json inside the image and kept with the run's outputs
// (and, later, the gallery version), so that any machine can say what it was
// built from, by which template and run, with which customizations.
package tattoo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Path is where the tattoo lives inside an image.
const Path = "/etc/kiln/tattoo.json"

// SchemaVersion is the version of the Record format.
const SchemaVersion = "kiln.dev/tattoo/v1"

// Record is the tattoo.
type Record struct {
	Schema         string       `json:"schema"`
	Source         Source       `json:"source"`
	OSVersion      string       `json:"osVersion"`
	Image          Image        `json:"image"`
	Template       Template     `json:"template"`
	RunID          string       `json:"runId"`
	Customizers    []Customizer `json:"customizers"`
	Hardening      *Hardening   `json:"hardening,omitempty"`
	BuilderVersion string       `json:"builderVersion"`
	BuiltAt        string       `json:"builtAt"`
}

// Source is what the image was built from.
type Source struct {
	Type         string            `json:"type"`
	Publisher    string            `json:"publisher,omitempty"`
	Offer        string            `json:"offer,omitempty"`
	Sku          string            `json:"sku,omitempty"`
	Version      string            `json:"version,omitempty"`
	ExactVersion string            `json:"exactVersion,omitempty"`
	ID           string            `json:"id,omitempty"`
	ArchiveState map[string]string `json:"archiveState,omitempty"`
	BaseDigest   string            `json:"baseDigest"`
}

// Image names the published image (definition and version where known).
type Image struct {
	Definition  string   `json:"definition,omitempty"`
	Version     string   `json:"version,omitempty"`
	Targets     []string `json:"targets,omitempty"`
	PublishDate string   `json:"publishDate,omitempty"`
}

// Template identifies the template and its content.
type Template struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentHash string `json:"contentHash"`
}

// Customizer is one customization step and the hash of what it ran.
type Customizer struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	SHA256 string `json:"sha256,omitempty"`
	Source string `json:"source,omitempty"`
}

// Hardening records the hardening profile and its result.
type Hardening struct {
	Profile      string  `json:"profile"`
	Version      string  `json:"version"`
	Score        float64 `json:"score"`
	Passed       bool    `json:"passed"`
	ReportSHA256 string  `json:"reportSha256,omitempty"`
}

// Write stores r at Path under root.
func Write(root string, r Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(root, Path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write tattoo: %w", err)
	}
	return os.WriteFile(p, append(data, '\n'), 0o644)
}

// Read loads the tattoo under root.
func Read(root string) (Record, error) {
	return ReadFile(filepath.Join(root, Path))
}

// ReadFile loads a tattoo file.
func ReadFile(path string) (Record, error) {
	var r Record
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("read tattoo: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("tattoo %s is not valid JSON: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return r, fmt.Errorf("tattoo %s has schema %q, expected %q", path, r.Schema, SchemaVersion)
	}
	return r, nil
}
