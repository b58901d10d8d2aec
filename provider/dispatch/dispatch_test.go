package dispatch_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/store"
)

// Delivery tests against httptest receivers and real
// stores. Nothing sleeps: tests wait on the receiver's channel or on store
// commits, with timeouts, and retry policies are shortened.

// The published signing test vectors, checked against the verifiers the
// receivers below use, so those verifiers are known to be right.
func TestSignatureVectors(t *testing.T) {
	if got := ceSignature("MySecretEventSignatureKey", []byte("<INSERT_EVENT_NOTIFICATION_RESPONSE_BODY>")); got != "sha256=jHdbRx5EZAsOfTwAPJOGkNUzQMVVdu5VJlxcsk+G6jQ=" {
		t.Errorf("CE vector: %s", got)
	}
	if got := standardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`)); got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("Standard Webhooks vector: %s", got)
	}
}

func TestSignedHeadersOnTheWire(t *testing.T) {
	const (
		key    = "MySecretEventSignatureKey"
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	)
	// Both clocks at the Standard Webhooks vector's timestamp.
	clock := time.Unix(1614265330, 0)
	now := func() time.Time { return clock }
	rc := newReceiver(t, nil)
	st := openStore(t, store.Options{Now: now})
	signed := newInstance(t, st, "signed", rc.URL+"/signed", map[string]string{
		model.KeySignatureKey:    key,
		model.KeyStandardSecret:  secret,
		model.KeyBasicUsername:   "cb-user",
		model.KeyBasicPassword:   "cb-Pass:with colon",
		model.KeyCallbackHeaders: `{"X-Env":"prod","X-Tenant":"t-42","Elements-Webhook-Id":"spoofed","Content-Type":"text/plain"}`,
	})
	plain := newInstance(t, st, "plain", rc.URL+"/plain", nil)
	ns := notify(t, st, signed.ID, "sig-1")
	np := notify(t, st, plain.ID, "plain-1")
	start(t, st, dispatch.Options{Policy: fastPolicy, Now: now, UserAgent: "eventdesk-test"})

	got := map[string]hit{}
	for range 2 {
		h := rc.next(5*time.Second, "two signed callbacks")
		got[h.Path] = h
	}
	h := got["/signed"]
	hdr := h.Header
	if h.ID != ns.ID || string(h.Body) != string(notification(t, st, ns.ID).Body) {
		t.Errorf("signed: payload id %s, want %s, body differs from the stored one: %v", h.ID, ns.ID, string(h.Body) != string(notification(t, st, ns.ID).Body))
	}
	if want := ceSignature(key, h.Body); hdr.Get("Elements-Webhook-Signature") != want {
		t.Errorf("Elements-Webhook-Signature = %q, want %q", hdr.Get("Elements-Webhook-Signature"), want)
	}
	if hdr.Get("webhook-timestamp") != "1614265330" {
		t.Errorf("webhook-timestamp = %q, want the dispatcher clock", hdr.Get("webhook-timestamp"))
	}
	if want := standardSignature(secret, hdr.Get("webhook-id"), hdr.Get("webhook-timestamp"), h.Body); hdr.Get("webhook-signature") != want {
		t.Errorf("webhook-signature = %q, want %q", hdr.Get("webhook-signature"), want)
	}
	if id := hdr.Get("Elements-Webhook-Id"); id == "" || id != hdr.Get("webhook-id") || id != ns.WebhookID {
		t.Errorf("Elements-Webhook-Id %q, webhook-id %q, notification's %q: want all equal", id, hdr.Get("webhook-id"), ns.WebhookID)
	}
	req := &http.Request{Header: hdr}
	if u, p, ok := req.BasicAuth(); !ok || u != "cb-user" || p != "cb-Pass:with colon" {
		t.Errorf("Basic auth = %q %q %v", u, p, ok)
	}
	if hdr.Get("X-Env") != "prod" || hdr.Get("X-Tenant") != "t-42" {
		t.Errorf("extra headers missing: %v", hdr)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q: configured headers must not override the payload's", ct)
	}
	if ua := hdr.Get("User-Agent"); ua != "eventdesk-test" {
		t.Errorf("User-Agent = %q", ua)
	}

	p := got["/plain"]
	if p.ID != np.ID {
		t.Errorf("plain: payload id %s, want %s", p.ID, np.ID)
	}
	for _, k := range []string{"Elements-Webhook-Signature", "webhook-signature", "Authorization", "X-Env"} {
		if v := p.Header.Get(k); v != "" {
			t.Errorf("unsigned instance sent %s: %q", k, v)
		}
	}
	if p.Header.Get("Elements-Webhook-Id") != np.WebhookID || p.Header.Get("webhook-id") != np.WebhookID || p.Header.Get("webhook-timestamp") == "" {
		t.Errorf("unsigned instance lacks ids: %v", p.Header)
	}
	waitStore(t, st, 5*time.Second, "both delivered", func() bool {
		return notification(t, st, ns.ID).State == model.StateDelivered && notification(t, st, np.ID).State == model.StateDelivered
	})
}

func TestRetriesKeepWebhookIDAndLogAttempts(t *testing.T) {
	long := strings.Repeat("x", 3000)
	rc := newReceiver(t, func(n int, r *http.Request) reply {
		if n <= 2 {
			return reply{status: 500, body: long}
		}
		return reply{status: 200, body: "ok"}
	})
	st := openStore(t, store.Options{})
	in := newInstance(t, st, "retry", rc.URL, nil)
	n := notify(t, st, in.ID, "r-1")
	start(t, st, dispatch.Options{Policy: fastPolicy})

	var hits []hit
	for i := range 3 {
		hits = append(hits, rc.next(5*time.Second, fmt.Sprintf("attempt %d", i+1)))
	}
	for i, h := range hits {
		if h.WebhookID != n.WebhookID || h.Header.Get("Elements-Webhook-Id") != n.WebhookID || h.ID != n.ID || string(h.Body) != string(hits[0].Body) {
			t.Errorf("attempt %d: webhook-id %q, payload %s; want the same notification %s / %s, same bytes", i+1, h.WebhookID, h.ID, n.ID, n.WebhookID)
		}
	}
	// Retry 1 is due 4 ms after the failure, retry 2 16 ms after it.
	if gap := hits[1].At.Sub(hits[0].At); gap < 4*time.Millisecond {
		t.Errorf("first retry after %v, want ≥ 4ms", gap)
	}
	if gap := hits[2].At.Sub(hits[0].At); gap < 16*time.Millisecond {
		t.Errorf("second retry %v after the failure, want ≥ 16ms", gap)
	}
	waitStore(t, st, 5*time.Second, "delivered", stateIs(t, st, n.ID, model.StateDelivered))
	got := notification(t, st, n.ID)
	if got.Attempts != 3 || got.LastStatus != 200 || got.DeliveredAt.IsZero() || got.LastError != "" {
		t.Errorf("notification = %+v", got)
	}
	att, err := st.Attempts(t.Context(), n.ID)
	if err != nil || len(att) != 3 {
		t.Fatalf("Attempts = %d, %v; want 3", len(att), err)
	}
	for i, a := range att {
		wantStatus, wantResp := 500, long[:1024]
		if i == 2 {
			wantStatus, wantResp = 200, "ok"
		}
		if a.N != i+1 || a.Status != wantStatus || a.Response != wantResp || a.Latency <= 0 || a.Error != "" || a.URL != rc.URL || a.Time.IsZero() {
			t.Errorf("attempt %d = {N:%d Status:%d Response:%d bytes Latency:%v Error:%q URL:%q}", i+1, a.N, a.Status, len(a.Response), a.Latency, a.Error, a.URL)
		}
	}
	if rc.count() != 3 {
		t.Errorf("receiver saw %d requests, want 3", rc.count())
	}
}

func TestConnectionRefusedIsLogged(t *testing.T) {
	st := openStore(t, store.Options{})
	in := newInstance(t, st, "refused", deadURL(t), nil)
	n := notify(t, st, in.ID, "c-1")
	start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: time.Millisecond, MaxRetries: 1}})
	waitStore(t, st, 5*time.Second, "dead", stateIs(t, st, n.ID, model.StateDead))
	att, err := st.Attempts(t.Context(), n.ID)
	if err != nil || len(att) != 2 {
		t.Fatalf("Attempts = %d, %v; want 2", len(att), err)
	}
	for _, a := range att {
		if a.Status != 0 || !strings.Contains(a.Error, "connection refused") || a.Response != "" {
			t.Errorf("attempt %d: status %d, error %q", a.N, a.Status, a.Error)
		}
	}
	if got := notification(t, st, n.ID); !strings.Contains(got.LastError, "connection refused") {
		t.Errorf("LastError = %q", got.LastError)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	cases := []struct {
		name   string
		status int
		after  func() string
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }},
		{"503 seconds", http.StatusServiceUnavailable, func() string { return "1" }},
		{"429 date", http.StatusTooManyRequests, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, func(n int, r *http.Request) reply {
				if n == 1 {
					return reply{status: c.status, header: map[string]string{"Retry-After": c.after()}}
				}
				return reply{status: 204}
			})
			st := openStore(t, store.Options{})
			in := newInstance(t, st, "ra", rc.URL, nil)
			n := notify(t, st, in.ID, "ra-1")
			// With a Base of 1 h the policy alone would wait 4 h: only
			// Retry-After can bring the retry within the timeout.
			start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: time.Hour, MaxRetries: 3}})
			first := rc.next(5*time.Second, "first attempt")
			second := rc.next(8*time.Second, "the retry Retry-After asked for")
			if gap := second.At.Sub(first.At); gap < 900*time.Millisecond || gap > 3*time.Second {
				t.Errorf("retry after %v, want ≈ the Retry-After", gap)
			}
			if second.WebhookID != first.WebhookID {
				t.Error("webhook-id changed on retry")
			}
			waitStore(t, st, 5*time.Second, "delivered", stateIs(t, st, n.ID, model.StateDelivered))
			if att, _ := st.Attempts(t.Context(), n.ID); len(att) != 2 || att[0].Status != c.status || att[1].Status != 204 {
				t.Errorf("attempts = %+v", att)
			}
		})
	}
}

func TestRedirectIsAFailure(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			target := newReceiver(t, nil)
			rc := newReceiver(t, func(int, *http.Request) reply {
				return reply{status: status, header: map[string]string{"Location": target.URL + "/elsewhere"}}
			})
			st := openStore(t, store.Options{})
			in := newInstance(t, st, "redir", rc.URL, nil)
			n := notify(t, st, in.ID, "redir-1")
			start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: time.Hour, MaxRetries: 0}})
			waitStore(t, st, 5*time.Second, "dead", stateIs(t, st, n.ID, model.StateDead))
			att, _ := st.Attempts(t.Context(), n.ID)
			if len(att) != 1 || att[0].Status != status || !strings.Contains(att[0].Error, "redirect") {
				t.Errorf("attempts = %+v", att)
			}
			if target.count() != 0 {
				t.Errorf("redirect followed: target got %d requests", target.count())
			}
		})
	}
}

func TestExhaustionThenReplay(t *testing.T) {
	var up atomic.Bool
	answer := func(int, *http.Request) reply {
		if up.Load() {
			return reply{status: 200}
		}
		return reply{status: 500, body: "down"}
	}
	rc := newReceiver(t, answer)
	other := newReceiver(t, always(500))
	st := openStore(t, store.Options{})
	in := newInstance(t, st, "exhaust", rc.URL, map[string]string{model.KeyOrdered: "true"})
	bystander := newInstance(t, st, "bystander", other.URL, nil)
	n := notify(t, st, in.ID, "e-1")
	d := start(t, st, dispatch.Options{Policy: fastPolicy})

	waitStore(t, st, 5*time.Second, "dead", stateIs(t, st, n.ID, model.StateDead))
	if att, _ := st.Attempts(t.Context(), n.ID); len(att) != fastPolicy.MaxRetries+1 {
		t.Fatalf("%d attempts before dead, want MaxRetries+1 = %d", len(att), fastPolicy.MaxRetries+1)
	}
	if got := rc.count(); got != fastPolicy.MaxRetries+1 {
		t.Fatalf("receiver saw %d requests, want %d", got, fastPolicy.MaxRetries+1)
	}

	// Replay one, with the receiver back.
	up.Store(true)
	if _, err := d.Replay(t.Context(), n.ID); err != nil {
		t.Fatal(err)
	}
	waitStore(t, st, 5*time.Second, "replayed delivered", stateIs(t, st, n.ID, model.StateDelivered))
	got := notification(t, st, n.ID)
	if got.Attempts != 5 || got.CycleStart != 4 || got.LastStatus != 200 {
		t.Errorf("after replay: %+v", got)
	}
	rc.drain()

	// Several die; ReplayDead brings back those of the instance since a time.
	up.Store(false)
	t0 := time.Now()
	var dead []model.Notification
	for i := range 3 {
		dead = append(dead, notify(t, st, in.ID, fmt.Sprint("e-dead-", i)))
	}
	nb := notify(t, st, bystander.ID, "b-1")
	waitStore(t, st, 10*time.Second, "all dead", func() bool {
		for _, x := range append(dead, nb) {
			if notification(t, st, x.ID).State != model.StateDead {
				return false
			}
		}
		return true
	})
	if ids, err := d.ReplayDead(t.Context(), in.ID, time.Now().Add(time.Hour)); err != nil || len(ids) != 0 {
		t.Errorf("ReplayDead since the future = %v, %v; want none", ids, err)
	}
	up.Store(true)
	rc.drain()
	ids, err := d.ReplayDead(t.Context(), in.ID, t0.Add(-time.Second))
	if err != nil || len(ids) != 3 {
		t.Fatalf("ReplayDead = %v, %v; want 3 ids", ids, err)
	}
	for i, x := range dead {
		if ids[i] != x.ID {
			t.Errorf("ReplayDead ids %v, want %s at %d", ids, x.ID, i)
		}
	}
	// Redelivered in order.
	for _, x := range dead {
		h := rc.next(5*time.Second, "replayed notification")
		if h.ID != x.ID || h.Status != 200 || h.WebhookID != x.WebhookID {
			t.Errorf("got %s (status %d), want %s in order", h.ID, h.Status, x.ID)
		}
	}
	waitStore(t, st, 5*time.Second, "replayed delivered", func() bool {
		for _, x := range dead {
			if notification(t, st, x.ID).State != model.StateDelivered {
				return false
			}
		}
		return true
	})
	if got := notification(t, st, nb.ID); got.State != model.StateDead {
		t.Errorf("another instance's dead notification was replayed: %s", got.State)
	}
}

// An ordered instance delivers in order while other instances' endpoints
// refuse connections, fail or hang.
func TestOrderPerInstanceAndIsolation(t *testing.T) {
	var failed atomic.Bool
	a := newReceiver(t, func(n int, r *http.Request) reply {
		if n == 5 && failed.CompareAndSwap(false, true) {
			return reply{status: 500}
		}
		return reply{status: 200}
	})
	b500 := newReceiver(t, always(500))
	bSlow := newReceiver(t, func(int, *http.Request) reply { return reply{hang: true} })
	st := openStore(t, store.Options{})
	ia := newInstance(t, st, "a", a.URL, map[string]string{model.KeyOrdered: "true"})
	bs := []model.Instance{
		newInstance(t, st, "b-refused", deadURL(t), nil),
		newInstance(t, st, "b-500", b500.URL, nil),
		newInstance(t, st, "b-slow", bSlow.URL, nil),
	}
	// B's work is queued first; A's arrives while the dispatcher runs.
	for _, b := range bs {
		for i := range 3 {
			notify(t, st, b.ID, fmt.Sprintf("b%d-%d", b.ID, i))
		}
	}
	start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: 5 * time.Millisecond, MaxRetries: 8}})
	bSlow.next(5*time.Second, "the slow receiver to be holding a request")
	var want []string
	for i := range 20 {
		want = append(want, notify(t, st, ia.ID, fmt.Sprint("a-", i)).ID)
	}

	var got, all []string
	for len(got) < 20 {
		h := a.next(10*time.Second, fmt.Sprintf("A's notification %d", len(got)+1))
		all = append(all, h.ID)
		if h.Status == 200 {
			got = append(got, h.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("A delivered %v, want %v", got, want)
	}
	if len(all) != 21 || all[4] != all[5] {
		t.Errorf("A's requests %v: want 21 with the 5th retried at once", all)
	}
	for i := 1; i < len(all); i++ {
		x, _ := strconv.Atoi(all[i-1])
		y, _ := strconv.Atoi(all[i])
		if y < x {
			t.Errorf("A got %s after %s", all[i], all[i-1])
		}
	}
	// B's endpoints got their attempts (and are still failing).
	if b500.count() == 0 {
		t.Error("b-500 never attempted")
	}
	for _, b := range bs {
		list, _, _ := st.Notifications(t.Context(), store.NotificationFilter{InstanceID: b.ID, State: model.StateDelivered}, 10)
		if len(list) != 0 {
			t.Errorf("%s: %d delivered", b.Name, len(list))
		}
	}
}

func TestGoneTurnsNotificationsOff(t *testing.T) {
	var back atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) reply {
		if back.Load() {
			return reply{status: 200}
		}
		return reply{status: http.StatusGone, body: "unsubscribed"}
	})
	barrier := newReceiver(t, nil)
	st := openStore(t, store.Options{})
	in := newInstance(t, st, "gone", rc.URL, map[string]string{model.KeyOrdered: "true"})
	other := newInstance(t, st, "other", barrier.URL, nil)
	var ns []model.Notification
	for i := range 3 {
		ns = append(ns, notify(t, st, in.ID, fmt.Sprint("g-", i)))
	}
	start(t, st, dispatch.Options{Policy: fastPolicy})

	waitStore(t, st, 5*time.Second, "notifications off", func() bool {
		got, err := st.Instance(t.Context(), in.ID)
		return err == nil && got.NotificationsOff != ""
	})
	got, _ := st.Instance(t.Context(), in.ID)
	if !strings.Contains(got.NotificationsOff, "410") {
		t.Errorf("NotificationsOff = %q, want it to name the 410", got.NotificationsOff)
	}
	// Barrier: commits for another instance (each wakes the paused lane),
	// delivered; the gone instance must still have had one attempt only.
	for i := range 3 {
		b := notify(t, st, other.ID, fmt.Sprint("o-", i))
		waitStore(t, st, 5*time.Second, "barrier delivered", stateIs(t, st, b.ID, model.StateDelivered))
	}
	if rc.count() != 1 {
		t.Fatalf("gone receiver saw %d requests, want 1", rc.count())
	}
	if att, _ := st.Attempts(t.Context(), ns[0].ID); len(att) != 1 || att[0].Status != http.StatusGone || att[0].Response != "unsubscribed" {
		t.Errorf("attempts = %+v", att)
	}
	if n := notification(t, st, ns[0].ID); n.State != model.StatePending {
		t.Errorf("410'd notification is %s, want pending until notifications are back", n.State)
	}
	// New events of an instance that is off get no notifications.
	if _, err := st.AppendEvents(t.Context(), []model.Event{hookEvent(in.ID, "g-late", 1)}); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := st.Notifications(t.Context(), store.NotificationFilter{InstanceID: in.ID}, 10); len(list) != 3 {
		t.Errorf("%d notifications after the 410, want the 3 from before", len(list))
	}

	// Re-enabling events clears the 410 and the queue drains in order.
	back.Store(true)
	for _, on := range []string{"false", "true"} {
		_, err := st.UpdateInstance(t.Context(), in.ID, func(cur model.Instance) (model.Instance, error) {
			return cur.Patch(model.InstanceRequest{Configuration: map[string]json.RawMessage{model.KeyEventsEnabled: jsonString(on)}}, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range ns {
		h := rc.next(5*time.Second, "delivery after re-enabling")
		for h.Status == http.StatusGone {
			h = rc.next(5*time.Second, "delivery after re-enabling")
		}
		if h.ID != n.ID {
			t.Errorf("got %s, want %s", h.ID, n.ID)
		}
	}
}

func TestTimeoutIsAFailedAttempt(t *testing.T) {
	rc := newReceiver(t, func(n int, r *http.Request) reply {
		if n == 1 {
			return reply{hang: true}
		}
		return reply{status: 200}
	})
	st := openStore(t, store.Options{})
	in := newInstance(t, st, "slow", rc.URL, nil)
	n := notify(t, st, in.ID, "slow-1")
	start(t, st, dispatch.Options{Policy: fastPolicy, Timeout: 50 * time.Millisecond})
	waitStore(t, st, 5*time.Second, "delivered on the retry", stateIs(t, st, n.ID, model.StateDelivered))
	att, _ := st.Attempts(t.Context(), n.ID)
	if len(att) != 2 || att[0].Status != 0 || !strings.Contains(att[0].Error, "no answer within 50ms") || att[0].Latency < 50*time.Millisecond || att[1].Status != 200 {
		t.Errorf("attempts = %+v", att)
	}
}

// An ordered lane keeps order across its read batches while new
// notifications keep arriving, with failures sprinkled in.
func TestOrderAcrossBatchesWhileAppending(t *testing.T) {
	const total = 700
	var fails atomic.Int64
	rc := newReceiver(t, func(n int, r *http.Request) reply {
		if n%97 == 0 {
			fails.Add(1)
			return reply{status: 503}
		}
		return reply{status: 200}
	})
	st := openStore(t, store.Options{NoSync: true})
	in := newInstance(t, st, "many", rc.URL, map[string]string{model.KeyOrdered: "true"})
	start(t, st, dispatch.Options{Policy: fastPolicy})
	appended := make(chan struct{})
	t.Cleanup(func() { <-appended }) // before the store closes
	go func() {
		defer close(appended)
		for i := 0; i < total; {
			// Batches of one to five bodies, as a busy listener commits them.
			for j := 0; j <= i%5 && i < total; j, i = j+1, i+1 {
				if _, err := st.AppendEvents(t.Context(), []model.Event{hookEvent(in.ID, fmt.Sprint("m-", i), i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	last, delivered := 0, map[int]bool{}
	for len(delivered) < total {
		h := rc.next(10*time.Second, fmt.Sprintf("delivery %d of %d", len(delivered)+1, total))
		id, _ := strconv.Atoi(h.ID)
		if id < last {
			t.Errorf("notification %d after %d", id, last)
		}
		if h.Status == 200 {
			if delivered[id] {
				t.Errorf("notification %d delivered twice", id)
			}
			delivered[id] = true
		}
		last = id
	}
	<-appended
	if fails.Load() == 0 {
		t.Error("no failure was injected")
	}
}

// A receiver that echoes the request's credentials (its callback header,
// its Basic auth) in an error answer does not put them into the stored
// attempt the console and the API show.
func TestReceiverEchoOfCredentialsIsScrubbed(t *testing.T) {
	rc := newReceiver(t, func(n int, r *http.Request) reply {
		return reply{status: 401, body: "denied: Authorization=" + r.Header.Get("Authorization") + " X-Api-Auth=" + r.Header.Get("X-Api-Auth")}
	})
	st := openStore(t, store.Options{})
	in := newInstance(t, st, "echo", rc.URL, map[string]string{
		model.KeyBasicUsername:   "cb-user",
		model.KeyBasicPassword:   "cb-Echo-Pass-1",
		model.KeyCallbackHeaders: `{"X-Api-Auth":"hdr-Echo-Secret-2"}`,
	})
	n := notify(t, st, in.ID, "echo-1")
	start(t, st, dispatch.Options{Policy: model.RetryPolicy{Base: time.Hour, MaxRetries: 1}})
	rc.next(5*time.Second, "the callback")
	var att []model.Attempt
	waitStore(t, st, 5*time.Second, "the attempt recorded", func() bool {
		att, _ = st.Attempts(t.Context(), n.ID)
		return len(att) == 1
	})
	basic := base64.StdEncoding.EncodeToString([]byte("cb-user:cb-Echo-Pass-1"))
	for _, s := range []string{"hdr-Echo-Secret-2", basic} {
		if strings.Contains(att[0].Response, s) || strings.Contains(att[0].Error, s) {
			t.Errorf("attempt keeps %q: %+v", s, att[0])
		}
	}
	if !strings.Contains(att[0].Response, "X-Api-Auth=********") || att[0].Status != 401 {
		t.Errorf("attempt %+v, want the answer with the value masked", att[0])
	}
}
