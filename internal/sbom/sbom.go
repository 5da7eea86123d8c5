// Package sbom writes an SPDX 2.3 JSON software bill of materials for an
// image from its root tree's dpkg database (/var/lib/dpkg/status) and
// os-release. The output is deterministic: packages are sorted, the
// creation time is passed in, and the document namespace is derived from
// a given ID, so the same tree always gives the same bytes.
package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Paths read inside the image root.
const (
	StatusPath        = "var/lib/dpkg/status"
	OSReleasePath     = "etc/os-release"
	OSReleaseFallback = "usr/lib/os-release"
)

// NoAssertion is SPDX's "the creator makes no assertion" value.
const NoAssertion = "NOASSERTION"

// NamespacePrefix starts every documentNamespace kiln writes.
const NamespacePrefix = "https://kiln.dev/spdx/"

// Options say what the document describes.
type Options struct {
	// Name names the document and the image package (e.g. the gallery
	// definition and version).
	Name string
	// NamespaceID is a unique ID of what is described (e.g. the gallery
	// version's ARM ID); the documentNamespace is derived from it.
	NamespaceID string
	// Created is the creation time written to the document (required, so
	// that output is reproducible).
	Created time.Time
	// Creators are SPDX creator strings; default "Tool: kiln".
	Creators []string
}

// Document is an SPDX 2.3 document (the fields kiln writes).
type Document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      CreationInfo   `json:"creationInfo"`
	Packages          []SPDXPackage  `json:"packages"`
	Relationships     []Relationship `json:"relationships"`
}

// CreationInfo is when and by what the document was made.
type CreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

// SPDXPackage is one SPDX package.
type SPDXPackage struct {
	Name                  string        `json:"name"`
	SPDXID                string        `json:"SPDXID"`
	VersionInfo           string        `json:"versionInfo,omitempty"`
	DownloadLocation      string        `json:"downloadLocation"`
	FilesAnalyzed         bool          `json:"filesAnalyzed"`
	Homepage              string        `json:"homepage,omitempty"`
	SourceInfo            string        `json:"sourceInfo,omitempty"`
	LicenseConcluded      string        `json:"licenseConcluded"`
	LicenseDeclared       string        `json:"licenseDeclared"`
	CopyrightText         string        `json:"copyrightText"`
	Description           string        `json:"description,omitempty"`
	PrimaryPackagePurpose string        `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs          []ExternalRef `json:"externalRefs,omitempty"`
}

// ExternalRef is an SPDX external reference (kiln writes purls).
type ExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

// Relationship links two SPDX elements.
type Relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

// SPDX identifiers of the document and of the image package.
const (
	documentID = "SPDXRef-DOCUMENT"
	imageID    = "SPDXRef-Image"
)

// Generate reads root's dpkg database and os-release and builds the
// document. Only installed packages are listed. A missing os-release is
// not an error: the purls then carry no distro qualifier.
func Generate(root string, opts Options) (Document, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return Document{}, fmt.Errorf("sbom: %w", err)
	}
	defer r.Close()
	pkgs, err := readStatus(r, root)
	if err != nil {
		return Document{}, err
	}
	osr, err := readOSRelease(r)
	if err != nil {
		return Document{}, fmt.Errorf("sbom of %s: %w", root, err)
	}
	return Build(pkgs, osr, opts)
}

func readStatus(r *os.Root, root string) ([]Package, error) {
	f, err := r.Open(StatusPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sbom: %s/%s does not exist; kiln builds SBOMs of Debian-based images from the dpkg database", root, StatusPath)
	}
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	defer f.Close()
	pkgs, err := ParseStatus(f)
	if err != nil {
		return nil, fmt.Errorf("sbom: %s/%s: %w", root, StatusPath, err)
	}
	return pkgs, nil
}

// readOSRelease reads etc/os-release, else usr/lib/os-release (an absolute
// symlink in etc cannot be followed inside the root); neither is fine.
func readOSRelease(r *os.Root) (map[string]string, error) {
	for _, p := range []string{OSReleasePath, OSReleaseFallback} {
		f, err := r.Open(p)
		if err != nil {
			continue
		}
		fields, err := ParseOSRelease(f)
		f.Close()
		return fields, err
	}
	return map[string]string{}, nil
}

// Build makes the document from parsed packages and os-release fields.
func Build(pkgs []Package, osRelease map[string]string, opts Options) (Document, error) {
	if opts.Created.IsZero() {
		return Document{}, errors.New("sbom: the creation time is required (pass it in for reproducible output)")
	}
	if opts.NamespaceID == "" {
		return Document{}, errors.New("sbom: a namespace ID is required (for example the gallery version ID)")
	}
	creators := opts.Creators
	if len(creators) == 0 {
		creators = []string{"Tool: kiln"}
	}
	doc := Document{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: documentID,
		Name:              opts.Name,
		DocumentNamespace: Namespace(opts.NamespaceID),
		CreationInfo:      CreationInfo{Created: opts.Created.UTC().Format(time.RFC3339), Creators: creators},
		Packages:          []SPDXPackage{imagePackage(opts.Name, osRelease)},
		Relationships:     []Relationship{{documentID, "DESCRIBES", imageID}},
	}
	d := newDistro(osRelease)
	ids := map[string]int{}
	for _, p := range installedSorted(pkgs) {
		sp := spdxPackage(p, d)
		sp.SPDXID = uniqueID(ids, sp.SPDXID)
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, Relationship{imageID, "CONTAINS", sp.SPDXID})
	}
	return doc, nil
}

// Namespace is the documentNamespace for an ID: a name-based (SHA-1)
// UUID of the ID under kiln's prefix, the same for the same ID.
func Namespace(id string) string {
	return NamespacePrefix + uuid.NewSHA1(uuid.NameSpaceURL, []byte(id)).String()
}

func imagePackage(name string, osr map[string]string) SPDXPackage {
	return SPDXPackage{
		Name: name, SPDXID: imageID, VersionInfo: osr["VERSION_ID"],
		DownloadLocation: NoAssertion, LicenseConcluded: NoAssertion, LicenseDeclared: NoAssertion, CopyrightText: NoAssertion,
		Description:           osr["PRETTY_NAME"],
		PrimaryPackagePurpose: "OPERATING-SYSTEM",
	}
}

// installedSorted keeps installed packages, sorted by name, architecture
// and version.
func installedSorted(pkgs []Package) []Package {
	var out []Package
	for _, p := range pkgs {
		if p.Installed() {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Package) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Architecture, b.Architecture); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out
}

func spdxPackage(p Package, d distro) SPDXPackage {
	sp := SPDXPackage{
		Name: p.Name, SPDXID: spdxID(p), VersionInfo: p.Version,
		DownloadLocation: NoAssertion, Homepage: p.Homepage,
		LicenseConcluded: NoAssertion, LicenseDeclared: NoAssertion, CopyrightText: NoAssertion,
		ExternalRefs: []ExternalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: d.purl(p)}},
	}
	if p.Source != "" {
		sp.SourceInfo = strings.TrimSpace("built package from: " + p.Source + " " + p.SourceVersion)
	}
	return sp
}

// spdxID makes an SPDX identifier (letters, digits, '.', '-') from the
// package name and architecture. Debian names are lower case, so '+'
// becomes 'P' without clashing; anything else unexpected becomes '-'.
func spdxID(p Package) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r == '+':
				return 'P'
			case r == '.' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
				return r
			}
			return '-'
		}, s)
	}
	return "SPDXRef-Package-deb-" + clean(p.Name) + "-" + clean(p.Architecture)
}

// uniqueID appends -2, -3, ... to an ID already used.
func uniqueID(seen map[string]int, id string) string {
	seen[id]++
	if n := seen[id]; n > 1 {
		return fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

// Marshal renders the document as indented JSON with a final newline,
// without HTML escaping (purls keep their '&').
func Marshal(doc Document) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return b.Bytes(), nil
}
