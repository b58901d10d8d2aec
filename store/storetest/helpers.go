package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Clock is a settable clock the suite gives the stores it opens.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *Clock {
	return &Clock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now is the clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newInstance(t *testing.T, element, name string, config map[string]string) model.Instance {
	t.Helper()
	n := name
	raw := map[string]json.RawMessage{}
	switch element {
	case "closeio":
		raw[model.KeyCloseAPIKey] = json.RawMessage(`"api_key_` + name + `"`)
	case "pipedrive":
		raw[model.KeyPipedriveToken] = json.RawMessage(`"tok_` + name + `"`)
	}
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: element}, Name: &n, Configuration: raw},
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	for k, v := range config {
		in.Configuration[k] = v
	}
	return in
}

// callbackInstance stores an instance whose events are delivered to a
// callback.
func callbackInstance(t *testing.T, s Backend, name string) model.Instance {
	t.Helper()
	in, err := s.CreateInstance(t.Context(), newInstance(t, "pipedrive", name, map[string]string{
		model.KeyEventsEnabled: "true", model.KeyVendorType: "webhook",
		model.KeyCallbackURL: "http://127.0.0.1:1/" + name,
	}))
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	return in
}

// pollingInstance stores a Pipedrive instance polling its default
// resources (accounts, contacts, opportunities).
func pollingInstance(t *testing.T, s Backend, name string) model.Instance {
	t.Helper()
	in, err := s.CreateInstance(t.Context(), newInstance(t, "pipedrive", name, map[string]string{
		model.KeyEventsEnabled: "true", model.KeyVendorType: "polling",
	}))
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	return in
}

func webhookEvent(inst int64, vendorID, objectID string) model.Event {
	return model.Event{
		InstanceID: inst, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourceWebhook,
		ObjectType: "contacts", ObjectID: objectID, EventType: model.Updated, VendorEventID: vendorID,
		Raw: json.RawMessage(`{"id":"` + objectID + `"}`),
	}
}

func pollEvent(inst int64, objectType, objectID string, date time.Time) model.Event {
	return model.Event{
		InstanceID: inst, ElementKey: "pipedrive", HubKey: "crm", Source: model.SourcePolling,
		ObjectType: objectType, ObjectID: objectID, EventType: model.Updated, Date: date,
		Raw: json.RawMessage(`{}`),
	}
}

func mustAppend(t *testing.T, s Backend, events ...model.Event) store.AppendResult {
	t.Helper()
	res, err := s.AppendEvents(t.Context(), events)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	return res
}

func ids[T interface {
	model.Event | model.Notification
}](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		switch v := any(v).(type) {
		case model.Event:
			out[i] = v.ID
		case model.Notification:
			out[i] = v.ID
		}
	}
	return out
}

func within(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func fmtIDs(n ...int) []string {
	out := make([]string, len(n))
	for i, v := range n {
		out[i] = fmt.Sprint(v)
	}
	return out
}
