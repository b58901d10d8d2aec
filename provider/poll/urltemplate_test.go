package poll_test

import (
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/provider/poll"
)

// templateRig is a Pipedrive rig whose one resource has url; dates are
// RFC 3339, as the fake writes them.
func templateRig(t *testing.T, resource, url string) *pipedriveRig {
	t.Helper()
	cfg := `{"` + resource + `":{"url":` + string(jsonString(url)) + `,"idField":"id",` +
		`"datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd'T'HH:mm:ssXXX",` +
		`"createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd'T'HH:mm:ssXXX"}}}`
	return newPipedriveRigWith(t, fakepipedrive.Options{}, rigOptions{edit: withToken(pollerConfig(cfg))})
}

// preview is the poller editor's preview of the rig's next request, with
// the fake's address left out.
func (r *pipedriveRig) preview(t *testing.T, resource string) string {
	t.Helper()
	in, err := r.st.Instance(t.Context(), r.inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := in.Poller()
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.st.PollStatus(t.Context(), in.ID, resource)
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := poll.NextRequest(in, cfg[resource], st, time.Minute)
	if err != nil {
		t.Fatalf("NextRequest: %v", err)
	}
	base := strings.TrimSuffix(in.Configuration[model.KeyBaseURL], "/v1")
	got, ok := strings.CutPrefix(req, "GET "+base)
	if !ok {
		t.Fatalf("preview %q is not a GET of %s", req, base)
	}
	return got
}

// A variable's value is data: a vendor URL's query gets it escaped, so the
// '+' of an offset reaches the vendor as a plus, not as a space, and an '&'
// or '=' stays inside its parameter. Literal text keeps its meaning. The
// poll is since t0 − 1 min overlap = 2026-03-01T09:59:00Z.
func TestVendorURLVariablesAreEscaped(t *testing.T) {
	tests := []struct {
		name, url string
		rawQuery  string            // exactly as the fake received it
		values    map[string]string // as the fake decoded them
		preview   string            // the poller editor's text after the base
	}{
		{"+0530 Z", "/leads?v=${dateTimeZone:GMT+0530:yyyy-MM-dd HH:mm:ss Z}",
			"limit=100&v=2026-03-01+15%3A29%3A00+%2B0530",
			map[string]string{"v": "2026-03-01 15:29:00 +0530"},
			"/v1/leads?limit=100&v=2026-03-01 15:29:00 +0530"},
		{"-0300 Z", "/leads?v=${dateTimeZone:GMT-0300:yyyy-MM-dd HH:mm:ss Z}",
			"limit=100&v=2026-03-01+06%3A59%3A00+-0300",
			map[string]string{"v": "2026-03-01 06:59:00 -0300"},
			"/v1/leads?limit=100&v=2026-03-01 06:59:00 -0300"},
		{"UTC Z", "/leads?v=${gmtDate:yyyy-MM-dd HH:mm:ss Z}",
			"limit=100&v=2026-03-01+09%3A59%3A00+%2B0000",
			map[string]string{"v": "2026-03-01 09:59:00 +0000"},
			"/v1/leads?limit=100&v=2026-03-01 09:59:00 +0000"},
		{"+05:30 XXX", "/leads?v=${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}",
			"limit=100&v=2026-03-01T15%3A29%3A00%2B05%3A30",
			map[string]string{"v": "2026-03-01T15:29:00+05:30"},
			"/v1/leads?limit=100&v=2026-03-01T15:29:00+05:30"},
		{"-03:00 XXX", "/leads?v=${dateTimeZone:GMT-0300:yyyy-MM-dd'T'HH:mm:ssXXX}",
			"limit=100&v=2026-03-01T06%3A59%3A00-03%3A00",
			map[string]string{"v": "2026-03-01T06:59:00-03:00"},
			"/v1/leads?limit=100&v=2026-03-01T06:59:00-03:00"},
		{"UTC XXX", "/leads?v=${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}",
			"limit=100&v=2026-03-01T09%3A59%3A00Z",
			map[string]string{"v": "2026-03-01T09:59:00Z"},
			"/v1/leads?limit=100&v=2026-03-01T09:59:00Z"},
		{"+0530 XX", "/leads?v=${dateTimeZone:Asia/Kolkata:HHmmXX}",
			"limit=100&v=1529%2B0530",
			map[string]string{"v": "1529+0530"},
			"/v1/leads?limit=100&v=1529+0530"},
		// Quoted literals with '&' and '=' do not split the query, or
		// override the page size.
		{"& and =", "/leads?v=${gmtDate:yyyy'&limit=1'}&w=${gmtDate:'a=b&c'}",
			"limit=100&v=2026%26limit%3D1&w=a%3Db%26c",
			map[string]string{"v": "2026&limit=1", "w": "a=b&c", "limit": "100"},
			"/v1/leads?limit=100&v=2026%26limit%3D1&w=a%3Db%26c"},
		{"# and %", "/leads?v=${gmtDate:yyyy'#%'}",
			"limit=100&v=2026%23%25",
			map[string]string{"v": "2026#%"},
			"/v1/leads?limit=100&v=2026%23%25"},
		// A '+' written in the literal text is still a space to the vendor,
		// as the user wrote it; the value's '+' next to it is a plus.
		{"literal +", "/leads?q=a+b&v=${dateTimeZone:GMT+0530:XX}+x",
			"limit=100&q=a+b&v=%2B0530+x",
			map[string]string{"q": "a b", "v": "+0530 x"},
			"/v1/leads?limit=100&q=a b&v=+0530 x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := templateRig(t, "leads", tt.url)
			preview := r.preview(t, "leads")
			r.clock.Advance(time.Minute)
			st, _, err := r.pollOne("leads")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			reqs := r.requests("/v1/leads")
			if len(reqs) != 1 {
				t.Fatalf("%d requests to /v1/leads, want 1", len(reqs))
			}
			if got := reqs[0].URL.RawQuery; got != tt.rawQuery {
				t.Errorf("vendor got query\n %q\nwant %q", got, tt.rawQuery)
			}
			q := reqs[0].URL.Query()
			for k, want := range tt.values {
				if got := q[k]; len(got) != 1 || got[0] != want {
					t.Errorf("vendor read %s = %q, want [%q]", k, got, want)
				}
			}
			if preview != tt.preview {
				t.Errorf("preview\n %q\nwant %q", preview, tt.preview)
			}
			if !strings.HasSuffix(st.LastURL, "/v1/leads?"+tt.rawQuery) {
				t.Errorf("status lastUrl %q, want it to end with the request's query", st.LastURL)
			}
		})
	}
}

// A hub URL's where clause is read with its values as formatted, the '+'
// of an offset included, both for the push-down to updated_since and for
// the local filter (which compares 2026-03-01T15:29:00+05:30 as an instant;
// a mangled value would be compared as text and drop the record).
func TestHubWhereClauseVariables(t *testing.T) {
	const persons = "limit=100&sort_by=update_time&sort_direction=asc&updated_since=2026-03-01T09%3A59%3A00Z"
	const preview = "/api/v2/persons?limit=100&sort_by=update_time&sort_direction=asc&updated_since=2026-03-01T09:59:00Z"
	tests := []struct {
		name, where string
		bob         bool // whether Bob passes the where clause
	}{
		{"+05:30 XXX", "update_time>='${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}'", true},
		{"-03:00 XXX", "update_time>='${dateTimeZone:GMT-0300:yyyy-MM-dd'T'HH:mm:ssXXX}'", true},
		{"UTC XXX", "update_time>='${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}'", true},
		{"+0530 Z", "update_time>='${dateTimeZone:Asia/Kolkata:yyyy-MM-dd HH:mm:ssZ}'", true},
		{"-0300 XX", "update_time>='${dateTimeZone:GMT-0300:yyyy-MM-dd'T'HH:mm:ssXX}'", true},
		// An escaped literal clause decodes; the value stays itself.
		{"escaped literal", "update_time%3E%3D'${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}'", true},
		// '=' from a quoted literal stays inside the clause. (An '&' does
		// too, see TestHubWhere, but the configuration check still splits
		// the clause at it and refuses the instance.)
		{"=", "update_time>='${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}' AND name!='${gmtDate:'x='yyyy}'", true},
		// A hand-written LIKE 'Ad%' is not valid escaping: the clause is
		// read verbatim, and so are the values in it.
		{"LIKE with %", "update_time>='${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}' AND name LIKE 'Ad%'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := templateRig(t, "contacts", "/hubs/crm/contacts?where="+tt.where)
			if got := r.preview(t, "contacts"); got != preview {
				t.Errorf("preview\n %q\nwant %q", got, preview)
			}
			r.clock.Advance(time.Minute)
			ada := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Ada"})
			bob := r.fake.Create(fakepipedrive.KindPerson, map[string]any{"name": "Bob"})
			r.clock.Advance(time.Minute)
			st, evs, err := r.pollOne("contacts")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			want := map[string]model.EventType{"contacts/" + ada.ID: model.Created}
			if tt.bob {
				want["contacts/"+bob.ID] = model.Created
			}
			wantEvents(t, evs, want)
			if len(st.Warnings) != 0 || st.Records != 2 {
				t.Errorf("status %+v", st)
			}
			reqs := r.requests("/api/v2/persons")
			if len(reqs) != 1 || reqs[0].URL.RawQuery != persons {
				t.Errorf("vendor requests %v, want one with query %q", reqs, persons)
			}
		})
	}
}
