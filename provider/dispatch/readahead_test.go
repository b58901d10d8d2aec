package dispatch_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/store"
)

// A lane reads the notifications it is about to send in batches. A
// notification read ahead but not sent yet belongs to the lane like any
// queued one: a replay of it, or of one behind the batch, while the lane
// is busy sends it once; an ordered lane keeps its order across batches
// and across a retry in the middle of one.
func TestReadAheadSendsOnceInOrder(t *testing.T) {
	const total = 100
	for _, c := range []struct {
		name    string
		cfg     map[string]string
		holding int // requests held at the receiver while replaying
	}{
		{"ordered", map[string]string{model.KeyOrdered: "true"}, 1},
		{"concurrent", map[string]string{model.KeyConcurrency: "4"}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			gate := make(chan struct{})
			var open sync.Once
			release := func() { open.Do(func() { close(gate) }) }
			// Two notifications fail once: one inside the first batch read
			// (with others read ahead behind it), one just past it.
			var failOnce sync.Map
			held := make(chan struct{}, c.holding)
			rc := newReceiver(t, func(n int, r *http.Request) reply {
				if n <= c.holding {
					held <- struct{}{}
					<-gate
				}
				if v, ok := failOnce.Load(r.Header.Get("webhook-id")); ok {
					failed := false
					v.(*sync.Once).Do(func() { failed = true })
					if failed {
						return reply{status: http.StatusServiceUnavailable}
					}
				}
				return reply{status: 200}
			})
			t.Cleanup(release) // before the receiver closes
			st := openStore(t, store.Options{NoSync: true})
			in := newInstance(t, st, "ahead-"+c.name, rc.URL, c.cfg)
			ids := notifyN(t, st, in.ID, "ra-", total)
			for _, i := range []int{20, 33} {
				failOnce.Store(notification(t, st, ids[i]).WebhookID, new(sync.Once))
			}
			d := start(t, st, dispatch.Options{Policy: fastPolicy})

			for i := range c.holding {
				select {
				case <-held:
				case <-time.After(5 * time.Second):
					t.Fatalf("held request %d never came", i+1)
				}
			}
			// The lane has read ids[0] and the batch behind it; replay one
			// of those and one beyond, while the first requests are held.
			for _, i := range []int{5, 60} {
				if _, err := d.Replay(t.Context(), ids[i]); err != nil {
					t.Fatalf("replay %s: %v", ids[i], err)
				}
			}
			release()

			oks := map[string]int{}
			var order []int
			for len(oks) < total {
				h := rc.next(10*time.Second, fmt.Sprintf("delivery %d of %d", len(oks)+1, total))
				if h.Status == 200 {
					oks[h.ID]++
				}
				id, _ := strconv.Atoi(h.ID)
				order = append(order, id)
			}
			waitStore(t, st, 5*time.Second, "every outcome recorded", allIn(t, st, ids, model.StateDelivered))
			for _, id := range ids {
				if oks[id] != 1 {
					t.Errorf("notification %s answered 200 %d times, want once", id, oks[id])
				}
			}
			// All 100, plus the two retries, and nothing more.
			if got := rc.count(); got != total+2 {
				t.Errorf("receiver saw %d requests, want %d (each once, two of them retried once)", got, total+2)
			}
			if c.cfg[model.KeyOrdered] == "true" {
				for i := 1; i < len(order); i++ {
					if order[i] < order[i-1] {
						t.Errorf("ordered lane sent %d after %d", order[i], order[i-1])
					}
				}
			}
		})
	}
}
