package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		element, key string
		want         bool
	}{
		{"pipedrive", KeyPipedrivePassword, true},
		{"pipedrive", KeyPipedriveToken, true},
		{"pipedrive", KeyPipedriveEmail, false},
		{"pipedrive", "username", false},  // Pipedrive has no username key; not a secret there
		{"closeio", KeyCloseAPIKey, true}, // Close's username is its API key
		{"closeio", KeyClosePassword, true},
		{"pipedrive", "password", true},
		{"closeio", "token", true},
		{"pipedrive", KeySignatureKey, true},
		{"pipedrive", KeyStandardSecret, true},
		{"pipedrive", KeyBasicPassword, true},
		{"pipedrive", KeyWebhookPassword, true},
		{"closeio", KeyWebhookSignatureKey, true},
		{"closeio", "some.vendor.secret", true},
		{"closeio", "oauth.api.key", true},
		{"pipedrive", KeyCallbackURL, false},
		{"pipedrive", KeyBasicUsername, false},
		{"pipedrive", KeyWebhookUsername, false},
		{"pipedrive", KeyBaseURL, false},
		{"pipedrive", KeyEventsEnabled, false},
		{"pipedrive", KeyPollerConfiguration, false},
		{"pipedrive", KeyCallbackHeaders, false},
		{"closeio", "keyboard", false},
		{"closeio", "secretary", false},
	}
	for _, tc := range tests {
		if got := IsSecretKey(tc.element, tc.key); got != tc.want {
			t.Errorf("IsSecretKey(%q, %q) = %v, want %v", tc.element, tc.key, got, tc.want)
		}
	}
}

func TestCatalogueSecretFieldsAreMasked(t *testing.T) {
	for _, el := range Elements() {
		for _, f := range el.Fields {
			if f.Secret && !IsSecretKey(el.Key, f.Key) {
				t.Errorf("%s field %s is marked secret in the form but would be shown in clear", el.Key, f.Key)
			}
		}
	}
}

func TestMaskConfiguration(t *testing.T) {
	cfg := map[string]string{
		KeyCloseAPIKey:     "api_key_1",
		KeyClosePassword:   "",
		KeySignatureKey:    "sig",
		KeyStandardSecret:  "",
		KeyCallbackURL:     "https://app.example.com/x",
		KeyBaseURL:         "https://api.close.com/api/v1",
		KeyWebhookUsername: "close",
	}
	orig := map[string]string{}
	for k, v := range cfg {
		orig[k] = v
	}
	got := MaskConfiguration("closeio", cfg)
	want := map[string]string{
		KeyCloseAPIKey:     Mask,
		KeyClosePassword:   "", // empty stays empty: shows "not set", not a fake secret
		KeySignatureKey:    Mask,
		KeyStandardSecret:  "",
		KeyCallbackURL:     "https://app.example.com/x",
		KeyBaseURL:         "https://api.close.com/api/v1",
		KeyWebhookUsername: "close",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MaskConfiguration = %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(cfg, orig) {
		t.Error("MaskConfiguration modified its input")
	}
}

func TestMaskedInstance(t *testing.T) {
	in := newPipedrive(t, map[string]any{KeyBasicPassword: "bpw"})
	before := in.Clone()
	m := in.Masked()
	if m.Token != Mask {
		t.Errorf("token shown as %q", m.Token)
	}
	for _, k := range []string{KeyPipedriveToken, KeyPipedrivePassword, KeyBasicPassword} {
		if m.Configuration[k] != Mask {
			t.Errorf("%s shown as %q", k, m.Configuration[k])
		}
	}
	if m.Configuration[KeyPipedriveEmail] != "a@example.com" || m.ID != in.ID || m.Name != in.Name {
		t.Errorf("non-secret data changed: %+v", m)
	}
	if !reflect.DeepEqual(in, before) {
		t.Error("Masked modified the instance")
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"tok-1", "pw-1", "bpw", in.Token} {
		if strings.Contains(string(b), secret) {
			t.Errorf("masked JSON leaks %q: %s", secret, b)
		}
	}
	if (Instance{}).Masked().Token != "" {
		t.Error("an empty token was masked")
	}
}
