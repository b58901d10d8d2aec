package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

func TestParseFeedQuerySearch(t *testing.T) {
	for _, c := range []struct {
		q        string
		inst     int64
		raw, oid string
		instance int64
		notif    string
		terms    string
		searches bool
	}{
		{q: "raw:Barbara", raw: "Barbara", searches: true},
		{q: `raw:"Barbara Jones"`, raw: "Barbara Jones", searches: true},
		{q: `RAW:"Barbara Jones" acme i:3`, raw: "Barbara Jones", instance: 3, terms: "acme", searches: true},
		{q: `raw:"Barbara Jones`, raw: "Barbara Jones", searches: true},
		{q: `raw:Bar"bara Jo"nes x`, raw: "Barbara Jones", terms: "x", searches: true},
		{q: "id:123", oid: "123", searches: true},
		{q: "id:123 raw:jones", oid: "123", raw: "jones", searches: true},
		{q: "oid:123", oid: "123"},
		{q: "i:3", instance: 3},
		{q: "instance:#3", instance: 3},
		{q: "i:9", inst: 5, instance: 5, terms: "i:9"},
		{q: "n:42", notif: "42"},
		{q: "notification:#42 t:deals", notif: "42"},
		{q: "raw:", terms: "raw:"},
		{q: `"Acme Corp"`, terms: "Acme Corp"},
	} {
		q := parseFeedQuery(c.q, c.inst, testNow)
		if q.store.Raw != c.raw || q.store.ObjectID != c.oid || q.store.InstanceID != c.instance || q.notification != c.notif ||
			q.terms != c.terms || q.searches() != c.searches {
			t.Errorf("%q: raw %q oid %q instance %d notification %q terms %q searches %v; want %q %q %d %q %q %v", c.q,
				q.store.Raw, q.store.ObjectID, q.store.InstanceID, q.notification, q.terms, q.searches(), c.raw, c.oid, c.instance, c.notif, c.terms, c.searches)
		}
	}
}

// addPeople stores n events whose payloads name people; every tenth is
// Barbara Jones.
func addPeople(t testing.TB, st *store.Store, in model.Instance, n int) {
	t.Helper()
	var evs []model.Event
	for i := 1; i <= n; i++ {
		name := "Alice Smith"
		if i%10 == 0 {
			name = "Barbara Jones"
		}
		evs = append(evs, model.Event{InstanceID: in.ID, ElementKey: in.ElementKey, HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: "contacts", ObjectID: fmt.Sprint(1000 + i), EventType: model.Updated, ReceivedAt: testNow.Add(-time.Duration(n-i) * time.Second),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"name":%q}`, 1000+i, name))})
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
}

// raw: searches every stored event, in process and attached over the API
// alike; esc clears the filter and the feed follows again.
func TestFeedSearchFindsInPayloads(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			pd, _ := seed(t, st)
			addPeople(t, st, pd, 50)
			h := newHarnessOn(t, kind, st, 100, 30)
			h.key(":")
			h.typeText("events")
			h.key("enter")
			s := h.top().(*eventsScreen)
			h.key("/")
			h.typeText(`raw:"barbara JONES"`)
			// Typing does not search on every key.
			h.contains("enter searches every stored event")
			h.key("enter")
			if len(s.rows) != 5 || s.rows[0].ObjectID != "1050" || s.rows[4].ObjectID != "1010" || s.follow {
				t.Fatalf("%d rows, follow %v: %+v", len(s.rows), s.follow, s.rows)
			}
			h.contains("done · 62 scanned, 5 found", "1050", "1010")
			// A result opens as any event; back, the results are still there.
			h.key("j", "enter")
			h.contains("Barbara Jones")
			h.key("esc")
			if len(s.rows) != 5 || s.rows[1].ObjectID != "1040" {
				t.Fatalf("back from a result: %d rows", len(s.rows))
			}
			// id: is the vendor object id, over all events too.
			h.key("/", "ctrl+u")
			h.typeText("id:1020")
			h.key("enter")
			if len(s.rows) != 1 || s.rows[0].ObjectID != "1020" {
				t.Fatalf("id:1020: %+v", s.rows)
			}
			h.key("esc")
			if s.search != nil || !s.follow || len(s.rows) != 62 {
				t.Fatalf("after esc: search %v follow %v rows %d", s.search, s.follow, len(s.rows))
			}
		})
	}
}

// chanSearch is a backend whose SearchEvents the test answers chunk by
// chunk through channels, so a search can be caught mid-way without
// sleeping.
type chanSearch struct {
	backend.Backend
	asked     chan uint64
	answer    chan model.EventSearchPage
	cancelled chan error
}

func (f *chanSearch) SearchEvents(ctx context.Context, _ model.EventFilter, cursor uint64, _ int) (model.EventSearchPage, error) {
	f.asked <- cursor
	select {
	case p := <-f.answer:
		return p, nil
	case <-ctx.Done():
		f.cancelled <- ctx.Err()
		return model.EventSearchPage{}, fmt.Errorf("search events: %w", ctx.Err())
	}
}

// async runs a command off the test goroutine, as Bubble Tea does.
func async(cmd tea.Cmd) <-chan tea.Msg {
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	return ch
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
		panic("unreachable")
	}
}

// Results show chunk by chunk with a running count; esc cancels the
// chunk in flight through its context and keeps what was found.
func TestFeedSearchStreamsAndEscCancels(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	fake := &chanSearch{Backend: engine.NewLocal(st, engine.LocalOptions{Addr: "127.0.0.1:8470", PublicURL: "http://127.0.0.1:8470", Now: func() time.Time { return testNow }}),
		asked: make(chan uint64), answer: make(chan model.EventSearchPage), cancelled: make(chan error, 1)}
	app := New(Deps{Backend: fake, Clipboard: &fakeClipboard{}, Addr: "127.0.0.1:8470", PublicURL: "http://127.0.0.1:8470"},
		Options{Now: func() time.Time { return testNow }, Location: time.UTC, Static: true})
	h := &harness{t: t, app: app, st: st}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(app.Init())
	h.key(":")
	h.typeText("events")
	h.key("enter")
	s := h.top().(*eventsScreen)
	h.key("/")
	h.typeText("raw:Barbara")
	_, cmd := h.app.Update(keyOf("enter"))
	if cmd == nil {
		t.Fatal("enter started no search")
	}
	msgs := async(cmd)
	if c := recv(t, fake.asked, "first chunk"); c != 0 {
		t.Fatalf("the first chunk starts at %d, want 0 (the newest)", c)
	}
	h.contains("searching every stored event… 0 scanned so far — esc stops")
	var found []model.Event
	for i := 0; i < 7; i++ {
		found = append(found, model.Event{ID: fmt.Sprint(900000 - i*1000), InstanceID: pd.ID, Source: model.SourceWebhook, ObjectType: "contacts",
			ObjectID: fmt.Sprint(77 + i), EventType: model.Updated, ReceivedAt: testNow.Add(-time.Duration(i) * time.Hour)})
	}
	fake.answer <- model.EventSearchPage{Events: found, Next: 880001, Scanned: 120000}
	_, cmd = h.app.Update(recv(t, msgs, "first chunk's message"))
	if len(s.rows) != 7 || cmd == nil {
		t.Fatalf("after the first chunk: %d rows, next command %v", len(s.rows), cmd != nil)
	}
	h.contains("searching… 120,000 scanned, 7 found")
	golden(t, "events_search_running_80x24", h.view())

	// The second chunk is in flight when esc comes.
	msgs = async(cmd)
	if c := recv(t, fake.asked, "second chunk"); c != 880001 {
		t.Fatalf("the second chunk starts at %d, want the first's cursor 880001", c)
	}
	h.key("esc")
	if err := recv(t, fake.cancelled, "cancel"); err != context.Canceled {
		t.Fatalf("the chunk in flight ended with %v, want context.Canceled", err)
	}
	_, cmd = h.app.Update(recv(t, msgs, "cancelled chunk's message"))
	if cmd != nil {
		t.Error("a cancelled search asked for another chunk")
	}
	if len(s.rows) != 7 || s.follow {
		t.Fatalf("after esc: %d rows, follow %v; want the 7 found, not following", len(s.rows), s.follow)
	}
	h.contains("stopped · 120,000 scanned, 7 found", "77")
	// f does not follow under search results; the next esc clears the
	// filter and the feed follows again.
	h.key("f")
	if s.follow || !strings.Contains(h.app.toast.text, "search results do not follow") {
		t.Fatalf("f in search results: follow %v, toast %q", s.follow, h.app.toast.text)
	}
	h.key("esc")
	if s.search != nil || !s.follow || len(s.rows) != 12 {
		t.Fatalf("second esc: search %v follow %v rows %d", s.search, s.follow, len(s.rows))
	}
}
