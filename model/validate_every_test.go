package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// wantProblem is one problem a validation must name: its field, exactly,
// and words its message must hold.
type wantProblem struct {
	field string
	has   []string
}

// assertProblems checks the whole list, in order: every expected problem,
// nothing more, each on its field and saying what it should.
func assertProblems(t *testing.T, got []Problem, want []wantProblem) {
	t.Helper()
	gotFields := make([]string, len(got))
	for i, p := range got {
		gotFields[i] = p.Field
	}
	wantFields := make([]string, len(want))
	for i, w := range want {
		wantFields[i] = w.field
	}
	if !reflect.DeepEqual(gotFields, wantFields) {
		t.Errorf("problems on\n\t%s\nwant\n\t%s\nall:\n\t%s", strings.Join(gotFields, "\n\t"), strings.Join(wantFields, "\n\t"), problemLines(got))
		return
	}
	for i, w := range want {
		for _, s := range w.has {
			if !strings.Contains(got[i].Message, s) {
				t.Errorf("problem %d on %s: message %q does not mention %q", i, w.field, got[i].Message, s)
			}
		}
	}
}

func problemLines(probs []Problem) string {
	lines := make([]string, len(probs))
	for i, p := range probs {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n\t")
}

// The resources every row below builds on. contactsBad has four
// independent problems; leadsBad has five, two of them in one variable.
const (
	contactsBad = `"contacts": {
		"url": "/hubs/crm/contacts?where=date_updated>'${nope}' AND AND",
		"idField": "id",
		"datesConfiguration": {"createdDateField": "date_created", "createdDateFormat": "yyyy-QQ"}
	}`
	leadsBad = `"leads": {
		"url": "/hubs/crm/leads?since=${epoch:ns}&where=date_updated>'${dateTimeZone:Mars/Olympus:yyyyQ}' and status = 'open'",
		"datesConfiguration": {"updatedDateField": "date_updated", "updatedDateTimezone": "Mars/Olympus"}
	}`
)

const pollerField = "configuration." + KeyPollerConfiguration

var (
	contactsBadWant = []wantProblem{
		{pollerField + ".contacts.datesConfiguration.updatedDateField", []string{"missing", "filterByUpdatedDate"}},
		{pollerField + ".contacts.url", []string{"${nope}", `unknown variable "nope"`}},
		{pollerField + ".contacts.url", []string{"where clause", "found keyword AND"}},
		{pollerField + ".contacts.datesConfiguration.createdDateFormat", []string{"'Q'", `"yyyy-QQ"`}},
	}
	leadsBadWant = []wantProblem{
		{pollerField + ".leads.idField", []string{"missing", "required"}},
		{pollerField + ".leads.url", []string{"${epoch:ns}", `unknown epoch unit "ns"`}},
		{pollerField + ".leads.url", []string{"${dateTimeZone:Mars/Olympus:yyyyQ}", `unknown time zone "Mars/Olympus"`}},
		{pollerField + ".leads.url", []string{"${dateTimeZone:Mars/Olympus:yyyyQ}", "'Q'", `"yyyyQ"`}},
		{pollerField + ".leads.datesConfiguration.updatedDateTimezone", []string{`"Mars/Olympus"`}},
	}
)

func concat(lists ...[]wantProblem) []wantProblem {
	var out []wantProblem
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// TestPollerNamesEveryProblemOfEveryResource: a field problem of a resource
// (a missing updatedDateField, idField or url) no longer hides the checks of
// its URL template, where clause, date patterns and zones, nor do they hide
// one another; a problem that makes a check meaningless still stops it.
func TestPollerNamesEveryProblemOfEveryResource(t *testing.T) {
	const c = pollerField + ".contacts."
	tests := []struct {
		name   string
		config string
		want   []wantProblem
	}{
		{name: "one resource: missing updatedDateField, unknown ${nope}, bad where clause, bad date pattern",
			config: `{` + contactsBad + `}`, want: contactsBadWant},
		{name: "one resource: missing idField, two bad variables (one with a bad zone and pattern), bad zone",
			config: `{` + leadsBad + `}`, want: leadsBadWant},
		{name: "two resources, in name order",
			config: `{` + leadsBad + `, ` + contactsBad + `}`, want: concat(contactsBadWant, leadsBadWant)},
		{name: "updatedDateFormat without its field, and a bad pattern in it",
			config: `{"contacts": {"url": "/x?since=${nope}", "idField": "id", "datesConfiguration": {"updatedDateFormat": "yyyy-QQ"}}}`,
			want: []wantProblem{
				{c + "datesConfiguration.updatedDateField", []string{"missing while updatedDateFormat is set"}},
				{c + "url", []string{`unknown variable "nope"`}},
				{c + "datesConfiguration.updatedDateFormat", []string{"'Q'"}},
			}},
		{name: "missing url: the dates are still checked",
			config: `{"contacts": {"idField": "id", "datesConfiguration": {"updatedDateField": "u", "updatedDateFormat": "yyyy-QQ", "updatedDateTimezone": "Mars/Olympus"}}}`,
			want: []wantProblem{
				{c + "url", []string{"missing"}},
				{c + "datesConfiguration.updatedDateFormat", []string{"'Q'"}},
				{c + "datesConfiguration.updatedDateTimezone", []string{"Mars/Olympus"}},
			}},
		{name: "bad pageSize beside a bad where clause",
			config: `{"contacts": {"url": "/x?where=date_updated >", "idField": "id", "pageSize": 0, "datesConfiguration": {"updatedDateField": "u"}}}`,
			want: []wantProblem{
				{c + "pageSize", []string{"≥ 1"}},
				{c + "url", []string{"where clause"}},
			}},
		{name: "unterminated ${ is the url's one problem (its where clause has no shape to check)",
			config: `{"contacts": {"url": "/x?where=a>'${gmtDate:yyyy", "datesConfiguration": {"updatedDateField": "u"}}}`,
			want: []wantProblem{
				{c + "idField", []string{"missing"}},
				{c + "url", []string{"unterminated ${"}},
			}},
		{name: "datesConfiguration not an object: no updatedDateField follow-on, url still checked",
			config: `{"contacts": {"url": "/x?since=${nope}", "idField": "id", "datesConfiguration": "date_updated"}}`,
			want: []wantProblem{
				{c + "datesConfiguration", []string{"JSON object"}},
				{c + "url", []string{`unknown variable "nope"`}},
			}},
		{name: "filterByUpdatedDate unreadable: no updatedDateField guess, where clause still checked",
			config: `{"contacts": {"url": "/x?where=a >", "idField": "id", "filterByUpdatedDate": "yes"}}`,
			want: []wantProblem{
				{c + "filterByUpdatedDate", []string{"true or false"}},
				{c + "url", []string{"where clause"}},
			}},
		{name: "updatedDateField of the wrong type: named once, the zones still checked",
			config: `{"contacts": {"url": "/x", "idField": "id", "datesConfiguration": {"updatedDateField": 5, "createdDateTimezone": "Mars/Olympus"}}}`,
			want: []wantProblem{
				{c + "datesConfiguration.updatedDateField", []string{"must be a string", "a number"}},
				{c + "datesConfiguration.createdDateTimezone", []string{"Mars/Olympus"}},
			}},
		{name: "a resource that is not an object is one problem, the next resource is checked",
			config: `{"contacts": "/x", "leads": {"url": "/y?since=${nope}", "idField": "id", "datesConfiguration": {"updatedDateField": "u"}}}`,
			want: []wantProblem{
				{pollerField + ".contacts", []string{"JSON object"}},
				{pollerField + ".leads.url", []string{`unknown variable "nope"`}},
			}},
		{name: "not JSON: one problem only",
			config: `{"contacts": {"url": "/x?since=${nope}",}}`,
			want:   []wantProblem{{pollerField, []string{"JSON object"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := ParsePollerConfig([]byte(tc.config))
			assertProblems(t, probs, tc.want)
			for range 5 {
				if _, again := ParsePollerConfig([]byte(tc.config)); !reflect.DeepEqual(again, probs) {
					t.Fatalf("order not stable:\n\t%s\nthen\n\t%s", problemLines(probs), problemLines(again))
				}
			}

			// The same through the API's path: create and patch.
			cfg := map[string]any{KeyCloseAPIKey: "api_key", KeyPollerConfiguration: tc.config}
			if json.Valid([]byte(tc.config)) {
				cfg[KeyPollerConfiguration] = json.RawMessage(tc.config)
			}
			_, err := NewInstance(request(t, "closeio", cfg), t0)
			created := problemsOf(t, err)
			assertProblems(t, created, tc.want)
			_, err = NewInstance(request(t, "closeio", cfg), t0)
			if again := problemsOf(t, err); !reflect.DeepEqual(again, created) {
				t.Errorf("create: order not stable:\n\t%s\nthen\n\t%s", problemLines(created), problemLines(again))
			}
			in := newPipedrive(t, nil)
			_, err = in.Patch(request(t, "", map[string]any{KeyPollerConfiguration: cfg[KeyPollerConfiguration]}), t1)
			assertProblems(t, problemsOf(t, err), tc.want)
		})
	}
}

// TestInstanceNamesEveryProblemAtOnce: the instance-level checks report
// together, poller resources included, and a key's placeholder is its one
// problem rather than the first of a chain.
func TestInstanceNamesEveryProblemAtOnce(t *testing.T) {
	const (
		cb      = "configuration." + KeyCallbackURL
		enabled = "configuration." + KeyEventsEnabled
	)
	tests := []struct {
		name    string
		element string
		cfg     map[string]any
		iname   *string
		want    []wantProblem
	}{
		{name: "events.enabled unreadable: the callback URL is still checked", element: "pipedrive",
			cfg: map[string]any{KeyPipedriveToken: "tok", KeyEventsEnabled: "yes", KeyCallbackURL: "/events"},
			want: []wantProblem{
				{enabled, []string{"true or false", `"yes"`}},
				{cb, []string{"absolute http or https", `"/events"`}},
			}},
		{name: "events.enabled a placeholder: one problem on it, the callback URL still checked", element: "pipedrive",
			cfg: map[string]any{KeyPipedriveToken: "tok", KeyEventsEnabled: "<INSERT_ENABLED>", KeyCallbackURL: "ftp://app.example.com/x"},
			want: []wantProblem{
				{enabled, []string{"<INSERT_ENABLED>"}},
				{cb, []string{"absolute http or https"}},
			}},
		{name: "a placeholder is the one problem of its key", element: "closeio",
			cfg: map[string]any{
				KeyCloseAPIKey:         "api_key",
				KeyRefreshInterval:     "<INSERT_REFRESH_MINUTES>",
				KeyVendorType:          "<INSERT_VENDOR_TYPE>",
				KeyPollerConfiguration: "<INSERT_POLLER_CONFIGURATION>",
				KeyCallbackHeaders:     "<INSERT_HEADERS>",
			},
			want: []wantProblem{
				{"configuration." + KeyCallbackHeaders, []string{"<INSERT_HEADERS>"}},
				{pollerField, []string{"<INSERT_POLLER_CONFIGURATION>"}},
				{"configuration." + KeyRefreshInterval, []string{"<INSERT_REFRESH_MINUTES>"}},
				{"configuration." + KeyVendorType, []string{"<INSERT_VENDOR_TYPE>"}},
			}},
		{name: "a placeholder inside the poller configuration hides none of its other problems", element: "closeio",
			cfg: map[string]any{
				KeyCloseAPIKey: "api_key",
				// Given as strings: json.Marshal would escape the < of a RawMessage.
				KeyPollerConfiguration: `{"contacts": {"url": "/x?since=${nope}", "idField": "<INSERT_ID_FIELD>", "datesConfiguration": {"updatedDateField": "u"}}}`,
				KeyCallbackHeaders:     `{"X-Retry": 3, "X-Key": "<INSERT_KEY>"}`,
			},
			want: []wantProblem{
				{"configuration." + KeyCallbackHeaders, []string{"<INSERT_KEY>"}},
				{pollerField, []string{"<INSERT_ID_FIELD>"}},
				{pollerField + ".contacts.url", []string{`unknown variable "nope"`}},
				{"configuration." + KeyCallbackHeaders, []string{"string values"}},
			}},
		{name: "everything at once, every poller resource problem included", element: "pipedrive", iname: strp("<INSERT_INSTANCE_NAME>"),
			cfg: map[string]any{
				KeyPipedriveEmail:      "sales@example.com",
				KeyEventsEnabled:       "true",
				KeyCallbackURL:         "ftp://app.example.com/x",
				KeyVendorType:          "push",
				KeyRefreshInterval:     "0",
				KeyPollerConfiguration: json.RawMessage(`{` + contactsBad + `, ` + leadsBad + `}`),
			},
			want: concat([]wantProblem{
				{"name", []string{"<INSERT_INSTANCE_NAME>"}},
				{"configuration." + KeyPipedrivePassword, []string{"required by pipedrive"}},
				{cb, []string{"absolute http or https"}},
				{"configuration." + KeyVendorType, []string{`"push"`}},
				{"configuration." + KeyRefreshInterval, []string{`"0"`}},
			}, contactsBadWant, leadsBadWant)},
		{name: "unknown element beside a wrong poller resource", element: "hubspot",
			cfg: map[string]any{KeyRefreshInterval: "abc", KeyPollerConfiguration: json.RawMessage(`{` + contactsBad + `}`)},
			want: concat([]wantProblem{
				{"element.key", []string{`"hubspot"`}},
				{"configuration." + KeyRefreshInterval, []string{`"abc"`}},
			}, contactsBadWant)},
		{name: "legacy event.poller.urls: a bad line, and the good line's template and pattern", element: "closeio",
			cfg: map[string]any{KeyCloseAPIKey: "api_key", KeyPollerURLs: "contacts|/x?since=${nope}||date_updated|yyyy-QQ\nleads"},
			want: []wantProblem{
				{"configuration." + KeyPollerURLs + " line 2", []string{"resource|url|"}},
				{pollerField + ".contacts.url", []string{`unknown variable "nope"`}},
				{pollerField + ".contacts.datesConfiguration.updatedDateFormat", []string{"'Q'"}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request(t, tc.element, tc.cfg)
			req.Name = tc.iname
			_, err := NewInstance(req, t0)
			probs := problemsOf(t, err)
			assertProblems(t, probs, tc.want)
			for range 5 {
				_, err := NewInstance(req, t0)
				if again := problemsOf(t, err); !reflect.DeepEqual(again, probs) {
					t.Fatalf("order not stable:\n\t%s\nthen\n\t%s", problemLines(probs), problemLines(again))
				}
			}
		})
	}
}

// A variable whose value holds '&' stays inside the where clause it is in,
// as the poller reads it, so saving such a configuration is not refused.
func TestWhereClauseValueWithAmpersandSaves(t *testing.T) {
	cfg := `{"contacts":{"url":"/hubs/crm/contacts?where=update_time>'${date:yyyy'&'MM}'","idField":"id",` +
		`"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss"}}}`
	if _, probs := ParsePollerConfig([]byte(cfg)); len(probs) != 0 {
		t.Fatalf("problems %v, want none", probs)
	}
}
