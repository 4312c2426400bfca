package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// signaturePrefix is the only scheme accepted: GitHub's X-Hub-Signature-256.
// The legacy SHA-1 X-Hub-Signature header is never consulted.
const signaturePrefix = "sha256="

// Signature errors. They are deliberately vague towards the caller; the
// handler answers 401 for all of them.
var (
	errNoSignature  = errors.New("missing X-Hub-Signature-256")
	errBadSignature = errors.New("signature mismatch")
)

// Sign returns the X-Hub-Signature-256 value GitHub sends for body under
// secret: "sha256=" followed by the lower-case hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// verifySignature checks header (the X-Hub-Signature-256 value) against the
// HMAC-SHA256 of the raw body bytes, in constant time.
func verifySignature(secret, body []byte, header string) error {
	if header == "" {
		return errNoSignature
	}
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return errBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}
