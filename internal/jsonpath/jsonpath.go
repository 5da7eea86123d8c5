// Package jsonpath writes the JSON paths that kiln's parsers put in their
// errors (properties.customize[2].inline, tags["cost center"]) and turns
// byte offsets of a JSON document into the line and column a user can find.
package jsonpath

import (
	"strconv"
)

// Key appends an object key to a path: ".key" for a plain key (a letter,
// "_" or "$", then also digits and "-"), `["key"]` otherwise.
func Key(path, key string) string {
	if !plain(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends an array index to a path.
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plain(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return k != ""
}

// LineCol converts a byte offset in data to a 1-based line and column;
// offsets outside data are clamped to it.
func LineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return line, col
}
