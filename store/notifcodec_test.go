package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestNotificationRecordRoundTrip(t *testing.T) {
	created := time.Date(2026, 12, 3, 9, 30, 0, 123456789, time.UTC)
	paris := time.FixedZone("", 3600)
	cases := []struct {
		name string
		n    model.Notification
	}{
		{"new", model.Notification{ID: "1", InstanceID: 7, WebhookID: "msg_abc", EventIDs: []string{"10", "11"},
			ObjectType: "contacts", Source: model.SourceWebhook, CreatedAt: created, State: model.StatePending, NextAttempt: created}},
		{"failing", model.Notification{ID: "18446744073709551615", InstanceID: 1 << 40, WebhookID: "msg_x", EventIDs: []string{"3"},
			ObjectType: "leads", Source: model.SourcePolling, CreatedAt: created, State: model.StatePending,
			Attempts: 4, CycleStart: 2, NextAttempt: created.Add(time.Hour).In(paris), FailingSince: created.Add(time.Minute),
			LastStatus: 503, LastError: strings.Repeat("é", 300)}},
		{"delivered, no events", model.Notification{ID: "9", InstanceID: 2, WebhookID: "msg_y", CreatedAt: created,
			State: model.StateDelivered, Attempts: 1, DeliveredAt: created.Add(time.Second), LastStatus: 200}},
		{"dead, year past 9999", model.Notification{ID: "5", InstanceID: 3, WebhookID: "msg_z", EventIDs: []string{},
			CreatedAt: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), State: model.StateDead, LastError: "HTTP 400"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := encodeNotification(c.n)
			if err != nil {
				t.Fatal(err)
			}
			got, inline, err := decodeMeta(rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(inline) != 0 {
				t.Fatalf("a compact record has an inline body of %d bytes", len(inline))
			}
			want := c.n
			if len(want.EventIDs) == 0 {
				want.EventIDs = got.EventIDs // nil and empty read the same
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
			// A record cut anywhere is refused, never half read.
			for i := 2; i < len(rec); i++ {
				if _, _, err := decodeMeta(rec[:i]); err == nil {
					t.Fatalf("a record cut to %d of %d bytes decoded", i, len(rec))
				}
			}
		})
	}
	if _, err := encodeNotification(model.Notification{ID: "x"}); err == nil {
		t.Fatal("a notification with a non-numeric id encoded")
	}
}
