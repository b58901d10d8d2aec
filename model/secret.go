package model

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Mask replaces a secret wherever one would be shown. A PATCH that sends it
// back leaves the stored secret unchanged.
const Mask = "********"

// secretSuffixes end the names of configuration keys that hold a secret
// whatever comes before them, so a vendor key eventdesk does not know
// ("oauth.api.key", "x.apikey") is masked too.
var secretSuffixes = []string{".secret", ".key", ".apikey", ".password", ".token"}

// IsSecretKey reports whether a configuration key of an element holds a
// secret: "password" and "token", every key ending in .secret, .key,
// .apikey, .password or .token (in any letter case, since a key is stored
// as it was sent), and Close's username, which is its API key.
func IsSecretKey(elementKey, key string) bool {
	key = strings.ToLower(strings.TrimSpace(key))
	switch key {
	case KeyPipedrivePassword, KeyPipedriveToken, "password", "token", "apikey":
		return true
	case "username":
		return elementKey == "closeio"
	}
	for _, suf := range secretSuffixes {
		if strings.HasSuffix(key, suf) {
			return true
		}
	}
	return false
}

// IsMaskedKey reports whether the API and the console mask the value of a
// configuration key: the secret keys, and the callback headers, whose
// values are credentials more often than not ("Authorization: Bearer …").
func IsMaskedKey(elementKey, key string) bool {
	return IsSecretKey(elementKey, key) || key == KeyCallbackHeaders
}

// MaskConfiguration returns a copy of cfg with every non-empty secret
// masked, and every value of the callback headers.
func MaskConfiguration(elementKey string, cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		switch {
		case v == "":
		case k == KeyCallbackHeaders:
			v = MaskCallbackHeaders(v)
		case IsSecretKey(elementKey, k):
			v = Mask
		}
		out[k] = v
	}
	return out
}

// MaskCallbackHeaders masks every value of a callback headers document (a
// JSON object of header names to values). Every value is masked, not only
// the well-known credential headers: a custom header ("X-Api-Auth") may
// carry a credential as well, and the names alone tell an operator what is
// sent. A document that is not such an object is masked whole, since
// nothing in it can be told apart.
func MaskCallbackHeaders(v string) string {
	if strings.TrimSpace(v) == "" {
		return v
	}
	h, err := parseHeaders(v)
	if err != nil {
		return Mask
	}
	for k, hv := range h {
		if hv != "" {
			h[k] = Mask
		}
	}
	return encodeHeaders(h)
}

// restoreMaskedHeaders returns the callback headers sent in a PATCH with
// every masked value ("********", as the API and console show it) put back
// to the value stored for that header, so an edited headers document that
// was read masked keeps its credentials. A masked header with no stored
// value is an error: "********" would otherwise be sent as the value.
func restoreMaskedHeaders(sent, stored string) (string, error) {
	if !strings.Contains(sent, Mask) {
		return sent, nil
	}
	if strings.TrimSpace(sent) == Mask {
		return stored, nil // the whole document was shown masked
	}
	h, err := parseHeaders(sent)
	if err != nil {
		return sent, nil // validation names what is wrong with it
	}
	old, _ := parseHeaders(stored)
	var missing []string
	for k, v := range h {
		if v != Mask {
			continue
		}
		if ov, ok := lookupHeader(old, k); ok {
			h[k] = ov
			continue
		}
		missing = append(missing, k)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("header %s is sent masked (%s) but has no stored value to keep; send its value", strings.Join(quoteAll(missing), ", "), Mask)
	}
	return encodeHeaders(h), nil
}

// lookupHeader finds a header by exact name, then as HTTP does (names are
// case-insensitive).
func lookupHeader(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(name) {
			return v, true
		}
	}
	return "", false
}

func parseHeaders(v string) (map[string]string, error) {
	var h map[string]string
	if err := json.Unmarshal([]byte(v), &h); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("callback headers are null")
	}
	return h, nil
}

// encodeHeaders writes headers as compact JSON with names sorted (as
// encoding/json does for maps) and without HTML escaping, so a value such
// as "a&b" reads as typed.
func encodeHeaders(h map[string]string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(h)
	return strings.TrimSuffix(buf.String(), "\n")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Masked returns a copy of the instance that is safe to show or log.
func (in Instance) Masked() Instance {
	out := in.Clone()
	out.Configuration = MaskConfiguration(in.ElementKey, in.Configuration)
	if out.Token != "" {
		out.Token = Mask
	}
	return out
}

func checkStandardSecret(s string) error {
	rest, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return errors.New("must start with whsec_ followed by base64 (a Standard Webhooks secret)")
	}
	if _, err := base64.StdEncoding.DecodeString(rest); err != nil {
		return errors.New("the part after whsec_ must be standard base64")
	}
	return nil
}
