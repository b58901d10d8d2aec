package pipedrive

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// Verbatim from the reference, [PD-MIG] "Update person".
const v2UpdatePerson = `{
    "data": {
        "add_time": "2022-11-24T13:18:55Z",
        "custom_fields": {},
        "emails": [],
        "first_name": "Sample Person",
        "id": 8,
        "label": null,
        "last_name": null,
        "name": "Sample Person",
        "org_id": 1,
        "owner_id": 12415231,
        "phones": [],
        "update_time": "2022-11-24T15:18:35Z",
        "visible_to": "3"
     },
     "previous": {
        "first_name": "Sample",
        "name": "Sample"
     },
     "meta": {
        "action": "change",
        "company_id": "8087566",
        "correlation_id": "43cb94f3-bbbd-406c-ae19-ddeec349d896",
        "entity_id": "8",
        "entity": "person",
        "id": "7c812ffd-8f50-45ea-a597-b8fcba2da9c0",
        "is_bulk_edit": false,
        "timestamp": "2022-11-24T15:18:35.616Z",
        "type": "general",
        "user_id": "12415231",
        "version": "2.0",
        "webhook_id": "4710827",
        "webhook_owner_id": "12094821",
        "change_source": "app",
        "attempt": 1,
        "host": "pd-us.pipedrive.com"
     }
}`

// Verbatim (as trimmed in the reference), [PD-MIG] "Delete deal".
const v2DeleteDeal = `{ "data": null,
  "previous": { "id": 8, "title": "Sample Org deal", "status": "open", "update_time": "2022-11-24T15:16:03Z", "...": "..." },
  "meta": { "action": "delete", "company_id": "8087566", "entity_id": "8", "entity": "deal",
            "id": "a66e9392-fe41-4425-9bef-a1d32bf2df8c", "timestamp": "2022-11-24T15:16:53.335Z",
            "version": "2.0", "webhook_id": "4710827", "attempt": 1, "...": "..." } }`

// The reference's lead example (meta and data fragments) completed.
const v2CreateLead = `{"data":{"id":"b1810230-6c0d-11ed-9826-a53d0eb706a5","title":"Lead","add_time":"2022-11-24T15:35:58.675Z","value":{"amount":300,"currency":"EUR"}},
 "previous":null,
 "meta":{"action":"create","entity":"lead","entity_id":"b1810230-6c0d-11ed-9826-a53d0eb706a5","id":"0e0f7f8c-7a52-4e55-9d5c-1b1c2d3e4f50",
  "timestamp":"2022-11-24T15:35:58.675Z","version":"2.0","webhook_id":"4710827","attempt":1}}`

// The user entity: integer timestamp, and meta.id equal to the user id (the
// reference's "Delete user", sent as a change of active_flag).
const v2User = `{"data":{"id":12415231,"name":"Sample User","active_flag":false},"previous":{"active_flag":true},
 "meta":{"action":"change","company_id":"8087566","entity_id":"12415231","entity":"user","id":"12415231",
  "timestamp":1669304389,"type":"general","user_id":"12094821","version":"2.0","webhook_id":"4710827","attempt":1}}`

// The reference's constructed v1 example.
const v1UpdateDeal = `{"v":1,"matches_filters":{"current":[],"previous":[]},
 "meta":{"v":1,"action":"updated","object":"deal","change_source":"api","id":42,"company_id":123,"user_id":456,
  "host":"acme.pipedrive.com","timestamp":1700000000,"timestamp_micro":1700000000123456,"permitted_user_ids":[456],
  "trans_pending":false,"is_bulk_update":false,"pipedrive_service_name":false,
  "matches_filters":{"current":[],"previous":[]},"webhook_id":7},
 "retry":0,
 "current":{"id":42,"title":"Big deal","status":"open","stage_id":2,"update_time":"2023-11-14 22:13:20"},
 "previous":{"id":42,"title":"Big deal","status":"open","stage_id":1,"update_time":"2023-11-14 22:10:00"},
 "event":"updated.deal"}`

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
		{"v2 update person", v2UpdatePerson, want{"contacts", "8", model.Updated, utc("2022-11-24T15:18:35.616Z"), "7c812ffd-8f50-45ea-a597-b8fcba2da9c0"}},
		{"v2 delete deal", v2DeleteDeal, want{"opportunities", "8", model.Deleted, utc("2022-11-24T15:16:53.335Z"), "a66e9392-fe41-4425-9bef-a1d32bf2df8c"}},
		{"v2 create lead", v2CreateLead, want{"leads", "b1810230-6c0d-11ed-9826-a53d0eb706a5", model.Created, utc("2022-11-24T15:35:58.675Z"), "0e0f7f8c-7a52-4e55-9d5c-1b1c2d3e4f50"}},
		{"v2 user, integer timestamp", v2User, want{"user", "12415231", model.Updated, time.Unix(1669304389, 0).UTC(), "v2:user:12415231:change:1669304389"}},
		{"v2 organization create",
			`{"data":{"id":3},"previous":null,"meta":{"action":"create","entity":"organization","entity_id":"3","id":"u-1","timestamp":"2024-01-02T03:04:05Z","version":"2.0"}}`,
			want{"accounts", "3", model.Created, utc("2024-01-02T03:04:05Z"), "u-1"}},
		{"v2 unmapped entity keeps its name",
			`{"data":null,"previous":{"id":5},"meta":{"action":"delete","entity":"activity","entity_id":"5","id":"u-2","timestamp":"2024-01-02T03:04:05.5Z","version":"2.0"}}`,
			want{"activity", "5", model.Deleted, utc("2024-01-02T03:04:05.5Z"), "u-2"}},
		{"v2 numeric entity id keeps every digit",
			`{"meta":{"action":"change","entity":"deal","entity_id":12345678901234567890,"id":"u-3","timestamp":"2024-01-02T03:04:05Z","version":"2.0"}}`,
			want{"opportunities", "12345678901234567890", model.Updated, utc("2024-01-02T03:04:05Z"), "u-3"}},
		{"v2 unknown action",
			`{"meta":{"action":"archive","entity":"person","entity_id":"9","id":"u-4","timestamp":"2024-01-02T03:04:05Z","version":"2.0"}}`,
			want{"contacts", "9", model.Unknown, utc("2024-01-02T03:04:05Z"), "u-4"}},
		{"v1 update deal", v1UpdateDeal, want{"opportunities", "42", model.Updated, time.UnixMicro(1700000000123456).UTC(), "v1:7:42:updated:1700000000123456"}},
		{"v1 added person, action from event only",
			`{"v":1,"meta":{"object":"person","id":17,"timestamp":1700000001,"timestamp_micro":1700000001000001,"webhook_id":7},"current":{"id":17},"previous":null,"event":"added.person"}`,
			want{"contacts", "17", model.Created, time.UnixMicro(1700000001000001).UTC(), "v1:7:17:added:1700000001000001"}},
		{"v1 deleted organization, seconds only",
			`{"v":1,"meta":{"action":"deleted","object":"organization","id":5,"timestamp":1700000002,"webhook_id":"7"},"current":null,"previous":{"id":5},"event":"deleted.organization"}`,
			want{"accounts", "5", model.Deleted, time.Unix(1700000002, 0).UTC(), "v1:7:5:deleted:1700000002"}},
		{"v1 merged person",
			`{"v":1,"meta":{"action":"merged","object":"person","id":6,"timestamp_micro":1700000003000000,"webhook_id":7},"current":{"id":6},"previous":{"id":6},"event":"merged.person"}`,
			want{"contacts", "6", model.Updated, time.Unix(1700000003, 0).UTC(), "v1:7:6:merged:1700000003000000"}},
		{"v1 user, id from current array",
			`{"v":1,"meta":{"action":"updated","object":"user"},"current":[{"id":99}],"previous":[{"id":99}],"event":"updated.user"}`,
			want{"user", "99", model.Updated, time.Time{}, ""}},
		{"v1 unknown action",
			`{"v":1,"meta":{"action":"archived","object":"deal","id":1,"timestamp":1700000000,"webhook_id":7},"current":{"id":1},"event":"archived.deal"}`,
			want{"opportunities", "1", model.Unknown, time.Unix(1700000000, 0).UTC(), "v1:7:1:archived:1700000000"}},
		{"unknown shape object", `{"hello":"world"}`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
		{"unknown shape with recognisable meta",
			`{"meta":{"entity":"deal","entity_id":"5","action":"create","version":"3.0"}}`,
			want{"opportunities", "5", model.Unknown, time.Time{}, ""}},
		{"array", `[{"meta":{"version":"2.0"}}]`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
		{"null", `null`, want{"unknown", "", model.Unknown, time.Time{}, ""}},
		{"string", ` "hi" `, want{"unknown", "", model.Unknown, time.Time{}, ""}},
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
			check(t, evs[0], body, c.want)
		})
	}
}

func check(t *testing.T, ev model.Event, body []byte, w want) {
	t.Helper()
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
	if ev.Source != model.SourceWebhook || ev.ElementKey != "pipedrive" || ev.HubKey != "crm" {
		t.Errorf("Source/ElementKey/HubKey = %q/%q/%q", ev.Source, ev.ElementKey, ev.HubKey)
	}
	if ev.ID != "" || ev.InstanceID != 0 || !ev.ReceivedAt.IsZero() || !ev.PollDate.IsZero() {
		t.Errorf("caller's fields set: %+v", ev)
	}
}

func TestNormalizeInvalidJSON(t *testing.T) {
	for _, body := range []string{``, `   `, `{"meta":`, `{"a":1}x`, `{'a':1}`, "{\n  \"a\": 1,\n}", `{"a":1}{"b":2}`} {
		evs, err := Normalize([]byte(body))
		if err == nil {
			t.Errorf("Normalize(%q) = %v, want error", body, evs)
			continue
		}
		var syn *json.SyntaxError
		if !errors.As(err, &syn) {
			t.Errorf("Normalize(%q) error %v does not wrap *json.SyntaxError", body, err)
		}
		if msg := model.JSONError([]byte(body), err).Error(); !strings.Contains(msg, "line") {
			t.Errorf("model.JSONError(%q) = %q, want line/column", body, msg)
		}
	}
	_, err := Normalize([]byte("{\n  \"a\": 1,\n}"))
	if msg := model.JSONError([]byte("{\n  \"a\": 1,\n}"), err).Error(); !strings.Contains(msg, "line 3, column 1") {
		t.Errorf("JSONError = %q, want line 3, column 1", msg)
	}
}

func TestNormalizeRawIsTheBody(t *testing.T) {
	body := []byte(v2UpdatePerson)
	evs, err := Normalize(body)
	if err != nil {
		t.Fatal(err)
	}
	if &evs[0].Raw[0] != &body[0] || len(evs[0].Raw) != len(body) {
		t.Fatal("Raw is not the body slice")
	}
}

func TestHubResource(t *testing.T) {
	pairs := map[string]string{"organization": "accounts", "person": "contacts", "deal": "opportunities", "lead": "leads"}
	for obj, res := range pairs {
		if got := HubResource(obj); got != res {
			t.Errorf("HubResource(%q) = %q, want %q", obj, got, res)
		}
		if got, ok := VendorObject(res); !ok || got != obj {
			t.Errorf("VendorObject(%q) = %q, %v, want %q, true", res, got, ok, obj)
		}
	}
	if got := HubResource("activity"); got != "activity" {
		t.Errorf("HubResource(activity) = %q", got)
	}
	if got, ok := VendorObject("activity"); ok || got != "activity" {
		t.Errorf("VendorObject(activity) = %q, %v, want activity, false", got, ok)
	}
}
