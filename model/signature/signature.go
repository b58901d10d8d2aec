// Package signature computes and checks the HMAC signatures eventdesk deals
// with: CE's Elements-Webhook-Signature and the Standard Webhooks signature on
// outgoing notifications, and Close's close-sig-hash on incoming
// webhooks. It is pure: the caller supplies the clock.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors a caller can tell apart with errors.Is. Returned errors match
// them but read as the detail alone, so a caller can show err.Error()
// without the category repeated in front.
var (
	// ErrMissingSignature: the signature or its timestamp header is absent.
	ErrMissingSignature = errors.New("signature missing")
	// ErrBadSignature: the signature does not match the body.
	ErrBadSignature = errors.New("signature does not match")
	// ErrStaleTimestamp: the signed timestamp is not unix seconds or is
	// outside the allowed window around now.
	ErrStaleTimestamp = errors.New("signature timestamp out of range")
	// ErrInvalidKey: the configured key or secret itself is unusable (a
	// configuration problem, not the sender's fault).
	ErrInvalidKey = errors.New("invalid signing key")
)

// DefaultCloseWindow is the replay window VerifyClose uses when given a
// window of zero or less (Close: five minutes).
const DefaultCloseWindow = 5 * time.Minute

// CE is the value of CE's Elements-Webhook-Signature header:
// "sha256=" + base64(HMAC-SHA256(key as UTF-8, body)).
func CE(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// StandardSecretPrefix starts a Standard Webhooks secret.
const StandardSecretPrefix = "whsec_"

// Standard is the value of the Standard Webhooks webhook-signature header:
// "v1," + base64(HMAC-SHA256(base64-decoded secret, id.timestamp.body)).
// The secret is "whsec_" followed by standard base64 (padding optional); a
// secret without the prefix is accepted as bare base64, as the reference
// libraries do. An undecodable or empty secret gives an error wrapping
// ErrInvalidKey.
func Standard(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := standardKey(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

func standardKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(strings.TrimSpace(secret), StandardSecretPrefix)
	if s == "" {
		return nil, fmt.Errorf("%w: standard webhooks secret is empty (want %s followed by base64)", ErrInvalidKey, StandardSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: standard webhooks secret is not %s followed by base64", ErrInvalidKey, StandardSecretPrefix)
	}
	return key, nil
}

// Close is the value Close sends in close-sig-hash:
// hex(HMAC-SHA256(hex_decode(keyHex), timestamp ‖ body)), lowercase, no
// separator between timestamp and body. A key that is not non-empty hex gives
// an error wrapping ErrInvalidKey.
func Close(keyHex, timestamp string, body []byte) (string, error) {
	mac, err := closeMAC(keyHex, timestamp, body)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(mac), nil
}

func closeMAC(keyHex, timestamp string, body []byte) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(keyHex))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: close signature key must be non-empty hex", ErrInvalidKey)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write(body)
	return m.Sum(nil), nil
}

// VerifyClose checks Close's close-sig-hash (sigHex) and close-sig-timestamp
// headers against body. The signature is compared in constant time
// (hmac.Equal, case-insensitive hex); the timestamp must be unix seconds
// within ±window of now (window ≤ 0 means DefaultCloseWindow). The signature
// is checked before the timestamp, so a forged request reports
// ErrBadSignature and a replayed genuine one ErrStaleTimestamp.
//
// Errors wrap, in order of checking: ErrMissingSignature (a header empty),
// ErrInvalidKey (keyHex unusable), ErrStaleTimestamp (timestamp not an
// integer), ErrBadSignature, ErrStaleTimestamp (outside the window).
func VerifyClose(keyHex, timestamp, sigHex string, body []byte, now time.Time, window time.Duration) error {
	timestamp = strings.TrimSpace(timestamp)
	sigHex = strings.TrimSpace(sigHex)
	switch {
	case sigHex == "" && timestamp == "":
		return fmt.Errorf("%w: no close-sig-hash or close-sig-timestamp header", ErrMissingSignature)
	case sigHex == "":
		return fmt.Errorf("%w: no close-sig-hash header", ErrMissingSignature)
	case timestamp == "":
		return fmt.Errorf("%w: no close-sig-timestamp header", ErrMissingSignature)
	}
	want, err := closeMAC(keyHex, timestamp, body)
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return detailf(ErrStaleTimestamp, "close-sig-timestamp %q is not unix seconds", clip(timestamp))
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil || !hmac.Equal(got, want) {
		return detailf(ErrBadSignature, "close-sig-hash is not HMAC-SHA256 of close-sig-timestamp and body under the subscription's signature key")
	}
	if window <= 0 {
		window = DefaultCloseWindow
	}
	off := now.Sub(time.Unix(ts, 0))
	if off > window || off < -window {
		return detailf(ErrStaleTimestamp, "close-sig-timestamp %d is %s the receiver's clock (allowed ±%s)", ts, describeOffset(off), window)
	}
	return nil
}

// detailError reads as its detail and matches its kind with errors.Is.
type detailError struct {
	kind error
	msg  string
}

func (e *detailError) Error() string        { return e.msg }
func (e *detailError) Is(target error) bool { return target == e.kind }

func detailf(kind error, format string, args ...any) error {
	return &detailError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func describeOffset(d time.Duration) string {
	if d < 0 {
		return (-d).Truncate(time.Second).String() + " ahead of"
	}
	return d.Truncate(time.Second).String() + " behind"
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
