package poll

import (
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// Observer is told what polling does. The metrics package implements it;
// nil (the default) observes nothing.
type Observer interface {
	// PollFinished reports one finished cycle of in's resource st.Resource
	// (scheduled or "poll now"); err is the cycle's error, if any.
	PollFinished(in model.Instance, st model.PollStatus, err error)
	// RateLimited reports a vendor's 429 and the wait it asked for; gaveUp
	// means the wait was too long or the retries ran out, so the cycle
	// failed instead of waiting.
	RateLimited(in model.Instance, resource string, wait time.Duration, gaveUp bool)
	// PollLate reports how long after its due time a scheduled poll
	// started (waiting for a free slot, or a busy machine).
	PollLate(in model.Instance, resource string, late time.Duration)
}

// observe reports a finished cycle to the Observer, if any.
func (p *Poller) observe(in model.Instance, st model.PollStatus, err error) {
	if p.opts.Observer != nil {
		p.opts.Observer.PollFinished(in, st, err)
	}
}

// rateLimitHook is the fetcher's report of a 429 for in's resource.
func (p *Poller) rateLimitHook(in model.Instance, resource string) func(time.Duration, bool) {
	if p.opts.Observer == nil {
		return nil
	}
	return func(wait time.Duration, gaveUp bool) { p.opts.Observer.RateLimited(in, resource, wait, gaveUp) }
}

// limited reports a 429 to the poll's hook, if any.
func (f *fetcher) limited(wait time.Duration, gaveUp bool) {
	if f.onLimit != nil {
		f.onLimit(wait, gaveUp)
	}
}

// started reports how late k's poll of in starts against its due time.
func (s *Scheduler) started(k key, in model.Instance) {
	o := s.p.opts.Observer
	if o == nil {
		return
	}
	s.mu.Lock()
	due, ok := s.due[k]
	s.mu.Unlock()
	if ok {
		o.PollLate(in, k.resource, max(0, s.p.opts.Now().Sub(due)))
	}
}

// Beats counts passes of the scheduler's loop. The loop passes after every
// store commit, so a readiness check that commits and then sees Beats move
// knows the loop is alive.
func (s *Scheduler) Beats() uint64 { return s.beats.Load() }
