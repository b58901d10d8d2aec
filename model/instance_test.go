package model

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewInstanceFromSeeds(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		element    string
		baseURL    string
		vendorType string
		// pollerFrom is the seed whose poller object must be stored.
		pollerFrom string
		resources  []string
		secrets    []string
	}{
		{"pipedrive polling", seedPipedrivePolling, "pipedrive", "https://api.pipedrive.com/v1", "polling",
			seedPipedrivePolling, []string{"accounts", "contacts", "opportunities"}, []string{KeyPipedrivePassword}},
		{"pipedrive webhook", seedPipedriveWebhook, "pipedrive", "https://api.pipedrive.com/v1", "webhook",
			seedPipedrivePolling, []string{"accounts", "contacts", "opportunities"}, []string{KeyPipedrivePassword}},
		{"close polling", seedClosePolling, "closeio", "https://api.close.com/api/v1", "polling",
			seedClosePolling, []string{"contacts"}, []string{KeyCloseAPIKey}},
		{"close webhook (trailing comma)", seedCloseWebhook, "closeio", "https://api.close.com/api/v1", "webhook",
			seedClosePolling, []string{"contacts"}, []string{KeyCloseAPIKey}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := NewInstance(decodeRequest(t, fillSeed(tc.doc)), t0)
			if err != nil {
				t.Fatalf("NewInstance of the filled seed: %v", err)
			}
			if in.ElementKey != tc.element || in.Name != "Sales CRM" || !reflect.DeepEqual(in.Tags, []string{"crm"}) {
				t.Errorf("element/name/tags = %q/%q/%q, want %q/\"Sales CRM\"/[crm]", in.ElementKey, in.Name, in.Tags, tc.element)
			}
			if !in.CreatedAt.Equal(t0) || !in.UpdatedAt.Equal(t0) {
				t.Errorf("CreatedAt/UpdatedAt = %v/%v, want %v", in.CreatedAt, in.UpdatedAt, t0)
			}
			cfg := in.Configuration
			want := map[string]string{
				KeyBaseURL:          tc.baseURL,
				KeyPaginationMax:    "100",
				KeyPaginationOffset: "true",
				KeyRefreshInterval:  "15",
				KeyEventsEnabled:    "true",
				KeyVendorType:       tc.vendorType,
				KeyCallbackURL:      "https://app.example.com/ce-events",
			}
			for k, v := range want {
				if cfg[k] != v {
					t.Errorf("configuration[%q] = %q, want %q", k, cfg[k], v)
				}
			}
			for _, k := range tc.secrets {
				if cfg[k] == "" {
					t.Errorf("configuration[%q] lost", k)
				}
			}
			if !in.EventsEnabled() || !in.EventsEnabledAt.Equal(t0) {
				t.Errorf("EventsEnabled=%v EventsEnabledAt=%v, want true and %v", in.EventsEnabled(), in.EventsEnabledAt, t0)
			}
			if got := in.Polling(); got != (tc.vendorType == "polling") {
				t.Errorf("Polling() = %v", got)
			}
			stored := cfg[KeyPollerConfiguration]
			if !sameJSON(t, stored, seedPoller(t, tc.pollerFrom)) {
				t.Errorf("stored poller configuration differs from the seed's objects:\n%s", stored)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(stored)); err != nil || buf.String() != stored {
				t.Errorf("poller configuration not stored as compact JSON: %s", stored)
			}
			pc, err := in.Poller()
			if err != nil {
				t.Fatalf("Poller(): %v", err)
			}
			if got := pc.Resources(); !reflect.DeepEqual(got, tc.resources) {
				t.Errorf("resources = %v, want %v", got, tc.resources)
			}
			if err := in.Validate(); err != nil {
				t.Errorf("Validate() of a created instance: %v", err)
			}
		})
	}
}

func TestElementDefaultPollerIsSeedObjects(t *testing.T) {
	for _, tc := range []struct{ key, seed string }{
		{"pipedrive", seedPipedrivePolling},
		{"closeio", seedClosePolling},
	} {
		el, ok := LookupElement(tc.key)
		if !ok {
			t.Fatalf("element %q not in catalogue", tc.key)
		}
		if !sameJSON(t, el.DefaultPoller, seedPoller(t, tc.seed)) {
			t.Errorf("%s default poller differs from the seed:\n%s", tc.key, el.DefaultPoller)
		}
		if _, probs := ParsePollerConfig([]byte(el.DefaultPoller)); len(probs) > 0 {
			t.Errorf("%s default poller does not validate: %v", tc.key, probs)
		}
	}
}

func TestNewInstanceDefaults(t *testing.T) {
	t.Run("minimal pipedrive", func(t *testing.T) {
		in, err := NewInstance(request(t, "pipedrive", map[string]any{KeyPipedriveToken: "tok"}), t0)
		if err != nil {
			t.Fatal(err)
		}
		el, _ := LookupElement("pipedrive")
		want := map[string]string{
			KeyPipedriveToken:      "tok",
			KeyBaseURL:             "https://api.pipedrive.com/v1",
			KeyPaginationMax:       "100",
			KeyPaginationOffset:    "true",
			KeyEventsEnabled:       "false",
			KeyRefreshInterval:     "15",
			KeyPollerConfiguration: el.DefaultPoller,
		}
		if !reflect.DeepEqual(in.Configuration, want) {
			t.Errorf("configuration = %v\nwant %v", in.Configuration, want)
		}
		if in.EventsEnabled() || !in.EventsEnabledAt.IsZero() {
			t.Errorf("events enabled by default (EventsEnabledAt=%v)", in.EventsEnabledAt)
		}
		if in.Tags == nil {
			t.Error("Tags is nil; want an empty list so the API shows []")
		}
		if in.RefreshInterval() != 15*time.Minute || in.VendorType() != "webhook" {
			t.Errorf("RefreshInterval=%v VendorType=%q", in.RefreshInterval(), in.VendorType())
		}
	})
	t.Run("given values win over defaults", func(t *testing.T) {
		in, err := NewInstance(request(t, "closeio", map[string]any{
			KeyCloseAPIKey:     "k",
			KeyBaseURL:         "http://127.0.0.1:9999/api/v1",
			KeyPaginationMax:   "25",
			KeyRefreshInterval: "5",
		}), t0)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{KeyBaseURL: "http://127.0.0.1:9999/api/v1", KeyPaginationMax: "25", KeyRefreshInterval: "5"} {
			if in.Configuration[k] != v {
				t.Errorf("%s = %q, want %q", k, in.Configuration[k], v)
			}
		}
		if in.RefreshInterval() != 5*time.Minute {
			t.Errorf("RefreshInterval = %v", in.RefreshInterval())
		}
	})
	t.Run("empty value gets the default", func(t *testing.T) {
		in, err := NewInstance(request(t, "closeio", map[string]any{KeyCloseAPIKey: "k", KeyBaseURL: " ", KeyPollerConfiguration: ""}), t0)
		if err != nil {
			t.Fatal(err)
		}
		el, _ := LookupElement("closeio")
		if in.Configuration[KeyBaseURL] != "https://api.close.com/api/v1" || in.Configuration[KeyPollerConfiguration] != el.DefaultPoller {
			t.Errorf("base.url=%q poller=%q", in.Configuration[KeyBaseURL], in.Configuration[KeyPollerConfiguration])
		}
	})
}

func TestNewInstancePollerObjectOrString(t *testing.T) {
	pretty := `{
	  "leads": {
	    "url": "/hubs/crm/leads?where=date_updated>'${gmtDate:yyyy-MM-dd}'",
	    "idField": "id",
	    "datesConfiguration": {"updatedDateField": "date_updated", "updatedDateFormat": "yyyy-MM-dd"},
	    "pageSize": 50
	  }
	}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(pretty)); err != nil {
		t.Fatal(err)
	}
	asString, _ := json.Marshal(pretty)
	forms := map[string]json.RawMessage{
		"object":                 json.RawMessage(pretty),
		"string holding JSON":    asString,
		"string holding compact": mustMarshal(t, compact.String()),
	}
	for name, raw := range forms {
		t.Run(name, func(t *testing.T) {
			req := request(t, "closeio", map[string]any{KeyCloseAPIKey: "k"})
			req.Configuration[KeyPollerConfiguration] = raw
			in, err := NewInstance(req, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := in.Configuration[KeyPollerConfiguration]; got != compact.String() {
				t.Errorf("stored poller configuration\n got %s\nwant %s", got, compact.String())
			}
			pc, err := in.Poller()
			if err != nil || pc["leads"].PageSize != 50 {
				t.Errorf("Poller() = %+v, %v", pc, err)
			}
		})
	}
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewInstanceLooseValuesBecomeStrings(t *testing.T) {
	req := InstanceRequest{
		Element: &ElementRef{Key: " pipedrive "},
		Configuration: map[string]json.RawMessage{
			KeyPipedriveToken:   json.RawMessage(`"tok"`),
			KeyEventsEnabled:    json.RawMessage(`true`),
			KeyPaginationOffset: json.RawMessage(`false`),
			KeyRefreshInterval:  json.RawMessage(`5`),
			KeyPaginationMax:    json.RawMessage(`250`),
			KeyCallbackHeaders:  json.RawMessage(`{ "X-Env" : "prod" }`),
			KeyCallbackURL:      json.RawMessage(`null`),
		},
	}
	in, err := NewInstance(req, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		KeyEventsEnabled:    "true",
		KeyPaginationOffset: "false",
		KeyRefreshInterval:  "5",
		KeyPaginationMax:    "250",
		KeyCallbackHeaders:  `{"X-Env":"prod"}`,
	}
	for k, v := range want {
		if in.Configuration[k] != v {
			t.Errorf("%s = %q, want %q", k, in.Configuration[k], v)
		}
	}
	if _, ok := in.Configuration[KeyCallbackURL]; ok {
		t.Error("a null value on create was stored; it means not given")
	}
	if in.ElementKey != "pipedrive" {
		t.Errorf("ElementKey = %q", in.ElementKey)
	}
	if !in.EventsEnabledAt.Equal(t0) {
		t.Errorf("EventsEnabledAt = %v, want %v (enabled with a JSON boolean)", in.EventsEnabledAt, t0)
	}

	t.Run("unsupported value", func(t *testing.T) {
		req := request(t, "pipedrive", map[string]any{KeyPipedriveToken: "tok"})
		req.Configuration[KeyPaginationMax] = json.RawMessage(`1e`)
		probs := problemsOf(t, func() error { _, err := NewInstance(req, t0); return err }())
		if len(probs) != 1 || probs[0].Field != "configuration."+KeyPaginationMax {
			t.Errorf("problems = %v", probs)
		}
	})
}

// --- Patch ---------------------------------------------------------------

func newPipedrive(t *testing.T, extra map[string]any) Instance {
	t.Helper()
	cfg := map[string]any{KeyPipedriveToken: "tok-1", KeyPipedriveEmail: "a@example.com", KeyPipedrivePassword: "pw-1"}
	for k, v := range extra {
		cfg[k] = v
	}
	req := request(t, "pipedrive", cfg)
	name, tags := "Sales", []string{"crm"}
	req.Name, req.Tags = &name, &tags
	in, err := NewInstance(req, t0)
	if err != nil {
		t.Fatal(err)
	}
	in.ID, in.Token = 7, "c2VjcmV0LXRva2Vu"
	return in
}

func TestPatch(t *testing.T) {
	t.Run("merges keys one by one", func(t *testing.T) {
		in := newPipedrive(t, map[string]any{KeyCallbackURL: "https://app.example.com/a"})
		out, err := in.Patch(request(t, "", map[string]any{KeyVendorType: "polling", KeyRefreshInterval: 3}), t1)
		if err != nil {
			t.Fatal(err)
		}
		want := in.Clone().Configuration
		want[KeyVendorType] = "polling"
		want[KeyRefreshInterval] = "3"
		if !reflect.DeepEqual(out.Configuration, want) {
			t.Errorf("configuration = %v\nwant %v", out.Configuration, want)
		}
		if out.ID != 7 || out.Token != in.Token || out.Name != "Sales" || !reflect.DeepEqual(out.Tags, []string{"crm"}) {
			t.Errorf("untouched fields changed: %+v", out)
		}
		if !out.UpdatedAt.Equal(t1) || !out.CreatedAt.Equal(t0) {
			t.Errorf("CreatedAt/UpdatedAt = %v/%v", out.CreatedAt, out.UpdatedAt)
		}
	})
	t.Run("name and tags", func(t *testing.T) {
		in := newPipedrive(t, nil)
		name, tags := "  Renamed ", []string{"a", "b"}
		out, err := in.Patch(InstanceRequest{Name: &name, Tags: &tags}, t1)
		if err != nil || out.Name != "Renamed" || !reflect.DeepEqual(out.Tags, tags) {
			t.Errorf("got %q %v, %v", out.Name, out.Tags, err)
		}
	})
	t.Run("null removes a key", func(t *testing.T) {
		in := newPipedrive(t, map[string]any{KeyCallbackURL: "https://app.example.com/a", KeySignatureKey: "s3cret"})
		out, err := in.Patch(request(t, "", map[string]any{KeyCallbackURL: nil, KeySignatureKey: nil}), t1)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{KeyCallbackURL, KeySignatureKey} {
			if v, ok := out.Configuration[k]; ok {
				t.Errorf("%s still present (%q) after null", k, v)
			}
		}
		if out.Configuration[KeyPipedriveToken] != "tok-1" {
			t.Error("other keys lost")
		}
	})
	t.Run("null on a defaulted key restores the default", func(t *testing.T) {
		in := newPipedrive(t, map[string]any{KeyBaseURL: "http://127.0.0.1:8080/v1", KeyPaginationMax: "10"})
		out, err := in.Patch(request(t, "", map[string]any{KeyBaseURL: nil, KeyPaginationMax: nil, KeyPollerConfiguration: nil}), t1)
		if err != nil {
			t.Fatal(err)
		}
		el, _ := LookupElement("pipedrive")
		for k, v := range map[string]string{KeyBaseURL: "https://api.pipedrive.com/v1", KeyPaginationMax: "100", KeyPollerConfiguration: el.DefaultPoller} {
			if out.Configuration[k] != v {
				t.Errorf("%s = %q, want default %q", k, out.Configuration[k], v)
			}
		}
	})
	t.Run("masked secrets sent back are kept", func(t *testing.T) {
		in := newPipedrive(t, map[string]any{KeySignatureKey: "sig", KeyBasicPassword: "bpw"})
		// What a client reads from the API and sends back unchanged.
		shown := in.Masked().Configuration
		req := InstanceRequest{Configuration: map[string]json.RawMessage{}}
		for k, v := range shown {
			req.Configuration[k] = mustMarshal(t, v)
		}
		req.Configuration[KeyPipedriveEmail] = mustMarshal(t, "b@example.com")
		out, err := in.Patch(req, t1)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{KeyPipedriveToken, KeyPipedrivePassword, KeySignatureKey, KeyBasicPassword} {
			if out.Configuration[k] != in.Configuration[k] {
				t.Errorf("%s = %q, want the stored %q", k, out.Configuration[k], in.Configuration[k])
			}
		}
		if out.Configuration[KeyPipedriveEmail] != "b@example.com" {
			t.Errorf("email not updated: %q", out.Configuration[KeyPipedriveEmail])
		}
		out, err = out.Patch(request(t, "", map[string]any{KeyPipedriveToken: "tok-2"}), t2)
		if err != nil || out.Configuration[KeyPipedriveToken] != "tok-2" {
			t.Errorf("a new secret value was not stored: %q, %v", out.Configuration[KeyPipedriveToken], err)
		}
	})
	t.Run("masked Close username is kept", func(t *testing.T) {
		in, err := NewInstance(request(t, "closeio", map[string]any{KeyCloseAPIKey: "api_key_1"}), t0)
		if err != nil {
			t.Fatal(err)
		}
		out, err := in.Patch(request(t, "", map[string]any{KeyCloseAPIKey: Mask}), t1)
		if err != nil || out.Configuration[KeyCloseAPIKey] != "api_key_1" {
			t.Errorf("username = %q, %v", out.Configuration[KeyCloseAPIKey], err)
		}
	})
	t.Run("changing the element is refused", func(t *testing.T) {
		in := newPipedrive(t, nil)
		req := request(t, "closeio", map[string]any{KeyCloseAPIKey: "k"})
		_, err := in.Patch(req, t1)
		probs := problemsOf(t, err)
		if len(probs) != 1 || probs[0].Field != "element.key" || !strings.Contains(probs[0].Message, `"pipedrive"`) ||
			!strings.Contains(probs[0].Message, "new instance") {
			t.Errorf("problems = %v", probs)
		}
		if _, err := in.Patch(request(t, "pipedrive", nil), t1); err != nil {
			t.Errorf("the same element key was refused: %v", err)
		}
	})
	t.Run("enabling and disabling events", func(t *testing.T) {
		in := newPipedrive(t, nil)
		on, err := in.Patch(request(t, "", map[string]any{KeyEventsEnabled: true}), t1)
		if err != nil || !on.EventsEnabledAt.Equal(t1) {
			t.Fatalf("after enabling EventsEnabledAt = %v, %v; want %v", on.EventsEnabledAt, err, t1)
		}
		on.NotificationsOff = "callback answered 410 Gone"
		still, err := on.Patch(request(t, "", map[string]any{KeyRefreshInterval: "30"}), t2)
		if err != nil || !still.EventsEnabledAt.Equal(t1) {
			t.Errorf("an unrelated patch moved EventsEnabledAt to %v (%v); want %v", still.EventsEnabledAt, err, t1)
		}
		off, err := still.Patch(request(t, "", map[string]any{KeyEventsEnabled: "false"}), t2)
		if err != nil || !off.EventsEnabledAt.IsZero() {
			t.Errorf("after disabling EventsEnabledAt = %v, %v; want zero", off.EventsEnabledAt, err)
		}
		again, err := off.Patch(request(t, "", map[string]any{KeyEventsEnabled: "true"}), t2)
		if err != nil || !again.EventsEnabledAt.Equal(t2) || again.NotificationsOff != "" {
			t.Errorf("re-enabling: EventsEnabledAt=%v NotificationsOff=%q, %v", again.EventsEnabledAt, again.NotificationsOff, err)
		}
	})
	t.Run("invalid patch leaves the instance untouched", func(t *testing.T) {
		in := newPipedrive(t, map[string]any{KeyCallbackURL: "https://app.example.com/a"})
		before := in.Clone()
		name := "<INSERT_INSTANCE_NAME>"
		req := request(t, "", map[string]any{
			KeyRefreshInterval: "0",
			KeyCallbackURL:     nil,
			KeyPipedriveToken:  nil,
			KeyEventsEnabled:   "true",
		})
		req.Name = &name
		out, err := in.Patch(req, t1)
		probs := problemsOf(t, err)
		fields := map[string]bool{}
		for _, p := range probs {
			fields[p.Field] = true
		}
		if !fields["configuration."+KeyRefreshInterval] || !fields["name"] {
			t.Errorf("problems = %v", probs)
		}
		if out.ID != 0 || out.Configuration != nil {
			t.Errorf("an invalid patch returned an instance: %+v", out)
		}
		if !reflect.DeepEqual(in, before) {
			t.Errorf("original instance modified:\n got %+v\nwant %+v", in, before)
		}
	})
}

// --- legacy event.poller.urls -------------------------------------------

func TestLegacyPollerURLs(t *testing.T) {
	const contactsLine = "contacts|/hubs/crm/contacts?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss}'||date_updated|yyyy-MM-dd'T'HH:mm:ss|UTC|date_created|yyyy-MM-dd'T'HH:mm:ss|UTC"
	const leadsLine = "leads|/hubs/crm/leads|| date_updated | yyyy-MM-dd |"
	contacts := PollerResource{
		URL: "/hubs/crm/contacts?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss}'", IDField: "id",
		Dates: DatesConfig{
			UpdatedDateField: "date_updated", UpdatedDateFormat: "yyyy-MM-dd'T'HH:mm:ss", UpdatedDateTimezone: "UTC",
			CreatedDateField: "date_created", CreatedDateFormat: "yyyy-MM-dd'T'HH:mm:ss", CreatedDateTimezone: "UTC",
		},
	}
	leads := PollerResource{URL: "/hubs/crm/leads", IDField: "id", Dates: DatesConfig{UpdatedDateField: "date_updated", UpdatedDateFormat: "yyyy-MM-dd"}}

	tests := []struct {
		name  string
		urls  string
		want  PollerConfig
		field string // expected problem field, if any
	}{
		{"one line", contactsLine, PollerConfig{"contacts": contacts}, ""},
		{"two lines, CRLF and blank lines", "\r\n" + contactsLine + "\r\n\r\n" + leadsLine + "\r\n", PollerConfig{"contacts": contacts, "leads": leads}, ""},
		{"bad second line", contactsLine + "\nleads", nil, "configuration.event.poller.urls line 2"},
		{"bad line after a blank one", contactsLine + "\n\n|/hubs/crm/leads", nil, "configuration.event.poller.urls line 3"},
		{"no resource", " \n ", nil, "configuration.event.poller.urls"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc, probs := ConvertLegacyURLs(tc.urls)
			if tc.field != "" {
				if len(probs) != 1 || probs[0].Field != tc.field {
					t.Fatalf("problems = %v, want one on %q", probs, tc.field)
				}
				if tc.field != "configuration.event.poller.urls" && !strings.Contains(probs[0].Message, "resource|url|") {
					t.Errorf("message does not show the expected form: %q", probs[0].Message)
				}
				return
			}
			if len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
			if !reflect.DeepEqual(pc, tc.want) {
				t.Errorf("got %+v\nwant %+v", pc, tc.want)
			}
		})
	}

	t.Run("converted on create, legacy key removed", func(t *testing.T) {
		in, err := NewInstance(request(t, "closeio", map[string]any{KeyCloseAPIKey: "k", KeyPollerURLs: contactsLine + "\n" + leadsLine}), t0)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := in.Configuration[KeyPollerURLs]; ok {
			t.Errorf("legacy key kept: %q", v)
		}
		stored := in.Configuration[KeyPollerConfiguration]
		pc, err := in.Poller()
		if err != nil || !reflect.DeepEqual(pc, PollerConfig{"contacts": contacts, "leads": leads}) {
			t.Errorf("Poller() = %+v, %v", pc, err)
		}
		// Shown to users in the console: the where clause must stay readable.
		if !strings.Contains(stored, "where=date_updated>'") {
			t.Errorf("stored configuration escapes the URL: %s", stored)
		}
	})
	t.Run("bad line refused on create", func(t *testing.T) {
		_, err := NewInstance(request(t, "closeio", map[string]any{KeyCloseAPIKey: "k", KeyPollerURLs: contactsLine + "\nleads"}), t0)
		probs := problemsOf(t, err)
		if len(probs) != 1 || probs[0].Field != "configuration.event.poller.urls line 2" {
			t.Errorf("problems = %v", probs)
		}
	})
	t.Run("both forms refused", func(t *testing.T) {
		el, _ := LookupElement("closeio")
		_, err := NewInstance(request(t, "closeio", map[string]any{
			KeyCloseAPIKey:         "k",
			KeyPollerURLs:          contactsLine,
			KeyPollerConfiguration: json.RawMessage(el.DefaultPoller),
		}), t0)
		probs := problemsOf(t, err)
		if len(probs) != 1 || probs[0].Field != "configuration."+KeyPollerURLs || !strings.Contains(probs[0].Message, "not both") {
			t.Errorf("problems = %v", probs)
		}
	})
	t.Run("converted on patch", func(t *testing.T) {
		in := newPipedrive(t, nil)
		out, err := in.Patch(request(t, "", map[string]any{KeyPollerURLs: leadsLine}), t1)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := out.Configuration[KeyPollerURLs]; ok {
			t.Error("legacy key kept after patch")
		}
		pc, err := out.Poller()
		if err != nil || !reflect.DeepEqual(pc, PollerConfig{"leads": leads}) {
			t.Errorf("Poller() = %+v, %v", pc, err)
		}
	})
}

func TestPatchNewCallbackURLClearsNotificationsOff(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	name := "x"
	in, err := NewInstance(InstanceRequest{Element: &ElementRef{Key: "pipedrive"}, Name: &name, Configuration: map[string]json.RawMessage{
		"pipedrive.api.token": json.RawMessage(`"t"`), "event.notification.enabled": json.RawMessage(`"true"`),
		"event.notification.callback.url": json.RawMessage(`"https://old.example.com/cb"`),
	}}, now)
	if err != nil {
		t.Fatal(err)
	}
	in.NotificationsOff = "callback answered 410 Gone"
	same, err := in.Patch(InstanceRequest{Configuration: map[string]json.RawMessage{"event.poller.refresh_interval": json.RawMessage(`"5"`)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if same.NotificationsOff == "" {
		t.Error("an unrelated change must not turn notifications back on")
	}
	moved, err := in.Patch(InstanceRequest{Configuration: map[string]json.RawMessage{"event.notification.callback.url": json.RawMessage(`"https://new.example.com/cb"`)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if moved.NotificationsOff != "" {
		t.Errorf("a new callback URL must clear the 410 flag, got %q", moved.NotificationsOff)
	}
}
