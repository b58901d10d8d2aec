package ui

import (
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

func TestDeliveriesKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	rep := &fakeReplayer{}
	h := newHarness(t, st, 100, 30, func(d *engine.LocalOptions) { d.Replayer = rep })
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	s := h.top().(*deliveriesScreen)
	if len(s.rows) != 1 {
		t.Fatalf("%d notifications", len(s.rows))
	}
	h.key("r")
	if len(rep.one) != 1 || rep.one[0] != "1" {
		t.Fatalf("replayed %v", rep.one)
	}
	h.key("R")
	h.contains("Replay every dead notification of #1 Pipedrive polling?")
	h.key("y")
	if len(rep.dead) != 1 || rep.dead[0] != 1 {
		t.Fatalf("replay dead %v", rep.dead)
	}
	for _, want := range []string{"pending", "failing", "dead", "all"} {
		h.key("s")
		if deliveryViews[s.view] != want {
			t.Fatalf("s gave %s, want %s", deliveryViews[s.view], want)
		}
		if want == "dead" && len(s.rows) != 0 {
			t.Fatal("dead view lists a pending notification")
		}
	}
	// S and shift+tab go back a tab.
	for _, k := range []string{"S", "shift+tab"} {
		h.key(k)
		if deliveryViews[s.view] != "dead" {
			t.Fatalf("%s from all gave %s, want dead", k, deliveryViews[s.view])
		}
		h.key("s")
	}
	h.key("enter")
	h.contains("Notification 1", "Attempts", "none yet", `"topic": "instance-1-pipedrive-events"`)
	h.key("c")
	if len(h.clip.copied) != 1 || !strings.Contains(h.clip.copied[0], `"severity": "medium"`) {
		t.Fatalf("copied %q", h.clip.copied)
	}
}

// Without a dispatcher in the process (a command on the file alone), a
// replay still marks the notification pending for the next engine.
func TestDeliveriesReplayWithoutDispatcher(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key(":")
	h.typeText("deliveries")
	h.key("enter", "r")
	// The seeded notification was never tried: it is not "pending again".
	if !strings.Contains(h.app.toast.text, "was never tried: it is queued to send now (a batch of 8 events)") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
}

// A replay that re-sends asks the same question wherever r is pressed
// (event list, event detail, deliveries, a notification's page) and says
// that the whole batch goes again.
func TestReplayAsksTheSameEverywhere(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			st := newStore(t)
			seed(t, st)
			if err := st.RecordAttempts(t.Context(), []store.AttemptRecord{{Attempt: model.Attempt{NotificationID: "1", N: 1, Status: 200, Time: testNow},
				State: model.StateDelivered}}); err != nil {
				t.Fatal(err)
			}
			rep := &fakeReplayer{}
			const q = "Notification 1 of #1 Pipedrive polling was delivered. Send it again? It is a batch: all 8 events in it are sent again."
			paths := map[string]func(h *harness){
				"event list":   func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter", "j", "r") },
				"event detail": func(h *harness) { h.key(":"); h.typeText("events"); h.key("enter", "j", "enter", "r") },
				"deliveries":   func(h *harness) { h.key(":"); h.typeText("deliveries"); h.key("enter", "r") },
				"notification": func(h *harness) { h.key(":"); h.typeText("deliveries"); h.key("enter", "enter", "r") },
			}
			for name, drive := range paths {
				h := newHarnessOn(t, kind, st, 200, 40, func(d *engine.LocalOptions) { d.Replayer = rep })
				before := len(rep.one)
				drive(h)
				if !h.app.confirm.active || h.app.confirm.question != q {
					t.Fatalf("%s: question %q (active %v), want %q", name, h.app.confirm.question, h.app.confirm.active, q)
				}
				h.contains("Notification 1 of #1 Pipedrive polling was delivered")
				if len(rep.one) != before {
					t.Fatalf("%s: replayed before the answer", name)
				}
				h.key("n")
				if len(rep.one) != before {
					t.Fatalf("%s: n replayed", name)
				}
				h.key("r", "y")
				if len(rep.one) != before+1 {
					t.Fatalf("%s: y did not replay", name)
				}
				if !strings.Contains(h.app.toast.text, "pending again (a batch of 8 events)") {
					t.Fatalf("%s: toast %q", name, h.app.toast.text)
				}
			}
		})
	}
}

func TestRejectedKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key(":")
	h.typeText("rejected")
	h.key("enter")
	h.contains("no instance 99", "203.0.113.9")
	h.key("/")
	h.typeText("nothing-like-this")
	if s := h.top().(*rejectedScreen); len(s.visible) != 0 {
		t.Fatal("filter did not narrow")
	}
	h.key("esc", "enter")
	h.contains("404 POST /elements/api-v2/events/closeio/OTk=", "Content-Type: application/json", `"id": "ev_1"`)
}

func TestDetailKeys(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 60)
	h.key("enter")
	h.contains("Webhook URL", "pipedrive.api.token", "********", "Settings › Webhooks", "contacts", "ok", "https://app.example.com/callback")
	if strings.Contains(h.view(), "pd-api-TOKEN") {
		t.Fatal("secret shown before reveal")
	}
	h.key("x")
	h.contains("pd-api-TOKEN-abcdef", "secrets shown")
	h.key("x")
	h.key("w")
	h.contains("Register a webhook with")
	h.key("esc")
	h.key("y")
	if len(h.clip.copied) != 1 || !strings.HasSuffix(h.clip.copied[0], "/pipedrive/MQ==") {
		t.Fatalf("copied %q", h.clip.copied)
	}
	for k, want := range map[string]string{"e": "Edit #1", "p": "Poller", "E": "Events of #1 Pipedrive polling", "D": "Deliveries of #1 Pipedrive polling"} {
		h.key(k)
		if got := h.top().Title(); got != want {
			t.Errorf("%s opened %q, want %q", k, got, want)
		}
		h.key("esc")
	}
}

// failNotification records attempts that all got HTTP 500 with a response
// and no transport error, leaving the notification dead.
func failNotification(t *testing.T, st *store.Store, id string, tries int) {
	t.Helper()
	recs := make([]store.AttemptRecord, tries)
	for i := range recs {
		state := model.StatePending
		if i == tries-1 {
			state = model.StateDead
		}
		recs[i] = store.AttemptRecord{State: state, Attempt: model.Attempt{NotificationID: id, N: i + 1, Time: testNow,
			URL: "https://app.example.com/callback", Status: 500, Response: "\n  receiver down:\x1b[31m database   unavailable \nstack trace…"}}
	}
	for _, r := range recs {
		if err := st.RecordAttempts(t.Context(), []store.AttemptRecord{r}); err != nil {
			t.Fatal(err)
		}
	}
}

// The ERROR column shows the last failure of a notification whose
// attempts got HTTP errors without a transport error: the status and the
// response's first line (cleaned of control characters).
func TestDeliveriesErrorShowsLastHTTPFailure(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	failNotification(t, st, "1", 3)
	h := newHarness(t, st, 120, 32)
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	const want = "HTTP 500: receiver down: database unavailable"
	h.contains("dead", want)
	// The filter finds it by its error too.
	h.key("/")
	h.typeText("unavailable")
	if s := h.top().(*deliveriesScreen); len(s.visible) != 1 {
		t.Fatalf("filter on the error text: %d rows", len(s.visible))
	}
	// At 80 columns the error is cut to its column, and the frame fits.
	h = newHarness(t, st, 80, 24)
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	checkSize(t, h.view(), 80, 24)
	h.contains("HTTP 5")
}

func TestFailureText(t *testing.T) {
	for _, c := range []struct {
		n       model.Notification
		excerpt string
		want    string
	}{
		{model.Notification{LastStatus: 500}, "boom", "HTTP 500: boom"},
		{model.Notification{LastStatus: 404}, "", "HTTP 404"},
		{model.Notification{LastError: "dial tcp: connection refused"}, "", "dial tcp: connection refused"},
		{model.Notification{LastStatus: 302, LastError: "redirect to /x not followed"}, "html", "redirect to /x not followed"},
		{model.Notification{LastStatus: 200}, "ok", ""},
		{model.Notification{}, "", ""},
	} {
		if got := failureText(c.n, c.excerpt); got != c.want {
			t.Errorf("%+v %q: got %q, want %q", c.n, c.excerpt, got, c.want)
		}
	}
	if got := firstLine("\r\n \t\n<html>\x1b[2J  <body>\x07\nmore"); got != "<html> <body>" {
		t.Errorf("firstLine: %q", got)
	}
}

// The deliveries table spends the terminal's width where text is cut:
// the instance label is whole at 120 columns, the error gets the rest, and
// the selection bar spans the full width.
func TestDeliveriesTableUsesTheWidth(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	if _, err := st.UpdateInstance(t.Context(), pd.ID, func(in model.Instance) (model.Instance, error) {
		in.Name = "Demo Pipedrive (webhooks)"
		return in, nil
	}); err != nil {
		t.Fatal(err)
	}
	failNotification(t, st, "1", 2)
	h := newHarness(t, st, 120, 32)
	h.key(":")
	h.typeText("deliveries")
	h.key("enter")
	v := h.view()
	checkSize(t, v, 120, 32)
	// The label is whole; the error, longer than what is left, takes the
	// rest of the row.
	h.contains("#1 Demo Pipedrive (webhooks) ", "8 HTTP 500: receiver down: database un…")
	for _, l := range splitLines(v) {
		if strings.HasPrefix(l, "▸") && lipglossWidth(l) != 120 {
			t.Errorf("the selection bar is %d cells wide, want 120: %q", lipglossWidth(l), l)
		}
	}
}

// The count of rejections that came too fast to be kept shows as a row of
// its own, and opens to say what it is.
func TestRejectedShowsDroppedCount(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	for i := 0; i < store.RejectedBurst+5; i++ {
		_ = st.AddRejected(t.Context(), store.Rejected{Time: testNow, Status: 404, Method: "GET", Path: "/scan"})
	}
	h := newHarness(t, st, 120, 30)
	h.key(":")
	h.typeText("rejected")
	h.key("enter")
	h.contains("not recorded)")
	h.key("enter")
	h.contains("rejected requests not recorded", "arrived at once")
}
