package closeio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// Verbatim from the reference, [CL-WH] (opportunity won), as trimmed there.
const opportunityUpdated = `{
  "event": {
    "date_created": "2019-01-15T12:48:23.395000",
    "meta": {
      "request_method": "PUT",
      "request_path": "/api/v1/opportunity/oppo_7H4sjNso7FyBFaeR3RXi5PMJbilfo0c6UPCxsJtEhCO/"
    },
    "id": "ev_2sYKRjcrA79yKxi3S4Crd7",
    "action": "updated",
    "date_updated": "2019-01-15T12:48:23.395000",
    "changed_fields": ["confidence", "date_updated", "status_id", "status_label", "status_type"],
    "previous_data": {
      "status_type": "active",
      "confidence": 70,
      "date_updated": "2019-01-15T12:47:39.873000+00:00",
      "status_id": "stat_3FD9DnGUCJzccBKTh8LiiKoyVPpMJsOkJdcGoA5AYKH",
      "status_label": "Active"
    },
    "organization_id": "orga_XbVPx5fFbKlYTz9PW5Ih1XDhViV10YihIaEgMEb6fVW",
    "data": {
      "id": "oppo_8H4sjNso7FyBFaeR3RXi5PMJbilfo0c6UPCxsJtEhCO",
      "lead_id": "lead_zwqYhEFwzPyfCErS8uQ77is2wFLvr9BgVi6cTfbFM68",
      "status_type": "won", "status_label": "Won", "confidence": 100, "value": 100000,
      "date_created": "2019-01-15T12:41:24.496000+00:00",
      "date_updated": "2019-01-15T12:48:23.392000+00:00",
      "...": "(more opportunity fields)"
    },
    "request_id": "req_4S2L8JTBAA1OUS74SVmfbN",
    "object_id": "oppo_7H4sjNso7FyBFaeR3RXi5PMJbilfo0c6UPCxsJtEhCO",
    "user_id": "user_N6KhMpzHRCYQHdn4gRNIFNN5JExnsrprKA6ekxM63XA",
    "object_type": "opportunity",
    "lead_id": "lead_zwqYhEFwzPyfCErS8uQ77is2wFLvr9BgVi6cTfbFM68"
  },
  "subscription_id": "whsub_8AmjKCZYT3zI8eZoi4HhFC"
}`

// The signature test vector's body.
const leadCreated = `{"subscription_id":"whsub_test","event":{"id":"ev_1","object_type":"lead","action":"created","object_id":"lead_1"}}`

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

type want struct {
	objectType, objectID string
	eventType            model.EventType
	date                 time.Time
	vendorEventID        string
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		name string
		body string
		want want
	}{
		{"opportunity updated", opportunityUpdated, want{"opportunities", "oppo_7H4sjNso7FyBFaeR3RXi5PMJbilfo0c6UPCxsJtEhCO", model.Updated, utc("2019-01-15T12:48:23.395Z"), "ev_2sYKRjcrA79yKxi3S4Crd7"}},
		{"lead created, no dates", leadCreated, want{"leads", "lead_1", model.Created, time.Time{}, "ev_1"}},
		{"contact deleted, date_created only",
			`{"subscription_id":"whsub_1","event":{"id":"ev_2","object_type":"contact","action":"deleted","object_id":"cont_1","date_created":"2024-05-06T07:08:09.123456","data":null,"previous_data":{"id":"cont_1"}}}`,
			want{"contacts", "cont_1", model.Deleted, utc("2024-05-06T07:08:09.123456Z"), "ev_2"}},
		{"lead merged",
			`{"subscription_id":"whsub_1","event":{"id":"ev_3","object_type":"lead","action":"merged","object_id":"lead_dst","date_updated":"2024-05-06T07:08:09.000001","meta":{"merge_source_lead_id":"lead_src","merge_destination_lead_id":"lead_dst"}}}`,
			want{"leads", "lead_dst", model.Updated, utc("2024-05-06T07:08:09.000001Z"), "ev_3"}},
		{"unmapped type keeps its name",
			`{"subscription_id":"whsub_1","event":{"id":"ev_4","object_type":"activity.email","action":"created","object_id":"acti_1","date_updated":"2024-05-06T07:08:09+00:00"}}`,
			want{"activity.email", "acti_1", model.Created, utc("2024-05-06T07:08:09Z"), "ev_4"}},
		{"unknown action",
			`{"subscription_id":"whsub_1","event":{"id":"ev_5","object_type":"opportunity","action":"sent","object_id":"oppo_1"}}`,
			want{"opportunities", "oppo_1", model.Unknown, time.Time{}, "ev_5"}},
		{"object id from data",
			`{"subscription_id":"whsub_1","event":{"id":"ev_6","object_type":"contact","action":"created","data":{"id":"cont_9"}}}`,
			want{"contacts", "cont_9", model.Created, time.Time{}, "ev_6"}},
		{"legacy create", `{"model":"lead","event":"create","data":{"id":"lead_abc","display_name":"Acme","date_updated":"2014-03-04T05:06:07.000000+00:00"}}`,
			want{"leads", "lead_abc", model.Created, utc("2014-03-04T05:06:07Z"), ""}},
		{"legacy update", `{"model":"opportunity","event":"update","data":{"id":"oppo_1"}}`,
			want{"opportunities", "oppo_1", model.Updated, time.Time{}, ""}},
		{"legacy delete", `{"model":"lead","event":"delete","data":{"id":"lead_abc"}}`,
			want{"leads", "lead_abc", model.Deleted, time.Time{}, ""}},
		{"legacy merge", `{"model":"lead","event":"merge","data":{"source_id":"lead_src","destination_id":"lead_dst"}}`,
			want{"leads", "lead_dst", model.Updated, time.Time{}, ""}},
		{"legacy unknown action", `{"model":"contact","event":"archive","data":{"id":"cont_1"}}`,
			want{"contacts", "cont_1", model.Unknown, time.Time{}, ""}},
		{"event object without subscription_id",
			`{"event":{"id":"ev_7","object_type":"lead","action":"created","object_id":"lead_7"}}`,
			want{"leads", "lead_7", model.Unknown, time.Time{}, ""}},
		{"model not a string", `{"model":1,"event":"create"}`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
		{"unknown shape", `{"hello":"world"}`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
		{"array", `[1,2,3]`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
		{"number", `42`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			evs, err := Normalize(body)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			ev, w := evs[0], c.want
			if ev.ObjectType != w.objectType {
				t.Errorf("ObjectType = %q, want %q", ev.ObjectType, w.objectType)
			}
			if ev.ObjectID != w.objectID {
				t.Errorf("ObjectID = %q, want %q", ev.ObjectID, w.objectID)
			}
			if ev.EventType != w.eventType {
				t.Errorf("EventType = %q, want %q", ev.EventType, w.eventType)
			}
			if !ev.Date.Equal(w.date) || ev.Date.Location() != time.UTC {
				t.Errorf("Date = %v, want %v (UTC)", ev.Date, w.date)
			}
			if ev.VendorEventID != w.vendorEventID {
				t.Errorf("VendorEventID = %q, want %q", ev.VendorEventID, w.vendorEventID)
			}
			if !bytes.Equal(ev.Raw, body) {
				t.Errorf("Raw differs from the body")
			}
			if ev.Source != model.SourceWebhook || ev.ElementKey != "closeio" || ev.HubKey != "crm" {
				t.Errorf("Source/ElementKey/HubKey = %q/%q/%q", ev.Source, ev.ElementKey, ev.HubKey)
			}
			if ev.ID != "" || ev.InstanceID != 0 || !ev.ReceivedAt.IsZero() || !ev.PollDate.IsZero() {
				t.Errorf("caller's fields set: %+v", ev)
			}
		})
	}
}

func TestNormalizeInvalidJSON(t *testing.T) {
	for _, body := range []string{``, `{"event":`, `{"event":{}} trailing`, `{"model":"lead",}`, "\xef\xbb\xbf{}"} {
		evs, err := Normalize([]byte(body))
		if err == nil {
			t.Errorf("Normalize(%q) = %v, want error", body, evs)
			continue
		}
		var syn *json.SyntaxError
		if !errors.As(err, &syn) {
			t.Errorf("Normalize(%q) error %v does not wrap *json.SyntaxError", body, err)
		}
		if msg := model.JSONError([]byte(body), err).Error(); !strings.Contains(msg, "line 1, column") {
			t.Errorf("model.JSONError(%q) = %q, want line/column", body, msg)
		}
	}
}

func TestNormalizeRawIsTheBody(t *testing.T) {
	body := []byte(opportunityUpdated)
	evs, err := Normalize(body)
	if err != nil {
		t.Fatal(err)
	}
	if &evs[0].Raw[0] != &body[0] || len(evs[0].Raw) != len(body) {
		t.Fatal("Raw is not the body slice")
	}
}

func TestHubResource(t *testing.T) {
	pairs := map[string]string{"contact": "contacts", "lead": "leads", "opportunity": "opportunities"}
	for obj, res := range pairs {
		if got := HubResource(obj); got != res {
			t.Errorf("HubResource(%q) = %q, want %q", obj, got, res)
		}
		if got, ok := VendorObject(res); !ok || got != obj {
			t.Errorf("VendorObject(%q) = %q, %v, want %q, true", res, got, ok, obj)
		}
	}
	if got := HubResource("task.lead"); got != "task.lead" {
		t.Errorf("HubResource(task.lead) = %q", got)
	}
	if got, ok := VendorObject("accounts"); ok || got != "accounts" {
		t.Errorf("VendorObject(accounts) = %q, %v, want accounts, false", got, ok)
	}
}
