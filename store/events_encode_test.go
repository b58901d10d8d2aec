package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// checkEventRecord demands that the record prepared outside the write
// transaction is exactly encodeEvent's, whatever the event holds.
func checkEventRecord(t *testing.T, e model.Event, id string) {
	t.Helper()
	got := encodeEventRecord(e).withID(id)
	e.ID = id
	if want := encodeEvent(e); !bytes.Equal(got, want) {
		t.Fatalf("record of %+v:\n got %q\nwant %q", e, got, want)
	}
}

var encodeSeeds = []model.Event{
	{},
	{InstanceID: 7, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook, ObjectType: "contacts", ObjectID: "8",
		EventType: model.Updated, Date: time.Date(2022, 11, 24, 15, 18, 35, 616e6, time.UTC), ReceivedAt: time.Now(),
		VendorEventID: "7c812ffd-8f50-45ea-a597-b8fcba2da9c0", Raw: json.RawMessage("{\n \"a\": 1 }")},
	{InstanceID: -1, ObjectID: "<b>&\"\\\u2028é\xff\x7f\x01", PollDate: time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 5*3600+30*60)),
		ReceivedAt: time.Date(2024, 2, 29, 23, 59, 59, 0, time.FixedZone("y", -(23*3600+59*60+59)))},
	{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Raw: json.RawMessage(`[1]`)},
	{ReceivedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("z", 24*3600))},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("z", -24*3600+1))},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.Local), Date: time.Unix(0, 0)},
}

func TestEventRecordMatchesEncodeEvent(t *testing.T) {
	for _, e := range encodeSeeds {
		for _, id := range []string{"1", "18446744073709551615", "42"} {
			checkEventRecord(t, e, id)
		}
	}
}

func FuzzEventRecord(f *testing.F) {
	f.Add(int64(7), "pipedrive", "contacts", "8", "v-1", int64(1669303115616000000), int64(0), 0, []byte(`{"a":1}`), uint64(5))
	f.Add(int64(-3), "<&>", "é\xff", "\u2028", "", int64(-62135596800000000000/1000), int64(1), -86399, []byte(nil), uint64(0))
	f.Fuzz(func(t *testing.T, inst int64, key, typ, obj, vendor string, date, recv int64, off int, raw []byte, seq uint64) {
		zone := time.FixedZone("f", off%(48*3600))
		e := model.Event{InstanceID: inst, ElementKey: key, HubKey: key, Source: model.Source(typ), ObjectType: typ, ObjectID: obj,
			EventType: model.EventType(vendor), VendorEventID: vendor, Raw: raw}
		if date != 0 {
			e.Date = time.Unix(0, date).In(zone)
			e.PollDate = time.Unix(date, 0).In(zone)
		}
		e.ReceivedAt = time.Unix(recv, recv).In(zone)
		checkEventRecord(t, e, fmtSeq(seq))
	})
}

func fmtSeq(seq uint64) string { return strconv.FormatUint(max(seq, 1), 10) }

// Every field of model.Event, set to a non-zero value by reflection, must
// come out of the hand-written encoder as json.Marshal writes it: a field
// added to model.Event and not to appendEventMeta fails here instead of
// silently going missing from stored records.
func TestEventRecordCoversEveryField(t *testing.T) {
	var e model.Event
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)))
		case json.RawMessage:
			f.Set(reflect.ValueOf(json.RawMessage(`{"a":1}`)))
		default:
			switch f.Kind() {
			case reflect.String:
				f.SetString("v" + strconv.Itoa(i))
			case reflect.Int, reflect.Int64, reflect.Int32:
				f.SetInt(int64(i + 1))
			case reflect.Bool:
				f.SetBool(true)
			default:
				t.Fatalf("model.Event.%s has kind %s: teach this test (and appendEventMeta) about it", v.Type().Field(i).Name, f.Kind())
			}
		}
	}
	checkEventRecord(t, e, "42")
}
