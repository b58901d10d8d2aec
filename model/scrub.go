package model

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// minScrubLen is the shortest secret scrubbed out of text: a shorter value
// would mask ordinary words in every message, and protects nothing anyway.
const minScrubLen = 4

// SecretValues lists what must never appear in text shown or stored about
// the instance: the value of every secret configuration key, each callback
// header value (and the credential after its scheme, "Bearer X" → X), the
// instance token, and the Basic credentials eventdesk builds from a user and
// a password, as they go over the wire.
func (in Instance) SecretValues() []string {
	var out []string
	cfg := in.Configuration
	for k, v := range cfg {
		switch {
		case v == "":
		case k == KeyCallbackHeaders:
			h, err := parseHeaders(v)
			if err != nil {
				out = append(out, v)
				continue
			}
			for _, hv := range h {
				out = append(out, hv)
				if _, cred, ok := strings.Cut(strings.TrimSpace(hv), " "); ok {
					out = append(out, strings.TrimSpace(cred))
				}
			}
		case IsSecretKey(in.ElementKey, k):
			out = append(out, v)
		}
	}
	for _, pair := range [][2]string{
		{cfg[KeyBasicUsername], cfg[KeyBasicPassword]},
		{cfg[KeyWebhookUsername], cfg[KeyWebhookPassword]},
		{cfg[KeyPipedriveEmail], cfg[KeyPipedrivePassword]},
		{cfg[KeyCloseAPIKey], cfg[KeyClosePassword]},
	} {
		if pair[0] != "" || pair[1] != "" {
			out = append(out, base64.StdEncoding.EncodeToString([]byte(pair[0]+":"+pair[1])))
		}
	}
	if in.Token != "" {
		out = append(out, in.Token)
	}
	return out
}

// ScrubSecrets replaces every occurrence of the secrets in text with Mask,
// also as a vendor may echo them: URL-encoded (a query string or form
// body) and JSON-escaped. A vendor's error answer is quoted in poll and
// registration errors, and a vendor that echoes the request would otherwise
// put the instance's credentials into lastError, the API and the log.
func ScrubSecrets(text string, secrets ...string) string {
	if text == "" || len(secrets) == 0 {
		return text
	}
	var forms []string
	for _, s := range secrets {
		if len(s) < minScrubLen {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s))
		if j, err := json.Marshal(s); err == nil {
			forms = append(forms, string(j[1:len(j)-1]))
		}
	}
	// Longest first: a secret that contains another is masked whole.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		if f != "" && strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, Mask)
		}
	}
	return text
}

// scrubbedError is an error whose text has secrets masked; errors.Is and
// errors.As still see the error it wraps.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// ScrubError returns err with ScrubSecrets applied to its text, or err
// itself when the text holds none of the secrets.
func ScrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if s := ScrubSecrets(msg, secrets...); s != msg {
		return &scrubbedError{msg: s, err: err}
	}
	return err
}
