package sign

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Verification errors; test them with errors.Is.
var (
	// ErrSignature: no signature of the envelope verifies with the key.
	ErrSignature = errors.New("signature verification failed")
	// ErrEnvelope: the envelope is malformed.
	ErrEnvelope = errors.New("malformed DSSE envelope")
)

// Envelope is a DSSE envelope (JSON field names as in the DSSE spec).
type Envelope struct {
	Payload     string      `json:"payload"` // base64 (standard encoding)
	PayloadType string      `json:"payloadType"`
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"` // base64 (standard encoding)
}

// PAE is DSSE's pre-authentication encoding, the bytes that are signed:
//
//	"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//
// where LEN is the byte length in ASCII decimal without leading zeros.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// SignPayload wraps payload in an envelope signed with priv.
func SignPayload(payloadType string, payload []byte, priv ed25519.PrivateKey) (Envelope, error) {
	pub, err := PublicKeyOf(priv)
	if err != nil {
		return Envelope{}, fmt.Errorf("sign: %w", err)
	}
	sig := ed25519.Sign(priv, PAE(payloadType, payload))
	return Envelope{
		Payload:     base64.StdEncoding.EncodeToString(payload),
		PayloadType: payloadType,
		Signatures:  []Signature{{KeyID: KeyID(pub), Sig: base64.StdEncoding.EncodeToString(sig)}},
	}, nil
}

// SignStatement validates st and signs its JSON.
func SignStatement(st Statement, priv ed25519.PrivateKey) (Envelope, error) {
	if err := st.Validate(); err != nil {
		return Envelope{}, fmt.Errorf("sign: %w", err)
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return Envelope{}, fmt.Errorf("sign: %w", err)
	}
	return SignPayload(PayloadType, payload, priv)
}

// SignManifest renders m as a statement and signs it.
func SignManifest(m Manifest, priv ed25519.PrivateKey) (Envelope, error) {
	st, err := NewStatement(m)
	if err != nil {
		return Envelope{}, fmt.Errorf("sign manifest of %s: %w", m.VersionID, err)
	}
	return SignStatement(st, priv)
}

// ParseEnvelope decodes an envelope's JSON.
func ParseEnvelope(data []byte) (Envelope, error) {
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return env, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	return env, nil
}

// VerifyPayload checks that a signature of env verifies with pub over the
// PAE of its payload and returns the payload. keyids are hints only: every
// signature is tried, and the error says which keys signed the envelope.
func VerifyPayload(env Envelope, pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("verify: an ed25519 public key has %d bytes, not %d", ed25519.PublicKeySize, len(pub))
	}
	payload, err := decodeBase64(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64: %w", ErrEnvelope, err)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: the envelope has no signatures", ErrSignature)
	}
	msg := PAE(env.PayloadType, payload)
	want := KeyID(pub)
	var signers []string
	for i, s := range env.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil {
			return nil, fmt.Errorf("%w: signature %d is not base64: %w", ErrEnvelope, i, err)
		}
		if ed25519.Verify(pub, msg, sig) {
			return payload, nil
		}
		signers = append(signers, s.KeyID)
	}
	return nil, signatureError(want, signers)
}

// signatureError explains a failed verification: another key, or an
// altered payload or signature.
func signatureError(want string, signers []string) error {
	for _, id := range signers {
		if id == want {
			return fmt.Errorf("%w: the signature by key %s does not match the payload: the payload, its type or the signature was altered", ErrSignature, want)
		}
	}
	return fmt.Errorf("%w: the envelope is signed by key(s) %s, not by key %s (or was altered)", ErrSignature, strings.Join(signers, ", "), want)
}

// Verify checks env against pub and returns its validated in-toto statement.
func Verify(env Envelope, pub ed25519.PublicKey) (Statement, error) {
	var st Statement
	payload, err := VerifyPayload(env, pub)
	if err != nil {
		return st, err
	}
	if env.PayloadType != PayloadType {
		return st, fmt.Errorf("%w: payloadType is %q, expected %q", ErrEnvelope, env.PayloadType, PayloadType)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, fmt.Errorf("%w: payload is not kiln's in-toto statement: %w", ErrStatement, err)
	}
	if err := st.Validate(); err != nil {
		return st, err
	}
	return st, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as the
// DSSE spec asks of verifiers.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return nil, err
}
