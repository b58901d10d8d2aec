package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decodeMap(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return m
}

// hasShape demands that got has every key of want, recursively for
// objects, with the same JSON kinds (configuration is checked separately:
// the seed's shows values after a vendor login eventdesk does not make).
func hasShape(t *testing.T, where string, got, want map[string]any) {
	t.Helper()
	for k, wv := range want {
		gv, ok := got[k]
		if !ok {
			t.Errorf("%s: answer lacks %q (seed response has it)", where, k)
			continue
		}
		if k == "configuration" {
			continue
		}
		if reflect.TypeOf(gv) != reflect.TypeOf(wv) {
			t.Errorf("%s.%s: %T, seed response has %T", where, k, gv, wv)
			continue
		}
		if wm, ok := wv.(map[string]any); ok {
			hasShape(t, where+"."+k, gv.(map[string]any), wm)
		}
	}
}

func TestCreateEachSeed(t *testing.T) {
	a := newTestAPI(t)
	wantConfig := map[string]map[string]string{
		"pipedrive": {
			"base.url":           "https://api.pipedrive.com/v1",
			"pipedrive.email":    "ops@example.com",
			"pipedrive.password": model.Mask,
		},
		"closeio": {
			"base.url": "https://api.close.com/api/v1",
			"username": model.Mask,
			"password": model.Mask,
		},
	}
	stored := map[int64]string{} // id → token from the create answer
	for i, name := range seedFiles {
		t.Run(name, func(t *testing.T) {
			elementKey, vendorType, _ := strings.Cut(name, "-")
			rec := a.authed("POST", prefix+"/instances", seedBody(t, name))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			got := decodeMap(t, rec.Body.Bytes())
			seedResp := decodeMap(t, readFixture(t, "seeds/"+elementKey+"-response.json"))
			hasShape(t, name, got, seedResp)
			for _, k := range []string{"tags", "webhookUrl"} {
				if _, ok := got[k]; !ok {
					t.Errorf("answer lacks %s", k)
				}
			}

			var in InstanceJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &in); err != nil {
				t.Fatal(err)
			}
			if in.ID != int64(i+1) {
				t.Errorf("id %d, want %d", in.ID, i+1)
			}
			seedEl := seedResp["element"].(map[string]any)
			if in.Element.Key != elementKey || float64(in.Element.ID) != seedEl["id"] ||
				in.Element.Hub != "crm" || in.Element.Authentication["type"] != seedEl["authentication"].(map[string]any)["type"] ||
				!strings.Contains(in.Element.Description, "Instance to connect your existing") || in.Element.Image != seedEl["image"] ||
				!in.Element.Active || in.Element.Deleted || in.Element.TypeOauth || in.Element.TrialAccount || !in.Element.TransformationsEnabled {
				t.Errorf("element %+v does not match the seed's %v", in.Element, seedEl)
			}
			if in.Element.Parameters == nil || in.ProvisionInteractions == nil {
				t.Error("parameters and provisionInteractions must be [] (not null)")
			}
			if !in.Valid || in.Disabled || in.MaxCacheSize != 0 || in.CacheTimeToLive != 0 || in.CachingEnabled {
				t.Errorf("valid/disabled/cache fields %+v", in)
			}
			if !in.EventsEnabled {
				t.Error("eventsEnabled false; the seeds enable events")
			}
			if !reflect.DeepEqual(in.Tags, []string{"crm-sync"}) {
				t.Errorf("tags %v", in.Tags)
			}
			if !strings.HasSuffix(strings.ToLower(in.Name), vendorType) {
				t.Errorf("name %q", in.Name)
			}
			// The token, in clear only here: 32 random bytes, base64.
			raw, err := base64.StdEncoding.DecodeString(in.Token)
			if err != nil || len(raw) != 32 {
				t.Errorf("token %q is not base64 of 32 bytes", in.Token)
			}
			for k, v := range wantConfig[elementKey] {
				if in.Configuration[k] != v {
					t.Errorf("configuration[%s] = %q, want %q", k, in.Configuration[k], v)
				}
			}
			for k, v := range map[string]string{
				"pagination.max": "100", "pagination.offset": "true", "event.notification.enabled": "true",
				"event.poller.refresh_interval":   "15",
				"event.vendor.type":               vendorType,
				"event.notification.callback.url": "https://app.example.com/eventdesk/callback",
			} {
				if in.Configuration[k] != v {
					t.Errorf("configuration[%s] = %q, want %q", k, in.Configuration[k], v)
				}
			}
			pc, probs := model.ParsePollerConfig([]byte(in.Configuration["event.poller.configuration"]))
			if len(probs) > 0 {
				t.Errorf("poller configuration %q: %v", in.Configuration["event.poller.configuration"], probs)
			}
			wantRes := map[string][]string{"pipedrive": {"accounts", "contacts", "opportunities"}, "closeio": {"contacts"}}[elementKey]
			if !slices.Equal(pc.Resources(), wantRes) {
				t.Errorf("poller resources %v, want %v", pc.Resources(), wantRes)
			}
			if want := "http://127.0.0.1:8470/elements/api-v2/events/" + elementKey + "/" + base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(in.ID))); in.WebhookURL != want {
				t.Errorf("webhookUrl %q, want %q", in.WebhookURL, want)
			}
			for _, s := range fixtureSecrets {
				if strings.Contains(rec.Body.String(), s) {
					t.Errorf("create answer shows the secret %q", s)
				}
			}
			stored[in.ID] = in.Token

			// Stored in clear, token included.
			st, err := a.st.Instance(t.Context(), in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Token != in.Token {
				t.Error("stored token differs from the one answered")
			}
			if elementKey == "pipedrive" && st.Configuration["pipedrive.password"] != "pd-Secret-Pass-1" ||
				elementKey == "closeio" && (st.Configuration["username"] != "api_close_KEY_0123456789" || st.Configuration["password"] != "close-Secret-Pass-2") {
				t.Errorf("stored secrets not in clear: %v", st.Configuration)
			}

			// GET shows the same, token masked.
			rec = a.authed("GET", fmt.Sprintf("%s/instances/%d", prefix, in.ID), nil)
			if rec.Code != 200 {
				t.Fatalf("GET: %d %s", rec.Code, rec.Body)
			}
			var again InstanceJSON
			_ = json.Unmarshal(rec.Body.Bytes(), &again)
			if again.Token != model.Mask {
				t.Errorf("GET shows token %q, want it masked", again.Token)
			}
			again.Token = in.Token
			if !reflect.DeepEqual(again, in) {
				t.Errorf("GET differs from the create answer:\n%+v\n%+v", again, in)
			}
			hasShape(t, name+" GET", decodeMap(t, rec.Body.Bytes()), seedResp)
		})
	}
	// The list masks tokens too.
	rec := a.authed("GET", prefix+"/instances", nil)
	var list []InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list) != len(seedFiles) {
		t.Fatalf("list: %v %s", err, rec.Body)
	}
	for _, in := range list {
		if in.Token != model.Mask || strings.Contains(rec.Body.String(), stored[in.ID]) {
			t.Errorf("list shows instance %d's token", in.ID)
		}
	}
	for _, s := range fixtureSecrets {
		if strings.Contains(rec.Body.String(), s) {
			t.Errorf("list shows the secret %q", s)
		}
	}
}

// A Pipedrive instance given an API token masks it; the email stays visible.
func TestCreateMasksPipedriveToken(t *testing.T) {
	a := newTestAPI(t)
	body := []byte(`{"element": {"key": "pipedrive"}, "name": "tok",
		"configuration": {"pipedrive.api.token": "pd-api-TOKEN-abcdef", "pipedrive.email": "ops@example.com",
		"event.notification.signature.key": "sig-key-value"}}`)
	in := a.create(body)
	if in.Configuration["pipedrive.api.token"] != model.Mask || in.Configuration["event.notification.signature.key"] != model.Mask {
		t.Errorf("secrets not masked: %v", in.Configuration)
	}
	if in.Configuration["pipedrive.email"] != "ops@example.com" {
		t.Errorf("email %q, want it visible", in.Configuration["pipedrive.email"])
	}
	if in.EventsEnabled || in.Configuration["event.notification.enabled"] != "false" {
		t.Errorf("events enabled by default: %v", in.Configuration)
	}
	if in.Tags == nil {
		t.Error("tags null, want []")
	}
}

func createN(t *testing.T, a *testAPI, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		a.create([]byte(fmt.Sprintf(`{"element": {"key": "closeio"}, "name": "c%d", "configuration": {"username": "k%d"}}`, i+1, i+1)))
	}
}

// walk pages through GET /instances and returns the ids in order.
func walk(t *testing.T, a *testAPI, pageSize int) (ids []int64, pages int) {
	t.Helper()
	next := ""
	for {
		path := fmt.Sprintf("%s/instances?pageSize=%d", prefix, pageSize)
		if next != "" {
			path += "&nextPage=" + next
		}
		rec := a.authed("GET", path, nil)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		var page []InstanceJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page) > pageSize {
			t.Fatalf("page of %d, pageSize %d", len(page), pageSize)
		}
		for _, in := range page {
			ids = append(ids, in.ID)
		}
		vals, present := rec.Header()["Elements-Next-Page-Token"]
		if !present || len(vals) != 1 {
			t.Fatalf("Elements-Next-Page-Token header missing: %v", rec.Header())
		}
		next = vals[0]
		if next == "" {
			return ids, pages
		}
		if len(page) == 0 {
			t.Fatal("empty page with a next token")
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
	}
}

func TestListPaging(t *testing.T) {
	a := newTestAPI(t)
	if ids, pages := walk(t, a, 2); len(ids) != 0 || pages != 1 {
		t.Fatalf("empty store: ids %v pages %d", ids, pages)
	}
	createN(t, a, 4)
	if ids, pages := walk(t, a, 2); !slices.Equal(ids, []int64{1, 2, 3, 4}) || pages != 2 {
		t.Errorf("4 instances by 2: ids %v in %d pages, want 2 pages", ids, pages)
	}
	if ids, pages := walk(t, a, 4); !slices.Equal(ids, []int64{1, 2, 3, 4}) || pages != 1 {
		t.Errorf("4 instances by 4: ids %v in %d pages", ids, pages)
	}
	createN(t, a, 1)
	if ids, pages := walk(t, a, 2); !slices.Equal(ids, []int64{1, 2, 3, 4, 5}) || pages != 3 {
		t.Errorf("5 instances by 2: ids %v in %d pages", ids, pages)
	}
	// A deleted instance leaves no hole in the walk.
	if rec := a.authed("DELETE", prefix+"/instances/2", nil); rec.Code != 200 {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if ids, _ := walk(t, a, 2); !slices.Equal(ids, []int64{1, 3, 4, 5}) {
		t.Errorf("after delete: ids %v", ids)
	}
	// Default page size is 50.
	createN(t, a, 51)
	rec := a.authed("GET", prefix+"/instances", nil)
	var page []InstanceJSON
	_ = json.Unmarshal(rec.Body.Bytes(), &page)
	if len(page) != 50 || rec.Header().Get("Elements-Next-Page-Token") == "" {
		t.Errorf("default page: %d instances, next %q", len(page), rec.Header().Get("Elements-Next-Page-Token"))
	}
	if ids, _ := walk(t, a, 500); len(ids) != 55 {
		t.Errorf("pageSize 500: %d instances", len(ids))
	}
	for _, q := range []string{"pageSize=0", "pageSize=501", "pageSize=abc", "pageSize=-1", "pageSize=2.5", "nextPage=abc", "nextPage=0"} {
		apiErr(t, a.authed("GET", prefix+"/instances?"+q, nil), http.StatusBadRequest, strings.Split(q, "=")[0])
	}
}

func TestGetDelete(t *testing.T) {
	a := newTestAPI(t)
	in := a.create(seedBody(t, "pipedrive-webhook"))
	path := fmt.Sprintf("%s/instances/%d", prefix, in.ID)
	if rec := a.authed("GET", path, nil); rec.Code != 200 {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	apiErr(t, a.authed("GET", prefix+"/instances/424242", nil), 404, "no such instance")
	apiErr(t, a.authed("GET", prefix+"/instances/x1", nil), 400, `"x1"`)
	apiErr(t, a.authed("DELETE", prefix+"/instances/x1", nil), 400, `"x1"`)
	apiErr(t, a.authed("PATCH", prefix+"/instances/x1", []byte(`{}`)), 400, `"x1"`)
	if rec := a.authed("DELETE", path, nil); rec.Code != 200 {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	apiErr(t, a.authed("GET", path, nil), 404, "no such instance")
	apiErr(t, a.authed("DELETE", path, nil), 404, "no such instance")
	if n := a.storedCount(); n != 0 {
		t.Fatalf("%d stored after delete", n)
	}
	// Ids are never reused.
	if again := a.create(seedBody(t, "pipedrive-webhook")); again.ID != in.ID+1 {
		t.Errorf("new id %d after deleting %d", again.ID, in.ID)
	}
}

func TestPatch(t *testing.T) {
	a := newTestAPI(t)
	created := a.create(seedBody(t, "pipedrive-polling"))
	path := fmt.Sprintf("%s/instances/%d", prefix, created.ID)
	before, err := a.st.Instance(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	patch := func(body string) *InstanceJSON {
		t.Helper()
		rec := a.authed("PATCH", path, []byte(body))
		if rec.Code != 200 {
			t.Fatalf("PATCH %s: %d %s", body, rec.Code, rec.Body)
		}
		var out InstanceJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if out.Token != model.Mask {
			t.Errorf("PATCH answer shows the token")
		}
		return &out
	}

	// Send back what GET showed, with one change: the masked password
	// keeps the stored one.
	rec := a.authed("GET", path, nil)
	var shown InstanceJSON
	_ = json.Unmarshal(rec.Body.Bytes(), &shown)
	shown.Configuration["event.notification.callback.url"] = "https://new.example.com/hook"
	shown.Configuration["custom.note"] = "hello"
	cfg, _ := json.Marshal(shown.Configuration)
	out := patch(`{"configuration": ` + string(cfg) + `}`)
	if out.Configuration["event.notification.callback.url"] != "https://new.example.com/hook" || out.Configuration["custom.note"] != "hello" {
		t.Errorf("PATCH did not merge: %v", out.Configuration)
	}
	if out.Configuration["pipedrive.password"] != model.Mask {
		t.Errorf("password shown as %q", out.Configuration["pipedrive.password"])
	}
	got, _ := a.st.Instance(t.Context(), created.ID)
	if got.Configuration["pipedrive.password"] != "pd-Secret-Pass-1" {
		t.Fatalf("masked value overwrote the stored secret: %q", got.Configuration["pipedrive.password"])
	}
	if got.Token != before.Token || got.ID != before.ID || !got.CreatedAt.Equal(before.CreatedAt) {
		t.Error("PATCH changed token, id or creation time")
	}

	// Only the keys sent change; null removes one (a defaulted one comes
	// back with its default); name and tags replace.
	out = patch(`{"name": "renamed", "tags": ["a", "b"], "configuration": {"custom.note": null, "pagination.max": null, "pipedrive.password": "new-Pass-3"}}`)
	got, _ = a.st.Instance(t.Context(), created.ID)
	if _, ok := got.Configuration["custom.note"]; ok {
		t.Error("null did not remove custom.note")
	}
	if got.Configuration["pagination.max"] != "100" {
		t.Errorf("pagination.max %q after null, want the default", got.Configuration["pagination.max"])
	}
	if got.Configuration["pipedrive.password"] != "new-Pass-3" || got.Configuration["pipedrive.email"] != "ops@example.com" ||
		got.Configuration["event.notification.callback.url"] != "https://new.example.com/hook" {
		t.Errorf("merge lost keys: %v", got.Configuration)
	}
	if out.Name != "renamed" || !slices.Equal(out.Tags, []string{"a", "b"}) || got.Name != "renamed" {
		t.Errorf("name %q tags %v", out.Name, out.Tags)
	}
	if strings.Contains(fmt.Sprint(out.Configuration), "new-Pass-3") {
		t.Error("PATCH answer shows the new password")
	}

	// Invalid patches answer 400 and change nothing.
	good, _ := a.st.Instance(t.Context(), created.ID)
	for _, c := range []struct{ body, field string }{
		{`{"configuration": {"event.vendor.type": "pigeon", "pipedrive.password": "pd-Secret-Pass-1"}}`, "configuration.event.vendor.type"},
		{`{"configuration": {"event.notification.callback.url": "nope", "custom.x": "1"}}`, "configuration.event.notification.callback.url"},
		{`{"configuration": {"pipedrive.email": null, "pipedrive.password": null}}`, "configuration.pipedrive.api.token"},
		{`{"configuration": {"event.poller.configuration": {"contacts": {"url": "/x"}}}}`, "configuration.event.poller.configuration.contacts.idField"},
		{`{"element": {"key": "closeio"}}`, "element.key"},
		{`{"name": "<INSERT_INSTANCE_NAME>"}`, "name"},
	} {
		e := apiErr(t, a.authed("PATCH", path, []byte(c.body)), 400, c.field)
		if !slices.Contains(problemFields(e), c.field) {
			t.Errorf("%s: problems %v lack %s", c.body, problemFields(e), c.field)
		}
	}
	apiErr(t, a.authed("PATCH", path, []byte(`{"configuration": `)), 400, "line 1")
	apiErr(t, a.authed("PATCH", path, []byte(`{"tags": [1]}`)), 400, "tags")
	after, _ := a.st.Instance(t.Context(), created.ID)
	if !reflect.DeepEqual(after, good) {
		t.Errorf("invalid PATCH changed the instance:\n%+v\n%+v", good, after)
	}
	rej, _, _ := a.st.RejectedList(t.Context(), 0, 100)
	if len(rej) != 8 {
		t.Errorf("rejected log has %d entries, want 8", len(rej))
	}
	for _, r := range rej {
		checkRedacted(t, r)
	}

	// Disabling events and enabling them again.
	patch(`{"configuration": {"event.notification.enabled": false}}`)
	got, _ = a.st.Instance(t.Context(), created.ID)
	if got.EventsEnabled() || !got.EventsEnabledAt.IsZero() {
		t.Errorf("events still enabled: %v %v", got.Configuration["event.notification.enabled"], got.EventsEnabledAt)
	}
	patch(`{"configuration": {"event.notification.enabled": "true"}}`)
	got, _ = a.st.Instance(t.Context(), created.ID)
	if !got.EventsEnabled() || got.EventsEnabledAt.IsZero() {
		t.Errorf("events not enabled: %v", got.Configuration["event.notification.enabled"])
	}
}

// Callback header values and keys ending in .apikey (any prefix) are masked
// in the create answer, GET, the list and the PATCH answer; a PATCH that
// sends the masked headers back keeps the stored credentials.
func TestCallbackHeadersAndAPIKeysMasked(t *testing.T) {
	a := newTestAPI(t)
	const bearer, apikey = "Bearer hdr-Secret-9f8e7d", "vendor-APIKEY-5a5a"
	body := []byte(`{"element": {"key": "pipedrive"}, "name": "hdr",
		"configuration": {"pipedrive.api.token": "pd-api-TOKEN-abcdef",
		"event.notification.callback.headers": {"Authorization": "` + bearer + `", "X-Team": "sales"},
		"other.vendor.apikey": "` + apikey + `"}}`)
	rec := a.authed("POST", prefix+"/instances", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created InstanceJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("%s/instances/%d", prefix, created.ID)
	answers := map[string]string{"create": rec.Body.String()}
	answers["get"] = a.authed("GET", path, nil).Body.String()
	answers["list"] = a.authed("GET", prefix+"/instances", nil).Body.String()
	for where, ans := range answers {
		for _, s := range []string{"hdr-Secret-9f8e7d", apikey} {
			if strings.Contains(ans, s) {
				t.Errorf("%s answer shows %q: %s", where, s, ans)
			}
		}
		if !strings.Contains(ans, `Authorization\":\"********\"`) {
			t.Errorf("%s answer does not name the masked header: %s", where, ans)
		}
	}

	// Send back what GET showed, changing one header: the masked
	// Authorization keeps its stored value.
	var shown InstanceJSON
	_ = json.Unmarshal([]byte(answers["get"]), &shown)
	hdrs := strings.Replace(shown.Configuration["event.notification.callback.headers"], `"X-Team":"********"`, `"X-Team":"support"`, 1)
	patch, _ := json.Marshal(map[string]any{"configuration": map[string]string{
		"event.notification.callback.headers": hdrs, "other.vendor.apikey": model.Mask}})
	rec = a.authed("PATCH", path, patch)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "hdr-Secret-9f8e7d") {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	got, _ := a.st.Instance(t.Context(), created.ID)
	if h := got.Configuration["event.notification.callback.headers"]; h != `{"Authorization":"`+bearer+`","X-Team":"support"}` {
		t.Errorf("stored headers after PATCH %s", h)
	}
	if got.Configuration["other.vendor.apikey"] != apikey {
		t.Errorf("stored apikey %q after a masked PATCH", got.Configuration["other.vendor.apikey"])
	}
}

// A refused PATCH body that is not strict JSON keeps its secret out of the
// rejected log: only its size is kept, and the reason says where it fails.
func TestRefusedLenientBodyKeepsNoSecret(t *testing.T) {
	a := newTestAPI(t)
	created := a.create(seedBody(t, "pipedrive-polling"))
	path := fmt.Sprintf("%s/instances/%d", prefix, created.ID)
	body := `{'configuration':{'pipedrive.api.token':'Lenient-Secret-42'}}`
	apiErr(t, a.authed("PATCH", path, []byte(body)), http.StatusBadRequest, "line 1, column 2")
	rej, _, _ := a.st.RejectedList(t.Context(), 0, 1)
	if len(rej) != 1 {
		t.Fatalf("%d rejected records", len(rej))
	}
	if strings.Contains(rej[0].Body, "Lenient-Secret-42") || !strings.Contains(rej[0].Body, fmt.Sprintf("%d bytes not kept", len(body))) {
		t.Errorf("rejected body %q", rej[0].Body)
	}
	if !strings.Contains(rej[0].Reason, "line 1, column 2") {
		t.Errorf("rejected reason %q does not say where the body fails", rej[0].Reason)
	}
}

// A secret sent as an array is a 400 naming the key, on create and PATCH,
// and nothing is stored.
func TestSecretAsArrayIs400(t *testing.T) {
	a := newTestAPI(t)
	body := []byte(`{"element":{"key":"pipedrive"},"name":"arr","configuration":{"pipedrive.api.token":["Arr-Secret-1"]}}`)
	e := apiErr(t, a.authed("POST", prefix+"/instances", body), http.StatusBadRequest, "configuration.pipedrive.api.token", "must be a string, got an array")
	if strings.Contains(e.Message, "Arr-Secret-1") || a.storedCount() != 0 {
		t.Errorf("create: message %q, %d stored", e.Message, a.storedCount())
	}
	created := a.create(seedBody(t, "pipedrive-polling"))
	path := fmt.Sprintf("%s/instances/%d", prefix, created.ID)
	apiErr(t, a.authed("PATCH", path, []byte(`{"configuration":{"pipedrive.password":{"v":"Arr-Secret-1"}}}`)), http.StatusBadRequest,
		"configuration.pipedrive.password", "got an object")
	got, _ := a.st.Instance(t.Context(), created.ID)
	if got.Configuration["pipedrive.password"] != "pd-Secret-Pass-1" {
		t.Errorf("stored password %q after a refused PATCH", got.Configuration["pipedrive.password"])
	}
}
