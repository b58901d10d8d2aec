package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// encodeJSONEvent writes the JSON layout of schemas 1 and 2 (metadata as
// JSON, then the raw payload), for tests of files written by those versions.
func encodeJSONEvent(e model.Event) []byte {
	raw := e.Raw
	e.Raw = nil
	meta, _ := json.Marshal(e)
	buf := binary.AppendUvarint(nil, uint64(len(meta)))
	buf = append(buf, meta...)
	return append(buf, raw...)
}

// jsonEncodable reports whether the JSON layout kept e whole: strings of
// valid UTF-8, years 0–9999 and zone offsets of whole minutes under 24
// hours.
func jsonEncodable(e model.Event) bool {
	for _, s := range []string{e.ElementKey, e.HubKey, string(e.Source), e.ObjectType, e.ObjectID, string(e.EventType), e.VendorEventID} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, t := range []time.Time{e.Date, e.PollDate, e.ReceivedAt} {
		if t.IsZero() {
			continue
		}
		_, off := t.Zone()
		if y := t.Year(); y < 0 || y > 9999 || off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
			return false
		}
	}
	return true
}

// sameTime demands the same instant and the same zone offset.
func sameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

// checkEventRecord demands that e's compact record reads back as e with
// its id, and, for every event the JSON layout could hold, exactly as the
// JSON layout read back: readers see no difference between old and new
// records.
func checkEventRecord(t *testing.T, e model.Event, seq uint64) {
	t.Helper()
	got, err := decodeEvent(encodeEventRecord(e).withSeq(seq))
	if err != nil {
		t.Fatalf("decode the record of %+v: %v", e, err)
	}
	e.ID, e.BodyHash = strconv.FormatUint(seq, 10), ""
	if len(e.Raw) == 0 {
		e.Raw = nil
	}
	if jsonEncodable(e) {
		want, err := decodeEvent(encodeJSONEvent(e))
		if err != nil {
			t.Fatalf("decode the JSON record of %+v: %v", e, err)
		}
		if e.Raw == nil {
			// The JSON layout read a missing payload back as the JSON
			// literal null, which the compact one does not copy.
			want.Raw = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record of %+v:\n got %+v\nwant %+v (as the JSON layout read it)", e, got, want)
		}
		return
	}
	times := func(x model.Event) (model.Event, [3]time.Time) {
		ts := [3]time.Time{x.Date, x.PollDate, x.ReceivedAt}
		x.Date, x.PollDate, x.ReceivedAt = time.Time{}, time.Time{}, time.Time{}
		return x, ts
	}
	g, gt := times(got)
	w, wt := times(e)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("record of %+v:\n got %+v", e, got)
	}
	for i := range gt {
		if !sameTime(gt[i], wt[i]) {
			t.Fatalf("record of %+v: time %d came back as %v, want %v", e, i, gt[i], wt[i])
		}
	}
}

var encodeSeeds = []model.Event{
	{},
	{InstanceID: 7, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook, ObjectType: "contacts", ObjectID: "8",
		EventType: model.Updated, Date: time.Date(2022, 11, 24, 15, 18, 35, 616e6, time.UTC), ReceivedAt: time.Now(),
		VendorEventID: "7c812ffd-8f50-45ea-a597-b8fcba2da9c0", Raw: json.RawMessage("{\n \"a\": 1 }")},
	{InstanceID: -1, ObjectID: "<b>&\"\\\u2028é\xff\x7f\x01", PollDate: time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 5*3600+30*60)),
		ReceivedAt: time.Date(2024, 2, 29, 23, 59, 59, 0, time.FixedZone("y", -(23*3600+59*60)))},
	{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Raw: json.RawMessage(`[1]`)},
	{ReceivedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("z", 24*3600))},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("z", -24*3600+1))},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.Local), Date: time.Unix(0, 0)},
	{ReceivedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("zero", 0)), Raw: json.RawMessage{}},
}

func TestEventRecordReadsAsTheJSONLayoutDid(t *testing.T) {
	for _, e := range encodeSeeds {
		for _, seq := range []uint64{1, 18446744073709551615, 42} {
			checkEventRecord(t, e, seq)
		}
	}
}

// A group that is retried numbers its events again: the record completed
// a second time carries the new id, whatever the lengths of the two.
func TestEventRecordTakesAnotherID(t *testing.T) {
	rec := encodeEventRecord(encodeSeeds[1])
	for _, seq := range []uint64{1 << 40, 5, 300, 18446744073709551615, 1} {
		got, err := decodeEvent(rec.withSeq(seq))
		if err != nil {
			t.Fatal(err)
		}
		if want := strconv.FormatUint(seq, 10); got.ID != want || string(got.Raw) != string(encodeSeeds[1].Raw) || got.VendorEventID != encodeSeeds[1].VendorEventID {
			t.Fatalf("record completed with id %s read back as %+v", want, got)
		}
	}
}

// A Pipedrive webhook's record fits three to a 4 KB page, where the JSON
// layout fitted two: that is the point of the compact layout.
func TestEventRecordIsCompact(t *testing.T) {
	e := model.Event{InstanceID: 3, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook, ObjectType: "contacts",
		ObjectID: "123456", EventType: model.Updated, Date: time.Now().UTC(), ReceivedAt: time.Now().UTC(),
		VendorEventID: "7c812ffd-8f50-45ea-a597-b8fcba2da9c0", Raw: make(json.RawMessage, 1075)}
	compact := len(encodeEventRecord(e).withSeq(1 << 30))
	e.ID = strconv.Itoa(1 << 30)
	old := len(encodeJSONEvent(e))
	if meta := compact - len(e.Raw); meta > 130 {
		t.Errorf("the compact record spends %d bytes besides the body (JSON layout: %d), want at most 130", meta, old-len(e.Raw))
	}
	// A leaf page: a 16-byte header, then per record a 16-byte element
	// and its 8-byte key.
	if perPage := (4096 - 16) / (compact + 24); perPage < 3 {
		t.Errorf("%d records of %d bytes fit a 4 KB page, want 3", perPage, compact)
	}
}

func TestDecodeEventRefusesBadRecords(t *testing.T) {
	full := encodeEventRecord(encodeSeeds[1]).withSeq(9)
	for i := 1; i < len(full)-len(encodeSeeds[1].Raw); i++ {
		if _, err := decodeEvent(full[:i]); !errors.Is(err, errBadRecord) {
			t.Fatalf("a record cut to %d of %d bytes: got %v, want errBadRecord", i, len(full), err)
		}
	}
	later := append([]byte{recordCompact, recordVersion + 1}, full[2:]...)
	if _, err := decodeEvent(later); !errors.Is(err, errBadRecord) {
		t.Fatalf("a record of an unknown layout: got %v, want errBadRecord", err)
	}
}

// A schema 2 file's events, in the JSON layout, read as before after the
// upgrade to 3, beside the compact ones written since; a read-only open
// asks for the upgrade first.
func TestSchema2EventsReadAfterUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	old := encodeSeeds[1]
	old.ID = "1"
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		if _, err := b.NextSequence(); err != nil {
			return err
		}
		if err := b.Put(u64(1), encodeJSONEvent(old)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keySchema, u64(2)); err != nil {
			return err
		}
		return markInstance(tx.Bucket(bucketInstanceBlocks), old.InstanceID, 1, true)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrOlderSchema) {
		t.Fatalf("read-only open of schema 2: %v, want ErrOlderSchema", err)
	}
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := encodeSeeds[1]
	e.VendorEventID = "another delivery"
	res, err := s.AppendEvents(t.Context(), []model.Event{e})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Stored[0].ID; got != "2" {
		t.Fatalf("new event's id %s, want 2", got)
	}
	list, _, err := s.Events(t.Context(), EventFilter{InstanceID: old.InstanceID}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "2" || list[1].ID != "1" {
		t.Fatalf("events %+v, want ids 2 and 1", list)
	}
	for _, got := range list {
		if string(got.Raw) != string(old.Raw) || got.ObjectID != old.ObjectID || !got.Date.Equal(old.Date) || got.InstanceID != old.InstanceID {
			t.Errorf("event %s read back as %+v", got.ID, got)
		}
	}
	if list[0].VendorEventID != "another delivery" || list[1].VendorEventID != old.VendorEventID {
		t.Errorf("vendor ids %q, %q", list[0].VendorEventID, list[1].VendorEventID)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema)); v != 3 {
			t.Errorf("schema version %d after the upgrade, want 3", v)
		}
		return nil
	})
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
		checkEventRecord(t, e, seq)
	})
}

// Every field of model.Event that is stored, set to a non-zero value by
// reflection, must come back from the compact record: a field added to
// model.Event and not to encodeEventRecord fails here instead of silently
// going missing from stored records.
func TestEventRecordCoversEveryField(t *testing.T) {
	var e model.Event
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		if v.Type().Field(i).Tag.Get("json") == "-" {
			continue // not kept
		}
		f := v.Field(i)
		switch f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(time.Date(2026, 3, 14, 15, 9, 26, 535897000+i, time.UTC)))
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
				t.Fatalf("model.Event.%s has kind %s: teach this test (and encodeEventRecord) about it", v.Type().Field(i).Name, f.Kind())
			}
		}
	}
	e.ID = "42"
	got, err := decodeEvent(encodeEventRecord(e).withSeq(42))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("got  %+v\nwant %+v", got, e)
	}
}

// Stored the way the receiver stores them (one webhook per request, groups
// of requests per commit), Pipedrive webhooks of 1,075 bytes take under
// 1,600 bytes of pages each, index and dedupe log included; in the JSON
// layout they took 2,110.
func TestWebhookEventBytesOnDisk(t *testing.T) {
	s := openTest(t, nil)
	raw := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1075-len(`{"pad":""}`)) + `"}`)
	before, err := s.UsedBytes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const events, group = 3000, 20
	var wg sync.WaitGroup
	for g := range events / group {
		wg.Go(func() {
			for i := range group {
				n := strconv.Itoa(g*group + i)
				e := model.Event{InstanceID: 1, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
					ObjectType: "contacts", ObjectID: n, EventType: model.Updated, Date: time.Now().UTC(),
					ReceivedAt: time.Now().UTC(), VendorEventID: "7c812ffd-8f50-45ea-a597-" + n, Raw: raw}
				if _, err := s.AppendEvents(t.Context(), []model.Event{e}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	after, err := s.UsedBytes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	per := float64(after-before) / events
	t.Logf("%.0f bytes of pages per event", per)
	if per > 1600 {
		t.Errorf("%.0f bytes of pages per stored webhook of %d bytes, want at most 1,600", per, len(raw))
	}
}
