package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/closeio"
	"github.com/eventdesk/eventdesk/provider/pipedrive"
	"github.com/eventdesk/eventdesk/store"
)

// ErrLoopback means the public URL is one the vendor cannot reach.
var ErrLoopback = errors.New("public URL is a loopback address")

// loopbackError explains ErrLoopback for one URL and matches it.
type loopbackError struct{ url string }

func (e *loopbackError) Error() string {
	return fmt.Sprintf("the public URL %s is a loopback address the vendor cannot reach; start eventdesk with --public-url set to an address reachable from the internet (e.g. a tunnel)", e.url)
}

func (e *loopbackError) Is(target error) bool { return target == ErrLoopback }

// stateError is a refusal caused by the instance's own state (no token, a
// webhook already registered, …): the API answers it 409, where a vendor
// failure is a 502.
type stateError struct{ msg string }

func (e *stateError) Error() string { return e.msg }

func stateErrorf(format string, a ...any) error { return &stateError{msg: fmt.Sprintf(format, a...)} }

// vendorError wraps a vendor client's error; a 401 says which configuration
// key holds the credentials the vendor refused.
func vendorError(what, credKey string, err error) error {
	if errors.Is(err, pipedrive.ErrCredentialsRejected) || errors.Is(err, closeio.ErrCredentialsRejected) {
		return fmt.Errorf("%s: the vendor rejected the instance's credentials (check %s): %w", what, credKey, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// scrubVendorError masks the instance's secrets in err's text: vendor
// answers are quoted in it, and a vendor that echoes the request would
// show the credentials. The stored instance is read again for an API token
// a Pipedrive login kept meanwhile; extra are secrets not stored yet.
func scrubVendorError(ctx context.Context, st InstanceStore, in model.Instance, err error, extra ...string) error {
	if err == nil {
		return nil
	}
	secrets := append(in.SecretValues(), extra...)
	// Scrubbing must not be skipped because the request was cancelled.
	if cur, cerr := st.Instance(context.WithoutCancel(ctx), in.ID); cerr == nil {
		secrets = append(secrets, cur.SecretValues()...)
	}
	return model.ScrubError(err, secrets...)
}

// closeObjects are the Close object types eventdesk subscribes to.
var closeObjects = []string{"lead", "contact", "opportunity"}

// RegisterWebhook subscribes the instance's webhook URL with the vendor and
// stores what the vendor's deliveries will be checked against: Pipedrive
// gets generated Basic credentials (event.webhook.username/password), Close
// returns a signature_key (event.webhook.signature.key). The subscription id
// is kept in event.notification.subscription.id for UnregisterWebhook.
func RegisterWebhook(ctx context.Context, st InstanceStore, publicURL string, id int64, hc *http.Client) (in model.Instance, err error) {
	in, err = st.Instance(ctx, id)
	if err != nil {
		return in, err
	}
	var generated []string // credentials sent to the vendor before they are stored
	defer func() { err = scrubVendorError(ctx, st, in, err, generated...) }()
	cfg := in.Configuration
	if sub := cfg[model.KeyWebhookID]; sub != "" {
		return in, stateErrorf("instance %d already has vendor webhook %s; unregister it first", id, sub)
	}
	hookURL := model.WebhookURL(publicURL, in.ElementKey, in.ID)
	if err := reachable(publicURL, cfg[model.KeyBaseURL]); err != nil {
		return in, err
	}
	set := map[string]string{}
	switch in.ElementKey {
	case "pipedrive":
		token, err := pipedriveToken(ctx, st, in, hc, "registering a webhook")
		if err != nil {
			return in, err
		}
		user, pass := "eventdesk-"+fmt.Sprint(id), randomSecret()
		generated = append(generated, pass, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		c := &pipedrive.Client{BaseURL: cfg[model.KeyBaseURL], APIToken: token, HTTPClient: hc}
		hook, err := c.RegisterWebhook(ctx, hookURL, fmt.Sprintf("eventdesk instance %d", id), user, pass)
		if err != nil {
			return in, vendorError("register webhook with Pipedrive", model.KeyPipedriveToken, err)
		}
		set[model.KeyWebhookUsername], set[model.KeyWebhookPassword], set[model.KeyWebhookID] = user, pass, hook.ID
	case "closeio":
		c := &closeio.Client{BaseURL: cfg[model.KeyBaseURL], APIKey: cfg[model.KeyCloseAPIKey], HTTPClient: hc}
		sub, err := c.RegisterWebhook(ctx, hookURL, closeObjects)
		if err != nil {
			if sub.ID != "" {
				// Created but unusable (no signature_key): do not leave a
				// subscription behind that eventdesk cannot unregister.
				_ = c.DeleteWebhook(ctx, sub.ID)
			}
			return in, vendorError("register webhook with Close", model.KeyCloseAPIKey, err)
		}
		set[model.KeyWebhookSignatureKey], set[model.KeyWebhookID] = sub.SignatureKey, sub.ID
	default:
		return in, stateErrorf("element %s has no webhook registration", in.ElementKey)
	}
	return st.UpdateInstance(ctx, id, func(cur model.Instance) (model.Instance, error) {
		for k, v := range set {
			cur.Configuration[k] = v
		}
		cur.UpdatedAt = time.Now().UTC()
		return cur, nil
	})
}

// UnregisterWebhook deletes the vendor subscription and forgets its
// credentials. A subscription the vendor no longer knows counts as deleted.
func UnregisterWebhook(ctx context.Context, st InstanceStore, id int64, hc *http.Client) (in model.Instance, err error) {
	in, err = st.Instance(ctx, id)
	if err != nil {
		return in, err
	}
	defer func() { err = scrubVendorError(ctx, st, in, err) }()
	cfg := in.Configuration
	sub := cfg[model.KeyWebhookID]
	if sub == "" {
		return in, stateErrorf("instance %d has no registered vendor webhook (event.notification.subscription.id is empty)", id)
	}
	var drop []string
	switch in.ElementKey {
	case "pipedrive":
		token, err := pipedriveToken(ctx, st, in, hc, "deleting the webhook")
		if err != nil {
			return in, err
		}
		c := &pipedrive.Client{BaseURL: cfg[model.KeyBaseURL], APIToken: token, HTTPClient: hc}
		if err := c.DeleteWebhook(ctx, sub); err != nil && !errors.Is(err, pipedrive.ErrNotFound) {
			return in, vendorError("delete webhook "+sub+" at Pipedrive", model.KeyPipedriveToken, err)
		}
		drop = []string{model.KeyWebhookUsername, model.KeyWebhookPassword, model.KeyWebhookID}
	case "closeio":
		c := &closeio.Client{BaseURL: cfg[model.KeyBaseURL], APIKey: cfg[model.KeyCloseAPIKey], HTTPClient: hc}
		if err := c.DeleteWebhook(ctx, sub); err != nil && !errors.Is(err, closeio.ErrNotFound) {
			return in, vendorError("delete webhook "+sub+" at Close", model.KeyCloseAPIKey, err)
		}
		drop = []string{model.KeyWebhookSignatureKey, model.KeyWebhookID}
	}
	return st.UpdateInstance(ctx, id, func(cur model.Instance) (model.Instance, error) {
		for _, k := range drop {
			delete(cur.Configuration, k)
		}
		cur.UpdatedAt = time.Now().UTC()
		return cur, nil
	})
}

// pipedriveToken is the API token webhook calls use: the instance's
// pipedrive.api.token or, when only pipedrive.email and pipedrive.password
// are set, the token Pipedrive's login exchange gives for them,
// stored on the instance as the poller stores it. what names the action in
// the errors, which never hold the password or the token.
func pipedriveToken(ctx context.Context, st InstanceStore, in model.Instance, hc *http.Client, what string) (string, error) {
	cfg := in.Configuration
	if token := cfg[model.KeyPipedriveToken]; token != "" {
		return token, nil
	}
	email, pass := cfg[model.KeyPipedriveEmail], cfg[model.KeyPipedrivePassword]
	if email == "" || pass == "" {
		return "", stateErrorf("instance %d has no pipedrive.api.token, nor pipedrive.email and pipedrive.password to obtain one; %s needs them", in.ID, what)
	}
	token, err := pipedrive.Login(ctx, hc, cfg[model.KeyBaseURL], email, pass)
	if errors.Is(err, pipedrive.ErrCredentialsRejected) {
		return "", fmt.Errorf("%s: Pipedrive rejected the instance's pipedrive.email and pipedrive.password when logging in for an API token (check them, or set pipedrive.api.token): %w", what, err)
	}
	if errors.Is(err, pipedrive.ErrLoginUnreachable) {
		return "", fmt.Errorf("%s: logging in to Pipedrive with pipedrive.email and pipedrive.password could not connect to Pipedrive (a connection problem, not the credentials; check base.url and this machine's network): %w", what, err)
	}
	if errors.Is(err, pipedrive.ErrNotFound) {
		return "", fmt.Errorf("%s: logging in to Pipedrive with pipedrive.email and pipedrive.password: %w: base.url offers no login exchange; set pipedrive.api.token instead", what, err)
	}
	if err != nil {
		return "", fmt.Errorf("%s: logging in to Pipedrive with pipedrive.email and pipedrive.password did not complete (Pipedrive failed to answer it, which says nothing about the credentials; try again, or set pipedrive.api.token to skip the login): %w", what, err)
	}
	return st.KeepPipedriveToken(ctx, in.ID, token)
}

// reachable refuses a loopback public URL unless the vendor API itself is on
// this machine (a fake vendor in a test or demo can reach loopback; the real
// one cannot).
func reachable(publicURL, vendorBase string) error {
	if !isLoopbackURL(publicURL) || isLoopbackURL(vendorBase) {
		return nil
	}
	return &loopbackError{publicURL}
}

func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// registerAPI handles POST and DELETE /instances/{id}/webhook.
func (s *Server) registerAPI(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	var in model.Instance
	if r.Method == http.MethodDelete {
		in, err = UnregisterWebhook(r.Context(), s.st, id, s.cfg.HTTPClient)
	} else {
		in, err = RegisterWebhook(r.Context(), s.st, s.cfg.PublicURL, id, s.cfg.HTTPClient)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, notFoundErr(err, "instance"), nil)
			return
		}
		status := http.StatusBadGateway
		var se *stateError
		if errors.Is(err, ErrLoopback) || errors.As(err, &se) {
			status = http.StatusConflict
		}
		s.fail(w, r, &httpError{status: status, msg: err.Error(), err: err}, nil)
		return
	}
	writeJSON(w, http.StatusOK, NewInstanceJSON(in, s.cfg.PublicURL, false))
}
