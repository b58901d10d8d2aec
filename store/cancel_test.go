package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// TestLongScansStopWhenCancelled: a request that went away (a closed
// console, a timed-out API call) must not keep a scan over every event
// running; a short read still answers with any context.
func TestLongScansStopWhenCancelled(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	events := make([]model.Event, 3*checkEvery)
	for i := range events {
		events[i] = webhookEvent(1, fmt.Sprint("v", i), fmt.Sprint("o", i))
	}
	mustAppend(t, s, events...)
	done, cancel := context.WithCancel(t.Context())
	cancel()

	// A filter that matches nothing walks every event.
	none := EventFilter{ObjectType: "no-such-type"}
	if _, _, err := s.Events(done, none, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Events(cancelled) = %v, want context.Canceled", err)
	}
	if got, _, err := s.Events(t.Context(), none, 10); err != nil || len(got) != 0 {
		t.Errorf("Events = %d events, %v; want none, nil", len(got), err)
	}
	if _, _, _, err := s.InstanceBlockCounts(done, 0); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("InstanceBlockCounts(cancelled) = %v, want nil or context.Canceled", err)
	}
	if _, err := s.WriteBackup(done, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBackup(cancelled) = %v, want context.Canceled", err)
	}
	clock.Advance(time.Hour)
	res, err := s.Prune(done, clock.Now())
	if !errors.Is(err, context.Canceled) || res.Events != 0 {
		t.Errorf("Prune(cancelled) = %+v, %v; want nothing pruned, context.Canceled", res, err)
	}
	if n, err := s.EventCount(t.Context()); err != nil || n != len(events) {
		t.Errorf("EventCount after a cancelled prune = %d, %v; want %d", n, err, len(events))
	}
	// A point read does not look at the context: it is over at once.
	if _, err := s.Event(done, "1"); err != nil {
		t.Errorf("Event(cancelled) = %v, want the event", err)
	}
}
