package poll

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Leases is what the scheduler needs of a store several replicas share:
// a due time per (instance, resource) in the database, claimed by one
// replica at a time under a lease, and writes fenced by that lease, so each
// resource is polled by exactly one replica per interval and a dead
// replica's polls pass to the others once its leases run out.
type Leases interface {
	// Ensure makes work known, due at due, unless it is known already.
	Ensure(ctx context.Context, kind string, instanceID int64, resource string, due time.Time) error
	// Schedule makes work due at due, known or not.
	Schedule(ctx context.Context, kind string, instanceID int64, resource string, due time.Time) error
	Unschedule(ctx context.Context, kind string, instanceID int64, resource string) error
	// Claim leases due work nobody holds, earliest first.
	Claim(ctx context.Context, kind, owner string, lease time.Duration, limit int) ([]store.Lease, error)
	// ClaimKey leases one unit, due or not; ok is false while another
	// owner holds it.
	ClaimKey(ctx context.Context, kind string, instanceID int64, resource, owner string, lease time.Duration) (store.Lease, bool, error)
	Renew(ctx context.Context, l store.Lease, lease time.Duration) (store.Lease, error)
	// Release gives the lease up and makes the work due at next.
	Release(ctx context.Context, l store.Lease, next time.Time) error
	// Finish forgets the work (a resource no longer polled).
	Finish(ctx context.Context, l store.Lease) error
	// CommitPoll stores events and a resource's status in one commit,
	// AppendLeased events alone; both refuse once the lease is lost.
	CommitPoll(ctx context.Context, l store.Lease, events []model.Event, st model.PollStatus) (store.AppendResult, error)
	AppendLeased(ctx context.Context, l store.Lease, events []model.Event) (store.AppendResult, error)
}

// claimEvery is how often a replica looks for due polls (a tenth of the
// lease, at most a second); a dead replica's are taken over at most this
// long after its leases run out.
func (s *Scheduler) claimEvery() time.Duration {
	return min(s.lease/10, time.Second)
}

// fenced is a poll's store on a shared one: its writes go through the
// poll's lease, so a replica that lost it stores nothing more.
type fenced struct {
	Store
	sh    Leases
	lease store.Lease
}

func (f fenced) AppendEvents(ctx context.Context, events []model.Event) (store.AppendResult, error) {
	return f.sh.AppendLeased(ctx, f.lease, events)
}

func (f fenced) SetPollStatus(ctx context.Context, st model.PollStatus) error {
	_, err := f.sh.CommitPoll(ctx, f.lease, nil, st)
	return err
}

// hold keeps a lease renewed while its poll runs. The poll's context ends
// when the lease is lost (taken over, or not renewed before it ran out):
// another replica may be polling the resource by then. done stops the
// renewals and returns the lease as last renewed, and whether it was lost.
func (s *Scheduler) hold(ctx context.Context, l store.Lease) (context.Context, func() (store.Lease, bool)) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		mu   sync.Mutex
		lost bool
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			mu.Lock()
			cur := l
			mu.Unlock()
			rctx, rcancel := context.WithTimeout(ctx, s.lease/3)
			renewed, err := s.shared.Renew(rctx, cur, s.lease)
			rcancel()
			select {
			case <-stop: // the poll ended meanwhile
				return
			default:
			}
			switch {
			case err == nil:
				mu.Lock()
				l = renewed
				mu.Unlock()
			case errors.Is(err, store.ErrLeaseLost) || time.Now().After(cur.Until):
				s.p.log.Warn("poll lease lost; stopping this poll", "instance", cur.InstanceID, "resource", cur.Resource, "err", err)
				mu.Lock()
				lost = true
				mu.Unlock()
				cancel()
				return
			default:
				s.p.log.Warn("cannot renew a poll lease; retrying", "instance", cur.InstanceID, "resource", cur.Resource, "until", cur.Until, "err", err)
			}
		}
	})
	return ctx, func() (store.Lease, bool) {
		close(stop)
		cancel() // a renewal under way ends too
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return l, lost
	}
}

// claimDue leases due polls for the free slots and starts them. The
// caller holds s.mu.
func (s *Scheduler) claimDue() {
	free := cap(s.sem) - len(s.running)
	if free <= 0 {
		return
	}
	got, err := s.shared.Claim(s.ctx, store.KindPoll, s.owner, s.lease, free)
	if err != nil {
		if s.ctx.Err() == nil {
			s.p.log.Warn("scheduler cannot claim due polls", "err", err)
		}
		return
	}
	for _, l := range got {
		k := key{l.InstanceID, l.Resource}
		s.running[k] = true
		s.wg.Add(1)
		go s.runLeased(k, l)
	}
}

// runLeased runs one claimed poll and gives its lease back with the next
// due time, or forgets the work if the resource is no longer polled.
func (s *Scheduler) runLeased(k key, l store.Lease) {
	defer s.wg.Done()
	defer s.finish(k, time.Time{}, false)
	bg := context.WithoutCancel(s.ctx)
	select {
	case s.sem <- struct{}{}:
	case <-s.quit:
		// Not started: the lease goes back as it was, for whoever is
		// still running.
		_ = s.shared.Release(bg, l, l.Due)
		return
	}
	defer func() { <-s.sem }()
	in, err := s.st.Instance(s.ctx, k.instance)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!in.Polling() || !in.KeepsPollerResource(k.resource))) {
		if err := s.shared.Finish(bg, l); err != nil {
			s.p.log.Warn("cannot forget a poll no longer configured", "instance", k.instance, "resource", k.resource, "err", err)
		}
		return
	}
	if err != nil {
		s.p.log.Warn("scheduler cannot read an instance", "instance", k.instance, "err", err)
		_ = s.shared.Release(bg, l, s.p.opts.Now().Add(30*time.Second))
		return
	}
	s.started(k, in)
	ctx, done := s.hold(s.ctx, l)
	p := s.p.withStore(fenced{Store: s.p.st, sh: s.shared, lease: l})
	st, _, err := p.Poll(ctx, in, k.resource, false)
	if s.ctx.Err() != nil {
		l, lost := done()
		if !lost {
			// Stopping: the poll is due again at once, for another
			// replica.
			_ = s.shared.Release(bg, l, l.Due)
		}
		return
	}
	next := s.nextDue(in, st, err)
	st.NextDue = next
	serr := p.st.SetPollStatus(ctx, st)
	l, lost := done()
	if lost || errors.Is(serr, store.ErrLeaseLost) || errors.Is(err, store.ErrLeaseLost) {
		s.p.log.Warn("poll lease lost: its results were not stored; the replica that took it over polls", "instance", k.instance, "resource", k.resource)
		return
	}
	if err := s.shared.Release(bg, l, next); err != nil {
		s.p.log.Warn("cannot give a poll lease back", "instance", k.instance, "resource", k.resource, "err", err)
	}
	if err != nil {
		s.p.log.Warn("poll failed", "instance", k.instance, "resource", k.resource, "err", err, "retryAt", next.Format(time.RFC3339))
	} else {
		s.p.log.Info("polled", "instance", k.instance, "resource", k.resource, "pages", st.Pages, "records", st.Records, "events", st.Events)
	}
}

// claimKey is "poll now" on a shared store: the resource's lease, whether
// or not it is due, for a poller whose writes it fences; ErrBusy while
// another replica (or this one) polls it.
func (s *Scheduler) claimKey(ctx context.Context, k key) (*Poller, context.Context, func(), error) {
	s.mu.Lock()
	busy := s.running[k]
	if !busy {
		s.running[k] = true
	}
	s.mu.Unlock()
	if busy {
		return nil, nil, nil, ErrBusy
	}
	unmark := func() {
		s.mu.Lock()
		delete(s.running, k)
		s.mu.Unlock()
		s.poke()
	}
	l, ok, err := s.shared.ClaimKey(ctx, store.KindPoll, k.instance, k.resource, s.owner, s.lease)
	if err != nil || !ok {
		unmark()
		if err == nil {
			err = ErrBusy
		}
		return nil, nil, nil, err
	}
	pctx, done := s.hold(ctx, l)
	return s.p.withStore(fenced{Store: s.p.st, sh: s.shared, lease: l}), pctx, func() {
		l, lost := done()
		if !lost {
			// The schedule keeps its rhythm: due as it was.
			_ = s.shared.Release(context.WithoutCancel(ctx), l, l.Due)
		}
		unmark()
	}, nil
}

// withStore is p writing through st.
func (p *Poller) withStore(st Store) *Poller {
	c := *p
	c.st = st
	return &c
}

// PollNowShared is PollNow on a store replicas share, for a process that
// runs no scheduler (the command line): each resource is leased to owner
// for its poll, ErrBusy while a replica polls it, and the poll's writes
// are fenced by the lease.
func PollNowShared(ctx context.Context, st Store, sh Leases, p *Poller, owner string, id int64, resource string) ([]model.PollStatus, []model.Event, error) {
	s := &Scheduler{p: p, shared: sh, owner: owner, lease: store.DefaultLease, running: map[key]bool{}}
	return pollNow(ctx, st, id, resource, s.claimKey)
}
