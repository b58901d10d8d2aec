package model

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// WebhookPath is where a vendor posts events for an instance:
// /elements/api-v2/events/{elementKey}/{base64(decimal id)}, standard base64
// with padding as CE printed it (20931 → MjA5MzE=).
func WebhookPath(elementKey string, id int64) string {
	return "/elements/api-v2/events/" + elementKey + "/" + EncodeInstanceID(id)
}

// WebhookURL joins the public URL and WebhookPath.
func WebhookURL(publicURL, elementKey string, id int64) string {
	return strings.TrimRight(publicURL, "/") + WebhookPath(elementKey, id)
}

// EncodeInstanceID is base64 of the decimal id.
func EncodeInstanceID(id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// DecodeInstanceID reverses EncodeInstanceID, also accepting unpadded and
// URL-safe base64, since people paste ids through tools that strip either.
func DecodeInstanceID(s string) (int64, error) {
	raw := strings.TrimRight(s, "=")
	var dec []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if dec, err = enc.DecodeString(raw); err == nil {
			break
		}
	}
	if err != nil || raw == "" {
		return 0, fmt.Errorf("instance id %q is not base64 (expected base64 of the decimal id, e.g. MjA5MzE= for 20931)", s)
	}
	id, err := strconv.ParseInt(string(dec), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("instance id %q decodes to %q, which is not a positive decimal id", s, dec)
	}
	return id, nil
}
