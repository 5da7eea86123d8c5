package gallery

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-dev/kiln/internal/sign"
)

// Signing keys: each gallery gets an ed25519 key pair when it is created.
// The private key is a PKCS #8 PEM file named after its key ID in KeyDir
// (0700; the file 0600, written once and never replaced); the gallery
// resource holds the key ID and the public key. Deleting a gallery keeps
// its key file, so that versions exported earlier stay verifiable with
// the public key and a recreated gallery of the same name gets a new key.

// newSigningKey makes and stores a key pair, returning its description
// and the private key file.
func (s *Service) newSigningKey() (SigningKey, string, error) {
	if s.KeyDir == "" {
		return SigningKey{}, "", errors.New("the gallery service has no key directory for signing keys")
	}
	if err := ensurePrivateDir(s.KeyDir); err != nil {
		return SigningKey{}, "", err
	}
	kp, err := sign.GenerateKey(nil)
	if err != nil {
		return SigningKey{}, "", err
	}
	pub, err := sign.MarshalPublicKey(kp.Public)
	if err != nil {
		return SigningKey{}, "", err
	}
	k := SigningKey{KeyID: sign.KeyID(kp.Public), PublicKey: string(pub)}
	path := s.keyPath(k.KeyID)
	if err := sign.WritePrivateKeyFile(path, kp.Private); err != nil {
		return SigningKey{}, "", err
	}
	return k, path, nil
}

func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("key directory %s: %w", dir, err)
	}
	return nil
}

func (s *Service) keyPath(keyID string) string { return filepath.Join(s.KeyDir, keyID+".pem") }

// privateKey loads the gallery's private key and checks that it is the
// key the gallery names.
func (s *Service) privateKey(g Gallery) (ed25519.PrivateKey, SigningKey, error) {
	k := g.Properties.SigningKey
	if k == nil || k.KeyID == "" {
		return nil, SigningKey{}, fmt.Errorf("%w: gallery %s has no signing key (it was created before kiln signed versions); create a new gallery", ErrState, g.ID)
	}
	priv, err := sign.ReadPrivateKeyFile(s.keyPath(k.KeyID))
	if err != nil {
		return nil, *k, fmt.Errorf("signing key of gallery %s: %w", g.Name, err)
	}
	pub, err := sign.PublicKeyOf(priv)
	if err != nil {
		return nil, *k, err
	}
	if got := sign.KeyID(pub); got != k.KeyID {
		return nil, *k, fmt.Errorf("the key file %s holds key %s, but gallery %s signs with %s", s.keyPath(k.KeyID), got, g.Name, k.KeyID)
	}
	return priv, *k, nil
}

// publicKey returns the gallery's public key. It comes from the private
// key file when that is present (the database alone is not trusted to
// say which key verifies), otherwise from the gallery resource.
func (s *Service) publicKey(g Gallery) (ed25519.PublicKey, SigningKey, error) {
	k := g.Properties.SigningKey
	if k == nil || k.KeyID == "" {
		return nil, SigningKey{}, fmt.Errorf("%w: gallery %s has no signing key", ErrState, g.ID)
	}
	if priv, _, err := s.privateKey(g); err == nil {
		pub, err := sign.PublicKeyOf(priv)
		return pub, *k, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, *k, err
	}
	pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
	if err != nil {
		return nil, *k, fmt.Errorf("public key of gallery %s: %w", g.Name, err)
	}
	if got := sign.KeyID(pub); got != k.KeyID {
		return nil, *k, fmt.Errorf("gallery %s: its public key has ID %s, not the recorded %s", g.Name, got, k.KeyID)
	}
	return pub, *k, nil
}
