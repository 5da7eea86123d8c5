// Package sign makes gallery versions verifiable: each gallery has an
// ed25519 key pair, and each version gets a signed manifest — an in-toto
// Statement v1 whose subjects are the version's artifacts and whose
// predicate is SLSA Provenance v1, wrapped in a DSSE envelope signed over
// the DSSE pre-authentication encoding. Verify checks an envelope against a
// public key and returns the statement; VerifyArtifacts rehashes files
// against its subjects.
package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// PEM block types of the key files.
const (
	privateKeyPEMType = "PRIVATE KEY" // PKCS #8
	publicKeyPEMType  = "PUBLIC KEY"  // PKIX
)

// KeyPair is a gallery's signing key.
type KeyPair struct {
	Public  ed25519.PublicKey
	Private ed25519.PrivateKey
}

// GenerateKey makes a new key pair from r (crypto/rand when nil).
func GenerateKey(r io.Reader) (KeyPair, error) {
	if r == nil {
		r = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return KeyPair{Public: pub, Private: priv}, nil
}

// KeyID identifies a public key: the hex sha256 of its PKIX DER encoding.
// It is the keyid of the signatures the key makes.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// Only a wrongly sized key fails; hash the raw bytes then, so the ID
		// still differs from every real key's.
		der = pub
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// MarshalPrivateKey encodes a private key as a PKCS #8 "PRIVATE KEY" PEM block.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("marshal private key: an ed25519 private key has %d bytes, not %d", ed25519.PrivateKeySize, len(priv))
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: privateKeyPEMType, Bytes: der}), nil
}

// ParsePrivateKey decodes a PKCS #8 PEM private key, which must be ed25519.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	der, err := pemBytes(data, privateKeyPEMType)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse private key: it is a %T, kiln signs with ed25519 keys", k)
	}
	return priv, nil
}

// MarshalPublicKey encodes a public key as a PKIX "PUBLIC KEY" PEM block,
// the form to hand to verifiers.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("marshal public key: an ed25519 public key has %d bytes, not %d", ed25519.PublicKeySize, len(pub))
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: publicKeyPEMType, Bytes: der}), nil
}

// ParsePublicKey decodes a PKIX PEM public key, which must be ed25519.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBytes(data, publicKeyPEMType)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parse public key: it is a %T, kiln signs with ed25519 keys", k)
	}
	return pub, nil
}

func pemBytes(data []byte, wantType string) ([]byte, error) {
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, errors.New("no PEM block found")
	case block.Type != wantType:
		return nil, fmt.Errorf("PEM block is %q, expected %q", block.Type, wantType)
	}
	return block.Bytes, nil
}

// WritePrivateKeyFile stores a private key at path with mode 0600. It never
// replaces an existing file (a gallery's key is not rotated by accident):
// the key is written to a temporary file, synced, and linked into place,
// so path is either absent or complete.
func WritePrivateKeyFile(path string, priv ed25519.PrivateKey) error {
	data, err := MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, data); err != nil {
		return fmt.Errorf("write private key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("write private key: %s already exists; kiln does not overwrite signing keys", path)
		}
		return fmt.Errorf("write private key: %w", err)
	}
	return nil
}

func writeSynced(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadPrivateKeyFile loads a private key, refusing a file that other users
// can read or write.
func ReadPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("read private key: %s has mode %04o, other users can access it; run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	priv, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

// PublicKeyOf returns the public half of a private key.
func PublicKeyOf(priv ed25519.PrivateKey) (ed25519.PublicKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("an ed25519 private key has %d bytes, not %d", ed25519.PrivateKeySize, len(priv))
	}
	pub, ok := priv.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("private key has no ed25519 public key")
	}
	return pub, nil
}
