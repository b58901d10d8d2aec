package store

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openTest opens a fresh store in a temporary directory and closes it when
// the test ends. NoSync keeps the unit tests fast; durability is covered by
// the reopen tests and the benchmark, which sync for real.
func openTest(t testing.TB, clock *fakeClock) *Store {
	t.Helper()
	if clock == nil {
		clock = newFakeClock()
	}
	s, err := Open(filepath.Join(t.TempDir(), "eventdesk.db"), Options{NoSync: true, Now: clock.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func closeioInstance(t testing.TB, name string) model.Instance {
	t.Helper()
	n := name
	in, err := model.NewInstance(model.InstanceRequest{
		Element: &model.ElementRef{Key: "closeio"},
		Name:    &n,
		Configuration: map[string]json.RawMessage{
			model.KeyCloseAPIKey: json.RawMessage(`"api_key_` + name + `"`),
		},
	}, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	return in
}

func pipedriveInstance(t testing.TB, name string) model.Instance {
	t.Helper()
	n := name
	in, err := model.NewInstance(model.InstanceRequest{
		Element: &model.ElementRef{Key: "pipedrive"},
		Name:    &n,
		Configuration: map[string]json.RawMessage{
			model.KeyPipedriveToken: json.RawMessage(`"tok_` + name + `"`),
		},
	}, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	return in
}

// webhookEvent is a webhook event with a vendor event id (empty: no dedupe).
func webhookEvent(inst int64, vendorID, objectID string) model.Event {
	return model.Event{
		InstanceID:    inst,
		ElementKey:    "closeio",
		HubKey:        "crm",
		Source:        model.SourceWebhook,
		ObjectType:    "contacts",
		ObjectID:      objectID,
		EventType:     model.Updated,
		VendorEventID: vendorID,
		Raw:           json.RawMessage(`{"id":"` + objectID + `"}`),
	}
}

func pollEvent(inst int64, objectType, objectID string, date time.Time) model.Event {
	return model.Event{
		InstanceID: inst,
		ElementKey: "pipedrive",
		HubKey:     "crm",
		Source:     model.SourcePolling,
		ObjectType: objectType,
		ObjectID:   objectID,
		EventType:  model.Updated,
		Date:       date,
		Raw:        json.RawMessage(`{}`),
	}
}

func mustAppend(t testing.TB, s *Store, events ...model.Event) AppendResult {
	t.Helper()
	res, err := s.AppendEvents(t.Context(), events)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	return res
}

// within fails the test if ch yields nothing in d; it never sleeps on the
// happy path.
func within[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
		panic("unreachable")
	}
}
