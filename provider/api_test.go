package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Test fixtures: the seeds' instance.json documents with the placeholders
// filled in (../testdata/seeds), and the seeds' successful responses.

var testSecrets = store.Secrets{User: "user-secret-Aa1", Organization: "org-secret-Bb2"}

const goodAuth = "User user-secret-Aa1, Organization org-secret-Bb2"

// The secret values of the fixtures: none may ever appear in an answer
// other than where the spec allows it.
var fixtureSecrets = []string{"pd-Secret-Pass-1", "api_close_KEY_0123456789", "close-Secret-Pass-2", "pd-api-TOKEN-abcdef"}

var seedFiles = []string{"pipedrive-polling", "pipedrive-webhook", "closeio-polling", "closeio-webhook"}

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// seedBody is a seed's instance.json as an API client sends it: verbatim,
// the Close webhook seed's trailing comma included.
func seedBody(t *testing.T, name string) []byte {
	t.Helper()
	return readFixture(t, "seeds/"+name+".json")
}

type testAPI struct {
	t   *testing.T
	srv *Server
	st  *store.Store
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := New(st, Config{PublicURL: "http://127.0.0.1:8470", Secrets: testSecrets, Now: func() time.Time { return now }})
	return &testAPI{t: t, srv: srv, st: st}
}

// do sends one request through the handler; auth is the Authorization
// header ("" for none).
func (a *testAPI) do(method, path, auth string, body []byte) *httptest.ResponseRecorder {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec
}

func (a *testAPI) authed(method, path string, body []byte) *httptest.ResponseRecorder {
	a.t.Helper()
	return a.do(method, path, goodAuth, body)
}

// create posts body and demands success.
func (a *testAPI) create(body []byte) InstanceJSON {
	a.t.Helper()
	rec := a.authed("POST", prefix+"/instances", body)
	if rec.Code != http.StatusOK {
		a.t.Fatalf("create: status %d: %s", rec.Code, rec.Body)
	}
	var out InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		a.t.Fatal(err)
	}
	return out
}

func (a *testAPI) storedCount() int {
	a.t.Helper()
	all, err := a.st.Instances(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return len(all)
}

// apiErr checks a JSON error answer: status, content type, requestId equal
// to the Elements-Request-Id header, and a message containing every want.
func apiErr(t *testing.T, rec *httptest.ResponseRecorder, status int, want ...string) apiError {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e apiError
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, rec.Body)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(rec.Body.Bytes(), &raw)
	if _, ok := raw["requestId"]; !ok {
		t.Errorf("error body has no requestId: %s", rec.Body)
	}
	if e.RequestID == "" || e.RequestID != rec.Header().Get("Elements-Request-Id") {
		t.Errorf("requestId %q, Elements-Request-Id header %q: want equal and non-empty", e.RequestID, rec.Header().Get("Elements-Request-Id"))
	}
	if e.Message == "" {
		t.Errorf("error body has no message: %s", rec.Body)
	}
	for _, w := range want {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q does not contain %q", e.Message, w)
		}
	}
	return e
}

func problemFields(e apiError) []string {
	var out []string
	for _, p := range e.Problems {
		out = append(out, p.Field)
	}
	return out
}

func TestHealthNeedsNoAuth(t *testing.T) {
	a := newTestAPI(t)
	rec := a.do("GET", "/health", "", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Fatalf("GET /health: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Elements-Request-Id") == "" {
		t.Error("no Elements-Request-Id on a success")
	}
}

func TestListElements(t *testing.T) {
	a := newTestAPI(t)
	apiErr(t, a.do("GET", prefix+"/elements", "", nil), http.StatusUnauthorized, "missing Authorization")
	rec := a.authed("GET", prefix+"/elements", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var els []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &els); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, el := range els {
		got[el["key"].(string)] = el
	}
	for key, auth := range map[string]string{"pipedrive": "custom", "closeio": "basic"} {
		el, ok := got[key]
		if !ok {
			t.Errorf("GET /elements lacks %s: %s", key, rec.Body)
			continue
		}
		if el["hub"] != "crm" || el["authentication"].(map[string]any)["type"] != auth {
			t.Errorf("%s: hub %v authentication %v", key, el["hub"], el["authentication"])
		}
	}
	if len(els) != 2 {
		t.Errorf("%d elements, want 2", len(els))
	}
}

func TestInvalidJSONNamesLineAndColumn(t *testing.T) {
	a := newTestAPI(t)
	body := []byte("{\n  \"element\": {\"key\": \"pipedrive\"},\n  \"name\": \"x\" \"tags\": []\n}")
	e := apiErr(t, a.authed("POST", prefix+"/instances", body), http.StatusBadRequest, "line 3, column 15")
	if e.RequestID == "" {
		t.Fatal("no request id")
	}
	// Cut short: the end of input is named.
	apiErr(t, a.authed("POST", prefix+"/instances", []byte("{\n  \"name\": \"x\",")), http.StatusBadRequest, "line 2", "end")
	// Wrong type.
	apiErr(t, a.authed("POST", prefix+"/instances", []byte(`{"element": {"key": "pipedrive"}, "tags": "x"}`)), http.StatusBadRequest, "line 1, column", "tags")
	// Empty body and trailing garbage.
	apiErr(t, a.authed("POST", prefix+"/instances", []byte("  ")), http.StatusBadRequest, "empty")
	apiErr(t, a.authed("POST", prefix+"/instances", []byte("{}\n{}")), http.StatusBadRequest, "line 2, column 1")
	// A stray closing bracket after a valid document is refused too.
	valid := seedBody(t, "pipedrive-webhook")
	apiErr(t, a.authed("POST", prefix+"/instances", append(append([]byte{}, valid...), "}"...)), http.StatusBadRequest, "line 17, column 1", "after the JSON value")
	apiErr(t, a.authed("POST", prefix+"/instances", []byte(`{"element": {"key": "closeio"}, "configuration": {"username": "k"}}  ]`)), http.StatusBadRequest, "line 1, column 70")
	if n := a.storedCount(); n != 0 {
		t.Fatalf("%d instances stored after bad requests", n)
	}
}

func TestBodyTooLarge(t *testing.T) {
	a := newTestAPI(t)
	body := []byte(`{"element": {"key": "pipedrive"}, "name": "` + strings.Repeat("a", DefaultMaxBody) + `"}`)
	apiErr(t, a.authed("POST", prefix+"/instances", body), http.StatusRequestEntityTooLarge, "1 MiB")
	apiErr(t, a.authed("PATCH", prefix+"/instances/1", body), http.StatusRequestEntityTooLarge, "1 MiB")
	if n := a.storedCount(); n != 0 {
		t.Fatalf("%d instances stored", n)
	}
	rej, _, err := a.st.RejectedList(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 2 {
		t.Fatalf("rejected log has %d entries, want 2", len(rej))
	}
	for _, r := range rej {
		// What was read of it is cut short, so not JSON: only its size is kept.
		if r.Status != 413 || !strings.Contains(r.Body, "bytes not kept") || len(r.Body) > rejectedBodyLimit {
			t.Errorf("rejected entry: status %d body %q", r.Status, r.Body)
		}
	}
}

// withConfig returns body (a JSON instance) with configuration keys set
// (nil value: removed).
func withConfig(t *testing.T, body []byte, edit map[string]any) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	cfg := doc["configuration"].(map[string]any)
	for k, v := range edit {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidationErrorsStoreNothing(t *testing.T) {
	a := newTestAPI(t)
	pdPoll := seedBody(t, "pipedrive-polling")
	pdHook := seedBody(t, "pipedrive-webhook")
	closeHook := model.StripJSONC(seedBody(t, "closeio-webhook")) // withConfig edits strict JSON
	var poller map[string]any
	_ = json.Unmarshal(pdPoll, &poller)
	pc := poller["configuration"].(map[string]any)["event.poller.configuration"].(map[string]any)
	delete(pc["contacts"].(map[string]any), "idField")
	noIDField := withConfig(t, pdPoll, map[string]any{"event.poller.configuration": pc})

	cases := []struct {
		name   string
		body   []byte
		fields []string // every problem field expected
		msg    []string
	}{
		{"unknown element", []byte(`{"element": {"key": "salesforce"}, "configuration": {}, "name": "x"}`),
			[]string{"element.key"}, []string{`unknown element "salesforce"`, "closeio, pipedrive"}},
		{"no element", []byte(`{"configuration": {"pipedrive.api.token": "t"}, "name": "x"}`),
			[]string{"element.key"}, []string{"element.key: missing"}},
		{"pipedrive without password", withConfig(t, pdHook, map[string]any{"pipedrive.password": nil}),
			[]string{"configuration.pipedrive.password"}, []string{"configuration.pipedrive.password", "pipedrive.api.token"}},
		{"pipedrive without email", withConfig(t, pdHook, map[string]any{"pipedrive.email": nil}),
			[]string{"configuration.pipedrive.email"}, []string{"configuration.pipedrive.email"}},
		{"pipedrive without credentials", withConfig(t, pdHook, map[string]any{"pipedrive.email": nil, "pipedrive.password": nil}),
			[]string{"configuration.pipedrive.api.token"}, []string{"configuration.pipedrive.api.token", "pipedrive.email and pipedrive.password"}},
		{"pipedrive with empty token", withConfig(t, pdHook, map[string]any{"pipedrive.email": nil, "pipedrive.password": nil, "pipedrive.api.token": " "}),
			[]string{"configuration.pipedrive.api.token"}, []string{"configuration.pipedrive.api.token"}},
		{"close without api key", withConfig(t, closeHook, map[string]any{"username": nil}),
			[]string{"configuration.username"}, []string{"configuration.username", "closeio"}},
		{"placeholders", readFixture(t, "bad/closeio-placeholders.json")[:0], nil, nil}, // replaced below
		{"callback not a URL", withConfig(t, pdHook, map[string]any{"event.notification.callback.url": "app.example.com/callback"}),
			[]string{"configuration.event.notification.callback.url"}, []string{"configuration.event.notification.callback.url", "absolute http"}},
		{"callback ftp", withConfig(t, pdHook, map[string]any{"event.notification.callback.url": "ftp://app.example.com/callback"}),
			[]string{"configuration.event.notification.callback.url"}, []string{"configuration.event.notification.callback.url"}},
		{"vendor type", withConfig(t, pdHook, map[string]any{"event.vendor.type": "pigeon"}),
			[]string{"configuration.event.vendor.type"}, []string{"polling or webhook"}},
		{"refresh interval", withConfig(t, pdPoll, map[string]any{"event.poller.refresh_interval": "0"}),
			[]string{"configuration.event.poller.refresh_interval"}, []string{"event.poller.refresh_interval"}},
		{"poller missing idField", noIDField,
			[]string{"configuration.event.poller.configuration.contacts.idField"}, []string{"configuration.event.poller.configuration.contacts.idField"}},
		{"poller not an object", withConfig(t, pdPoll, map[string]any{"event.poller.configuration": "contacts"}),
			[]string{"configuration.event.poller.configuration"}, []string{"configuration.event.poller.configuration"}},
		{"poller resource not an object", withConfig(t, pdPoll, map[string]any{"event.poller.configuration": map[string]any{"accounts": 7}}),
			[]string{"configuration.event.poller.configuration.accounts"}, []string{"configuration.event.poller.configuration.accounts"}},
		{"configuration value type", withConfig(t, pdHook, map[string]any{"event.notification.enabled": []any{true}, "x": map[string]any{}}),
			nil, nil},
	}
	// The raw Close webhook seed, trailing comma removed, placeholders kept:
	// every placeholder is named at once.
	cases[7].body = model.StripJSONC(readFixture(t, "bad/closeio-placeholders.json"))
	cases[7].fields = []string{"name", "tags[0]", "configuration.username", "configuration.password", "configuration.event.notification.callback.url"}
	cases[7].msg = []string{"<INSERT_CLOSE_IO_API_KEY>", "<INSERT_INSTANCE_NAME>", "5 problems"}
	cases[len(cases)-1].fields = []string{"configuration.event.notification.enabled"}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := apiErr(t, a.authed("POST", prefix+"/instances", c.body), http.StatusBadRequest, c.msg...)
			got := problemFields(e)
			if len(got) == 0 {
				t.Fatalf("no problems in %s", e.Message)
			}
			for _, f := range c.fields {
				if !slices.Contains(got, f) {
					t.Errorf("problems %v lack %s", got, f)
				}
				if !strings.Contains(e.Message, f) {
					t.Errorf("message %q does not name %s", e.Message, f)
				}
			}
			for _, p := range e.Problems {
				if p.Message == "" {
					t.Errorf("problem %s has no message", p.Field)
				}
			}
		})
	}
	if n := a.storedCount(); n != 0 {
		t.Fatalf("%d instances stored after bad requests", n)
	}
	rec := a.authed("GET", prefix+"/instances", nil)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Fatalf("list after bad requests: %d %s", rec.Code, rec.Body)
	}
	// Every refusal is in the rejected log, credentials redacted, the
	// instance's secrets not kept in clear.
	rej, _, err := a.st.RejectedList(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != len(cases) {
		t.Fatalf("rejected log has %d entries, want %d", len(rej), len(cases))
	}
	for _, r := range rej {
		if r.Status != 400 || r.Method != "POST" || r.Path != prefix+"/instances" || r.RequestID == "" || r.Reason == "" {
			t.Errorf("rejected entry %+v", r)
		}
		checkRedacted(t, r)
	}
}

// checkRedacted demands that a rejected entry holds no credential.
func checkRedacted(t *testing.T, r store.Rejected) {
	t.Helper()
	auth := strings.Join(r.Headers["Authorization"], ",")
	if strings.Contains(auth, testSecrets.User) || strings.Contains(auth, testSecrets.Organization) {
		t.Errorf("rejected %s keeps the Authorization secrets: %q", r.ID, auth)
	}
	if len(r.Headers["Authorization"]) > 0 && !strings.Contains(auth, "[redacted]") {
		t.Errorf("rejected %s Authorization %q not marked redacted", r.ID, auth)
	}
	for _, s := range fixtureSecrets {
		if strings.Contains(r.Body, s) {
			t.Errorf("rejected %s keeps the instance secret %q in its body: %s", r.ID, s, r.Body)
		}
	}
}

func TestErrorsAreJSONWithRequestID(t *testing.T) {
	a := newTestAPI(t)
	a.create(seedBody(t, "pipedrive-webhook"))
	reqs := []struct {
		method, path, auth string
		body               []byte
		status             int
		want               string
	}{
		{"GET", prefix + "/instances", "", nil, 401, "missing Authorization"},
		{"GET", prefix + "/instances/99", goodAuth, nil, 404, "no such instance"},
		{"GET", prefix + "/instances/abc", goodAuth, nil, 400, `"abc"`},
		{"GET", prefix + "/instances/-1", goodAuth, nil, 400, `"-1"`},
		{"DELETE", prefix + "/instances/99", goodAuth, nil, 404, "no such instance"},
		{"PATCH", prefix + "/instances/99", goodAuth, []byte(`{"name":"x"}`), 404, "no such instance"},
		{"GET", prefix + "/instances?pageSize=0", goodAuth, nil, 400, "pageSize"},
		{"GET", prefix + "/nowhere", goodAuth, nil, 404, "/nowhere"},
		{"PUT", prefix + "/instances", goodAuth, []byte(`{}`), 405, "PUT"},
		{"DELETE", prefix + "/instances", goodAuth, nil, 405, "DELETE"},
		{"PUT", prefix + "/instances/1", goodAuth, []byte(`{}`), 405, "PUT"},
		{"POST", prefix + "/instances/1", goodAuth, []byte(`{}`), 405, "POST"},
		{"POST", prefix + "/elements", goodAuth, nil, 405, "POST"},
		{"POST", "/health", "", nil, 405, "POST"},
	}
	for i, r := range reqs {
		t.Run(fmt.Sprintf("%d %s %s", i, r.method, r.path), func(t *testing.T) {
			rec := a.do(r.method, r.path, r.auth, r.body)
			apiErr(t, rec, r.status, r.want)
		})
	}
	rej, _, err := a.st.RejectedList(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != len(reqs) {
		t.Fatalf("rejected log has %d entries, want %d", len(rej), len(reqs))
	}
	// Newest first.
	for i, r := range rej {
		want := reqs[len(reqs)-1-i]
		if r.Status != want.status || r.Method != want.method {
			t.Errorf("rejected[%d] = %d %s, want %d %s", i, r.Status, r.Method, want.status, want.method)
		}
		checkRedacted(t, r)
	}
	if n := a.storedCount(); n != 1 {
		t.Fatalf("%d instances stored, want 1", n)
	}
}

func TestMethodNotAllowedListsAllowed(t *testing.T) {
	a := newTestAPI(t)
	rec := a.do("PUT", prefix+"/instances/1", goodAuth, []byte(`{}`))
	apiErr(t, rec, http.StatusMethodNotAllowed, "GET", "PATCH", "DELETE")
	if got := rec.Header().Get("Allow"); got != "GET, PATCH, DELETE" {
		t.Errorf("Allow %q", got)
	}
	// A sub-path of an instance that nothing serves is 404, whatever the
	// method; a served one with the wrong method is 405 naming the methods
	// that work (GET /instances/1/foo and /webhook were 405 without Allow).
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", prefix + "/instances/1/foo", 404, ""},
		{"POST", prefix + "/instances/1/foo", 404, ""},
		{"DELETE", prefix + "/instances/1/foo/bar", 404, ""},
		{"GET", prefix + "/instances/1/webhook", 405, "POST, DELETE"},
		{"PATCH", prefix + "/instances/1/webhook", 405, "POST, DELETE"},
		{"POST", prefix + "/instances/1/events", 405, "GET"},
		{"POST", prefix + "/instances/1/polling", 405, "GET"},
		{"GET", prefix + "/instances/1/events/poll", 405, "POST"},
		{"DELETE", prefix + "/instances/events/abc", 405, "GET"},
		{"GET", prefix + "/notifications/n1/replay", 405, "POST"},
		{"GET", prefix + "/events/pipedrive/MQ==", 405, "POST"},
		{"DELETE", "/health", 405, "GET"},
		{"GET", "/nowhere", 404, ""},
	} {
		rec := a.do(c.method, c.path, goodAuth, nil)
		want := "no such endpoint"
		if c.status == 405 {
			want = "allowed: " + c.allow
		}
		apiErr(t, rec, c.status, want)
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	// Unknown paths stay 404, and so does an unknown instance.
	apiErr(t, a.do("PUT", prefix+"/nothing/here", goodAuth, nil), http.StatusNotFound, "no such endpoint")
	apiErr(t, a.do("GET", prefix+"/instances/7", goodAuth, nil), http.StatusNotFound, "no such instance")
}

func TestRedactInstanceBody(t *testing.T) {
	const notKept = "bytes not kept: the body is not valid JSON"
	for _, c := range []struct{ in, want string }{
		{`{"configuration": {"pipedrive.password": "p\"w", "pipedrive.email": "a@b.c"}}`,
			`{"configuration":{"pipedrive.password":"********","pipedrive.email":"a@b.c"}}`},
		{"{\n \"username\" :\t\"key1\",\n \"password\": 1234}", `{"username":"********","password":"********"}`},
		{`{"pipedrive\u002eapi.token": "abc"}`, `{"pipedrive.api.token":"********"}`},
		{`{"event.notification.signature.key": "k", "element": {"key": "closeio"}, "x": ["password", "y"]}`,
			`{"event.notification.signature.key":"********","element":{"key":"closeio"},"x":["password","y"]}`},
		{`{"password": null, "token": "", "name": "password"}`, `{"password":null,"token":"","name":"password"}`},
		// Any prefix, any case, any type of value; duplicates all masked.
		{`{"configuration": {"X.APIKEY": ["a", "b"], " token ": {"v": "t"}, "token": "1", "token": "2"}}`,
			`{"configuration":{"X.APIKEY":"********"," token ":"********","token":"********","token":"********"}}`},
		// Callback header values, as an object or as a JSON string.
		{`{"configuration": {"event.notification.callback.headers": {"Authorization": "Bearer b1", "X-Team": "t"}}}`,
			`{"configuration":{"event.notification.callback.headers":{"Authorization":"********","X-Team":"********"}}}`},
		{`{"event.notification.callback.headers": "{\"Authorization\":\"Bearer b1\"}"}`,
			`{"event.notification.callback.headers":"{\"Authorization\":\"********\"}"}`},
		{`{"event.notification.callback.headers": ["Bearer b1"]}`, `{"event.notification.callback.headers":"********"}`},
		// Comments and trailing commas read as the command line reads files.
		{"{\"configuration\": {/* c */ \"token\": \"t1\", // d\n}}", `{"configuration":{"token":"********"}}`},
	} {
		if got := string(redactInstanceBody([]byte(c.in))); got != c.want {
			t.Errorf("redact(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	// What does not read as JSON keeps only its size.
	for _, in := range []string{
		`{'configuration':{'pipedrive.api.token':'S'}}`,
		`{configuration:{pipedrive.api.token:"S"}}`,
		`{"configuration":{"pipedrive.api.token" "S"}}`,
		`{"pipedrive.api.token": "S`,
		`not json "password": "S" at all`,
	} {
		got := string(redactInstanceBody([]byte(in)))
		if !strings.Contains(got, fmt.Sprintf("[%d %s", len(in), notKept)) || strings.Contains(got, "S\"") || strings.Contains(got, "'S'") {
			t.Errorf("redact(%s) = %s, want only the size", in, got)
		}
	}
	if got := redactInstanceBody(nil); len(got) != 0 {
		t.Errorf("empty body became %q", got)
	}
}

// Over a real connection, the answers are the same.
func TestRealHTTP(t *testing.T) {
	a := newTestAPI(t)
	ts := httptest.NewServer(a.srv)
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+prefix+"/instances", bytes.NewReader(seedBody(t, "closeio-polling")))
	req.Header.Set("Authorization", "Organization "+testSecrets.Organization+", User "+testSecrets.User)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"key":"closeio"`) {
		t.Fatalf("create over HTTP: %d %s", resp.StatusCode, body)
	}
	big := bytes.Repeat([]byte("x"), DefaultMaxBody+10)
	req, _ = http.NewRequest("POST", ts.URL+prefix+"/instances", bytes.NewReader(big))
	req.Header.Set("Authorization", goodAuth)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(body), `"requestId"`) {
		t.Fatalf("big body over HTTP: %d %s", resp.StatusCode, body)
	}
}

// The seeds' instance.json files work verbatim on POST /instances (the
// Close seed has a trailing comma, one Pipedrive file has comments), and
// PATCH takes the same syntax; errors still point into the body as sent.
func TestInstanceBodiesAllowCommentsAndTrailingCommas(t *testing.T) {
	a := newTestAPI(t)
	for _, name := range []string{"closeio-webhook", "pipedrive-commented"} {
		body := readFixture(t, "seeds/"+name+".json")
		if json.Valid(body) {
			t.Fatalf("seed %s is strict JSON; the test needs one with comments or a trailing comma", name)
		}
		in := a.create(body)
		if in.ID == 0 || in.Name == "" {
			t.Errorf("%s: created %+v", name, in)
		}
	}
	rec := a.authed("PATCH", prefix+"/instances/1", []byte("{\n  // rename it\n  \"name\": \"Close hooks\", /* and tag it */\n  \"tags\": [\"a\", \"b\",],\n}"))
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH with comments and trailing commas: %d %s", rec.Code, rec.Body)
	}
	var got InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "Close hooks" || !slices.Equal(got.Tags, []string{"a", "b"}) {
		t.Errorf("PATCH stored name %q tags %v", got.Name, got.Tags)
	}
	// A mistake after a comment is reported where it is in the body sent.
	rec = a.authed("POST", prefix+"/instances", []byte("{\n  /* a comment */ \"name\": \"x\"\n  \"tags\": []\n}"))
	apiErr(t, rec, http.StatusBadRequest, "line 3, column 3")
}

// PATCH takes CE's "disabled" (and answers it), refuses a field it does not
// take by name instead of ignoring it, and refuses an empty name; a refused
// PATCH changes nothing. "Poll now" of a disabled instance is a 409.
func TestPatchDisabledUnknownFieldsEmptyName(t *testing.T) {
	a := newTestAPI(t)
	a.create(seedBody(t, "pipedrive-polling"))
	patch := func(body string) *httptest.ResponseRecorder {
		t.Helper()
		return a.authed("PATCH", prefix+"/instances/1", []byte(body))
	}
	disabled := func() bool {
		t.Helper()
		in, err := a.st.Instance(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return in.Disabled
	}
	rec := patch(`{"disabled": true}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH disabled: %d %s", rec.Code, rec.Body)
	}
	var got InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || !disabled() {
		t.Fatalf("PATCH {disabled:true} answered disabled=%v, stored %v", got.Disabled, disabled())
	}
	if in, _ := a.st.Instance(t.Context(), 1); in.Polling() {
		t.Error("a disabled instance still counts as polling")
	}
	apiErr(t, a.authed("POST", prefix+"/instances/1/events/poll", nil), http.StatusConflict, "disabled")
	rec = a.authed("GET", prefix+"/instances/1", nil)
	if !strings.Contains(rec.Body.String(), `"disabled":true`) {
		t.Errorf("GET does not show disabled: %s", rec.Body)
	}

	before, _ := a.st.Instance(t.Context(), 1)
	for _, c := range []struct{ body, field string }{
		{`{"disable": false}`, "disable"},
		{`{"name": "x", "enabled": true}`, "enabled"},
		{`{"element": {"key": "pipedrive", "id": 5}}`, "id"},
	} {
		e := apiErr(t, patch(c.body), http.StatusBadRequest, c.field+": unknown field", "disabled")
		if len(e.Problems) != 1 || e.Problems[0].Field != c.field {
			t.Errorf("%s: problems %+v, want one naming %q", c.body, e.Problems, c.field)
		}
	}
	for _, body := range []string{`{"name": ""}`, `{"name": "   "}`} {
		e := apiErr(t, patch(body), http.StatusBadRequest, "name", "must not be empty")
		if len(e.Problems) != 1 || e.Problems[0].Field != "name" {
			t.Errorf("%s: problems %+v", body, e.Problems)
		}
	}
	if after, _ := a.st.Instance(t.Context(), 1); after.Name != before.Name || !after.UpdatedAt.Equal(before.UpdatedAt) || !after.Disabled {
		t.Errorf("a refused PATCH changed the instance: %+v", after)
	}

	if rec := patch(`{"disabled": false}`); rec.Code != http.StatusOK || disabled() {
		t.Fatalf("PATCH disabled false: %d %s, stored %v", rec.Code, rec.Body, disabled())
	}
	// Leaving the field out leaves the switch as it is.
	patch(`{"disabled": true}`)
	if rec := patch(`{"name": "renamed"}`); rec.Code != http.StatusOK || !disabled() {
		t.Errorf("a PATCH without disabled changed it: %d, stored %v", rec.Code, disabled())
	}
}
