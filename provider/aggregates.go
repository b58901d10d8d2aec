package provider

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/store"
)

// Aggregator computes the console's aggregates from counts the store
// keeps. Per-instance event counts come from the instance index's bitmaps;
// the blocks below the newest are counted once and cached, so a refresh
// reads one or two index blocks whatever the number of events. Retention
// moving the first event id starts the cache over.
type Aggregator struct {
	st AggregateStore

	mu     sync.Mutex
	valid  bool
	first  uint64                     // the first event id when counted
	from   uint64                     // blocks below it are in base
	base   map[int64]store.BlockCount // counts of complete blocks
	newest map[int64]lastEvent        // per instance: newest id and its time
}

type lastEvent struct {
	seq uint64
	at  time.Time
}

// NewAggregator serves aggregates of st.
func NewAggregator(st AggregateStore) *Aggregator {
	return &Aggregator{st: st, newest: map[int64]lastEvent{}}
}

// Stats are the status bar's counts and each instance's events, newest
// event and poll errors.
func (a *Aggregator) Stats(ctx context.Context, now time.Time) (backend.Stats, error) {
	s := backend.Stats{At: now}
	ins, err := a.st.Instances(ctx)
	if err != nil {
		return s, err
	}
	// The counts come from store.Overview, which /metrics reads too, so
	// the status bar and a scrape never disagree.
	o, err := a.st.Overview(ctx)
	if err != nil {
		return s, err
	}
	s.Instances, s.LastEventID, s.Rejected = o.Instances, o.LastEventID, o.Rejected
	s.Pending, s.Failing, s.Dead = o.Pending+o.Failing, o.Failing, o.Dead
	// Event ids follow reception order: the minute's events are the ids
	// from the first one received in it to the newest.
	if first, err := a.st.FirstEventSince(ctx, now.Add(-time.Minute)); err != nil {
		return s, err
	} else if first != 0 && s.LastEventID >= first {
		s.EventsLastMinute = int(s.LastEventID - first + 1)
	}
	counts, err := a.counts(ctx)
	if err != nil {
		return s, err
	}
	s.PerInstance = make(map[int64]backend.InstanceStats, len(ins))
	for _, in := range ins {
		c := counts[in.ID]
		is := backend.InstanceStats{Events: c.Events, LastID: c.Newest, LastEvent: a.lastTime(ctx, in.ID, c.Newest)}
		if in.Polling() {
			if sts, err := a.st.PollStatuses(ctx, in.ID); err == nil {
				for _, p := range sts {
					is.PollErrors = is.PollErrors || p.LastError != ""
				}
			}
		}
		s.PerInstance[in.ID] = is
	}
	return s, nil
}

// lastTime is when the event seq was received, read once per new seq.
func (a *Aggregator) lastTime(ctx context.Context, id int64, seq uint64) time.Time {
	if seq == 0 {
		return time.Time{}
	}
	a.mu.Lock()
	le, ok := a.newest[id]
	a.mu.Unlock()
	if ok && le.seq == seq {
		return le.at
	}
	e, err := a.st.Event(ctx, seqID(seq))
	if err != nil {
		return time.Time{}
	}
	a.mu.Lock()
	a.newest[id] = lastEvent{seq, e.ReceivedAt}
	a.mu.Unlock()
	return e.ReceivedAt
}

func seqID(seq uint64) string { return strconv.FormatUint(seq, 10) }

// counts are the per-instance counts: the cached complete blocks plus
// the blocks from the newest cached one on.
func (a *Aggregator) counts(ctx context.Context) (map[int64]store.BlockCount, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if !a.valid {
			a.base, a.from = map[int64]store.BlockCount{}, 0
		}
		tail, first, last, err := a.st.InstanceBlockCounts(ctx, a.from)
		if err != nil {
			return nil, err
		}
		if a.valid && first != a.first {
			a.valid = false // retention removed events: count again
			continue
		}
		out := make(map[int64]store.BlockCount, len(a.base)+len(tail))
		for id, c := range a.base {
			out[id] = c
		}
		for id, c := range tail {
			o := out[id]
			o.Events += c.Events
			o.Newest = max(o.Newest, c.Newest)
			out[id] = o
		}
		if last > a.from {
			// Blocks below last are complete now: fold them into base. An
			// instance with events in the open block gets its newest from
			// the tail next time, so base need not know it.
			top, _, _, err := a.st.InstanceBlockCounts(ctx, last)
			if err != nil {
				return nil, err
			}
			base := make(map[int64]store.BlockCount, len(out))
			for id, c := range out {
				if t := top[id]; t.Events > 0 {
					c.Events -= t.Events
					c.Newest = 0
				}
				base[id] = c
			}
			a.base, a.from = base, last
		}
		a.first, a.valid = first, true
		return out, nil
	}
	return nil, nil
}
