package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model/signature"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// addEvents stores n webhook events of an instance, one second apart.
func addEvents(t testing.TB, st *store.Store, in model.Instance, n int, typ string) {
	t.Helper()
	evs := make([]model.Event, n)
	for i := range evs {
		evs[i] = model.Event{InstanceID: in.ID, ElementKey: in.ElementKey, HubKey: "crm", Source: model.SourceWebhook,
			ObjectType: typ, ObjectID: fmt.Sprintf("%s-%d", typ, i), EventType: model.Updated,
			ReceivedAt: testNow.Add(time.Duration(i) * time.Second), Raw: json.RawMessage(`{"n":` + fmt.Sprint(i) + `}`)}
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
}

func openFeed(t *testing.T, st *store.Store, mod ...func(*engine.LocalOptions)) (*harness, *eventsScreen) {
	t.Helper()
	h := newHarness(t, st, 100, 30, mod...)
	h.key(":")
	h.typeText("events")
	h.key("enter")
	return h, h.top().(*eventsScreen)
}

func TestFeedFollowsAndPauses(t *testing.T) {
	st := newStore(t)
	pd, cl := seed(t, st)
	h, s := openFeed(t, st)
	if len(s.rows) != 12 || !s.follow || s.rows[0].Seq() != 12 {
		t.Fatalf("start: %d rows, follow %v", len(s.rows), s.follow)
	}
	addEvents(t, st, cl, 3, "leads")
	h.send(refreshDueMsg{})
	if len(s.rows) != 15 || s.table.cursor != 0 || s.rows[0].Seq() != 15 {
		t.Fatalf("following: %d rows, cursor %d", len(s.rows), s.table.cursor)
	}
	// Select an older row: new events must not move the selection.
	h.key("j", "j")
	sel := s.selected
	h.key("f")
	if s.follow {
		t.Fatal("f should pause")
	}
	addEvents(t, st, pd, 4, "contacts")
	h.send(refreshDueMsg{})
	if len(s.rows) != 15 || s.newCount != 4 || !strings.Contains(h.view(), "paused · 4 new") {
		t.Fatalf("paused: rows %d new %d\n%s", len(s.rows), s.newCount, h.view())
	}
	if s.selected != sel || s.rows[s.table.cursor].Seq() != sel {
		t.Fatal("selection moved while paused")
	}
	h.key("f")
	if !s.follow || len(s.rows) != 19 || s.newCount != 0 || s.table.cursor != 0 {
		t.Fatalf("resume: follow %v rows %d new %d cursor %d", s.follow, len(s.rows), s.newCount, s.table.cursor)
	}
	// Following with the cursor on an older row keeps it on that event.
	h.key("j", "j", "j")
	sel = s.selected
	addEvents(t, st, cl, 2, "leads")
	h.send(refreshDueMsg{})
	if s.rows[s.table.cursor].Seq() != sel {
		t.Fatalf("anchor lost: cursor on %d, want %d", s.rows[s.table.cursor].Seq(), sel)
	}
}

func TestFeedWindowPagesOlder(t *testing.T) {
	st := newStore(t)
	_, cl := seed(t, st)
	addEvents(t, st, cl, 1500, "leads")
	h, s := openFeed(t, st)
	if len(s.rows) != feedPage || !s.atHead || s.older == 0 {
		t.Fatalf("first page: %d rows", len(s.rows))
	}
	for i := 0; i < 40; i++ {
		h.key("pgdown")
	}
	if len(s.rows) > feedWindow {
		t.Fatalf("window grew to %d", len(s.rows))
	}
	if s.atHead || s.follow {
		t.Fatal("scrolling past the window should leave the head and pause")
	}
	sel := s.selected
	if s.rows[s.table.cursor].Seq() != sel {
		t.Fatal("cursor not on the selected event after paging")
	}
	for s.older != 0 {
		h.key("G")
		h.key("up", "down")
	}
	last := s.rows[len(s.rows)-1]
	if last.Seq() != 1 {
		t.Fatalf("oldest row %s, want event 1", last.ID)
	}
	// Back to the newest with g.
	h.key("g")
	if !s.atHead || s.rows[0].Seq() != 1512 {
		t.Fatalf("g: head %v top %s", s.atHead, s.rows[0].ID)
	}
	// Walking up row by row also pages newer rows back in.
	for i := 0; i < 40; i++ {
		h.key("pgdown")
	}
	for i := 0; i < 200 && !s.atHead; i++ {
		h.key("pgup")
	}
	if !s.atHead || s.rows[0].Seq() != 1512 {
		t.Fatalf("walking up: head %v top %s", s.atHead, s.rows[0].ID)
	}
}

func TestFeedFilter(t *testing.T) {
	st := newStore(t)
	_, _ = seed(t, st)
	h, s := openFeed(t, st)
	h.key("/")
	h.typeText("i:2")
	if len(s.rows) != 4 {
		t.Fatalf("i:2 gave %d rows", len(s.rows))
	}
	h.key("ctrl+u")
	h.typeText("obj-k")
	if len(s.rows) != 1 || s.rows[0].ObjectID != "obj-k" {
		t.Fatalf("text filter gave %d rows", len(s.rows))
	}
	h.key("enter", "esc")
	if len(s.rows) != 12 {
		t.Fatalf("cleared filter gave %d rows", len(s.rows))
	}
}

func TestFeedDetailReplayAndCopy(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	rep := &fakeReplayer{}
	h, s := openFeed(t, st, func(d *engine.LocalOptions) { d.Replayer = rep })
	h.key("r") // newest is a Close webhook event: no callback configured
	if !strings.Contains(h.app.toast.text, "no notification") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
	h.key("j")
	if d := s.states[s.rows[1].ID]; d.state != model.StatePending {
		t.Fatalf("delivery state %+v", d)
	}
	h.key("r")
	if len(rep.one) != 1 || rep.one[0] != "1" {
		t.Fatalf("replayed %v", rep.one)
	}
	h.key("c")
	if n := len(h.clip.copied); n != 1 || !strings.Contains(h.clip.copied[0], `"id": "obj-k"`) {
		t.Fatalf("copied %q", h.clip.copied)
	}
	h.key("enter")
	h.contains("CREATED contacts obj-k", `"name": "Acme"`, "pending", "8 event(s)")
	h.key("r")
	if len(rep.one) != 2 {
		t.Fatal("r in the detail should replay")
	}
}

func TestParseFeedQuery(t *testing.T) {
	q := parseFeedQuery("i:3 type:contacts e:created s:polling acme 14", 0, testNow)
	f := q.store
	if f.InstanceID != 3 || f.ObjectType != "contacts" || f.EventType != model.Created || f.Source != model.SourcePolling || q.terms != "acme 14" {
		t.Fatalf("%+v %q", f, q.terms)
	}
	if q := parseFeedQuery("i:9", 5, testNow); q.store.InstanceID != 5 || q.terms != "i:9" {
		t.Fatalf("a fixed instance must win: %+v", q)
	}
}

func TestFeedStartsEmpty(t *testing.T) {
	st := newStore(t)
	h, s := openFeed(t, st)
	h.contains("No events yet")
	in := mustInstance(t, st, "closeio", "Close", map[string]string{model.KeyCloseAPIKey: "k", model.KeyEventsEnabled: "true",
		model.KeyCallbackURL: "https://app.example.com/cb"})
	addEvents(t, st, in, 3, "leads")
	h.send(refreshDueMsg{})
	if len(s.rows) != 3 || s.states[s.rows[0].ID].state != model.StatePending {
		t.Fatalf("rows %d states %v", len(s.rows), s.states)
	}
}

// The feed gives spare width to the flexible columns whose text is cut:
// a Close object id (48 characters) is whole at 120 columns next to the
// whole instance label, and both still get a share at 80×24.
func TestFeedColumnsShareSpareWidth(t *testing.T) {
	st := newStore(t)
	_, cl := seed(t, st)
	const id = "lead_K8oSuga0TKPRuxe4IjjT2aGvUmWwXbq3Z9cYdEfGhJk"
	if _, err := st.AppendEvents(t.Context(), []model.Event{{InstanceID: cl.ID, ElementKey: cl.ElementKey, HubKey: "crm", Source: model.SourceWebhook,
		ObjectType: "leads", ObjectID: id, EventType: model.Created, ReceivedAt: testNow, Raw: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w, h int
		want []string
	}{
		{120, 32, []string{"#2 Close webhooks ", "#1 Pipedrive polling ", " " + id + " "}},
		{80, 24, []string{" #2 Close webho", " " + id[:12]}},
	} {
		h := newHarness(t, st, c.w, c.h)
		h.key(":")
		h.typeText("events")
		h.key("enter")
		checkSize(t, h.view(), c.w, c.h)
		h.contains(c.want...)
	}
}

// Jumps: event → its instance (i) and notification (n), notification →
// its instance, rejected request → the instance its path names.
func TestJumps(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			h := newHarnessOn(t, kind, st, 100, 30)
			h.key(":")
			h.typeText("events")
			h.key("enter", "j", "i")
			if got := h.top().Title(); got != "#1 Pipedrive polling" {
				t.Fatalf("i from the list opened %q", got)
			}
			h.key("esc", "n")
			if got := h.top().Title(); got != "Notification 1" {
				t.Fatalf("n from the list opened %q", got)
			}
			h.key("i")
			if got := h.top().Title(); got != "#1 Pipedrive polling" {
				t.Fatalf("i from the notification opened %q", got)
			}
			h.key("esc", "esc", "enter", "n")
			if got := h.top().Title(); got != "Notification 1" {
				t.Fatalf("n from the event detail opened %q", got)
			}
			h.key("esc", "i")
			if got := h.top().Title(); got != "#1 Pipedrive polling" {
				t.Fatalf("i from the event detail opened %q", got)
			}
			h.key(":")
			h.typeText("rejected")
			h.key("enter", "i")
			h.contains("there is no instance #99")
		})
	}
}

// C copies a ready-to-run curl command: a rejected request as received
// (secrets stay redacted), a webhook event re-posted to its webhook URL.
// The command is run against a test server to prove it sends the same
// method, path, headers and body.
func TestCopyAsCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			if err := st.AddRejected(t.Context(), store.Rejected{Time: testNow, Method: "POST", Path: "/elements/api-v2/events/pipedrive/MQ==", Status: 401,
				Reason: "bad basic auth", Headers: map[string][]string{"Authorization": {"Basic [redacted]"}, "Content-Type": {"application/json"}, "Content-Length": {"17"}},
				Body: `{"it's":"quoted"}`}); err != nil {
				t.Fatal(err)
			}
			type got struct {
				method, path, ctype, auth, body string
			}
			reqs := make(chan got, 4)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				reqs <- got{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)}
			}))
			defer srv.Close()
			h := newHarnessOn(t, kind, st, 100, 30, func(o *engine.LocalOptions) { o.PublicURL = srv.URL })
			h.app.ctx.PublicURL = srv.URL
			run := func(cmd string) got {
				t.Helper()
				if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
					t.Fatalf("%v: %s\n%s", err, out, cmd)
				}
				return <-reqs
			}
			h.key(":")
			h.typeText("rejected")
			h.key("enter", "C")
			g := run(h.clip.copied[len(h.clip.copied)-1])
			if g != (got{"POST", "/elements/api-v2/events/pipedrive/MQ==", "application/json", "Basic [redacted]", `{"it's":"quoted"}`}) {
				t.Fatalf("rejected request re-sent as %+v", g)
			}
			h.key(":")
			h.typeText("events")
			h.key("enter", "C") // newest: a Close webhook event
			g = run(h.clip.copied[len(h.clip.copied)-1])
			if g.method != "POST" || g.path != "/elements/api-v2/events/closeio/Mg==" || g.body != `{"id":"obj-l","name":"Acme","value":42,"active":true,"owner":null}` {
				t.Fatalf("event re-posted as %+v", g)
			}
			h.key("j", "C") // a polled event: nothing to re-post
			if !strings.Contains(h.app.toast.text, "was polled, never posted") {
				t.Fatalf("toast %q", h.app.toast.text)
			}
		})
	}
}

// C on a notification copies the callback request as eventdesk sends it:
// run with real curl, the receiver sees the body, the webhook id, both
// signatures valid for that body, the Basic credentials and the instance's
// own header.
func TestCopyNotificationAsCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	const sigKey, stdSecret = "ce-signing-key", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			got := make(chan *http.Request, 1)
			bodies := make(chan []byte, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got <- r
				bodies <- b
			}))
			defer srv.Close()
			st := newStore(t)
			pd, _ := seed(t, st)
			if _, err := st.UpdateInstance(t.Context(), pd.ID, func(in model.Instance) (model.Instance, error) {
				in = in.Clone()
				in.Configuration[model.KeyCallbackURL] = srv.URL + "/hooks"
				in.Configuration[model.KeySignatureKey] = sigKey
				in.Configuration[model.KeyStandardSecret] = stdSecret
				in.Configuration[model.KeyBasicUsername] = "cb-user"
				in.Configuration[model.KeyBasicPassword] = "cb-Pass-1"
				in.Configuration[model.KeyCallbackHeaders] = `{"X-Team":"growth"}`
				return in, nil
			}); err != nil {
				t.Fatal(err)
			}
			ns, _, err := st.Notifications(t.Context(), model.NotificationFilter{InstanceID: pd.ID}, 1)
			if err != nil || len(ns) != 1 {
				t.Fatalf("notifications of the seeded instance: %v %v", ns, err)
			}
			n, err := st.Notification(t.Context(), ns[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			h := newHarnessOn(t, kind, st, 100, 30)
			h.key(":")
			h.typeText("deliveries")
			h.key("enter", "C")
			if len(h.clip.copied) == 0 {
				t.Fatalf("nothing copied; toast %q", h.app.toast.text)
			}
			cmd := h.clip.copied[len(h.clip.copied)-1]
			if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s\n%s", err, out, cmd)
			}
			r, body := <-got, <-bodies
			if r.URL.Path != "/hooks" || string(body) != string(n.Body) {
				t.Fatalf("sent to %s with body %s, want /hooks with the notification's body", r.URL.Path, body)
			}
			if r.Header.Get("webhook-id") != n.WebhookID || r.Header.Get("Elements-Webhook-Id") != n.WebhookID {
				t.Errorf("webhook ids %q %q, want %q", r.Header.Get("webhook-id"), r.Header.Get("Elements-Webhook-Id"), n.WebhookID)
			}
			if want := signature.CE(sigKey, body); r.Header.Get("Elements-Webhook-Signature") != want {
				t.Errorf("CE signature %q, want %q", r.Header.Get("Elements-Webhook-Signature"), want)
			}
			ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
			if want, _ := signature.Standard(stdSecret, n.WebhookID, ts, body); r.Header.Get("webhook-signature") != want {
				t.Errorf("standard signature %q, want %q", r.Header.Get("webhook-signature"), want)
			}
			if u, p, ok := r.BasicAuth(); !ok || u != "cb-user" || p != "cb-Pass-1" {
				t.Errorf("basic credentials %q %q %v", u, p, ok)
			}
			if r.Header.Get("X-Team") != "growth" {
				t.Errorf("the instance's header is missing: %v", r.Header)
			}
		})
	}
}

// h on an event lists its object's history, newest first; d there (or on
// the event's page) shows the field-level diff with its previous version.
func TestObjectHistoryAndDiff(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			pd, _ := seed(t, st)
			// obj-a was created by the seed; two updates follow.
			var evs []model.Event
			for i, raw := range []string{
				`{"id":"obj-a","name":"Acme Inc","value":42,"active":true,"owner":null}`,
				`{"id":"obj-a","name":"Acme Inc","value":50,"active":true,"owner":{"id":7},"tags":["vip"]}`,
			} {
				evs = append(evs, model.Event{InstanceID: pd.ID, ElementKey: pd.ElementKey, HubKey: "crm", Source: model.SourcePolling,
					ObjectType: "contacts", ObjectID: "obj-a", EventType: model.Updated, Date: testNow.Add(time.Duration(i) * time.Minute),
					ReceivedAt: testNow.Add(time.Duration(i) * time.Second), Raw: json.RawMessage(raw)})
			}
			for _, e := range evs {
				if _, err := st.AppendEvents(t.Context(), []model.Event{e}); err != nil {
					t.Fatal(err)
				}
			}
			h := newHarnessOn(t, kind, st, 100, 30)
			h.key(":")
			h.typeText("events")
			h.key("enter", "h")
			hist, ok := h.top().(*eventsScreen)
			if !ok || len(hist.rows) != 3 {
				t.Fatalf("history: %T with %v", h.top(), hist)
			}
			for _, e := range hist.rows {
				if e.ObjectID != "obj-a" || e.ObjectType != "contacts" {
					t.Errorf("history shows another object: %+v", e)
				}
			}
			if !strings.Contains(h.view(), "oid:obj-a") {
				t.Errorf("the history does not show its filter:\n%s", h.view())
			}
			h.key("d")
			v := h.view()
			for _, want := range []string{"~ $.value: 42 → 50", `~ $.owner: null → {"id":7}`, `+ $.tags = ["vip"]`, "against event 13"} {
				if !strings.Contains(v, want) {
					t.Errorf("diff lacks %q:\n%s", want, v)
				}
			}
			if strings.Contains(v, "$.name") {
				t.Errorf("diff shows an unchanged field:\n%s", v)
			}
			// The first version has nothing before it: the screen says so.
			h.key("esc", "G", "d")
			if v := h.view(); !strings.Contains(v, "oldest stored version") {
				t.Errorf("diff of the first version:\n%s", v)
			}
		})
	}
}

// since: and until: bound the feed by when events were received: an age,
// a day or an RFC 3339 time; anything else stays a search word.
func TestFeedQueryTimeBounds(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		q            string
		since, until time.Time
		terms        string
	}{
		{"since:2h", now.Add(-2 * time.Hour), time.Time{}, ""},
		{"since:7d until:30m", now.Add(-7 * 24 * time.Hour), now.Add(-30 * time.Minute), ""},
		{"since:2026-12-01 acme", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Time{}, "acme"},
		{"until:2026-12-02T08:00:00Z", time.Time{}, time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), ""},
		{"since:yesterday", time.Time{}, time.Time{}, "since:yesterday"},
	}
	for _, tt := range tests {
		q := parseFeedQuery(tt.q, 0, now)
		if !q.store.Since.Equal(tt.since) || !q.store.Until.Equal(tt.until) || q.terms != tt.terms {
			t.Errorf("%q: since %v until %v terms %q; want %v, %v, %q", tt.q, q.store.Since, q.store.Until, q.terms, tt.since, tt.until, tt.terms)
		}
	}
	// Applied to events: only those received in the window pass.
	q := parseFeedQuery("since:2h until:1h", 0, now)
	for _, c := range []struct {
		at   time.Time
		pass bool
	}{{now.Add(-3 * time.Hour), false}, {now.Add(-90 * time.Minute), true}, {now.Add(-time.Hour), false}, {now, false}} {
		if got := q.match(&model.Event{ReceivedAt: c.at}, ""); got != c.pass {
			t.Errorf("event received %v: match %v, want %v", c.at, got, c.pass)
		}
	}
}
