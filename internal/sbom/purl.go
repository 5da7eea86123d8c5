package sbom

import (
	"strings"
)

// distro is what the purls of an image's packages share.
type distro struct {
	namespace string // os-release ID, e.g. "debian"
	qualifier string // e.g. "debian-12"; "" when unknown
}

// newDistro reads ID and VERSION_ID (or VERSION_CODENAME, for testing and
// unstable, which have no VERSION_ID) from os-release.
func newDistro(osr map[string]string) distro {
	id := strings.ToLower(osr["ID"])
	if id == "" {
		return distro{namespace: "debian"}
	}
	d := distro{namespace: id, qualifier: id}
	if v := osr["VERSION_ID"]; v != "" {
		d.qualifier += "-" + v
	} else if c := osr["VERSION_CODENAME"]; c != "" {
		d.qualifier += "-" + c
	}
	return d
}

// purl is the package URL of a Debian package:
// pkg:deb/<namespace>/<name>@<version>?arch=<arch>&distro=<distro>.
func (d distro) purl(p Package) string {
	var sb strings.Builder
	sb.WriteString("pkg:deb/" + escape(d.namespace) + "/" + escape(p.Name))
	if p.Version != "" {
		sb.WriteString("@" + escape(p.Version))
	}
	sep := "?"
	for _, q := range [][2]string{{"arch", p.Architecture}, {"distro", d.qualifier}} {
		if q[1] != "" {
			sb.WriteString(sep + q[0] + "=" + escape(q[1]))
			sep = "&"
		}
	}
	return sb.String()
}

// escape percent-encodes a purl component, keeping letters, digits,
// ".-_~" and ':' (purl's own example pkg:deb/debian/attr@1:2.4.47-2%2Bb1
// keeps an epoch's colon and encodes '+').
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_~:", c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}
