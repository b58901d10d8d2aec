package dispatch_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/store"
)

// fastPolicy retries at 4 ms, 16 ms, 64 ms after the first failure.
var fastPolicy = model.RetryPolicy{Base: time.Millisecond, MaxRetries: 3, Jitter: 0}

// hit is one callback as a receiver saw it.
type hit struct {
	N         int // 1-based request number at this receiver
	Path      string
	Header    http.Header
	Body      []byte
	ID        string // payload id: the notification's id
	EventID   string // message.eventId
	VendorID  string // message.raw.meta.id (the webhook bodies these tests send)
	WebhookID string
	Status    int // what the receiver answered
	At        time.Time
}

// reply is what a receiver answers.
type reply struct {
	status int
	header map[string]string
	body   string
	hang   bool // block until the request is cancelled
}

// receiver is an httptest callback endpoint that reports every request on
// hits and answers what answer says.
type receiver struct {
	t    testing.TB
	srv  *httptest.Server
	URL  string
	hits chan hit

	mu     sync.Mutex
	n      int
	log    []hit
	answer func(n int, r *http.Request) reply
}

func newReceiver(t testing.TB, answer func(n int, r *http.Request) reply) *receiver {
	t.Helper()
	rc := &receiver{t: t, hits: make(chan hit, 4096), answer: answer}
	release := make(chan struct{})
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.n++
		h := hit{N: rc.n, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now(),
			WebhookID: r.Header.Get("webhook-id")}
		answer := rc.answer
		rc.mu.Unlock()
		var p struct {
			ID      string `json:"id"`
			Message struct {
				EventID string `json:"eventId"`
				Raw     struct {
					Meta struct {
						ID string `json:"id"`
					} `json:"meta"`
				} `json:"raw"`
			} `json:"message"`
		}
		if json.Unmarshal(body, &p) == nil {
			h.ID, h.EventID, h.VendorID = p.ID, p.Message.EventID, p.Message.Raw.Meta.ID
		}
		rp := reply{status: http.StatusOK}
		if answer != nil {
			rp = answer(h.N, r)
		}
		h.Status = rp.status
		if rp.hang {
			h.Status = 0
		}
		rc.mu.Lock()
		rc.log = append(rc.log, h)
		rc.mu.Unlock()
		select {
		case rc.hits <- h:
		default: // nobody reads them here; log keeps every request
		}
		if rp.hang {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		for k, v := range rp.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rp.status)
		io.WriteString(w, rp.body)
	}))
	rc.URL = rc.srv.URL
	t.Cleanup(func() {
		close(release)
		rc.srv.Close()
	})
	return rc
}

// setAnswer swaps the answering function.
func (rc *receiver) setAnswer(f func(n int, r *http.Request) reply) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

// count is how many requests arrived so far.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// next waits for the next request.
func (rc *receiver) next(d time.Duration, what string) hit {
	rc.t.Helper()
	select {
	case h := <-rc.hits:
		return h
	case <-time.After(d):
		rc.t.Fatalf("timed out after %v waiting for %s (receiver saw %d requests)", d, what, rc.count())
		panic("unreachable")
	}
}

// drain forgets the requests reported so far.
func (rc *receiver) drain() {
	for {
		select {
		case <-rc.hits:
		default:
			return
		}
	}
}

func always(status int) func(int, *http.Request) reply {
	return func(int, *http.Request) reply { return reply{status: status} }
}

// deadURL is an http URL on which nothing listens (connection refused).
func deadURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// openStore opens a real, fsync'd store in a temporary directory.
func openStore(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newInstance creates a pipedrive webhook instance with events enabled,
// posting to callback, plus extra configuration.
func newInstance(t testing.TB, st *store.Store, name, callback string, extra map[string]string) model.Instance {
	t.Helper()
	cfg := map[string]json.RawMessage{
		model.KeyPipedriveToken: json.RawMessage(`"tok-` + name + `"`),
		model.KeyEventsEnabled:  json.RawMessage(`"true"`),
		model.KeyVendorType:     json.RawMessage(`"webhook"`),
		model.KeyCallbackURL:    jsonString(callback),
	}
	for k, v := range extra {
		cfg[k] = jsonString(v)
	}
	in, err := model.NewInstance(model.InstanceRequest{
		Element: &model.ElementRef{Key: "pipedrive"}, Name: &name, Tags: &[]string{name}, Configuration: cfg,
	}, time.Now())
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	in, err = st.CreateInstance(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	return in
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// v2Body is a Pipedrive v2 "change person" webhook body with meta.id vid.
func v2Body(vid string, person int) []byte {
	return fmt.Appendf(nil, `{"data":{"id":%d,"name":"P %d"},"previous":{"name":"old"},"meta":{"action":"change","entity":"person","entity_id":"%d","id":"%s","timestamp":"2024-05-06T07:00:00.000Z","version":"2.0","webhook_id":"1","attempt":1}}`,
		person, person, person, vid)
}

// hookEvent is the event the listener would store for v2Body.
func hookEvent(inst int64, vid string, person int) model.Event {
	return model.Event{
		InstanceID: inst, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
		ObjectType: "contacts", ObjectID: strconv.Itoa(person), EventType: model.Updated,
		VendorEventID: vid, Raw: v2Body(vid, person),
	}
}

// notify stores one webhook event and returns its (only) notification.
func notify(t testing.TB, st *store.Store, inst int64, vid string) model.Notification {
	t.Helper()
	res, err := st.AppendEvents(t.Context(), []model.Event{hookEvent(inst, vid, 1)})
	if err != nil || len(res.Stored) != 1 {
		t.Fatalf("AppendEvents: %v (%d stored)", err, len(res.Stored))
	}
	list, _, err := st.Notifications(t.Context(), store.NotificationFilter{InstanceID: inst}, 1)
	if err != nil || len(list) != 1 || list[0].EventIDs[0] != res.Stored[0].ID {
		t.Fatalf("no notification for event %s: %v %+v", res.Stored[0].ID, err, list)
	}
	return list[0]
}

func start(t testing.TB, st *store.Store, opts dispatch.Options) *dispatch.Dispatcher {
	t.Helper()
	d := dispatch.Start(st, opts)
	t.Cleanup(d.Stop)
	return d
}

// waitStore re-checks cond after every store commit until it holds; no
// sleeping, no polling loop.
func waitStore(t testing.TB, st *store.Store, d time.Duration, what string, cond func() bool) {
	t.Helper()
	sub := st.Subscribe()
	defer sub.Close()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for !cond() {
		select {
		case <-sub.C:
		case <-timeout.C:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

func notification(t testing.TB, st *store.Store, id string) model.Notification {
	t.Helper()
	n, err := st.Notification(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func stateIs(t testing.TB, st *store.Store, id string, s model.NotificationState) func() bool {
	return func() bool { return notification(t, st, id).State == s }
}

// ceSignature and standardSignature verify independently of model/signature.
func ceSignature(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func standardSignature(secret, id, ts string, body []byte) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "bad secret: " + err.Error()
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%s.", id, ts)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
