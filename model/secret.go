package model

import (
	"encoding/base64"
	"errors"
	"strings"
)

// Mask replaces a secret wherever one would be shown. A PATCH that sends it
// back leaves the stored secret unchanged.
const Mask = "********"

// IsSecretKey reports whether a configuration key of an element holds a
// secret: passwords, tokens, keys and secrets everywhere, and
// Close's username, which is its API key.
func IsSecretKey(elementKey, key string) bool {
	switch key {
	case KeyPipedrivePassword, KeyPipedriveToken, "password", "token":
		return true
	case "username":
		return elementKey == "closeio"
	}
	return strings.HasSuffix(key, ".secret") || strings.HasSuffix(key, ".key") ||
		strings.HasSuffix(key, ".password") || strings.HasSuffix(key, ".token")
}

// MaskConfiguration returns a copy of cfg with every non-empty secret masked.
func MaskConfiguration(elementKey string, cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if v != "" && IsSecretKey(elementKey, k) {
			v = Mask
		}
		out[k] = v
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
