package model

import (
	"encoding/json"
	"errors"
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
		// Any prefix, any letter case: the key is stored as sent.
		{"pipedrive", "vendor.apikey", true},
		{"closeio", "other.api.KEY", true},
		{"pipedrive", "X.Api.Token", true},
		{"pipedrive", " pipedrive.api.token ", true},
		{"pipedrive", "apikey", true},
		{"pipedrive", "vendor.apikeys", false},
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

// Callback header values are credentials as often as not: every value is
// masked, names stay readable, and a document that is not an object of
// strings is masked whole.
func TestMaskCallbackHeaders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"Authorization":"Bearer sk_live_1","X-Team":"sales"}`, `{"Authorization":"********","X-Team":"********"}`},
		{`{ "X-Empty": "" }`, `{"X-Empty":""}`},
		{``, ``},
		{`{"Authorization": "Bearer sk_live_1"`, Mask},
		{`["Bearer sk_live_1"]`, Mask},
		{`null`, Mask},
	} {
		if got := MaskCallbackHeaders(c.in); got != c.want {
			t.Errorf("MaskCallbackHeaders(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	cfg := map[string]string{KeyCallbackHeaders: `{"Authorization":"Bearer sk_live_1"}`, "vendor.apikey": "ak_1"}
	m := MaskConfiguration("pipedrive", cfg)
	if m[KeyCallbackHeaders] != `{"Authorization":"********"}` || m["vendor.apikey"] != Mask {
		t.Errorf("MaskConfiguration = %v", m)
	}
	if !IsMaskedKey("pipedrive", KeyCallbackHeaders) || IsMaskedKey("pipedrive", KeyCallbackURL) {
		t.Error("IsMaskedKey disagrees with MaskConfiguration")
	}
}

// A headers document read masked and sent back in a PATCH keeps the stored
// credentials; a changed value replaces its header; a masked header with
// nothing stored is a problem, never the literal "********" on the wire.
func TestPatchKeepsMaskedCallbackHeaders(t *testing.T) {
	in := newPipedrive(t, map[string]any{KeyCallbackHeaders: map[string]string{"Authorization": "Bearer sk_live_1", "X-Team": "sales"}})
	shown := in.Masked().Configuration[KeyCallbackHeaders]
	if strings.Contains(shown, "sk_live_1") || strings.Contains(shown, "sales") {
		t.Fatalf("masked headers show values: %s", shown)
	}
	var h map[string]string
	if err := json.Unmarshal([]byte(shown), &h); err != nil {
		t.Fatal(err)
	}
	h["X-Team"] = "support"
	h["x-new"] = "1"
	sent, _ := json.Marshal(h)
	out, err := in.Patch(request(t, "", map[string]any{KeyCallbackHeaders: string(sent)}), t1)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out.Configuration[KeyCallbackHeaders]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Authorization": "Bearer sk_live_1", "X-Team": "support", "x-new": "1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headers after PATCH = %v, want %v", got, want)
	}

	// Header names compare as HTTP compares them.
	out, err = in.Patch(request(t, "", map[string]any{KeyCallbackHeaders: `{"authorization":"********"}`}), t1)
	if err != nil || out.Configuration[KeyCallbackHeaders] != `{"authorization":"Bearer sk_live_1"}` {
		t.Errorf("lower-case masked header: %q, %v", out.Configuration[KeyCallbackHeaders], err)
	}
	// The whole document masked (as shown when it was not an object).
	out, err = in.Patch(request(t, "", map[string]any{KeyCallbackHeaders: Mask}), t1)
	if err != nil || out.Configuration[KeyCallbackHeaders] != in.Configuration[KeyCallbackHeaders] {
		t.Errorf("whole document masked: %q, %v", out.Configuration[KeyCallbackHeaders], err)
	}

	_, err = in.Patch(request(t, "", map[string]any{KeyCallbackHeaders: `{"X-Other":"********"}`}), t1)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.For("configuration."+KeyCallbackHeaders)) == 0 ||
		!strings.Contains(ve.Error(), `"X-Other"`) {
		t.Errorf("masked header with nothing stored: %v", err)
	}
}

// Vendor answers quoted in errors may echo the instance's credentials, in
// clear or as the request carried them.
func TestScrubSecrets(t *testing.T) {
	in := newPipedrive(t, map[string]any{
		KeyCallbackHeaders: map[string]string{"Authorization": "Bearer hdr-tok-9"},
		KeyBasicUsername:   "cb-user", KeyBasicPassword: "cb pass/1",
	})
	secrets := in.SecretValues()
	basic := "Y2ItdXNlcjpjYiBwYXNzLzE=" // base64("cb-user:cb pass/1")
	for _, c := range []struct{ in, want string }{
		{`401: {"error":"bad token tok-1"}`, `401: {"error":"bad token ********"}`},
		{`echo: password=cb+pass%2F1&x=1`, `echo: password=********&x=1`},
		{`{"auth":"Basic ` + basic + `"}`, `{"auth":"Basic ********"}`},
		{`got Authorization: Bearer hdr-tok-9`, `got Authorization: ********`},
		{`got hdr-tok-9 alone`, `got ******** alone`},
		{`token c2VjcmV0LXRva2Vu in path`, `token ******** in path`},
		{`{"pw":"pw-1"}`, `{"pw":"********"}`},
		{`nothing secret here`, `nothing secret here`},
	} {
		if got := ScrubSecrets(c.in, secrets...); got != c.want {
			t.Errorf("ScrubSecrets(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := ScrubSecrets("a b c", "b"); got != "a b c" {
		t.Errorf("a one-letter secret masked ordinary text: %q", got)
	}
	base := errors.New("401: echo tok-1")
	err := ScrubError(base, secrets...)
	if err.Error() != "401: echo ********" || !errors.Is(err, base) {
		t.Errorf("ScrubError = %v (wraps the original: %v)", err, errors.Is(err, base))
	}
	if plain := errors.New("no secret"); ScrubError(plain, secrets...) != plain || ScrubError(nil, secrets...) != nil {
		t.Error("ScrubError changed an error without secrets")
	}
}

// A secret given as an array or object is a problem naming its key, on
// create and on PATCH, and never stored as its JSON text; other keys keep
// taking objects (the callback headers, the poller configuration).
func TestSecretMustBeAString(t *testing.T) {
	for _, c := range []struct {
		element, key string
		value        any
		kind         string
	}{
		{"pipedrive", KeyPipedriveToken, []string{"x"}, "an array"},
		{"pipedrive", KeyPipedrivePassword, map[string]string{"v": "x"}, "an object"},
		{"closeio", KeyCloseAPIKey, []string{"k"}, "an array"},
		{"pipedrive", "vendor.apikey", []int{1}, "an array"},
		{"pipedrive", KeySignatureKey, map[string]any{}, "an object"},
	} {
		cfg := map[string]any{KeyPipedriveEmail: "a@example.com", c.key: c.value}
		if c.element == "closeio" {
			cfg = map[string]any{c.key: c.value}
		}
		_, err := NewInstance(request(t, c.element, cfg), t0)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("create with %s = %v: %v, want a validation error", c.key, c.value, err)
		}
		msgs := ve.For("configuration." + c.key)
		if len(msgs) == 0 || !strings.Contains(msgs[0], "must be a string, got "+c.kind) {
			t.Errorf("create with %s = %v: problems %v", c.key, c.value, ve.Problems)
		}
	}
	in := newPipedrive(t, nil)
	_, err := in.Patch(request(t, "", map[string]any{KeyPipedriveToken: []string{"x"}}), t1)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.For("configuration."+KeyPipedriveToken)) == 0 {
		t.Errorf("PATCH with an array token: %v", err)
	}
	// Close's username is its API key; elsewhere "username" is no secret.
	if _, err := in.Patch(request(t, "", map[string]any{"username": []string{"x"}}), t1); err != nil {
		t.Errorf("a Pipedrive instance's username key as an array: %v", err)
	}
	if _, err := in.Patch(request(t, "", map[string]any{KeyCallbackHeaders: map[string]string{"X-A": "b"}}), t1); err != nil {
		t.Errorf("callback headers as an object: %v", err)
	}
}
