package model

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model/signature"
)

// CallbackHeaders are the headers of the callback request that carries
// notification n to instance in, signed at now. The instance's own
// callback headers come first; what the receiver verifies (content type,
// webhook ids, timestamp, both signatures, Basic credentials) is set after
// them, so a configured header can never replace it. The dispatcher sends
// them, and the console copies them into a curl command, so both agree to
// the byte.
func CallbackHeaders(in Instance, n Notification, now time.Time, userAgent string) (http.Header, error) {
	h := http.Header{}
	cfg := in.Configuration
	if extra := cfg[KeyCallbackHeaders]; extra != "" {
		var m map[string]string
		// Validation refuses anything else on save; an instance stored by
		// an older version with a broken value sends without it.
		if err := json.Unmarshal([]byte(extra), &m); err == nil {
			for k, v := range m {
				h.Set(k, v)
			}
		}
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set("Elements-Webhook-Id", n.WebhookID)
	h.Set("webhook-id", n.WebhookID)
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	if key := cfg[KeySignatureKey]; key != "" {
		h.Set("Elements-Webhook-Signature", signature.CE(key, n.Body))
	}
	if secret := cfg[KeyStandardSecret]; secret != "" {
		sig, err := signature.Standard(secret, n.WebhookID, now.Unix(), n.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyStandardSecret, err)
		}
		h.Set("webhook-signature", sig)
	}
	if u, p := cfg[KeyBasicUsername], cfg[KeyBasicPassword]; u != "" || p != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u+":"+p)))
	}
	return h, nil
}
