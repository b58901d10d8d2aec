package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

func TestSearchEventsAPI(t *testing.T) {
	a := newTestAPI(t)
	var evs []model.Event
	for i := 1; i <= 6; i++ {
		name := "Alice Smith"
		if i%2 == 0 {
			name = "Barbara Jones"
		}
		evs = append(evs, model.Event{InstanceID: int64(1 + i%3), ElementKey: "closeio", Source: model.SourceWebhook, ObjectType: "contacts",
			ObjectID: fmt.Sprint(100 + i), EventType: model.Updated, Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"name":%q}`, 100+i, name))})
	}
	if _, err := a.st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	search := prefix + "/instances/events/search?"
	ids := func(body []byte) string {
		t.Helper()
		var got []model.Event
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		var out []string
		for _, e := range got {
			if !strings.Contains(string(e.Raw), `"id":`) {
				t.Errorf("event %s comes without its payload: %s", e.ID, e.Raw)
			}
			out = append(out, e.ID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		name, query, want, scanned string
	}{
		{"raw, any case, with a space", "raw=" + url.QueryEscape("barbara JONES"), "6,4,2", "6"},
		{"raw and instance (its events only are read)", "raw=Barbara&instance=1", "6", "2"},
		{"vendor object id", "objectId=103", "3", "6"},
		{"raw and object id", "raw=barbara&objectId=103", "", "6"},
		{"no filter", "", "6,5,4,3,2,1", "6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := a.authed("GET", search+c.query, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := ids(rec.Body.Bytes()); got != c.want {
				t.Errorf("found %q, want %q", got, c.want)
			}
			if rec.Header().Get(nextPageHeader) != "" || rec.Header().Get(scannedHeader) != c.scanned {
				t.Errorf("next %q scanned %q, want the search done after %s events", rec.Header().Get(nextPageHeader), rec.Header().Get(scannedHeader), c.scanned)
			}
		})
	}

	// A page of one match resumes where it stopped.
	var got []string
	next := ""
	for range 10 {
		q := search + "raw=barbara&pageSize=1"
		if next != "" {
			q += "&nextPage=" + next
		}
		rec := a.authed("GET", q, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if id := ids(rec.Body.Bytes()); id != "" {
			got = append(got, id)
		}
		if next = rec.Header().Get(nextPageHeader); next == "" {
			break
		}
	}
	if strings.Join(got, ",") != "6,4,2" {
		t.Errorf("paged search found %v, want 6,4,2", got)
	}

	// The raw filter works on the list too, and bad input is named.
	if rec := a.authed("GET", prefix+"/instances/events?raw=ALICE", nil); rec.Code != http.StatusOK || ids(rec.Body.Bytes()) != "5,3,1" {
		t.Errorf("list with raw: %d %s", rec.Code, rec.Body)
	}
	apiErr(t, a.authed("GET", search+"raw="+strings.Repeat("x", maxRawQuery+1), nil), http.StatusBadRequest, "raw must be at most 256 bytes")
	apiErr(t, a.authed("GET", search+"pageSize=501", nil), http.StatusBadRequest, "pageSize")
	apiErr(t, a.authed("GET", search+"since=yesterday", nil), http.StatusBadRequest, "since must be an RFC 3339 time")
	apiErr(t, a.do("GET", search+"raw=barbara", "", nil), http.StatusUnauthorized)
}
