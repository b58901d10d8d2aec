package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

// A search through the payloads answers the same in process and attached
// over the API, chunk by chunk, and a cancelled context stops it on both.
func TestSearchEventsBothSides(t *testing.T) {
	st := openStore(t)
	var evs []model.Event
	for i := 1; i <= 30; i++ {
		name := "Alice Smith"
		if i%10 == 0 {
			name = "Barbara Jones"
		}
		evs = append(evs, model.Event{InstanceID: 1, ElementKey: "closeio", Source: model.SourceWebhook, ObjectType: "contacts",
			ObjectID: fmt.Sprint(i), EventType: model.Updated, Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"name":%q}`, i, name))})
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	for name, b := range implementations(t, st) {
		t.Run(name, func(t *testing.T) {
			var found []string
			var cursor uint64
			calls := 0
			for {
				page, err := b.SearchEvents(context.Background(), model.EventFilter{Raw: "barbara jones"}, cursor, 1)
				if err != nil {
					t.Fatal(err)
				}
				calls++
				for _, e := range page.Events {
					if !strings.Contains(string(e.Raw), "Barbara Jones") {
						t.Errorf("event %s without its payload: %s", e.ID, e.Raw)
					}
					found = append(found, e.ID)
				}
				if page.Done {
					break
				}
				cursor = page.Next
			}
			if strings.Join(found, ",") != "30,20,10" || calls != 4 {
				t.Errorf("found %v in %d calls, want 30,20,10 in 4 (one match a call, then the rest)", found, calls)
			}
			page, err := b.SearchEvents(context.Background(), model.EventFilter{ObjectID: "7"}, 0, 50)
			if err != nil || len(page.Events) != 1 || page.Events[0].ID != "7" || page.Scanned != 30 || !page.Done {
				t.Errorf("object id 7: %+v, %v", page, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := b.SearchEvents(ctx, model.EventFilter{Raw: "x"}, 0, 50); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled search: %v, want context.Canceled", err)
			}
		})
	}
}
