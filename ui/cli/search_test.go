package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// events list takes the console's raw:, id: and n: filters.
func TestEventsListSearchFilters(t *testing.T) {
	db := tempDB(t)
	mustRun(t, db, "instances", "create", "-f", fixture("seeds/pipedrive-webhook.json"))
	st, err := store.Open(db, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var evs []model.Event
	for i := 1; i <= 6; i++ {
		name := "Alice Smith"
		if i%3 == 0 {
			name = "Barbara Jones"
		}
		evs = append(evs, model.Event{InstanceID: 1, ElementKey: "pipedrive", Source: model.SourceWebhook, ObjectType: "persons",
			ObjectID: fmt.Sprint(100 + i), EventType: model.Updated, Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"name":%q}`, 100+i, name))})
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	ns, _, err := st.Notifications(t.Context(), model.NotificationFilter{}, 10)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	ids := func(out string) string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(l); len(f) > 2 {
				got = append(got, f[2])
			}
		}
		return strings.Join(got, ",")
	}
	if got := ids(mustRun(t, db, "events", "list", `raw:"barbara jones"`)); got != "6,3" {
		t.Errorf("raw: listed %q, want 6,3", got)
	}
	if got := ids(mustRun(t, db, "events", "list", "id:104")); got != "4" {
		t.Errorf("id:104 listed %q, want 4", got)
	}
	if len(ns) > 0 {
		want := make([]string, 0, len(ns[0].EventIDs))
		for i := len(ns[0].EventIDs) - 1; i >= 0; i-- {
			want = append(want, ns[0].EventIDs[i])
		}
		if got := ids(mustRun(t, db, "events", "list", "n:"+ns[0].ID)); got != strings.Join(want, ",") {
			t.Errorf("n:%s listed %q, want %v", ns[0].ID, got, want)
		}
	} else {
		t.Error("the seed instance sends no notifications: n: is not tested")
	}
}
