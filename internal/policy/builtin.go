package policy

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed builtin/*.json
var builtinFiles embed.FS

var (
	builtinDefsOnce sync.Once
	builtinDefs     []*Definition
	builtinDefsErr  error
)

// Builtins are kiln's built-in policy definitions (policyType BuiltIn),
// sorted by display name:
//
//   - Require VM images from the approved gallery: the hardening guide's
//     rule, verbatim, with its gap (marketplace images pass);
//   - Approved VM images only: kiln's rule that closes the gap;
//   - Audit VMs on an image version that is not the latest, and Deny VMs on
//     revoked or end-of-life image versions (kiln's own aliases);
//   - Azure's Allowed locations, Allowed virtual machine size SKUs, Require
//     a tag on resources, Require a tag on resource groups and Audit VMs
//     that do not use managed disks, with Azure's names (GUIDs) and shapes.
//
// The definitions are shared: do not modify them.
func Builtins() ([]*Definition, error) {
	builtinDefsOnce.Do(func() { builtinDefs, builtinDefsErr = loadBuiltins() })
	return builtinDefs, builtinDefsErr
}

func loadBuiltins() ([]*Definition, error) {
	entries, err := builtinFiles.ReadDir("builtin")
	if err != nil {
		return nil, fmt.Errorf("built-in policy definitions: %w", err)
	}
	var out []*Definition
	for _, e := range entries {
		data, err := builtinFiles.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("built-in policy definition %s: %w", e.Name(), err)
		}
		d, err := ParseDefinition(data, BuiltinAliases())
		if err != nil {
			return nil, fmt.Errorf("built-in policy definition %s: %w", e.Name(), err)
		}
		out = append(out, d)
	}
	sortDefinitions(out)
	return out, nil
}

func sortDefinitions(defs []*Definition) {
	sort.Slice(defs, func(i, j int) bool { return defs[i].DisplayName < defs[j].DisplayName })
}

// Builtin finds a built-in definition by name (its GUID), ID or display
// name, ignoring case.
func Builtin(key string) (*Definition, bool) {
	defs, err := Builtins()
	if err != nil {
		return nil, false
	}
	for _, d := range defs {
		if strings.EqualFold(d.Name, key) || strings.EqualFold(d.ID, key) || strings.EqualFold(d.DisplayName, key) {
			return d, true
		}
	}
	return nil, false
}
