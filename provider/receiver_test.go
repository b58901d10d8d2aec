package provider

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Webhook receiver tests: vendor payloads posted to the URL an
// instance's webhookUrl names, read back through the API.

const (
	rcvPublicURL = "http://127.0.0.1:8470"
	rcvAuth      = "User rcv-user-Secret, Organization rcv-org-Secret"
	// rcvCloseKey is the published test-vector key (Close's docs' example).
	rcvCloseKey = "058bfb6a3d8cfdc4da7c3be5901b16ae11da982b46a25fb2cd7016e97a140a1c"
	// rcvSecretAuth is sent on bad requests; it must never reach the
	// rejected log.
	rcvSecretPW = "rcv-Sekrit-PW-9f8e"
)

var rcvSecrets = store.Secrets{User: "rcv-user-Secret", Organization: "rcv-org-Secret"}

// rcvNow is the listener's fake clock.
var rcvNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

type rcvEnv struct {
	t   *testing.T
	st  *store.Store
	srv *Server
}

// rcvNew opens a real (fsync'd) store in a temp dir and a listener on it.
// edit may change the configuration before the listener is built.
func rcvNew(t *testing.T, edit func(*Config)) *rcvEnv {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := Config{PublicURL: rcvPublicURL, Secrets: rcvSecrets, Now: func() time.Time { return rcvNow }}
	if edit != nil {
		edit(&cfg)
	}
	return &rcvEnv{t: t, st: st, srv: New(st, cfg)}
}

// do sends one request through the handler. hdr may be nil.
func (e *rcvEnv) do(method, path string, hdr http.Header, body []byte) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

func (e *rcvEnv) authed(method, path string, body []byte) *httptest.ResponseRecorder {
	return e.do(method, path, http.Header{"Authorization": {rcvAuth}}, body)
}

// create makes an instance of element with cfg through the API.
func (e *rcvEnv) create(element string, cfg map[string]string) InstanceJSON {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"element": map[string]string{"key": element}, "name": "rcv " + element, "configuration": cfg})
	rec := e.authed("POST", prefix+"/instances", body)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("create %s: %d %s", element, rec.Code, rec.Body)
	}
	var in InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &in); err != nil {
		e.t.Fatal(err)
	}
	return in
}

func (e *rcvEnv) pipedrive(extra map[string]string) InstanceJSON {
	cfg := map[string]string{model.KeyPipedriveToken: "rcv-pd-token"}
	for k, v := range extra {
		cfg[k] = v
	}
	return e.create("pipedrive", cfg)
}

func (e *rcvEnv) closeio(extra map[string]string) InstanceJSON {
	cfg := map[string]string{model.KeyCloseAPIKey: "rcv-close-apikey"}
	for k, v := range extra {
		cfg[k] = v
	}
	return e.create("closeio", cfg)
}

// rcvHookPath is the path of the URL model.WebhookURL gives the instance;
// it is also the path of the API's webhookUrl.
func rcvHookPath(t *testing.T, in InstanceJSON) string {
	t.Helper()
	want := model.WebhookURL(rcvPublicURL, in.Element.Key, in.ID)
	if in.WebhookURL != want {
		t.Fatalf("webhookUrl %q, want %q", in.WebhookURL, want)
	}
	u, err := url.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func rcvPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rcvV2 is a Pipedrive v2 "change person" body with event id evID.
func rcvV2(evID string, personID int) []byte {
	return []byte(fmt.Sprintf(`{"data":{"id":%d,"name":"P %d"},"previous":{"name":"old"},"meta":{"action":"change","entity":"person","entity_id":"%d","id":"%s","timestamp":"2024-05-06T07:00:00.000Z","version":"2.0","webhook_id":"1","attempt":1}}`,
		personID, personID, personID, evID))
}

// rcvResult decodes a 200 receiver answer.
func rcvResult(t *testing.T, rec *httptest.ResponseRecorder) receiveResult {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	var res receiveResult
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	if len(res.EventIDs) != res.Stored {
		t.Errorf("answer %s: %d eventIds for stored=%d", rec.Body, len(res.EventIDs), res.Stored)
	}
	return res
}

func (e *rcvEnv) instanceEvents(id int64) []model.Event {
	e.t.Helper()
	rec := e.authed("GET", fmt.Sprintf("%s/instances/%d/events", prefix, id), nil)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("list events of %d: %d %s", id, rec.Code, rec.Body)
	}
	var out []model.Event
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *rcvEnv) event(id string) model.Event {
	e.t.Helper()
	rec := e.authed("GET", prefix+"/instances/events/"+id, nil)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("get event %s: %d %s", id, rec.Code, rec.Body)
	}
	var out model.Event
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *rcvEnv) raw(id string) []byte {
	e.t.Helper()
	rec := e.authed("GET", prefix+"/instances/events/"+id+"/raw", nil)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("get raw %s: %d %s", id, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func (e *rcvEnv) eventCount() int {
	e.t.Helper()
	n, err := e.st.EventCount(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *rcvEnv) rejected() ([]store.Rejected, []byte) {
	e.t.Helper()
	rec := e.authed("GET", prefix+"/rejected-requests?pageSize=500", nil)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("rejected-requests: %d %s", rec.Code, rec.Body)
	}
	var out []store.Rejected
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out, rec.Body.Bytes()
}

// rcvCloseSign is close-sig-hash computed independently of model/signature:
// hex(HMAC-SHA256(hex_decode(key), timestamp ‖ body)).
func rcvCloseSign(t *testing.T, keyHex, ts string, body []byte) string {
	t.Helper()
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func rcvCloseHeaders(t *testing.T, keyHex string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	return http.Header{"Close-Sig-Timestamp": {ts}, "Close-Sig-Hash": {rcvCloseSign(t, keyHex, ts, body)}}
}

func TestRcvCloseSignHelperMatchesSpecVector(t *testing.T) {
	body := `{"subscription_id":"whsub_test","event":{"id":"ev_1","object_type":"lead","action":"created","object_id":"lead_1"}}`
	if got := rcvCloseSign(t, rcvCloseKey, "1544271440", []byte(body)); got != "6a60782fee53001571fe3c922df7de224cf60290f76c45acb4af5d714ea8d409" {
		t.Fatalf("test vector: %s", got)
	}
}

func TestReceiveVendorExamples(t *testing.T) {
	cases := []struct {
		file, element                  string
		objectType, objectID, vendorID string
		eventType                      model.EventType
		date                           string
	}{
		{"pipedrive-v2-update-person.json", "pipedrive", "contacts", "8", "7c812ffd-8f50-45ea-a597-b8fcba2da9c0", model.Updated, "2022-11-24T15:18:35.616Z"},
		{"pipedrive-v2-delete-deal.json", "pipedrive", "opportunities", "8", "a66e9392-fe41-4425-9bef-a1d32bf2df8c", model.Deleted, "2022-11-24T15:16:53.335Z"},
		{"pipedrive-v2-create-lead.json", "pipedrive", "leads", "b1810230-6c0d-11ed-9826-a53d0eb706a5", "0e2f4b6a-8c1d-4e3f-a5b7-c9d1e3f5a7b9", model.Created, "2022-11-24T15:35:58.702Z"},
		{"pipedrive-v1-updated-deal.json", "pipedrive", "opportunities", "42", "v1:7:42:updated:1700000000123456", model.Updated, "2023-11-14T22:13:20.123456Z"},
		{"closeio-opportunity-updated.json", "closeio", "opportunities", "oppo_7H4sjNso7FyBFaeR3RXi5PMJbilfo0c6UPCxsJtEhCO", "ev_2sYKRjcrA79yKxi3S4Crd7", model.Updated, "2019-01-15T12:48:23.395Z"},
		{"closeio-legacy-create-lead.json", "closeio", "leads", "lead_zwqYhEFwzPyfCErS8uQ77is2wFLvr9BgVi6cTfbFM68", "", model.Created, "2019-01-15T12:41:24.496Z"},
	}
	e := rcvNew(t, nil)
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			e.t = t
			var in InstanceJSON
			if c.element == "pipedrive" {
				in = e.pipedrive(nil)
			} else {
				in = e.closeio(nil)
			}
			body := rcvPayload(t, c.file)
			res := rcvResult(t, e.do("POST", rcvHookPath(t, in), http.Header{"Content-Type": {"application/json"}}, body))
			if res.Stored != 1 || res.Duplicates != 0 {
				t.Fatalf("answer %+v, want stored=1 duplicates=0", res)
			}
			list := e.instanceEvents(in.ID)
			if len(list) != 1 || list[0].ID != res.EventIDs[0] {
				t.Fatalf("instance %d events %+v, want the one event %s", in.ID, list, res.EventIDs[0])
			}
			one := e.event(res.EventIDs[0])
			for _, got := range []model.Event{list[0], one} {
				if got.ObjectType != c.objectType || got.ObjectID != c.objectID || got.EventType != c.eventType {
					t.Errorf("event %s/%s/%s, want %s/%s/%s", got.ObjectType, got.ObjectID, got.EventType, c.objectType, c.objectID, c.eventType)
				}
				if got.Source != model.SourceWebhook || got.InstanceID != in.ID || got.ElementKey != c.element || got.HubKey != "crm" {
					t.Errorf("event source %q instance %d element %q hub %q", got.Source, got.InstanceID, got.ElementKey, got.HubKey)
				}
				if got.VendorEventID != c.vendorID {
					t.Errorf("vendorEventId %q, want %q", got.VendorEventID, c.vendorID)
				}
				if want, _ := time.Parse(time.RFC3339Nano, c.date); !got.Date.Equal(want) {
					t.Errorf("date %v, want %v", got.Date, want)
				}
				if !got.ReceivedAt.Equal(rcvNow) {
					t.Errorf("receivedAt %v, want the listener clock %v", got.ReceivedAt, rcvNow)
				}
				if !json.Valid(got.Raw) {
					t.Errorf("raw is not JSON: %s", got.Raw)
				}
			}
			if raw := e.raw(res.EventIDs[0]); !bytes.Equal(raw, body) {
				t.Errorf("raw answer differs from the posted bytes:\n got %q\nwant %q", raw, body)
			}
		})
	}
}

func TestReceiveIDForms(t *testing.T) {
	e := rcvNew(t, nil)
	in := e.pipedrive(nil)
	id := strconv.FormatInt(in.ID, 10)
	forms := map[string]string{
		"padded":          base64.StdEncoding.EncodeToString([]byte(id)),
		"unpadded":        base64.RawStdEncoding.EncodeToString([]byte(id)),
		"url-safe":        base64.URLEncoding.EncodeToString([]byte(id)),
		"url-safe-raw":    base64.RawURLEncoding.EncodeToString([]byte(id)),
		"escaped-padding": strings.ReplaceAll(base64.StdEncoding.EncodeToString([]byte(id)), "=", "%3D"),
	}
	n := 0
	for name, enc := range forms {
		n++
		res := rcvResult(t, e.do("POST", prefix+"/events/pipedrive/"+enc, nil, rcvV2("form-"+name, n)))
		if res.Stored != 1 {
			t.Errorf("%s (%s): %+v", name, enc, res)
		}
	}
	if got := len(e.instanceEvents(in.ID)); got != len(forms) {
		t.Errorf("instance has %d events, want %d", got, len(forms))
	}
}

func TestReceiveElementInstancesHeader(t *testing.T) {
	e := rcvNew(t, nil)
	a, b := e.pipedrive(nil), e.pipedrive(nil)
	hdr := http.Header{"Element-Instances": {fmt.Sprintf("%d, %d", a.ID, b.ID)}}
	body := rcvPayload(t, "pipedrive-v2-update-person.json")
	res := rcvResult(t, e.do("POST", prefix+"/events/pipedrive", hdr, body))
	if res.Stored != 2 {
		t.Fatalf("answer %+v, want stored=2", res)
	}
	for _, in := range []InstanceJSON{a, b} {
		list := e.instanceEvents(in.ID)
		if len(list) != 1 || list[0].ObjectType != "contacts" || list[0].InstanceID != in.ID {
			t.Errorf("instance %d events %+v", in.ID, list)
		}
		if raw := e.raw(list[0].ID); !bytes.Equal(raw, body) {
			t.Errorf("instance %d raw differs", in.ID)
		}
	}
	// A retry to the same pair is a duplicate for both.
	res = rcvResult(t, e.do("POST", prefix+"/events/pipedrive", hdr, body))
	if res.Stored != 0 || res.Duplicates != 2 {
		t.Errorf("retry answer %+v, want stored=0 duplicates=2", res)
	}

	// Missing or bad header: 400, nothing stored.
	before := e.eventCount()
	for _, h := range []http.Header{nil, {"Element-Instances": {"  "}}, {"Element-Instances": {"1,x"}}, {"Element-Instances": {"-3"}}} {
		rec := e.do("POST", prefix+"/events/pipedrive", h, rcvV2("hdr-bad", 1))
		rcvErr(t, rec, http.StatusBadRequest, "Element-Instances")
	}
	// A closeio instance in the header of a pipedrive post: 404.
	c := e.closeio(nil)
	rec := e.do("POST", prefix+"/events/pipedrive", http.Header{"Element-Instances": {fmt.Sprintf("%d,%d", a.ID, c.ID)}}, rcvV2("hdr-mixed", 1))
	rcvErr(t, rec, http.StatusNotFound, "closeio")
	if got := e.eventCount(); got != before {
		t.Errorf("refused requests stored events: %d → %d", before, got)
	}
}

// rcvErr checks an error answer: status, JSON {requestId, message} with the
// request id of the Elements-Request-Id header, and message parts.
func rcvErr(t *testing.T, rec *httptest.ResponseRecorder, status int, want ...string) apiError {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatalf("error body is not JSON: %s", rec.Body)
	}
	for _, k := range []string{"requestId", "message"} {
		if s, _ := raw[k].(string); s == "" {
			t.Errorf("error body has no %s: %s", k, rec.Body)
		}
	}
	var ae apiError
	_ = json.Unmarshal(rec.Body.Bytes(), &ae)
	if id := rec.Header().Get("Elements-Request-Id"); ae.RequestID != id {
		t.Errorf("requestId %q, header %q", ae.RequestID, id)
	}
	for _, w := range want {
		if !strings.Contains(ae.Message, w) {
			t.Errorf("message %q does not mention %q", ae.Message, w)
		}
	}
	return ae
}

func TestReceiveRejects(t *testing.T) {
	e := rcvNew(t, nil)
	pd := e.pipedrive(nil)
	pdAuth := e.pipedrive(map[string]string{model.KeyWebhookUsername: "hookuser", model.KeyWebhookPassword: "hook-Pass-42"})
	cl := e.closeio(map[string]string{model.KeyWebhookSignatureKey: rcvCloseKey})
	closeBody := rcvPayload(t, "closeio-opportunity-updated.json")
	good := rcvPayload(t, "pipedrive-v2-update-person.json")
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), DefaultMaxBody)...)
	big = append(big, `"}`...)
	badJSON := []byte("{\n  \"meta\": {\n    \"version\": \"2.0\",\n  }\n}")
	sig := func(at time.Time, body []byte) http.Header { return rcvCloseHeaders(t, rcvCloseKey, at, body) }
	badHash := sig(rcvNow, closeBody)
	badHash.Set("Close-Sig-Hash", rcvCloseSign(t, rcvCloseKey, badHash.Get("Close-Sig-Timestamp"), []byte(`{"other":1}`)))
	onlyTS := sig(rcvNow, closeBody)
	onlyTS.Del("Close-Sig-Hash")
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }

	cases := []struct {
		name   string
		path   string
		hdr    http.Header
		body   []byte
		status int
		want   []string
	}{
		{"undecodable id", prefix + "/events/pipedrive/not*base64", nil, good, 400, []string{"not*base64", "not base64"}},
		{"id not a number", prefix + "/events/pipedrive/" + base64.StdEncoding.EncodeToString([]byte("abc")), nil, good, 400, []string{"not a positive decimal id"}},
		{"unknown instance", model.WebhookPath("pipedrive", 987654), nil, good, 404, []string{"987654"}},
		{"element mismatch", model.WebhookPath("pipedrive", cl.ID), nil, good, 404, []string{"closeio", "not pipedrive"}},
		{"unknown element", model.WebhookPath("salesforce", pd.ID), nil, good, 404, []string{"unknown element", "salesforce", "pipedrive", "closeio"}},
		{"body too large", rcvHookPath(t, pd), nil, big, 413, []string{"1 MiB"}},
		{"invalid JSON", rcvHookPath(t, pd), nil, badJSON, 400, []string{"invalid JSON", "line 4, column 3"}},
		{"empty body", rcvHookPath(t, pd), nil, []byte{}, 400, []string{"empty"}},
		{"basic auth missing", rcvHookPath(t, pdAuth), nil, good, 401, []string{"Basic", "event.webhook.username"}},
		{"basic auth wrong password", rcvHookPath(t, pdAuth), http.Header{"Authorization": {basic("hookuser", rcvSecretPW)}}, good, 401, []string{"do not match"}},
		{"basic auth wrong user", rcvHookPath(t, pdAuth), http.Header{"Authorization": {basic(rcvSecretPW, "hook-Pass-42")}}, good, 401, []string{"do not match"}},
		{"close signature missing", rcvHookPath(t, cl), nil, closeBody, 401, []string{"close-sig-hash", "close-sig-timestamp"}},
		{"close signature hash missing", rcvHookPath(t, cl), onlyTS, closeBody, 401, []string{"close-sig-hash"}},
		{"close signature bad hash", rcvHookPath(t, cl), badHash, closeBody, 401, []string{"close-sig-hash does not match"}},
		{"close signature stale", rcvHookPath(t, cl), sig(rcvNow.Add(-6*time.Minute), closeBody), closeBody, 401, []string{"allowed ±5m0s"}},
		{"close signature future", rcvHookPath(t, cl), sig(rcvNow.Add(6*time.Minute), closeBody), closeBody, 401, []string{"allowed ±5m0s"}},
		{"close signature not a number", rcvHookPath(t, cl), http.Header{"Close-Sig-Timestamp": {"yesterday"}, "Close-Sig-Hash": {rcvCloseSign(t, rcvCloseKey, "yesterday", closeBody)}}, closeBody, 401, []string{"close-sig-timestamp"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			hdr := http.Header{}
			for k, v := range c.hdr {
				hdr[k] = v
			}
			if hdr.Get("Authorization") == "" {
				// Every refused request carries a secret the log must hide.
				hdr.Set("Authorization", basic("someone", rcvSecretPW))
			}
			ae := rcvErr(t, e.do("POST", c.path, hdr, c.body), c.status, c.want...)
			if n := e.eventCount(); n != 0 {
				t.Fatalf("%d events stored by a refused request", n)
			}
			list, raw := e.rejected()
			var rec *store.Rejected
			for i := range list {
				if list[i].RequestID == ae.RequestID {
					rec = &list[i]
				}
			}
			if rec == nil {
				t.Fatalf("request %s not in the rejected log", ae.RequestID)
			}
			if rec.Status != c.status || rec.Reason != ae.Message || rec.Method != "POST" || rec.Path != strings.SplitN(c.path, "?", 2)[0] {
				t.Errorf("rejected entry %+v", *rec)
			}
			if bytes.Contains(raw, []byte(rcvSecretPW)) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString([]byte("someone:"+rcvSecretPW)))) {
				t.Errorf("rejected log shows the Authorization secret: %s", raw)
			}
			if got := rec.Headers["Authorization"]; len(got) != 1 || got[0] != "Basic [redacted]" {
				t.Errorf("Authorization in the log: %q, want it redacted", got)
			}
			if len(rec.Body) > 4<<10 {
				t.Errorf("rejected body kept %d bytes, want at most 4 KiB", len(rec.Body))
			}
			if len(c.body) > 0 && len(c.body) <= 4<<10 && rec.Body != string(c.body) {
				t.Errorf("rejected body %q, want the request body", rec.Body)
			}
		})
	}

	e.t = t
	// The rejected log itself needs the API credentials.
	rcvErr(t, e.do("GET", prefix+"/rejected-requests", nil, nil), http.StatusUnauthorized)
}

func TestReceiveAuthAccepted(t *testing.T) {
	e := rcvNew(t, nil)
	pdAuth := e.pipedrive(map[string]string{model.KeyWebhookUsername: "hookuser", model.KeyWebhookPassword: "hook-Pass-42"})
	cl := e.closeio(map[string]string{model.KeyWebhookSignatureKey: rcvCloseKey})
	good := rcvPayload(t, "pipedrive-v2-update-person.json")
	req := httptest.NewRequest("POST", rcvHookPath(t, pdAuth), bytes.NewReader(good))
	req.SetBasicAuth("hookuser", "hook-Pass-42")
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if res := rcvResult(t, rec); res.Stored != 1 {
		t.Errorf("basic auth: %+v", res)
	}

	body := rcvPayload(t, "closeio-opportunity-updated.json")
	for i, at := range []time.Time{rcvNow, rcvNow.Add(-4 * time.Minute), rcvNow.Add(4 * time.Minute)} {
		b := bytes.Replace(body, []byte("ev_2sYKRjcrA79yKxi3S4Crd7"), []byte(fmt.Sprintf("ev_rcv%d", i)), 1)
		res := rcvResult(t, e.do("POST", rcvHookPath(t, cl), rcvCloseHeaders(t, rcvCloseKey, at, b), b))
		if res.Stored != 1 {
			t.Errorf("signed at %v: %+v", at, res)
		}
	}
	// Upper-case hex is the same signature.
	b := bytes.Replace(body, []byte("ev_2sYKRjcrA79yKxi3S4Crd7"), []byte("ev_rcvUpper"), 1)
	hdr := rcvCloseHeaders(t, rcvCloseKey, rcvNow, b)
	hdr.Set("Close-Sig-Hash", strings.ToUpper(hdr.Get("Close-Sig-Hash")))
	if res := rcvResult(t, e.do("POST", rcvHookPath(t, cl), hdr, b)); res.Stored != 1 {
		t.Errorf("upper-case hex: %+v", res)
	}
}

func TestReceiveUnknownShape(t *testing.T) {
	e := rcvNew(t, nil)
	pd, cl := e.pipedrive(nil), e.closeio(nil)
	for _, c := range []struct {
		in   InstanceJSON
		body string
	}{
		{pd, `{"hello":"world"}`},
		{pd, "[1, 2,\n 3]"},
		{pd, `{"meta":{"version":"2.0","entity":"person","action":"archive","entity_id":"5","id":"u-1"}}`},
		{cl, `{"hello":"world"}`},
		{cl, `"just a string"`},
		{cl, `{"subscription_id":"whsub_1","event":{"id":"ev_x","object_type":"lead","action":"exploded","object_id":"lead_9"}}`},
	} {
		res := rcvResult(t, e.do("POST", rcvHookPath(t, c.in), nil, []byte(c.body)))
		if res.Stored != 1 {
			t.Fatalf("%s: %+v", c.body, res)
		}
		ev := e.event(res.EventIDs[0])
		if ev.EventType != model.Unknown || ev.ObjectType == "" {
			t.Errorf("%s: eventType %q objectType %q, want UNKNOWN and a type", c.body, ev.EventType, ev.ObjectType)
		}
		if raw := e.raw(ev.ID); string(raw) != c.body {
			t.Errorf("raw %q, want %q", raw, c.body)
		}
	}
}

func TestReceiveDedupe(t *testing.T) {
	e := rcvNew(t, nil)
	pd, cl := e.pipedrive(nil), e.closeio(nil)
	check := func(path string, bodies ...[]byte) {
		t.Helper()
		for i, b := range bodies {
			res := rcvResult(t, e.do("POST", path, nil, b))
			want := receiveResult{Stored: 1}
			if i > 0 {
				want = receiveResult{Duplicates: 1}
			}
			if res.Stored != want.Stored || res.Duplicates != want.Duplicates {
				t.Errorf("post %d to %s: %+v, want stored=%d duplicates=%d", i+1, path, res, want.Stored, want.Duplicates)
			}
		}
	}
	v2 := rcvPayload(t, "pipedrive-v2-update-person.json")
	// Pipedrive's retry bumps meta.attempt; meta.id stays.
	v2retry := bytes.Replace(v2, []byte(`"attempt": 1`), []byte(`"attempt": 2`), 1)
	if bytes.Equal(v2, v2retry) {
		t.Fatal("retry body not changed")
	}
	check(rcvHookPath(t, pd), v2, v2, v2retry)
	v1 := rcvPayload(t, "pipedrive-v1-updated-deal.json")
	check(rcvHookPath(t, pd), v1, bytes.Replace(v1, []byte(`"retry":0`), []byte(`"retry":1`), 1))
	cb := rcvPayload(t, "closeio-opportunity-updated.json")
	check(rcvHookPath(t, cl), cb, cb, bytes.ReplaceAll(cb, []byte("\n"), []byte("\r\n")))
	if n := len(e.instanceEvents(pd.ID)); n != 2 {
		t.Errorf("pipedrive instance has %d events, want 2", n)
	}
	if n := len(e.instanceEvents(cl.ID)); n != 1 {
		t.Errorf("closeio instance has %d events, want 1", n)
	}
	// The same vendor event id for another instance is not a duplicate.
	pd2 := e.pipedrive(nil)
	if res := rcvResult(t, e.do("POST", rcvHookPath(t, pd2), nil, v2)); res.Stored != 1 {
		t.Errorf("same body to another instance: %+v", res)
	}
}

func TestReceiveConcurrent(t *testing.T) {
	e := rcvNew(t, nil)
	pd := e.pipedrive(nil)
	path := rcvHookPath(t, pd)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	ids := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := e.do("POST", path, nil, rcvV2(fmt.Sprintf("conc-%d", i), i+1))
			var res receiveResult
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil || res.Stored != 1 || len(res.EventIDs) != 1 {
				errs <- fmt.Sprintf("post %d: %d %s", i, rec.Code, rec.Body)
				return
			}
			ids <- res.EventIDs[0]
		}()
	}
	wg.Wait()
	close(errs)
	close(ids)
	for msg := range errs {
		t.Error(msg)
	}
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("event id %s answered twice", id)
		}
		seen[id] = true
	}
	if got := e.eventCount(); got != n {
		t.Errorf("%d events stored, want %d", got, n)
	}
	rec := e.authed("GET", fmt.Sprintf("%s/instances/%d/events?pageSize=500", prefix, pd.ID), nil)
	var list []model.Event
	_ = json.Unmarshal(rec.Body.Bytes(), &list)
	objs := map[string]bool{}
	for _, ev := range list {
		objs[ev.ObjectID] = true
	}
	if len(list) != n || len(objs) != n {
		t.Errorf("listed %d events over %d objects, want %d", len(list), len(objs), n)
	}
}

func TestReceiveEdges(t *testing.T) {
	e := rcvNew(t, nil)
	cl := e.closeio(nil)
	// The same instance named twice: one body is still one event (the
	// legacy Close format has no vendor event id to dedupe on).
	body := rcvPayload(t, "closeio-legacy-create-lead.json")
	res := rcvResult(t, e.do("POST", prefix+"/events/closeio", http.Header{"Element-Instances": {fmt.Sprintf("%d,%d", cl.ID, cl.ID)}}, body))
	if res.Stored != 1 {
		t.Errorf("instance named twice: %+v, want one event", res)
	}
	// A body of exactly the limit is accepted.
	exact := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), DefaultMaxBody-10)...)
	exact = append(exact, `"}`...)
	if len(exact) != DefaultMaxBody {
		t.Fatalf("built %d bytes", len(exact))
	}
	if res := rcvResult(t, e.do("POST", rcvHookPath(t, cl), nil, exact)); res.Stored != 1 {
		t.Errorf("body at the limit: %+v", res)
	}
	// Webhooks are POSTed; another method is a 405 naming POST.
	rec := e.do("GET", rcvHookPath(t, cl), nil, nil)
	rcvErr(t, rec, http.StatusMethodNotAllowed, "POST")
	if got := rec.Header().Get("Allow"); got != "POST" {
		t.Errorf("Allow %q", got)
	}
	if n := e.eventCount(); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	// Unknown events and instances are 404s on the read side.
	rcvErr(t, e.authed("GET", prefix+"/instances/events/999999", nil), http.StatusNotFound)
	rcvErr(t, e.authed("GET", prefix+"/instances/events/999999/raw", nil), http.StatusNotFound)
	rcvErr(t, e.authed("GET", prefix+"/instances/999999/events", nil), http.StatusNotFound)
}

// Formats without an event id (Close's legacy format, an unknown shape)
// are deduped by a hash of the body within the dedupe window: a vendor's
// identical resend is stored once, a changed body or another instance is a
// new event, and after the window the same body is stored again.
func TestReceiveDedupeWithoutVendorID(t *testing.T) {
	now := rcvNow
	clock := func() time.Time { return now }
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &rcvEnv{t: t, st: st, srv: New(st, Config{PublicURL: rcvPublicURL, Secrets: rcvSecrets, Now: clock})}
	cl, cl2 := e.closeio(nil), e.closeio(nil)
	legacy := rcvPayload(t, "closeio-legacy-create-lead.json")
	updated := bytes.Replace(legacy, []byte(`"date_updated": "2019-01-15T12:41:24.496000`), []byte(`"date_updated": "2019-01-15T12:45:00.000000`), 1)
	if bytes.Equal(legacy, updated) {
		t.Fatal("second change not made")
	}
	unknown := []byte(`{"something": "else", "n": 1}`)
	for _, c := range []struct {
		what          string
		inst          InstanceJSON
		body          []byte
		stored, dupes int
	}{
		{"first legacy delivery", cl, legacy, 1, 0},
		{"identical resend", cl, legacy, 0, 1},
		{"another change of the lead", cl, updated, 1, 0},
		{"the same body for another instance", cl2, legacy, 1, 0},
		{"an unknown shape", cl, unknown, 1, 0},
		{"the unknown shape again", cl, unknown, 0, 1},
	} {
		res := rcvResult(t, e.do("POST", rcvHookPath(t, c.inst), nil, c.body))
		if res.Stored != c.stored || res.Duplicates != c.dupes {
			t.Errorf("%s: %+v, want stored=%d duplicates=%d", c.what, res, c.stored, c.dupes)
		}
	}
	now = now.Add(store.DedupeWindow + time.Minute)
	if res := rcvResult(t, e.do("POST", rcvHookPath(t, cl), nil, legacy)); res.Stored != 1 {
		t.Errorf("resend after the dedupe window: %+v, want it stored", res)
	}
	if n := len(e.instanceEvents(cl.ID)); n != 4 {
		t.Errorf("instance has %d events, want 4", n)
	}
}

// A disabled instance's webhooks are still answered 200 and stored (a vendor
// that saw errors would stop sending, or drop its subscription); what the
// instance does not do is poll, and its notifications wait.
func TestReceiveDisabledInstanceStores(t *testing.T) {
	e := rcvNew(t, nil)
	in := e.pipedrive(map[string]string{model.KeyEventsEnabled: "true", model.KeyCallbackURL: "https://app.example.com/cb"})
	if rec := e.authed("PATCH", fmt.Sprintf("%s/instances/%d", prefix, in.ID), []byte(`{"disabled": true}`)); rec.Code != http.StatusOK {
		t.Fatalf("disable: %d %s", rec.Code, rec.Body)
	}
	res := rcvResult(t, e.do("POST", rcvHookPath(t, in), http.Header{"Content-Type": {"application/json"}}, rcvV2("4f1c2d3e-0000-4000-8000-000000000001", 8)))
	if res.Stored != 1 {
		t.Fatalf("webhook to a disabled instance: %+v, want stored=1", res)
	}
	if list := e.instanceEvents(in.ID); len(list) != 1 {
		t.Fatalf("%d events stored for the disabled instance, want 1", len(list))
	}
}

// A webhook with bytes that are not UTF-8 inside its strings is stored as
// sent (/raw answers the same bytes), and the notification made of it is
// valid UTF-8 JSON; one nested deeper than model.MaxJSONDepth is refused
// with 400 and stores nothing. (Both were forwarded verbatim, and strict
// receivers answered 400 for ever.)
func TestReceiveInvalidUTF8AndDeepNesting(t *testing.T) {
	e := rcvNew(t, nil)
	in := e.pipedrive(map[string]string{model.KeyEventsEnabled: "true", model.KeyCallbackURL: "https://app.example.com/cb"})
	body := []byte(strings.Replace(string(rcvV2("4f1c2d3e-0000-4000-8000-0000000000aa", 8)), `"P 8"`, "\"P \xff\xfe 8\"", 1))
	if utf8.Valid(body) || !json.Valid(body) {
		t.Fatal("the test body should be JSON with invalid UTF-8")
	}
	res := rcvResult(t, e.do("POST", rcvHookPath(t, in), http.Header{"Content-Type": {"application/json"}}, body))
	if res.Stored != 1 {
		t.Fatalf("answer %+v", res)
	}
	if got := e.raw(res.EventIDs[0]); !bytes.Equal(got, body) {
		t.Errorf("/raw answers %q, want the bytes sent %q", got, body)
	}
	list, _, err := e.st.Notifications(t.Context(), store.NotificationFilter{InstanceID: in.ID}, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("notifications: %d, %v", len(list), err)
	}
	n, err := e.st.Notification(t.Context(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(n.Body) || !json.Valid(n.Body) || !strings.Contains(string(n.Body), `"P \ufffd\ufffd 8"`) {
		t.Errorf("notification body is not valid UTF-8 JSON with \\ufffd in place: %q", n.Body)
	}

	before := e.eventCount()
	// The body's own object is one level: data at MaxJSONDepth is one too many.
	for _, depth := range []int{model.MaxJSONDepth, 10000} {
		deep := []byte(`{"meta":{"id":"x"},"data":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
		rec := e.do("POST", rcvHookPath(t, in), http.Header{"Content-Type": {"application/json"}}, deep)
		rcvErr(t, rec, http.StatusBadRequest, "nested more than 128 levels deep")
	}
	if got := e.eventCount(); got != before {
		t.Errorf("deep bodies stored %d events", got-before)
	}
}

// The events list narrows by object id (one object's history) and by a
// received-at window; a bound that is not RFC 3339 is a 400 naming it.
func TestListEventsByObjectAndWindow(t *testing.T) {
	e := rcvNew(t, nil)
	pd := e.pipedrive(nil)
	path := rcvHookPath(t, pd)
	for i, person := range []int{7, 8, 7} {
		if rec := e.do("POST", path, nil, rcvV2(fmt.Sprint("obj-", i), person)); rec.Code != http.StatusOK {
			t.Fatalf("webhook %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	list := func(q string) []model.Event {
		t.Helper()
		rec := e.authed("GET", prefix+"/instances/events?"+q, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, rec.Code, rec.Body)
		}
		var l []model.Event
		if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := list("objectId=7"); len(l) != 2 || l[0].ObjectID != "7" || l[1].ObjectID != "7" {
		t.Errorf("objectId=7: %+v", l)
	}
	now := rcvNow.UTC() // the listener's clock stamps ReceivedAt
	if l := list("until=" + now.Add(-time.Hour).Format(time.RFC3339)); len(l) != 0 {
		t.Errorf("until an hour ago: %d events, want none", len(l))
	}
	if l := list("since=" + now.Add(-time.Hour).Format(time.RFC3339) + "&until=" + now.Add(time.Hour).Format(time.RFC3339)); len(l) != 3 {
		t.Errorf("the last hour: %d events, want 3", len(l))
	}
	rcvErr(t, e.authed("GET", prefix+"/instances/events?until=yesterday", nil), http.StatusBadRequest, "until must be an RFC 3339 time")
}
