package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakeclose"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
)

// Webhook registration tests: POST and DELETE
// /instances/{id}/webhook against the fake Pipedrive and a Close stub.

// rcvLiveEnv is a listener served over real HTTP whose public URL is its
// own address, so a fake vendor can deliver to the registered URL.
func rcvLiveEnv(t *testing.T) (*rcvEnv, string) {
	t.Helper()
	return rcvLiveEnvWith(t, nil)
}

// rcvLiveEnvWith is rcvLiveEnv with more configuration.
func rcvLiveEnvWith(t *testing.T, edit func(*Config)) (*rcvEnv, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	public := "http://" + ts.Listener.Addr().String()
	e := rcvNew(t, func(c *Config) {
		c.PublicURL = public
		if edit != nil {
			edit(c)
		}
	})
	ts.Config.Handler = e.srv
	ts.Start()
	t.Cleanup(ts.Close)
	return e, public
}

func (e *rcvEnv) instance(id int64) model.Instance {
	e.t.Helper()
	in, err := e.st.Instance(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

// register calls POST (or DELETE) /instances/{id}/webhook.
func (e *rcvEnv) register(method string, id int64) *httptest.ResponseRecorder {
	return e.authed(method, fmt.Sprintf("%s/instances/%d/webhook", prefix, id), nil)
}

func rcvBasic(u, p string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}}
}

func TestRegisterPipedrive(t *testing.T) {
	e, public := rcvLiveEnv(t)
	fake := fakepipedrive.New(fakepipedrive.Options{})
	t.Cleanup(fake.Close)
	fs := httptest.NewServer(fake)
	t.Cleanup(fs.Close)
	in := e.create("pipedrive", map[string]string{
		model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken,
		model.KeyBaseURL:        fs.URL + "/v1",
	})
	hookURL := model.WebhookURL(public, "pipedrive", in.ID)

	rec := e.register("POST", in.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	// What the vendor was asked.
	var posts []fakepipedrive.RecordedRequest
	for _, r := range fake.Requests() {
		if r.Method == "POST" && r.URL.Path == "/v1/webhooks" {
			posts = append(posts, r)
		}
	}
	if len(posts) != 1 {
		t.Fatalf("vendor got %d POST /v1/webhooks, want 1", len(posts))
	}
	if got := posts[0].Header.Get("x-api-token"); got != fakepipedrive.DefaultAPIToken {
		t.Errorf("x-api-token %q", got)
	}
	var sent map[string]any
	if err := json.Unmarshal(posts[0].Body, &sent); err != nil {
		t.Fatalf("request body %s: %v", posts[0].Body, err)
	}
	for k, want := range map[string]string{"subscription_url": hookURL, "event_action": "*", "event_object": "*", "version": "2.0"} {
		if sent[k] != want {
			t.Errorf("request %s = %v, want %q", k, sent[k], want)
		}
	}
	user, _ := sent["http_auth_user"].(string)
	pass, _ := sent["http_auth_password"].(string)
	if name, _ := sent["name"].(string); user == "" || len(pass) < 16 || name == "" {
		t.Errorf("request user %q password %q name %q: want generated credentials and a name", user, pass, name)
	}
	hooks := fake.Webhooks()
	if len(hooks) != 1 || hooks[0].SubscriptionURL != hookURL || hooks[0].Version != "2.0" {
		t.Fatalf("vendor webhooks %+v", hooks)
	}

	// Stored, and masked in the answer.
	cfg := e.instance(in.ID).Configuration
	if cfg[model.KeyWebhookUsername] != user || cfg[model.KeyWebhookPassword] != pass {
		t.Errorf("stored %q/%q, want what the vendor got %q/%q", cfg[model.KeyWebhookUsername], cfg[model.KeyWebhookPassword], user, pass)
	}
	if cfg[model.KeyWebhookID] != fmt.Sprint(hooks[0].ID) {
		t.Errorf("stored subscription id %q, vendor's %d", cfg[model.KeyWebhookID], hooks[0].ID)
	}
	var ans InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Configuration[model.KeyWebhookPassword] != model.Mask || ans.Configuration[model.KeyWebhookUsername] != user {
		t.Errorf("answer shows %q/%q, want the user and a masked password", ans.Configuration[model.KeyWebhookUsername], ans.Configuration[model.KeyWebhookPassword])
	}
	if strings.Contains(rec.Body.String(), pass) || strings.Contains(rec.Body.String(), fakepipedrive.DefaultAPIToken) {
		t.Error("register answer shows a secret")
	}

	// The vendor's own delivery, with the credentials, is accepted.
	fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Delivered Person"})
	ctx, cancel := context.WithTimeout(context.Background(), rcvStreamWait)
	defer cancel()
	results := fake.Flush(ctx)
	if len(results) != 1 || results[0].StatusCode != http.StatusOK || results[0].Err != nil {
		t.Fatalf("delivery results %+v", results)
	}
	list := e.instanceEvents(in.ID)
	if len(list) != 1 || list[0].ObjectType != "contacts" || list[0].EventType != model.Created {
		t.Fatalf("events after delivery %+v", list)
	}
	if raw := e.raw(list[0].ID); !bytes.Equal(raw, results[0].Body) {
		t.Errorf("stored raw %s, vendor sent %s", raw, results[0].Body)
	}
	path := strings.TrimPrefix(hookURL, public)
	body := rcvPayload(t, "pipedrive-v2-update-person.json")
	rcvErr(t, e.do("POST", path, nil, body), http.StatusUnauthorized, "Basic")
	rcvErr(t, e.do("POST", path, rcvBasic(user, "wrong"), body), http.StatusUnauthorized)
	if res := rcvResult(t, e.do("POST", path, rcvBasic(user, pass), body)); res.Stored != 1 {
		t.Errorf("with credentials: %+v", res)
	}

	// Registering again is refused until unregistered.
	rcvErr(t, e.register("POST", in.ID), http.StatusConflict, "already")
	if n := len(fake.Webhooks()); n != 1 {
		t.Errorf("vendor has %d webhooks after the refused second register", n)
	}

	// Unregister deletes at the vendor and clears the keys.
	rec = e.register("DELETE", in.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("unregister: %d %s", rec.Code, rec.Body)
	}
	if hooks := fake.Webhooks(); len(hooks) != 0 {
		t.Errorf("vendor still has %+v", hooks)
	}
	var deleted bool
	for _, r := range fake.Requests() {
		deleted = deleted || r.Method == "DELETE" && r.URL.Path == fmt.Sprintf("/v1/webhooks/%d", hooks[0].ID)
	}
	if !deleted {
		t.Error("vendor got no DELETE /v1/webhooks/{id}")
	}
	cfg = e.instance(in.ID).Configuration
	for _, k := range []string{model.KeyWebhookUsername, model.KeyWebhookPassword, model.KeyWebhookID} {
		if v, ok := cfg[k]; ok {
			t.Errorf("%s still set (%q) after unregister", k, v)
		}
	}
	// Without stored credentials nothing is demanded any more.
	if res := rcvResult(t, e.do("POST", path, nil, rcvV2("after-unregister", 3))); res.Stored != 1 {
		t.Errorf("after unregister: %+v", res)
	}
	// A second unregister has nothing to delete.
	rcvErr(t, e.register("DELETE", in.ID), http.StatusConflict, "no registered")
}

// rcvCloseStub is a minimal Close webhook API: POST /api/v1/webhook/ and
// DELETE /api/v1/webhook/{id}/.
type rcvCloseStub struct {
	mu      sync.Mutex
	apiKey  string
	sigKey  string
	reqs    []string
	created map[string]any
	subs    map[string]bool
}

func (c *rcvCloseStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	if u, p, ok := r.BasicAuth(); !ok || u != c.apiKey || p != "" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"The API key is invalid."}`)
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v1/webhook/":
		_ = json.Unmarshal(body, &c.created)
		c.subs["whsub_rcv1"] = true
		fmt.Fprintf(w, `{"id":"whsub_rcv1","url":%q,"status":"active","signature_key":%q,"verify_ssl":true}`, c.created["url"], c.sigKey)
	case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/api/v1/webhook/"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/webhook/"), "/")
		if !c.subs[id] {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"Not found."}`)
			return
		}
		delete(c.subs, id)
		_, _ = io.WriteString(w, `{}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"Not found."}`)
	}
}

func TestRegisterClose(t *testing.T) {
	e, public := rcvLiveEnv(t)
	stub := &rcvCloseStub{apiKey: "rcv-close-apikey", sigKey: rcvCloseKey, subs: map[string]bool{}}
	cs := httptest.NewServer(stub)
	t.Cleanup(cs.Close)
	in := e.closeio(map[string]string{model.KeyBaseURL: cs.URL + "/api/v1"})
	hookURL := model.WebhookURL(public, "closeio", in.ID)

	rec := e.register("POST", in.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	stub.mu.Lock()
	created, reqs := stub.created, append([]string(nil), stub.reqs...)
	stub.mu.Unlock()
	if len(reqs) != 1 || reqs[0] != "POST /api/v1/webhook/" {
		t.Fatalf("vendor requests %v", reqs)
	}
	if created["url"] != hookURL {
		t.Errorf("subscribed url %v, want %s", created["url"], hookURL)
	}
	objs := map[string]bool{}
	evs, _ := created["events"].([]any)
	for _, ev := range evs {
		m, _ := ev.(map[string]any)
		objs[fmt.Sprint(m["object_type"])+"."+fmt.Sprint(m["action"])] = true
	}
	for _, want := range []string{"lead.created", "contact.updated", "opportunity.deleted"} {
		if !objs[want] {
			t.Errorf("subscribed events %v lack %s", evs, want)
		}
	}
	cfg := e.instance(in.ID).Configuration
	if cfg[model.KeyWebhookSignatureKey] != rcvCloseKey || cfg[model.KeyWebhookID] != "whsub_rcv1" {
		t.Errorf("stored key %q id %q", cfg[model.KeyWebhookSignatureKey], cfg[model.KeyWebhookID])
	}
	if strings.Contains(rec.Body.String(), rcvCloseKey) {
		t.Error("register answer shows the signature key")
	}

	// A payload signed with the returned key passes; unsigned does not.
	path := strings.TrimPrefix(hookURL, public)
	body := rcvPayload(t, "closeio-opportunity-updated.json")
	rcvErr(t, e.do("POST", path, nil, body), http.StatusUnauthorized, "close-sig-hash")
	if res := rcvResult(t, e.do("POST", path, rcvCloseHeaders(t, rcvCloseKey, rcvNow, body), body)); res.Stored != 1 {
		t.Errorf("signed: %+v", res)
	}

	// Unregister deletes at Close and clears the key.
	rec = e.register("DELETE", in.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("unregister: %d %s", rec.Code, rec.Body)
	}
	stub.mu.Lock()
	left, last := len(stub.subs), stub.reqs[len(stub.reqs)-1]
	stub.mu.Unlock()
	if left != 0 || last != "DELETE /api/v1/webhook/whsub_rcv1/" {
		t.Errorf("vendor subscriptions left %d, last request %q", left, last)
	}
	cfg = e.instance(in.ID).Configuration
	if _, ok := cfg[model.KeyWebhookSignatureKey]; ok {
		t.Error("signature key still stored after unregister")
	}
	if _, ok := cfg[model.KeyWebhookID]; ok {
		t.Error("subscription id still stored after unregister")
	}
}

// rcvNoNetwork is a transport that fails the test if it is used.
type rcvNoNetwork struct{ calls atomic.Int32 }

func (n *rcvNoNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.calls.Add(1)
	return nil, errors.New("rcv: network use refused by the test")
}

func TestRegisterRefusesLoopbackPublicURL(t *testing.T) {
	for _, public := range []string{"http://127.0.0.1:8470", "http://localhost:8470", "http://[::1]:8470"} {
		nn := &rcvNoNetwork{}
		e := rcvNew(t, func(c *Config) {
			c.PublicURL = public
			c.HTTPClient = &http.Client{Transport: nn}
		})
		pd := e.pipedrive(map[string]string{model.KeyBaseURL: "https://api.pipedrive.com/v1"})
		cl := e.closeio(nil) // default base.url: api.close.com
		for _, id := range []int64{pd.ID, cl.ID} {
			ae := rcvErr(t, e.register("POST", id), http.StatusConflict, "loopback", "--public-url")
			if !strings.Contains(ae.Message, public) || strings.Count(ae.Message, "loopback") != 1 {
				t.Errorf("message %q does not name the public URL %s, or repeats itself", ae.Message, public)
			}
		}
		if n := nn.calls.Load(); n != 0 {
			t.Errorf("%s: %d vendor calls made before refusing", public, n)
		}
		if cfg := e.instance(pd.ID).Configuration; cfg[model.KeyWebhookPassword] != "" || cfg[model.KeyWebhookID] != "" {
			t.Errorf("refused register stored %v", cfg)
		}
	}
}

func TestRegisterVendorRejectsCredentials(t *testing.T) {
	e := rcvNew(t, nil)
	fake := fakepipedrive.New(fakepipedrive.Options{APIToken: "the-right-token"})
	t.Cleanup(fake.Close)
	fs := httptest.NewServer(fake)
	t.Cleanup(fs.Close)
	pd := e.pipedrive(map[string]string{model.KeyBaseURL: fs.URL + "/v1", model.KeyPipedriveToken: "a-wrong-token"})
	rec := e.register("POST", pd.ID)
	if rec.Code < 400 {
		t.Fatalf("register with a bad token: %d %s", rec.Code, rec.Body)
	}
	ae := rcvErr(t, rec, rec.Code, "credentials", "pipedrive.api.token")
	if strings.Contains(ae.Message, "a-wrong-token") {
		t.Errorf("message shows the token: %s", ae.Message)
	}

	stub := &rcvCloseStub{apiKey: "the-right-key", sigKey: rcvCloseKey, subs: map[string]bool{}}
	cs := httptest.NewServer(stub)
	t.Cleanup(cs.Close)
	cl := e.closeio(map[string]string{model.KeyBaseURL: cs.URL + "/api/v1"})
	rec = e.register("POST", cl.ID)
	if rec.Code < 400 {
		t.Fatalf("register with a bad key: %d %s", rec.Code, rec.Body)
	}
	rcvErr(t, rec, rec.Code, "credentials", "username")
	for _, id := range []int64{pd.ID, cl.ID} {
		if cfg := e.instance(id).Configuration; cfg[model.KeyWebhookID] != "" {
			t.Errorf("instance %d: refused register stored %v", id, cfg)
		}
	}
	// Nothing to register against: unknown instance.
	rcvErr(t, e.register("POST", 424242), http.StatusNotFound)
}

func TestRegisterVendorFailures(t *testing.T) {
	e := rcvNew(t, nil)
	// Close answers without a signature_key: the subscription it created is
	// deleted again, nothing is stored, and the answer says why.
	stub := &rcvCloseStub{apiKey: "rcv-close-apikey", subs: map[string]bool{}}
	cs := httptest.NewServer(stub)
	t.Cleanup(cs.Close)
	cl := e.closeio(map[string]string{model.KeyBaseURL: cs.URL + "/api/v1"})
	rcvErr(t, e.register("POST", cl.ID), http.StatusBadGateway, "signature_key")
	stub.mu.Lock()
	left, reqs := len(stub.subs), append([]string(nil), stub.reqs...)
	stub.mu.Unlock()
	if left != 0 {
		t.Errorf("Close subscription left behind; vendor requests %v", reqs)
	}
	if cfg := e.instance(cl.ID).Configuration; cfg[model.KeyWebhookID] != "" || cfg[model.KeyWebhookSignatureKey] != "" {
		t.Errorf("stored %v", cfg)
	}

	// Pipedrive refuses the subscription: its message comes through, 502.
	fake := fakepipedrive.New(fakepipedrive.Options{})
	t.Cleanup(fake.Close)
	fs := httptest.NewServer(fake)
	t.Cleanup(fs.Close)
	fake.Fail("/v1/webhooks", 1, fakepipedrive.Status(http.StatusServiceUnavailable))
	pd := e.pipedrive(map[string]string{model.KeyBaseURL: fs.URL + "/v1", model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken})
	rcvErr(t, e.register("POST", pd.ID), http.StatusBadGateway, "Pipedrive", "503")
	if cfg := e.instance(pd.ID).Configuration; cfg[model.KeyWebhookID] != "" || cfg[model.KeyWebhookPassword] != "" {
		t.Errorf("stored %v", cfg)
	}
	// The next attempt succeeds.
	if rec := e.register("POST", pd.ID); rec.Code != http.StatusOK {
		t.Fatalf("second attempt: %d %s", rec.Code, rec.Body)
	}
	// The vendor forgot the webhook: unregister still clears the keys.
	for _, h := range fake.Webhooks() {
		req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/v1/webhooks/%d", fs.URL, h.ID), nil)
		req.Header.Set("x-api-token", fakepipedrive.DefaultAPIToken)
		resp, err := fs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if rec := e.register("DELETE", pd.ID); rec.Code != http.StatusOK {
		t.Fatalf("unregister of a vendor-deleted webhook: %d %s", rec.Code, rec.Body)
	}
	if cfg := e.instance(pd.ID).Configuration; cfg[model.KeyWebhookID] != "" || cfg[model.KeyWebhookPassword] != "" {
		t.Errorf("keys left after unregister: %v", cfg)
	}
	// A Pipedrive instance with only email/password logs in first; this
	// fake has no login exchange, so the login is refused and nothing is
	// registered (TestRegisterPipedriveEmailPassword covers the rest).
	em := e.create("pipedrive", map[string]string{model.KeyPipedriveEmail: "ops@example.com", model.KeyPipedrivePassword: "pw-rcv", model.KeyBaseURL: fs.URL + "/v1"})
	rcvErr(t, e.register("POST", em.ID), http.StatusBadGateway, "pipedrive.email", "pipedrive.api.token")
	if cfg := e.instance(em.ID).Configuration; cfg[model.KeyWebhookID] != "" || cfg[model.KeyPipedriveToken] != "" {
		t.Errorf("refused login stored %v", cfg)
	}
}

// pdCalls counts the fake's login exchanges and webhook creations.
func pdCalls(fake *fakepipedrive.Server) (logins, creates int) {
	for _, r := range fake.Requests() {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/authorizations":
			logins++
		case r.Method == "POST" && r.URL.Path == "/v1/webhooks":
			creates++
		}
	}
	return logins, creates
}

// An instance configured with pipedrive.email/password only (the seed's
// form) logs in for an API token, stores it as the poller does,
// and registers with it; unregister logs in likewise when the token is gone.
func TestRegisterPipedriveEmailPassword(t *testing.T) {
	const (
		email    = "ops@example.com"
		password = "pd-Reg-Secret-9"
		token    = "pd-token-from-login"
	)
	var logs bytes.Buffer
	var logMu sync.Mutex
	e, public := rcvLiveEnvWith(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{mu: &logMu, w: &logs}, nil))
	})
	fake := fakepipedrive.New(fakepipedrive.Options{APIToken: token, Email: email, Password: password})
	t.Cleanup(fake.Close)
	fs := httptest.NewServer(fake)
	t.Cleanup(fs.Close)
	in := e.create("pipedrive", map[string]string{
		model.KeyPipedriveEmail: email, model.KeyPipedrivePassword: password, model.KeyBaseURL: fs.URL + "/v1",
	})
	if tok, ok := e.instance(in.ID).Configuration[model.KeyPipedriveToken]; ok {
		t.Fatalf("created with token %q", tok)
	}

	rec := e.register("POST", in.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	if logins, creates := pdCalls(fake); logins != 1 || creates != 1 {
		t.Fatalf("vendor got %d logins and %d webhook creations, want 1 and 1", logins, creates)
	}
	for _, r := range fake.Requests() {
		if r.URL.Path == "/v1/webhooks" && r.Header.Get("x-api-token") != token {
			t.Errorf("POST /v1/webhooks with x-api-token %q, want the login's token", r.Header.Get("x-api-token"))
		}
	}
	hooks := fake.Webhooks()
	if len(hooks) != 1 || hooks[0].SubscriptionURL != model.WebhookURL(public, "pipedrive", in.ID) {
		t.Fatalf("vendor webhooks %+v", hooks)
	}
	cfg := e.instance(in.ID).Configuration
	if cfg[model.KeyPipedriveToken] != token {
		t.Errorf("stored token %q, want the login's", cfg[model.KeyPipedriveToken])
	}
	if cfg[model.KeyWebhookID] != fmt.Sprint(hooks[0].ID) || cfg[model.KeyWebhookPassword] == "" {
		t.Errorf("stored webhook keys %v", cfg)
	}
	if cfg[model.KeyPipedriveEmail] != email || cfg[model.KeyPipedrivePassword] != password {
		t.Errorf("email/password changed: %q", cfg[model.KeyPipedriveEmail])
	}
	// The answer masks the token it now holds, and the password.
	var ans InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Configuration[model.KeyPipedriveToken] != model.Mask || ans.Configuration[model.KeyPipedrivePassword] != model.Mask {
		t.Errorf("answer shows token %q, password %q; want both masked", ans.Configuration[model.KeyPipedriveToken], ans.Configuration[model.KeyPipedrivePassword])
	}
	get := e.authed("GET", fmt.Sprintf("%s/instances/%d", prefix, in.ID), nil)
	for _, body := range []string{rec.Body.String(), get.Body.String()} {
		if strings.Contains(body, token) || strings.Contains(body, password) {
			t.Errorf("answer shows a secret: %s", body)
		}
	}

	// Unregister with the stored token: no second login.
	if rec := e.register("DELETE", in.ID); rec.Code != http.StatusOK {
		t.Fatalf("unregister: %d %s", rec.Code, rec.Body)
	}
	if logins, _ := pdCalls(fake); logins != 1 || len(fake.Webhooks()) != 0 {
		t.Errorf("%d logins, vendor webhooks %+v", logins, fake.Webhooks())
	}

	// Registered, then the token dropped (e.g. an instance stored before
	// this release): unregister logs in again and deletes.
	if rec := e.register("POST", in.ID); rec.Code != http.StatusOK {
		t.Fatalf("second register: %d %s", rec.Code, rec.Body)
	}
	if _, err := e.st.UpdateInstance(t.Context(), in.ID, func(cur model.Instance) (model.Instance, error) {
		delete(cur.Configuration, model.KeyPipedriveToken)
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	if rec := e.register("DELETE", in.ID); rec.Code != http.StatusOK {
		t.Fatalf("unregister after a login: %d %s", rec.Code, rec.Body)
	}
	if logins, _ := pdCalls(fake); logins != 1 || len(fake.Webhooks()) != 0 {
		t.Errorf("unregister: %d logins, vendor webhooks %+v", logins, fake.Webhooks())
	}
	cfg = e.instance(in.ID).Configuration
	if cfg[model.KeyPipedriveToken] != token || cfg[model.KeyWebhookID] != "" {
		t.Errorf("after unregister: token stored %v, subscription id %q", cfg[model.KeyPipedriveToken] == token, cfg[model.KeyWebhookID])
	}

	t.Run("wrong password", func(t *testing.T) {
		bad := e.create("pipedrive", map[string]string{
			model.KeyPipedriveEmail: email, model.KeyPipedrivePassword: "wrong-" + password, model.KeyBaseURL: fs.URL + "/v1",
		})
		fake.ResetRequests()
		ae := rcvErr(t, e.register("POST", bad.ID), http.StatusBadGateway,
			"rejected", "pipedrive.email", "pipedrive.password", "pipedrive.api.token", "401")
		if strings.Contains(ae.Message, password) {
			t.Errorf("message shows the password: %s", ae.Message)
		}
		if logins, creates := pdCalls(fake); logins != 1 || creates != 0 || len(fake.Webhooks()) != 0 {
			t.Errorf("vendor got %d logins, %d webhook creations; webhooks %+v", logins, creates, fake.Webhooks())
		}
		cfg := e.instance(bad.ID).Configuration
		for _, k := range []string{model.KeyPipedriveToken, model.KeyWebhookID, model.KeyWebhookUsername, model.KeyWebhookPassword} {
			if v, ok := cfg[k]; ok {
				t.Errorf("refused login stored %s = %q", k, v)
			}
		}

		// Unregister with a refused login keeps the subscription id, so it
		// can be retried once the credentials are fixed.
		if _, err := e.st.UpdateInstance(t.Context(), bad.ID, func(cur model.Instance) (model.Instance, error) {
			cur.Configuration[model.KeyWebhookID] = "4242"
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
		rcvErr(t, e.register("DELETE", bad.ID), http.StatusBadGateway, "rejected", "pipedrive.password")
		if id := e.instance(bad.ID).Configuration[model.KeyWebhookID]; id != "4242" {
			t.Errorf("subscription id %q after a refused unregister", id)
		}
	})

	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), password) || strings.Contains(logs.String(), token) {
		t.Errorf("logs show a secret:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "pipedrive.email") {
		t.Errorf("the refused registrations were not logged:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRegisterCloseWithFake registers with the fake Close and lets it
// deliver a signed event to the listener over HTTP.
func TestRegisterCloseWithFake(t *testing.T) {
	e, public := rcvLiveEnv(t)
	fake := fakeclose.New(fakeclose.Options{Clock: fakeclose.NewClock(rcvNow)})
	t.Cleanup(fake.Close)
	fs := httptest.NewServer(fake)
	t.Cleanup(fs.Close)
	in := e.closeio(map[string]string{model.KeyCloseAPIKey: fakeclose.DefaultAPIKey, model.KeyBaseURL: fs.URL + "/api/v1"})
	if rec := e.register("POST", in.ID); rec.Code != http.StatusOK {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	subs := fake.Subscriptions()
	if len(subs) != 1 || subs[0].URL != model.WebhookURL(public, "closeio", in.ID) {
		t.Fatalf("vendor subscriptions %+v", subs)
	}
	cfg := e.instance(in.ID).Configuration
	if cfg[model.KeyWebhookSignatureKey] != subs[0].SignatureKey || cfg[model.KeyWebhookID] != subs[0].ID {
		t.Fatalf("stored key %q id %q, vendor's %q %q", cfg[model.KeyWebhookSignatureKey], cfg[model.KeyWebhookID], subs[0].SignatureKey, subs[0].ID)
	}
	rec := fake.Create(fakeclose.KindContact, map[string]any{"name": "Signed Contact"})
	ctx, cancel := context.WithTimeout(context.Background(), rcvStreamWait)
	defer cancel()
	// A new contact comes with its new lead: two signed deliveries.
	results := fake.Flush(ctx)
	sent := map[string][]byte{}
	for _, r := range results {
		if r.StatusCode != http.StatusOK || r.Err != nil {
			t.Errorf("delivery of %s %s: %d %v", r.ObjectType, r.ObjectID, r.StatusCode, r.Err)
		}
		sent[r.ObjectID] = r.Body
	}
	if len(results) == 0 || sent[rec.ID] == nil {
		t.Fatalf("no delivery of contact %s among %d", rec.ID, len(results))
	}
	list := e.instanceEvents(in.ID)
	if len(list) != len(results) {
		t.Fatalf("%d events for %d deliveries", len(list), len(results))
	}
	var found bool
	for _, ev := range list {
		if ev.ObjectID == rec.ID {
			found = true
			if ev.ObjectType != "contacts" || ev.EventType != model.Created {
				t.Errorf("contact event %s %s", ev.ObjectType, ev.EventType)
			}
			if raw := e.raw(ev.ID); !bytes.Equal(raw, sent[rec.ID]) {
				t.Errorf("stored raw differs from the delivered body")
			}
		}
	}
	if !found {
		t.Errorf("no event for contact %s", rec.ID)
	}
	if r := e.register("DELETE", in.ID); r.Code != http.StatusOK {
		t.Fatalf("unregister: %d %s", r.Code, r.Body)
	}
	if subs := fake.Subscriptions(); len(subs) != 0 {
		t.Errorf("vendor still has %+v", subs)
	}
}

// A vendor that echoes the request in its error answer (the API key, the
// Basic credentials, the generated webhook password) does not put any of
// them into the API's answer or the rejected log.
func TestRegisterVendorEchoIsScrubbed(t *testing.T) {
	e := rcvNew(t, nil)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal(fmt.Sprintf("bad request: auth=%s token=%s body=%s", r.Header.Get("Authorization"), r.Header.Get("x-api-token"), body))
		fmt.Fprintf(w, `{"error":%s}`, msg)
	}))
	t.Cleanup(echo.Close)
	const apiKey, token = "echo-close-APIKEY-1", "echo-pd-TOKEN-2"
	cl := e.closeio(map[string]string{model.KeyBaseURL: echo.URL + "/api/v1", model.KeyCloseAPIKey: apiKey})
	pd := e.pipedrive(map[string]string{model.KeyBaseURL: echo.URL + "/v1", model.KeyPipedriveToken: token})
	for _, id := range []int64{cl.ID, pd.ID} {
		rec := e.register("POST", id)
		ae := rcvErr(t, rec, http.StatusBadGateway, "bad request", "********")
		basic := base64.StdEncoding.EncodeToString([]byte(apiKey + ":"))
		for _, s := range []string{apiKey, token, basic} {
			if strings.Contains(ae.Message, s) {
				t.Errorf("instance %d: the answer shows %q: %s", id, s, ae.Message)
			}
		}
		// Pipedrive got a generated webhook password that was never stored.
		if strings.Contains(ae.Message, "http_auth_password") && !strings.Contains(ae.Message, `"http_auth_password":"********"`) {
			t.Errorf("instance %d: the generated webhook password is shown: %s", id, ae.Message)
		}
	}
	rej, _, _ := e.st.RejectedList(t.Context(), 0, 10)
	for _, r := range rej {
		if strings.Contains(r.Reason, apiKey) || strings.Contains(r.Reason, token) {
			t.Errorf("rejected log keeps a secret: %s", r.Reason)
		}
	}
}

// Registering for an email/password instance whose login cannot connect
// says it was the connection, not the credentials.
func TestRegisterPipedriveLoginCannotConnect(t *testing.T) {
	e := rcvNew(t, nil)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	em := e.create("pipedrive", map[string]string{model.KeyPipedriveEmail: "ops@example.com", model.KeyPipedrivePassword: "pw-rcv", model.KeyBaseURL: dead.URL + "/v1"})
	ae := rcvErr(t, e.register("POST", em.ID), http.StatusBadGateway, "could not connect to Pipedrive", "not the credentials")
	if strings.Contains(ae.Message, "set pipedrive.api.token") {
		t.Errorf("a connection failure advises a token: %s", ae.Message)
	}
}
