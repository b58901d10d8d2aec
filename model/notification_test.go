package model

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// Notification payload, grouping and retry schedule, as Cloud Elements documents them.

func ntPoll(id int, objectType, objectID string) Event {
	return Event{
		ID: strconv.Itoa(id), InstanceID: 7950647, ElementKey: "pipedrive", HubKey: "crm",
		Source: SourcePolling, ObjectType: objectType, ObjectID: objectID, EventType: Created,
		Date:     time.Date(2018, 8, 20, 15, 29, 6, 0, time.UTC),
		PollDate: time.Date(2018, 8, 20, 15, 29, 34, 827e6, time.UTC),
		Raw:      json.RawMessage(`{"id":` + objectID + `}`),
	}
}

func ntHook(id int) Event {
	return Event{
		ID: strconv.Itoa(id), InstanceID: 20931, ElementKey: "closeio", HubKey: "crm",
		Source: SourceWebhook, ObjectType: "leads", ObjectID: "lead_" + strconv.Itoa(id), EventType: Updated,
		Raw: json.RawMessage(`{"event":{"id":"ev_1"}}`),
	}
}

// groupShape describes groups as "objectType:count" strings.
func groupShape(groups [][]Event) []string {
	out := []string{}
	for _, g := range groups {
		out = append(out, fmt.Sprintf("%s:%d", g[0].ObjectType, len(g)))
		for _, e := range g[1:] {
			if e.ObjectType != g[0].ObjectType && e.Source == SourcePolling {
				out = append(out, "MIXED")
			}
		}
	}
	return out
}

func TestGroupEvents(t *testing.T) {
	repeat := func(n int, mk func(i int) Event) []Event {
		var out []Event
		for i := range n {
			out = append(out, mk(i+1))
		}
		return out
	}
	interleaved := repeat(24, func(i int) Event {
		if i%2 == 0 {
			return ntPoll(i, "contacts", strconv.Itoa(i))
		}
		return ntPoll(i, "accounts", strconv.Itoa(i))
	})
	cases := []struct {
		name   string
		events []Event
		want   []string
	}{
		{"none", nil, []string{}},
		{"polling 23 of one resource", repeat(23, func(i int) Event { return ntPoll(i, "contacts", strconv.Itoa(i)) }),
			[]string{"contacts:10", "contacts:10", "contacts:3"}},
		{"polling exactly 10", repeat(10, func(i int) Event { return ntPoll(i, "contacts", strconv.Itoa(i)) }),
			[]string{"contacts:10"}},
		{"polling two resources interleaved", interleaved,
			[]string{"accounts:10", "contacts:10", "accounts:2", "contacts:2"}},
		{"webhook 45", repeat(45, ntHook), []string{"leads:20", "leads:20", "leads:5"}},
		{"webhook 20", repeat(20, ntHook), []string{"leads:20"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			groups := GroupEvents(c.events)
			if got := groupShape(groups); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("groups = %v, want %v", got, c.want)
			}
			// Every event exactly once, in input order within its group.
			seen := map[string]bool{}
			for _, g := range groups {
				prev := -1
				for _, e := range g {
					n, _ := strconv.Atoi(e.ID)
					if n <= prev {
						t.Errorf("group out of order: %s after %d", e.ID, prev)
					}
					prev = n
					if seen[e.ID] {
						t.Errorf("event %s in two groups", e.ID)
					}
					seen[e.ID] = true
				}
			}
			if len(seen) != len(c.events) {
				t.Errorf("%d events grouped, want %d", len(seen), len(c.events))
			}
		})
	}
}

func ntInstance() Instance {
	return Instance{
		ID: 7950647, Name: "Local pipedrive", ElementKey: "pipedrive",
		Tags: []string{"Local pipedrive", "sales"},
	}
}

// jsonEqual compares two JSON documents structurally.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("payload mismatch\n got: %s\nwant: %s", gi, wi)
	}
}

func TestPayloadPolling(t *testing.T) {
	created := time.Date(2018, 8, 20, 15, 30, 7, 0, time.FixedZone("CEST", 2*3600))
	created = created.Add(2 * time.Hour) // 15:30:07 UTC, given in another zone
	group := []Event{ntPoll(11, "contacts", "14682"), ntPoll(12, "contacts", "14683")}
	group[1].EventType = Updated
	group[1].HubKey = "" // falls back to the element's hub
	body, err := Payload(ntInstance(), "1496771", created, group)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, body, `{
	  "severity": "medium",
	  "createdDate": "Mon Aug 20 15:30:07 UTC 2018",
	  "topic": "instance-7950647-pipedrive-events",
	  "action": "create",
	  "id": "1496771",
	  "user": "`+NotificationUser+`",
	  "message": {
	    "elementKey": "pipedrive",
	    "eventId": "11",
	    "instanceId": 7950647,
	    "instance_id": 7950647,
	    "instanceName": "Local pipedrive",
	    "instanceTags": ["Local pipedrive", "sales"],
	    "raw": {"contacts": [{"id": 14682}, {"id": 14683}], "objectType": "contacts", "pollDate": 1534778974827},
	    "events": [
	      {"date": "2018-08-20T15:29:06Z", "elementKey": "pipedrive", "pollDate": "2018-08-20T15:29:34Z",
	       "eventType": "CREATED", "hubKey": "crm", "objectId": "14682", "objectType": "contacts"},
	      {"date": "2018-08-20T15:29:06Z", "elementKey": "pipedrive", "pollDate": "2018-08-20T15:29:34Z",
	       "eventType": "UPDATED", "hubKey": "crm", "objectId": "14683", "objectType": "contacts"}
	    ]
	  }
	}`)
	// instanceId and instance_id are JSON numbers, not strings.
	var m struct {
		Message map[string]json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"instanceId", "instance_id"} {
		if string(m.Message[k]) != "7950647" {
			t.Errorf("message.%s = %s, want the number 7950647", k, m.Message[k])
		}
	}
}

func TestPayloadJavaDate(t *testing.T) {
	// Java's Date.toString pads the day of month: "EEE MMM dd HH:mm:ss zzz yyyy".
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2018, 8, 20, 15, 30, 7, 0, time.UTC), "Mon Aug 20 15:30:07 UTC 2018"},
		{time.Date(2024, 3, 1, 9, 5, 3, 999e6, time.UTC), "Fri Mar 01 09:05:03 UTC 2024"},
		{time.Date(2024, 12, 31, 23, 59, 59, 0, time.FixedZone("X", -5*3600)), "Wed Jan 01 04:59:59 UTC 2025"},
	} {
		body, err := Payload(ntInstance(), "1", c.t, []Event{ntHook(1)})
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			CreatedDate string `json:"createdDate"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if p.CreatedDate != c.want {
			t.Errorf("createdDate for %v = %q, want %q", c.t, p.CreatedDate, c.want)
		}
	}
}

func TestPayloadWebhook(t *testing.T) {
	in := Instance{ID: 20931, Name: "close prod", ElementKey: "closeio"} // nil tags
	body := `{"subscription_id":"whsub_1","event":{"id":"ev_1","object_type":"lead","action":"updated","object_id":"lead_1","data":{"name":"A & B <x>"}}}`
	group := []Event{ntHook(5), ntHook(6)}
	for i := range group {
		group[i].Raw = json.RawMessage(body)
	}
	group[0].Date = time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)
	got, err := Payload(in, "77", time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC), group)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, got, `{
	  "severity": "medium", "createdDate": "Mon May 06 07:08:10 UTC 2024",
	  "topic": "instance-20931-closeio-events", "action": "create", "id": "77", "user": "`+NotificationUser+`",
	  "message": {
	    "elementKey": "closeio", "eventId": "5", "instanceId": 20931, "instance_id": 20931,
	    "instanceName": "close prod", "instanceTags": [],
	    "raw": `+body+`,
	    "events": [
	      {"date": "2024-05-06T07:08:09Z", "elementKey": "closeio", "eventType": "UPDATED", "hubKey": "crm", "objectId": "lead_5", "objectType": "leads"},
	      {"elementKey": "closeio", "eventType": "UPDATED", "hubKey": "crm", "objectId": "lead_6", "objectType": "leads"}
	    ]
	  }
	}`)
}

func TestRetryPolicyDelay(t *testing.T) {
	p := RetryPolicy{Base: time.Second, MaxRetries: 9, Jitter: 0.2}
	for n := 1; n <= 9; n++ {
		nominal := time.Duration(math.Pow(4, float64(n))) * time.Second
		if got := p.Delay(n, 0.5); got != nominal {
			t.Errorf("Delay(%d, 0.5) = %v, want %v", n, got, nominal)
		}
		lo, hi := p.Delay(n, 0), p.Delay(n, math.Nextafter(1, 0))
		if want := time.Duration(float64(nominal) * 0.8); lo != want {
			t.Errorf("Delay(%d, 0) = %v, want %v (−20%%)", n, lo, want)
		}
		if max := time.Duration(float64(nominal) * 1.2); hi > max || hi < max-time.Millisecond {
			t.Errorf("Delay(%d, ~1) = %v, want just under %v (+20%%)", n, hi, max)
		}
		for _, r := range []float64{0, 0.1, 0.37, 0.5, 0.9, 0.999} {
			if d := p.Delay(n, r); d < lo || d > hi {
				t.Errorf("Delay(%d, %v) = %v outside [%v, %v]", n, r, d, lo, hi)
			}
			w, nomW := p.Wait(n, r), p.Wait(n, 0.5)
			if float64(w) < 0.8*float64(nomW)-1 || float64(w) > 1.2*float64(nomW)+1 {
				t.Errorf("Wait(%d, %v) = %v outside ±20%% of %v", n, r, w, nomW)
			}
		}
	}
	// Without jitter, Base is exact: Base·4^n.
	ms := RetryPolicy{Base: time.Millisecond, MaxRetries: 3}
	for n, want := range map[int]time.Duration{1: 4 * time.Millisecond, 2: 16 * time.Millisecond, 3: 64 * time.Millisecond} {
		if got := ms.Delay(n, 0.123); got != want {
			t.Errorf("Delay(%d) without jitter = %v, want %v", n, got, want)
		}
	}
	// A policy far beyond CE's must not overflow into a negative wait.
	huge := RetryPolicy{Base: time.Hour, MaxRetries: 40}
	if d := huge.Delay(40, 0.5); d <= 0 {
		t.Errorf("Delay(40) with Base 1h = %v, want a large positive duration", d)
	}
	if d := huge.Wait(40, 0.5); d <= 0 {
		t.Errorf("Wait(40) with Base 1h = %v, want a large positive duration", d)
	}
}

func TestDefaultRetrySchedule(t *testing.T) {
	p := DefaultRetryPolicy
	if p.MaxRetries != 9 || p.Base != time.Second || p.Jitter != 0.2 {
		t.Fatalf("DefaultRetryPolicy = %+v, want CE's 9 retries of 4^n s ±20%%", p)
	}
	want := []time.Duration{4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144}
	for i := range want {
		want[i] *= time.Second
	}
	if got := p.Schedule(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Schedule() = %v, want %v", got, want)
	}
	// The waits between attempts add up so the 9th retry is "a little under
	// 73 hours after the original failed attempt" (CE's docs): 4^9 s.
	var total time.Duration
	for n := 1; n <= p.MaxRetries; n++ {
		total += p.Wait(n, 0.5)
		if total != p.Delay(n, 0.5) {
			t.Fatalf("after %d waits the retry is %v after the failure, want %v", n, total, p.Delay(n, 0.5))
		}
	}
	if total != 262144*time.Second {
		t.Fatalf("whole schedule spans %v, want 262144s", total)
	}
	if h := total.Hours(); h < 72.7 || h > 73 {
		t.Errorf("whole schedule spans %.2f h, want ≈72.8 h", h)
	}
	if w := p.Wait(1, 0.5); w != 4*time.Second {
		t.Errorf("first wait = %v, want 4s", w)
	}
	if w := p.Wait(2, 0.5); w != 12*time.Second {
		t.Errorf("second wait = %v, want 12s (retry 2 due 16 s after the failure)", w)
	}
}

func TestNotificationTriesAndSendable(t *testing.T) {
	n := Notification{ID: "42", Attempts: 7, CycleStart: 4}
	if n.Tries() != 3 || n.Seq() != 42 {
		t.Errorf("Tries/Seq = %d/%d, want 3/42", n.Tries(), n.Seq())
	}
	base := Instance{ID: 1, ElementKey: "pipedrive", Configuration: map[string]string{
		KeyEventsEnabled: "true", KeyCallbackURL: " https://example.com/hook ",
	}}
	if !base.Sendable() {
		t.Error("enabled instance with callback URL not sendable")
	}
	off := base.Clone()
	off.NotificationsOff = "410"
	noURL := base.Clone()
	noURL.Configuration[KeyCallbackURL] = "  "
	disabled := base.Clone()
	disabled.Configuration[KeyEventsEnabled] = "false"
	for name, in := range map[string]Instance{"410": off, "no URL": noURL, "disabled": disabled} {
		if in.Sendable() {
			t.Errorf("%s: Sendable() = true", name)
		}
	}
}
