package fakeclose

import (
	"encoding/json"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var eventTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$`)

// pageEvents follows cursor_next to the end.
func pageEvents(t *testing.T, base string, q url.Values) (evs []map[string]any, pages int) {
	t.Helper()
	seen := map[string]bool{}
	for {
		a := get(t, base+"/api/v1/event/?"+q.Encode())
		mustStatus(t, a, 200)
		pages++
		if _, ok := a.body["cursor_previous"]; !ok {
			t.Fatal("no cursor_previous")
		}
		for _, e := range data(a) {
			evs = append(evs, e.(map[string]any))
		}
		next, _ := a.body["cursor_next"].(string)
		if next == "" {
			return evs, pages
		}
		if seen[next] {
			t.Fatalf("cursor %s repeated", next)
		}
		seen[next] = true
		q.Set("_cursor", next)
	}
}

func TestEventLog(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	lead := s.Create(KindLead, map[string]any{"name": "Acme"})
	clk.Advance(1500 * time.Microsecond)
	c := s.Create(KindContact, map[string]any{"name": "Ann", "lead_id": lead.ID})
	clk.Advance(time.Second)
	if _, err := s.Update(KindContact, c.ID, map[string]any{"title": "CEO"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := s.Delete(KindContact, c.ID); err != nil {
		t.Fatal(err)
	}

	evs, _ := pageEvents(t, ts.URL, url.Values{})
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e["object_type"].(string)+"."+e["action"].(string))
	}
	if !reflect.DeepEqual(actions, []string{"contact.deleted", "contact.updated", "contact.created", "lead.created"}) {
		t.Errorf("newest first: %v", actions)
	}
	del, upd, cre, lc := evs[0], evs[1], evs[2], evs[3]
	if del["data"] != nil || del["previous_data"].(map[string]any)["title"] != "CEO" || del["object_id"] != c.ID || del["lead_id"] != lead.ID {
		t.Errorf("deleted event %v", del)
	}
	if !reflect.DeepEqual(upd["changed_fields"], []any{"date_updated", "title"}) ||
		upd["previous_data"].(map[string]any)["title"] != "" || upd["data"].(map[string]any)["title"] != "CEO" {
		t.Errorf("updated event %v", upd)
	}
	if upd["meta"].(map[string]any)["request_method"] != "PUT" || upd["meta"].(map[string]any)["request_path"] != "/api/v1/contact/"+c.ID+"/" {
		t.Errorf("meta %v", upd["meta"])
	}
	if cre["date_created"] != "2024-03-01T10:00:00.001500" || !eventTime.MatchString(cre["date_updated"].(string)) {
		t.Errorf("event dates %v %v", cre["date_created"], cre["date_updated"])
	}
	if lc["lead_id"] != lead.ID || lc["object_id"] != lead.ID {
		t.Errorf("lead event %v", lc)
	}
	for _, e := range evs {
		id := e["id"].(string)
		if !strings.HasPrefix(id, "ev_") || len(id) != 25 || !strings.HasPrefix(e["request_id"].(string), "req_") {
			t.Errorf("ids %v %v", id, e["request_id"])
		}
		for _, k := range []string{"organization_id", "user_id", "changed_fields", "previous_data", "meta", "data"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event lacks %s", k)
			}
		}
	}

	// Filters.
	evs, _ = pageEvents(t, ts.URL, url.Values{"object_type": {"contact"}, "action": {"updated"}})
	if len(evs) != 1 || evs[0]["action"] != "updated" {
		t.Errorf("object_type+action: %v", evs)
	}
	evs, _ = pageEvents(t, ts.URL, url.Values{"object_type": {"contact"}, "date_updated__gte": {"2024-03-01T10:00:01.001500"}})
	if len(evs) != 2 {
		t.Errorf("__gte: %d", len(evs))
	}
	evs, _ = pageEvents(t, ts.URL, url.Values{"date_updated__gt": {"2024-03-01T10:00:00.001500"}, "date_updated__lt": {"2024-03-01T10:00:02.001500"}})
	if len(evs) != 1 || evs[0]["action"] != "updated" {
		t.Errorf("__gt/__lt: %v", evs)
	}
	evs, _ = pageEvents(t, ts.URL, url.Values{"object_id": {lead.ID}})
	if len(evs) != 1 {
		t.Errorf("object_id: %d", len(evs))
	}
	a := get(t, ts.URL+"/api/v1/event/"+del["id"].(string)+"/")
	mustStatus(t, a, 200)
	if a.body["action"] != "deleted" {
		t.Errorf("get event %s", a.raw)
	}
	mustStatus(t, get(t, ts.URL+"/api/v1/event/ev_nope/"), 404)
	mustStatus(t, get(t, ts.URL+"/api/v1/event/?_skip=10"), 400)
	mustStatus(t, get(t, ts.URL+"/api/v1/event/?_cursor=garbage"), 400)
	mustStatus(t, get(t, ts.URL+"/api/v1/event/?date_updated__gte=nope"), 400)
	if len(s.Events()) != 4 {
		t.Errorf("Events(): %d", len(s.Events()))
	}
}

func TestEventCursorPaging(t *testing.T) {
	s, ts, clk := setup(t, Options{})
	s.Generate(KindContact, 120) // 1 lead + 120 contacts, all at the same instant
	clk.Advance(time.Second)
	s.Generate(KindLead, 5)
	evs, pages := pageEvents(t, ts.URL, url.Values{"object_type": {"contact"}, "_limit": {"500"}})
	if len(evs) != 120 || pages != 3 {
		t.Fatalf("%d events in %d pages (limit must cap at 50)", len(evs), pages)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e["id"].(string)] {
			t.Fatalf("duplicate %v", e["id"])
		}
		seen[e["id"].(string)] = true
	}
	evs, _ = pageEvents(t, ts.URL, url.Values{"_limit": {"7"}})
	if len(evs) != 126 || evs[0]["object_type"] != "lead" || evs[125]["object_type"] != "lead" {
		t.Fatalf("all: %d", len(evs))
	}
}

func TestEventDataOmission(t *testing.T) {
	s, ts, clk := setup(t, Options{EventDataMaxAge: time.Hour})
	s.Create(KindLead, map[string]any{"name": "Old"})
	clk.Advance(2 * time.Hour)
	s.Create(KindLead, map[string]any{"name": "New"})
	evs, _ := pageEvents(t, ts.URL, url.Values{})
	if evs[0]["data"] == nil || evs[1]["data"] != nil || evs[1]["previous_data"] != nil {
		t.Errorf("max age: new %v old %v", evs[0]["data"], evs[1]["data"])
	}
	s2, ts2, _ := setup(t, Options{OmitEventData: true})
	s2.Create(KindLead, nil)
	evs, _ = pageEvents(t, ts2.URL, url.Values{})
	if evs[0]["data"] != nil {
		t.Errorf("OmitEventData: %v", evs[0])
	}
	// Events() and webhooks keep the data.
	if s2.Events()[0].Data == nil {
		t.Error("Events() lost data")
	}
}

func TestEventMarshal(t *testing.T) {
	ev := Event{
		ID: "ev_1", ObjectType: "lead", ObjectID: "lead_1", Action: "created", LeadID: "lead_1",
		DateCreated: time.Date(2019, 1, 15, 12, 48, 23, 395000000, time.UTC), DateUpdated: time.Date(2019, 1, 15, 12, 48, 23, 395000000, time.UTC),
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"date_created":"2019-01-15T12:48:23.395000","meta":{},"id":"ev_1","action":"created","date_updated":"2019-01-15T12:48:23.395000",` +
		`"changed_fields":[],"previous_data":null,"organization_id":null,"data":null,"request_id":null,"object_id":"lead_1",` +
		`"user_id":null,"object_type":"lead","lead_id":"lead_1","api_key_id":null}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
