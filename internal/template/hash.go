package template

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// ContentHash is the hex SHA-256 of the template's canonical JSON (its
// encoding/json form: fields in declaration order, map keys sorted), for
// provenance records. Templates that decode to the same struct, from JSON
// or YAML, in either shape, have the same hash.
func (t *ImageTemplate) ContentHash() string {
	data, err := json.Marshal(t)
	if err != nil { // cannot happen: the model has only strings, ints, bools, slices and maps
		data = []byte(err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
