package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// Server-Sent Events stream tests, through a real HTTP server.

const rcvStreamWait = 10 * time.Second

// rcvSSE is one event read from the stream.
type rcvSSE struct {
	id, name string
	ev       model.Event
}

// rcvStream is an open event stream.
type rcvStream struct {
	t      *testing.T
	events chan rcvSSE
	lines  chan string
}

// rcvOpenStream opens GET …/instances/events/stream with query q and the
// extra headers, waits for the stream's opening comment and returns a
// reader of its events. The connection ends with the test.
func rcvOpenStream(t *testing.T, ts *httptest.Server, q string, hdr http.Header) *rcvStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+prefix+"/instances/events/stream"+q, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", rcvAuth)
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		resp.Body.Close()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &rcvStream{t: t, events: make(chan rcvSSE, 100), lines: make(chan string, 100)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		var cur rcvSSE
		var data string
		for sc.Scan() {
			line := sc.Text()
			select {
			case s.lines <- line:
			default:
			}
			switch {
			case strings.HasPrefix(line, "id: "):
				cur.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				cur.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			case line == "" && data != "":
				if err := json.Unmarshal([]byte(data), &cur.ev); err != nil {
					cur.ev = model.Event{ObjectType: "undecodable: " + err.Error()}
				}
				s.events <- cur
				cur, data = rcvSSE{}, ""
			case line == "":
				cur = rcvSSE{}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	// The opening comment arrives once the server has subscribed.
	select {
	case line := <-s.lines:
		if !strings.HasPrefix(line, ": eventdesk event stream") {
			t.Fatalf("first stream line %q", line)
		}
	case <-time.After(rcvStreamWait):
		t.Fatal("no opening comment on the stream")
	}
	return s
}

// next waits for the next event.
func (s *rcvStream) next() rcvSSE {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("stream ended")
		}
		return ev
	case <-time.After(rcvStreamWait):
		s.t.Fatal("no event on the stream")
	}
	return rcvSSE{}
}

// rcvStreamServer is a listener served over real HTTP.
func rcvStreamServer(t *testing.T) (*rcvEnv, *httptest.Server) {
	e := rcvNew(t, nil)
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close)
	return e, ts
}

// post sends a webhook through the real server and returns the stored id.
func rcvPostHTTP(t *testing.T, ts *httptest.Server, path string, body []byte) string {
	t.Helper()
	resp, err := ts.Client().Post(ts.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res receiveResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 || res.Stored != 1 {
		t.Fatalf("post: %d %+v %v", resp.StatusCode, res, err)
	}
	return res.EventIDs[0]
}

func TestStreamLive(t *testing.T) {
	e, ts := rcvStreamServer(t)
	in := e.pipedrive(nil)
	s := rcvOpenStream(t, ts, "", nil)
	body := rcvPayload(t, "pipedrive-v2-update-person.json")
	id := rcvPostHTTP(t, ts, rcvHookPath(t, in), body)
	got := s.next()
	if got.id != id || got.name != "event" || got.ev.ID != id {
		t.Fatalf("stream event id %q name %q data id %q, want %s", got.id, got.name, got.ev.ID, id)
	}
	if got.ev.ObjectType != "contacts" || got.ev.ObjectID != "8" || got.ev.EventType != model.Updated || got.ev.InstanceID != in.ID || got.ev.Source != model.SourceWebhook {
		t.Errorf("stream event %+v", got.ev)
	}
	var want, have any
	_ = json.Unmarshal(body, &want)
	_ = json.Unmarshal(got.ev.Raw, &have)
	if !rcvJSONEqual(want, have) {
		t.Errorf("stream raw %s", got.ev.Raw)
	}
	// A second one follows on the same connection.
	id2 := rcvPostHTTP(t, ts, rcvHookPath(t, in), rcvV2("stream-2", 99))
	if got := s.next(); got.id != id2 || got.ev.ObjectID != "99" {
		t.Errorf("second event %q/%q, want %s/99", got.id, got.ev.ObjectID, id2)
	}
}

func rcvJSONEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestStreamFilter(t *testing.T) {
	e, ts := rcvStreamServer(t)
	pd, cl := e.pipedrive(nil), e.closeio(nil)
	s := rcvOpenStream(t, ts, "?objectType=contacts", nil)
	sUpd := rcvOpenStream(t, ts, "?eventType=DELETED", nil)
	sInst := rcvOpenStream(t, ts, "?instance="+strconv.FormatInt(cl.ID, 10), nil)
	// Posted in order: a deal (opportunities), a Close opportunity, then a
	// person (contacts). The contacts stream's first event must be the person.
	deal := rcvPostHTTP(t, ts, rcvHookPath(t, pd), rcvPayload(t, "pipedrive-v2-delete-deal.json"))
	closeID := rcvPostHTTP(t, ts, rcvHookPath(t, cl), rcvPayload(t, "closeio-opportunity-updated.json"))
	person := rcvPostHTTP(t, ts, rcvHookPath(t, pd), rcvPayload(t, "pipedrive-v2-update-person.json"))
	if got := s.next(); got.id != person || got.ev.ObjectType != "contacts" {
		t.Errorf("objectType=contacts stream gave %s (%s), want %s", got.id, got.ev.ObjectType, person)
	}
	if got := sUpd.next(); got.id != deal || got.ev.EventType != model.Deleted {
		t.Errorf("eventType=DELETED stream gave %s (%s), want %s", got.id, got.ev.EventType, deal)
	}
	if got := sInst.next(); got.id != closeID || got.ev.InstanceID != cl.ID {
		t.Errorf("instance stream gave %s (instance %d), want %s", got.id, got.ev.InstanceID, closeID)
	}
	// Nothing else for the filtered streams: a fourth, matching event is
	// the next one they see.
	person2 := rcvPostHTTP(t, ts, rcvHookPath(t, pd), rcvV2("filter-2", 7))
	if got := s.next(); got.id != person2 {
		t.Errorf("objectType=contacts stream gave %s, want %s", got.id, person2)
	}
}

func TestStreamReplayAndResume(t *testing.T) {
	e, ts := rcvStreamServer(t)
	pd := e.pipedrive(nil)
	var ids []string
	for i := range 3 {
		ids = append(ids, rcvPostHTTP(t, ts, rcvHookPath(t, pd), rcvV2("replay-"+strconv.Itoa(i), i+1)))
	}
	// ?after=0 replays everything stored, oldest first.
	s := rcvOpenStream(t, ts, "?after=0", nil)
	for _, id := range ids {
		if got := s.next(); got.id != id {
			t.Fatalf("replay gave %s, want %s", got.id, id)
		}
	}
	// Last-Event-ID resumes after the given event.
	r := rcvOpenStream(t, ts, "", http.Header{"Last-Event-Id": {ids[0]}})
	for _, id := range ids[1:] {
		if got := r.next(); got.id != id {
			t.Fatalf("resume gave %s, want %s", got.id, id)
		}
	}
	// Without either, only new events come.
	live := rcvOpenStream(t, ts, "", nil)
	id := rcvPostHTTP(t, ts, rcvHookPath(t, pd), rcvV2("replay-new", 50))
	if got := live.next(); got.id != id {
		t.Errorf("live stream gave %s, want the new %s", got.id, id)
	}
	// Replay honours the filter too.
	f := rcvOpenStream(t, ts, "?after=0&objectType=opportunities", nil)
	deal := rcvPostHTTP(t, ts, rcvHookPath(t, pd), rcvPayload(t, "pipedrive-v2-delete-deal.json"))
	if got := f.next(); got.id != deal {
		t.Errorf("filtered replay gave %s, want %s", got.id, deal)
	}
}

func TestStreamErrors(t *testing.T) {
	e, ts := rcvStreamServer(t)
	_ = e
	for _, c := range []struct {
		q, auth string
		status  int
	}{
		{"", "", http.StatusUnauthorized},
		{"?after=abc", rcvAuth, http.StatusBadRequest},
		{"?eventType=CHANGED", rcvAuth, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("GET", ts.URL+prefix+"/instances/events/stream"+c.q, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ae apiError
		_ = json.NewDecoder(resp.Body).Decode(&ae)
		resp.Body.Close()
		if resp.StatusCode != c.status || ae.Message == "" || ae.RequestID == "" {
			t.Errorf("%q: %d %+v, want %d with a JSON error", c.q, resp.StatusCode, ae, c.status)
		}
	}
}
