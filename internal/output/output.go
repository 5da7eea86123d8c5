// Package output writes command results the way Azure's az CLI does, for
// kiln's --output/-o and --query flags.
//
// A result is first normalized to a generic JSON tree (encoded with
// encoding/json, decoded with numbers kept exact), then filtered with the
// JMESPath --query if there is one, then formatted as json, jsonc, yaml, tsv,
// table or none. Object keys keep the order of the Go struct fields that
// produced them (az sorts them; kiln deliberately does not), including after
// a query.
//
// As in az, a result that is null (or a query that selects nothing) prints
// nothing at all, in every format.
package output

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Output format names accepted by ParseFormat and Options.Format.
const (
	FormatJSON  = "json"
	FormatJSONC = "jsonc"
	FormatYAML  = "yaml"
	FormatTSV   = "tsv"
	FormatTable = "table"
	FormatNone  = "none"
)

// Formats lists the valid output formats, in az's order.
var Formats = []string{FormatJSON, FormatJSONC, FormatYAML, FormatTable, FormatTSV, FormatNone}

// Options selects how Write renders a result.
type Options struct {
	// Format is one of Formats; "" means json.
	Format string
	// Query is a JMESPath expression applied before formatting; "" means none.
	Query string
	// Color enables ANSI colours in jsonc; without it jsonc is plain json.
	Color bool
}

// ParseFormat validates an --output value (case-insensitive, like az) and
// returns its canonical name.
func ParseFormat(s string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(s))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("invalid output format %q: valid formats are %s", s, strings.Join(Formats, ", "))
}

// Write renders v to w in the format and with the query given by opts.
// A bad query returns a *QueryError; an unknown format returns an error that
// lists the valid ones. Nothing is written when an error is returned.
func Write(w io.Writer, v any, opts Options) error {
	format := FormatJSON
	if opts.Format != "" {
		f, err := ParseFormat(opts.Format)
		if err != nil {
			return err
		}
		format = f
	}
	tree, err := normalize(v)
	if err != nil {
		return err
	}
	if opts.Query != "" {
		if tree, err = applyQuery(tree, opts.Query); err != nil {
			return err
		}
	}
	if tree == nil || format == FormatNone {
		return nil
	}
	text, err := render(tree, format, opts.Color)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

func render(tree any, format string, color bool) (string, error) {
	switch format {
	case FormatJSON:
		return formatJSON(tree, plainPalette), nil
	case FormatJSONC:
		if color {
			return formatJSON(tree, ansiPalette), nil
		}
		return formatJSON(tree, plainPalette), nil
	case FormatYAML:
		return formatYAML(tree)
	case FormatTSV:
		return formatTSV(tree), nil
	case FormatTable:
		return formatTable(tree)
	}
	return "", fmt.Errorf("output format %q has no renderer", format)
}

// ColorEnabled reports whether colour suits w: it is a terminal and the
// NO_COLOR environment variable is unset (https://no-color.org).
func ColorEnabled(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
