package model

import (
	"encoding/json"
	"strings"
	"testing"
)

// del removes a key from the base configuration of a validation row.
type del struct{}

func strp(s string) *string { return &s }

// pollerWith wraps one resource object in a poller configuration.
func pollerWith(resource string) json.RawMessage {
	return json.RawMessage(`{"contacts": ` + resource + `}`)
}

const goodDates = `"datesConfiguration": {"updatedDateField": "date_updated", "updatedDateFormat": "yyyy-MM-dd"}`

func TestValidationRules(t *testing.T) {
	base := map[string]map[string]any{
		"pipedrive": {KeyPipedriveToken: "tok"},
		"closeio":   {KeyCloseAPIKey: "api_key"},
		"hubspot":   {"hubspot.token": "x"},
		"":          {KeyPipedriveToken: "tok"},
	}
	const (
		cb     = "configuration." + KeyCallbackURL
		poller = "configuration." + KeyPollerConfiguration
	)
	tests := []struct {
		name    string
		element string
		cfg     map[string]any // on top of the element's base; del{} removes
		iname   *string
		tags    []string
		// field is the one problem expected; "" means the instance is valid.
		field    string
		contains []string
	}{
		{name: "missing element key", element: "", field: "element.key", contains: []string{"missing", "closeio, pipedrive"}},
		{name: "unknown element", element: "hubspot", field: "element.key", contains: []string{`"hubspot"`, "closeio, pipedrive"}},

		{name: "pipedrive token only", element: "pipedrive"},
		{name: "pipedrive email and password", element: "pipedrive", cfg: map[string]any{KeyPipedriveToken: del{}, KeyPipedriveEmail: "a@b.c", KeyPipedrivePassword: "pw"}},
		{name: "pipedrive no credentials", element: "pipedrive", cfg: map[string]any{KeyPipedriveToken: del{}},
			field: "configuration.pipedrive.api.token", contains: []string{"pipedrive", "pipedrive.email", "pipedrive.password"}},
		{name: "pipedrive blank token", element: "pipedrive", cfg: map[string]any{KeyPipedriveToken: "  "},
			field: "configuration.pipedrive.api.token", contains: []string{"pipedrive.email", "pipedrive.password"}},
		{name: "pipedrive email without password", element: "pipedrive", cfg: map[string]any{KeyPipedriveToken: del{}, KeyPipedriveEmail: "a@b.c"},
			field: "configuration.pipedrive.password", contains: []string{"required", "pipedrive.api.token"}},
		{name: "close without username", element: "closeio", cfg: map[string]any{KeyCloseAPIKey: del{}, KeyClosePassword: "x"},
			field: "configuration.username", contains: []string{"required", "closeio"}},
		{name: "close username, no password", element: "closeio"},

		{name: "placeholder in a configuration value", element: "pipedrive", cfg: map[string]any{KeyPipedriveEmail: "<INSERT_PIPEDRIVE_EMAIL>"},
			field: "configuration.pipedrive.email", contains: []string{"<INSERT_PIPEDRIVE_EMAIL>"}},
		{name: "placeholder inside a longer value", element: "pipedrive", cfg: map[string]any{KeyBaseURL: "https://<INSERT_COMPANY>.pipedrive.com/v1"},
			field: "configuration.base.url", contains: []string{"<INSERT_COMPANY>"}},
		{name: "placeholder in name", element: "pipedrive", iname: strp("<INSERT_INSTANCE_NAME>"),
			field: "name", contains: []string{"<INSERT_INSTANCE_NAME>"}},
		{name: "placeholder in tags", element: "pipedrive", tags: []string{"crm", "<INSERT_TAGS>"},
			field: "tags[1]", contains: []string{"<INSERT_TAGS>"}},
		{name: "placeholder callback while enabled: one problem", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "true", KeyCallbackURL: "<INSERT_YOUR_APPS_CALLBACK_URL>"},
			field: cb, contains: []string{"<INSERT_YOUR_APPS_CALLBACK_URL>"}},

		{name: "callback relative while enabled", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "true", KeyCallbackURL: "/events"},
			field: cb, contains: []string{"absolute http or https", `"/events"`}},
		{name: "callback ftp while enabled", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "true", KeyCallbackURL: "ftp://example.com/x"},
			field: cb, contains: []string{"absolute http or https"}},
		{name: "callback without host while enabled", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "true", KeyCallbackURL: "https:///x"},
			field: cb, contains: []string{"absolute http or https"}},
		{name: "callback empty while enabled", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "true", KeyCallbackURL: ""}},
		{name: "callback http while enabled", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "true", KeyCallbackURL: "http://localhost:3000/hook"}},
		{name: "callback bad while disabled", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "false", KeyCallbackURL: "/events"}},

		{name: "vendor type bad", element: "pipedrive", cfg: map[string]any{KeyVendorType: "push"},
			field: "configuration." + KeyVendorType, contains: []string{"polling", "webhook", `"push"`}},
		{name: "vendor type webhooks", element: "pipedrive", cfg: map[string]any{KeyVendorType: "webhooks"}},
		{name: "concurrency 1", element: "pipedrive", cfg: map[string]any{KeyConcurrency: "1"}},
		{name: "concurrency 64", element: "pipedrive", cfg: map[string]any{KeyConcurrency: " 64 "}},
		{name: "concurrency 0", element: "pipedrive", cfg: map[string]any{KeyConcurrency: "0"},
			field: "configuration." + KeyConcurrency, contains: []string{"1 to 64", `"0"`, "default 8"}},
		{name: "concurrency too many", element: "pipedrive", cfg: map[string]any{KeyConcurrency: "65"},
			field: "configuration." + KeyConcurrency, contains: []string{"1 to 64", `"65"`}},
		{name: "concurrency not a number", element: "pipedrive", cfg: map[string]any{KeyConcurrency: "lots"},
			field: "configuration." + KeyConcurrency, contains: []string{"whole number", `"lots"`}},
		{name: "ordered true", element: "pipedrive", cfg: map[string]any{KeyOrdered: "true"}},
		{name: "ordered false", element: "pipedrive", cfg: map[string]any{KeyOrdered: "false"}},
		{name: "ordered yes", element: "pipedrive", cfg: map[string]any{KeyOrdered: "yes"},
			field: "configuration." + KeyOrdered, contains: []string{"true", "false", `"yes"`}},
		{name: "maxHold 30s", element: "pipedrive", cfg: map[string]any{KeyOrderedMaxHold: "30s"}},
		{name: "maxHold 2h", element: "pipedrive", cfg: map[string]any{KeyOrderedMaxHold: "2h"}},
		{name: "maxHold bare number", element: "pipedrive", cfg: map[string]any{KeyOrderedMaxHold: "10"},
			field: "configuration." + KeyOrderedMaxHold, contains: []string{"duration", "1s to 73h", "10m", `"10"`}},
		{name: "maxHold too short", element: "pipedrive", cfg: map[string]any{KeyOrderedMaxHold: "500ms"},
			field: "configuration." + KeyOrderedMaxHold, contains: []string{"1s to 73h", `"500ms"`}},
		{name: "maxHold too long", element: "pipedrive", cfg: map[string]any{KeyOrderedMaxHold: "100h"},
			field: "configuration." + KeyOrderedMaxHold, contains: []string{"1s to 73h"}},
		{name: "vendor type webhook", element: "pipedrive", cfg: map[string]any{KeyVendorType: "webhook"}},
		{name: "vendor type Polling", element: "pipedrive", cfg: map[string]any{KeyVendorType: "Polling"}},

		{name: "refresh interval 0", element: "pipedrive", cfg: map[string]any{KeyRefreshInterval: "0"},
			field: "configuration." + KeyRefreshInterval, contains: []string{"whole number", "1 or more", `"0"`}},
		{name: "refresh interval abc", element: "pipedrive", cfg: map[string]any{KeyRefreshInterval: "abc"},
			field: "configuration." + KeyRefreshInterval, contains: []string{"whole number", `"abc"`}},
		{name: "refresh interval 1.5", element: "pipedrive", cfg: map[string]any{KeyRefreshInterval: "1.5"},
			field: "configuration." + KeyRefreshInterval, contains: []string{"whole number", `"1.5"`}},
		{name: "refresh interval -5", element: "pipedrive", cfg: map[string]any{KeyRefreshInterval: -5},
			field: "configuration." + KeyRefreshInterval, contains: []string{"1 or more"}},
		{name: "refresh interval 1", element: "pipedrive", cfg: map[string]any{KeyRefreshInterval: "1"}},

		{name: "events enabled yes", element: "pipedrive", cfg: map[string]any{KeyEventsEnabled: "yes"},
			field: "configuration." + KeyEventsEnabled, contains: []string{"true or false", `"yes"`}},

		{name: "poller not JSON", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: "{\n  \"contacts\": {\n    \"url\" \"/x\"\n  }\n}"},
			field: poller, contains: []string{"JSON object", "line 3, column 11"}},
		{name: "poller seed placeholder", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: "<SEE_BELOW>"},
			field: poller, contains: []string{"line 1, column 1"}},
		{name: "poller empty object", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: json.RawMessage(`{}`)},
			field: poller, contains: []string{"no resource"}},
		{name: "poller resource not an object", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`"/hubs/crm/contacts"`)},
			field: poller + ".contacts", contains: []string{"JSON object", "url", "idField"}},
		{name: "poller missing url", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"idField": "id", ` + goodDates + `}`)},
			field: poller + ".contacts.url", contains: []string{"missing", "required"}},
		{name: "poller empty url", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": " ", "idField": "id", ` + goodDates + `}`)},
			field: poller + ".contacts.url", contains: []string{"empty"}},
		{name: "poller missing idField", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", ` + goodDates + `}`)},
			field: poller + ".contacts.idField", contains: []string{"missing"}},
		{name: "poller idField a number", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": 1, ` + goodDates + `}`)},
			field: poller + ".contacts.idField", contains: []string{"must be a string", "a number"}},
		{name: "poller datesConfiguration not an object", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "datesConfiguration": "date_updated"}`)},
			field: poller + ".contacts.datesConfiguration", contains: []string{"JSON object", "a string"}},
		{name: "poller format without field", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "filterByUpdatedDate": false, "datesConfiguration": {"createdDateFormat": "yyyy"}}`)},
			field: poller + ".contacts.datesConfiguration.createdDateField", contains: []string{"createdDateFormat"}},
		{name: "poller pageSize 0", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "pageSize": 0, ` + goodDates + `}`)},
			field: poller + ".contacts.pageSize", contains: []string{"whole number", "≥ 1"}},
		{name: "poller pageSize 2.5", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "pageSize": 2.5, ` + goodDates + `}`)},
			field: poller + ".contacts.pageSize", contains: []string{"whole number"}},
		{name: "poller pollDelay text", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "pollDelay": "soon", ` + goodDates + `}`)},
			field: poller + ".contacts.pollDelay", contains: []string{"whole number", "a string"}},
		{name: "poller filterByUpdatedDate yes", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "filterByUpdatedDate": "yes", ` + goodDates + `}`)},
			field: poller + ".contacts.filterByUpdatedDate", contains: []string{"true or false"}},
		{name: "poller createdCheckTolerance as string", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "createdCheckTolerance": "10", "pageSize": "50", ` + goodDates + `}`)}},
		{name: "poller filterByUpdatedDate without updatedDateField", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "filterByUpdatedDate": true}`)},
			field: poller + ".contacts.datesConfiguration.updatedDateField", contains: []string{"filterByUpdatedDate"}},
		{name: "poller default filter without updatedDateField", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "datesConfiguration": {}}`)},
			field: poller + ".contacts.datesConfiguration.updatedDateField", contains: []string{"filterByUpdatedDate"}},
		{name: "poller filterByUpdatedDate false without dates", element: "closeio", cfg: map[string]any{KeyPollerConfiguration: pollerWith(`{"url": "/x", "idField": "id", "filterByUpdatedDate": "false"}`)}},

		{name: "callback headers values not strings", element: "pipedrive", cfg: map[string]any{KeyCallbackHeaders: json.RawMessage(`{"X-Retry": 3}`)},
			field: "configuration." + KeyCallbackHeaders, contains: []string{"JSON object of header names to string values"}},
		{name: "callback headers an array", element: "pipedrive", cfg: map[string]any{KeyCallbackHeaders: json.RawMessage(`["X-A: b"]`)},
			field: "configuration." + KeyCallbackHeaders, contains: []string{"JSON object"}},
		{name: "callback headers not JSON", element: "pipedrive", cfg: map[string]any{KeyCallbackHeaders: "X-A: b"},
			field: "configuration." + KeyCallbackHeaders, contains: []string{"JSON object", "line 1"}},
		{name: "callback headers ok (object)", element: "pipedrive", cfg: map[string]any{KeyCallbackHeaders: json.RawMessage(`{"X-Env": "prod"}`)}},
		{name: "callback headers ok (string)", element: "pipedrive", cfg: map[string]any{KeyCallbackHeaders: `{"X-Env": "prod"}`}},

		{name: "standard secret without whsec_", element: "pipedrive", cfg: map[string]any{KeyStandardSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			field: "configuration." + KeyStandardSecret, contains: []string{"whsec_"}},
		{name: "standard secret not base64", element: "pipedrive", cfg: map[string]any{KeyStandardSecret: "whsec_not base64!"},
			field: "configuration." + KeyStandardSecret, contains: []string{"base64"}},
		{name: "standard secret ok", element: "pipedrive", cfg: map[string]any{KeyStandardSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},

		{name: "webhook signature key not hex", element: "closeio", cfg: map[string]any{KeyWebhookSignatureKey: "not-hex"},
			field: "configuration." + KeyWebhookSignatureKey, contains: []string{"hex"}},
		{name: "webhook signature key odd length", element: "closeio", cfg: map[string]any{KeyWebhookSignatureKey: "abc"},
			field: "configuration." + KeyWebhookSignatureKey, contains: []string{"hex"}},
		{name: "webhook signature key ok", element: "closeio", cfg: map[string]any{KeyWebhookSignatureKey: "0a1B2c3D"}},

		{name: "base.url not absolute", element: "pipedrive", cfg: map[string]any{KeyBaseURL: "api.pipedrive.com/v1"},
			field: "configuration." + KeyBaseURL, contains: []string{"absolute http or https", `"api.pipedrive.com/v1"`}},
		{name: "base.url ftp", element: "closeio", cfg: map[string]any{KeyBaseURL: "ftp://api.close.com/api/v1"},
			field: "configuration." + KeyBaseURL, contains: []string{"absolute http or https"}},
		{name: "base.url test server", element: "closeio", cfg: map[string]any{KeyBaseURL: "http://127.0.0.1:8081/api/v1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]any{}
			for k, v := range base[tc.element] {
				cfg[k] = v
			}
			for k, v := range tc.cfg {
				if _, ok := v.(del); ok {
					delete(cfg, k)
				} else {
					cfg[k] = v
				}
			}
			req := request(t, tc.element, cfg)
			req.Name = tc.iname
			if tc.tags != nil {
				req.Tags = &tc.tags
			}
			in, err := NewInstance(req, t0)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if err := in.Validate(); err != nil {
					t.Errorf("Validate() after create: %v", err)
				}
				return
			}
			probs := problemsOf(t, err)
			if len(probs) != 1 {
				t.Fatalf("want exactly one problem on %s, got %d: %v", tc.field, len(probs), probs)
			}
			if probs[0].Field != tc.field {
				t.Errorf("field = %q, want %q (message %q)", probs[0].Field, tc.field, probs[0].Message)
			}
			for _, s := range tc.contains {
				if !strings.Contains(probs[0].Message, s) {
					t.Errorf("message %q does not mention %q", probs[0].Message, s)
				}
			}
			if msg := err.Error(); !strings.Contains(msg, tc.field) || !strings.HasPrefix(msg, "invalid instance: ") {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	t.Run("pipedrive", func(t *testing.T) {
		req := request(t, "pipedrive", map[string]any{
			KeyPipedriveEmail:      "sales@example.com",
			KeyEventsEnabled:       "true",
			KeyCallbackURL:         "ftp://app.example.com/x",
			KeyVendorType:          "push",
			KeyRefreshInterval:     "0",
			KeyPollerConfiguration: pollerWith(`{"idField": 5, ` + goodDates + `}`),
			KeyCallbackHeaders:     json.RawMessage(`{"X-A": true}`),
			KeyStandardSecret:      "secret",
			KeyWebhookSignatureKey: "zz",
			KeyBaseURL:             "api.pipedrive.com",
			KeySignatureKey:        "<INSERT_SIGNATURE_KEY>",
		})
		req.Name = strp("<INSERT_INSTANCE_NAME>")
		req.Tags = &[]string{"<INSERT_TAGS>"}
		_, err := NewInstance(req, t0)
		probs := problemsOf(t, err)
		want := []string{
			"name", "tags[0]",
			"configuration." + KeySignatureKey,
			"configuration." + KeyPipedrivePassword,
			"configuration." + KeyBaseURL,
			"configuration." + KeyCallbackURL,
			"configuration." + KeyVendorType,
			"configuration." + KeyRefreshInterval,
			"configuration." + KeyPollerConfiguration + ".contacts.url",
			"configuration." + KeyPollerConfiguration + ".contacts.idField",
			"configuration." + KeyCallbackHeaders,
			"configuration." + KeyStandardSecret,
			"configuration." + KeyWebhookSignatureKey,
		}
		assertFields(t, probs, want)
		if msg := err.Error(); !strings.Contains(msg, "(13 problems)") {
			t.Errorf("Error() does not count the problems: %q", msg)
		}
		ve := err.(*ValidationError)
		if got := ve.For("configuration." + KeyPollerConfiguration); len(got) != 2 {
			t.Errorf("For(poller configuration) = %v, want its 2 messages", got)
		}
		if got := ve.For("configuration"); len(got) != 0 {
			t.Errorf("For(\"configuration\") = %v, want none (too broad)", got)
		}
	})
	t.Run("unknown element with other problems", func(t *testing.T) {
		req := request(t, "hubspot", map[string]any{KeyRefreshInterval: "abc", KeyEventsEnabled: "yes"})
		req.Name = strp("<INSERT_INSTANCE_NAME>")
		_, err := NewInstance(req, t0)
		assertFields(t, problemsOf(t, err), []string{"name", "element.key", "configuration." + KeyEventsEnabled, "configuration." + KeyRefreshInterval})
	})
	t.Run("missing element with bad configuration value", func(t *testing.T) {
		req := request(t, "", map[string]any{KeyVendorType: "sometimes"})
		req.Configuration[KeyPaginationMax] = json.RawMessage(`1e`)
		_, err := NewInstance(req, t0)
		assertFields(t, problemsOf(t, err), []string{"element.key", "configuration." + KeyPaginationMax, "configuration." + KeyVendorType})
	})
}

func assertFields(t *testing.T, probs []Problem, want []string) {
	t.Helper()
	got := map[string]int{}
	for _, p := range probs {
		got[p.Field]++
		if strings.TrimSpace(p.Message) == "" {
			t.Errorf("problem on %s has no message", p.Field)
		}
	}
	for _, f := range want {
		if got[f] != 1 {
			t.Errorf("problem on %s reported %d times, want once", f, got[f])
		}
	}
	if len(probs) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(probs), len(want), probs)
	}
}

func TestPollerValuesParsed(t *testing.T) {
	pc, probs := ParsePollerConfig([]byte(`{"contacts": {"url": "/x", "idField": "id", "createdCheckTolerance": "30", "pageSize": "50", "pollDelay": 5,
		"filterByCurrentDate": "true", ` + goodDates + `}, "leads": {"url": "/y", "idField": "lead.id", ` + goodDates + `}}`))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	c, l := pc["contacts"], pc["leads"]
	if c.Tolerance() != 30 || c.PageSize != 50 || c.PollDelay != 5 || !c.FilterByCurrentDate || !c.FiltersByUpdatedDate() {
		t.Errorf("contacts = %+v (tolerance %d)", c, c.Tolerance())
	}
	if l.Tolerance() != 10 || l.PageSize != 0 || l.FilterByCurrentDate || !l.FiltersByUpdatedDate() || l.IDField != "lead.id" {
		t.Errorf("leads defaults = %+v (tolerance %d)", l, l.Tolerance())
	}
	zero, probs := ParsePollerConfig([]byte(`"{\"contacts\": {\"url\": \"/x\", \"idField\": \"id\", \"createdCheckTolerance\": 0, ` + strings.ReplaceAll(goodDates, `"`, `\"`) + `}}"`))
	if len(probs) > 0 || zero["contacts"].Tolerance() != 0 {
		t.Errorf("tolerance 0 given as a JSON string configuration: %+v %v", zero, probs)
	}
}

// ClosestRequiredSet picks the alternative validation judges by, and the
// form stars: the first complete one, else the first with the most keys
// given (blank values are not given).
func TestClosestRequiredSet(t *testing.T) {
	pipedrive := mustElement(t, "pipedrive") // {token} or {email, password}
	abc := Element{Key: "abc", RequiredAny: [][]string{{"a", "b"}, {"c", "d", "e"}}}
	withEmpty := Element{Key: "empty", RequiredAny: [][]string{{"a", "b"}, {}}}
	for _, tc := range []struct {
		name     string
		el       Element
		cfg      map[string]string
		i, given int
		complete bool
	}{
		{"nothing given", pipedrive, nil, 0, 0, false},
		{"blank token", pipedrive, map[string]string{KeyPipedriveToken: " \t"}, 0, 0, false},
		{"token", pipedrive, map[string]string{KeyPipedriveToken: "tok"}, 0, 1, true},
		{"token and email", pipedrive, map[string]string{KeyPipedriveToken: "tok", KeyPipedriveEmail: "ops@example.com"}, 0, 1, true},
		{"email", pipedrive, map[string]string{KeyPipedriveEmail: "ops@example.com"}, 1, 1, false},
		{"email, blank token", pipedrive, map[string]string{KeyPipedriveEmail: "ops@example.com", KeyPipedriveToken: " "}, 1, 1, false},
		{"email and password", pipedrive, map[string]string{KeyPipedriveEmail: "ops@example.com", KeyPipedrivePassword: "pw"}, 1, 2, true},
		{"no alternatives", Element{Key: "none"}, map[string]string{"a": "1"}, -1, 0, false},
		{"ties go to the first", abc, map[string]string{"a": "1", "c": "1"}, 0, 1, false},
		{"most given wins", abc, map[string]string{"a": "1", "c": "1", "d": "1"}, 1, 2, false},
		{"complete beats most given", abc, map[string]string{"a": "1", "b": "1", "c": "1", "d": "1"}, 0, 2, true},
		{"a later complete set wins", abc, map[string]string{"a": "1", "c": "1", "d": "1", "e": "1"}, 1, 3, true},
		{"an empty set is complete", withEmpty, map[string]string{"a": "1"}, 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, given, complete := tc.el.ClosestRequiredSet(tc.cfg)
			if i != tc.i || given != tc.given || complete != tc.complete {
				t.Errorf("ClosestRequiredSet = %d, %d, %v; want %d, %d, %v", i, given, complete, tc.i, tc.given, tc.complete)
			}
		})
	}
}
