package provider

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// The aggregator's cached counts stay equal to a full count as events
// arrive in rounds across index blocks, and after retention removes some.
func TestAggregatorCountsStayExact(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "e.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []int64
	for i := range 3 {
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Name: aggPtr("P" + strconv.Itoa(i)),
			Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"t"`)}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if in, err = st.CreateInstance(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	agg := NewAggregator(st)
	truth := func() map[int64]int {
		out := map[int64]int{}
		for _, id := range ids {
			var before uint64
			for {
				evs, next, err := st.Events(t.Context(), model.EventFilter{InstanceID: id, Before: before}, 500)
				if err != nil {
					t.Fatal(err)
				}
				out[id] += len(evs)
				if next == 0 {
					break
				}
				before = next
			}
		}
		return out
	}
	check := func(when string) {
		t.Helper()
		s, err := agg.Stats(t.Context(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for id, n := range truth() {
			if got := s.PerInstance[id].Events; got != n {
				t.Errorf("%s: instance %d counts %d, want %d", when, id, got, n)
			}
		}
	}
	n := 0
	for round, size := range []int{1, 100, 300, 7, 600, 256} {
		var evs []model.Event
		for range size {
			n++
			evs = append(evs, model.Event{InstanceID: ids[n%len(ids)], Source: model.SourceWebhook, ObjectType: "x",
				ObjectID: strconv.Itoa(n), EventType: model.Created, Raw: json.RawMessage(`{}`), ReceivedAt: time.Now().Add(time.Duration(n) * time.Millisecond)})
		}
		if _, err := st.AppendEvents(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		check("round " + strconv.Itoa(round))
	}
	s, _ := agg.Stats(t.Context(), time.Now())
	if last := s.PerInstance[ids[0]]; last.LastID == 0 || last.LastEvent.IsZero() {
		t.Errorf("newest event of instance %d not known: %+v", ids[0], last)
	}
	// Prune the oldest half: the cache must start over.
	all, _, err := st.Events(t.Context(), model.EventFilter{}, 2000)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Prune(t.Context(), all[len(all)/2].ReceivedAt)
	if err != nil || res.Events == 0 {
		t.Fatalf("prune removed %d events: %v", res.Events, err)
	}
	check("after retention")
}

func aggPtr[T any](v T) *T { return &v }
