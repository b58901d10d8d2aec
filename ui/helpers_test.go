package ui

import (
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func TestMain(m *testing.M) {
	// Goldens hold no colour: the Ascii profile renders styles as plain
	// text, as NO_COLOR does.
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	os.Exit(m.Run())
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fakeClipboard records copies.
type fakeClipboard struct {
	mu     sync.Mutex
	copied []string
}

func (f *fakeClipboard) Copy(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.copied = append(f.copied, s)
	return nil
}

// fakePoller records poll-now calls.
type fakePoller struct{ calls []int64 }

func (f *fakePoller) PollNow(_ context.Context, id int64, _ string) ([]model.PollStatus, []model.Event, error) {
	f.calls = append(f.calls, id)
	return []model.PollStatus{{InstanceID: id, Resource: "contacts"}}, make([]model.Event, 2), nil
}

// fakeReplayer records replays.
type fakeReplayer struct {
	one  []string
	dead []int64
}

func (f *fakeReplayer) Replay(_ context.Context, id string) (model.Notification, error) {
	f.one = append(f.one, id)
	return model.Notification{ID: id, InstanceID: 1}, nil
}

func (f *fakeReplayer) ReplayDead(_ context.Context, id int64, _ time.Time) ([]string, error) {
	f.dead = append(f.dead, id)
	return []string{"1"}, nil
}

// harness drives an App without a terminal: it runs every command the
// model returns, synchronously, and feeds the messages back.
type harness struct {
	t     testing.TB
	app   *App
	st    *store.Store
	clip  *fakeClipboard
	quit  bool
	toast string
}

func newHarness(t testing.TB, st *store.Store, w, height int, mod ...func(*engine.LocalOptions)) *harness {
	t.Helper()
	return newHarnessOn(t, harnessKind, st, w, height, mod...)
}

// harnessKind is the backend newHarness builds on; TestScreensOverTheAPI
// switches it to run screen tests again attached over the API.
var harnessKind = "local"

// backendKinds are the two sides of the engine boundary the screen tests
// run against: the engine in this process, and the engine's HTTP API.
var backendKinds = []string{"local", "remote"}

// newHarnessOn is newHarness on the given kind of backend. The remote one
// is a client of the API served over the same store (mods apply to the
// local side only).
func newHarnessOn(t testing.TB, kind string, st *store.Store, w, height int, mod ...func(*engine.LocalOptions)) *harness {
	t.Helper()
	if st == nil {
		st = newStore(t)
	}
	clip := &fakeClipboard{}
	opts := engine.LocalOptions{Addr: "127.0.0.1:8470", PublicURL: "http://127.0.0.1:8470", Now: func() time.Time { return testNow }}
	for _, m := range mod {
		m(&opts)
	}
	var b backend.Backend = engine.NewLocal(st, opts)
	if kind == "remote" {
		b = remoteBackend(t, st, opts)
	}
	deps := Deps{Backend: b, Clipboard: clip, Addr: opts.Addr, PublicURL: opts.PublicURL}
	app := New(deps, Options{Now: func() time.Time { return testNow }, Location: time.UTC, Static: true})
	h := &harness{t: t, app: app, st: st, clip: clip}
	h.send(tea.WindowSizeMsg{Width: w, Height: height})
	h.run(app.Init())
	return h
}

// send delivers a message and runs what follows from it.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.app.Update(msg)
	h.run(cmd)
}

var cmdType = reflect.TypeOf((tea.Cmd)(nil))

func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	if cmd == nil {
		return
	}
	msg := cmd()
	if msg == nil {
		return
	}
	// tea.Batch and tea.Sequence both come back as slices of commands.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := 0; i < v.Len(); i++ {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			h.run(c)
		}
		return
	}
	switch m := msg.(type) {
	case tea.QuitMsg:
		h.quit = true
		return
	case toastMsg:
		h.toast = m.text
	}
	h.send(msg)
}

// key types keys: names like "enter", "ctrl+s", "esc", or text.
func (h *harness) key(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyOf(k))
	}
}

// typeText types each rune as its own key press.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func keyOf(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"backspace": tea.KeyBackspace, "space": tea.KeySpace, "home": tea.KeyHome, "end": tea.KeyEnd,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"ctrl+c": tea.KeyCtrlC, "ctrl+s": tea.KeyCtrlS, "ctrl+o": tea.KeyCtrlO, "ctrl+r": tea.KeyCtrlR, "ctrl+u": tea.KeyCtrlU, "ctrl+z": tea.KeyCtrlZ, "f1": tea.KeyF1,
	}
	if t, ok := named[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func (h *harness) view() string { return h.app.View() }

func (h *harness) top() screen { return h.app.top() }

// contains fails unless the view shows every want.
func (h *harness) contains(want ...string) {
	h.t.Helper()
	v := h.view()
	for _, w := range want {
		if !strings.Contains(v, w) {
			h.t.Fatalf("view lacks %q:\n%s", w, v)
		}
	}
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test ./ui -run %s -update after checking):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

// mustInstance creates a valid instance from a seed-like request.
func mustInstance(t testing.TB, st *store.Store, element, name string, cfg map[string]string) model.Instance {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range cfg {
		b, _ := json.Marshal(v)
		raw[k] = b
	}
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: element}, Name: &name, Configuration: raw, Tags: &[]string{"demo"}}, testNow.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	in, err = st.CreateInstance(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// seed fills a store with two instances, events, notifications, a poll
// status and a rejected request, all at fixed times.
func seed(t testing.TB, st *store.Store) (pd, cl model.Instance) {
	t.Helper()
	pd = mustInstance(t, st, "pipedrive", "Pipedrive polling", map[string]string{
		model.KeyPipedriveToken: "pd-api-TOKEN-abcdef", model.KeyEventsEnabled: "true", model.KeyVendorType: "polling",
		model.KeyCallbackURL: "https://app.example.com/callback",
	})
	cl = mustInstance(t, st, "closeio", "Close webhooks", map[string]string{
		model.KeyCloseAPIKey: "api_close_KEY_0123456789", model.KeyVendorType: "webhook",
	})
	var evs []model.Event
	for i := 0; i < 12; i++ {
		in := pd
		src, typ := model.SourcePolling, "contacts"
		if i%3 == 2 {
			in, src, typ = cl, model.SourceWebhook, "leads"
		}
		evs = append(evs, model.Event{InstanceID: in.ID, ElementKey: in.ElementKey, HubKey: "crm", Source: src, ObjectType: typ,
			ObjectID: "obj-" + string(rune('a'+i)), EventType: model.Created, Date: testNow.Add(-time.Duration(20-i) * time.Minute),
			ReceivedAt: testNow.Add(-time.Duration(12-i) * time.Minute),
			Raw:        json.RawMessage(`{"id":"obj-` + string(rune('a'+i)) + `","name":"Acme","value":42,"active":true,"owner":null}`)})
	}
	if _, err := st.AppendEvents(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPollStatus(t.Context(), model.PollStatus{InstanceID: pd.ID, Resource: "contacts", Checkpoint: testNow.Add(-10 * time.Minute),
		LastStart: testNow.Add(-10 * time.Minute), LastEnd: testNow.Add(-10*time.Minute + 2*time.Second), NextDue: testNow.Add(5 * time.Minute),
		Pages: 1, Records: 8, Events: 8, LastURL: "https://api.pipedrive.com/api/v2/persons?updated_since=2026-03-14T14:58:26Z"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddRejected(t.Context(), store.Rejected{Time: testNow.Add(-time.Minute), RemoteAddr: "203.0.113.9:4711", Method: "POST",
		Path: "/elements/api-v2/events/closeio/OTk=", Status: 404, Reason: "no instance 99",
		Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: `{"event":{"id":"ev_1"}}`}); err != nil {
		t.Fatal(err)
	}
	return pd, cl
}

// remoteBackend serves the API over st on a loopback test server and
// returns a client of it.
func remoteBackend(t testing.TB, st *store.Store, opts engine.LocalOptions) *backend.Remote {
	t.Helper()
	sec, err := st.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(provider.New(st, provider.Config{PublicURL: opts.PublicURL, Addr: opts.Addr, Secrets: sec, Now: opts.Now,
		Poller: opts.Poller, Replayer: opts.Replayer, Lanes: opts.Lanes}))
	t.Cleanup(srv.Close)
	r, err := backend.NewRemote(backend.RemoteOptions{URL: srv.URL, User: sec.User, Organization: sec.Organization})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
