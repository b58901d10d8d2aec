package poll

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// key names one schedule.
type key struct {
	instance int64
	resource string
}

// Scheduler polls every (instance, resource) of every polling instance on
// its refresh interval, and follows instance changes without a restart.
type Scheduler struct {
	p    *Poller
	st   SchedulerStore
	rand func() float64
	// concurrency bounds polls running at once across instances.
	sem chan struct{}

	mu      sync.Mutex
	due     map[key]time.Time
	running map[key]bool
	stamp   map[int64]time.Time // instance UpdatedAt when scheduled
	wake    chan struct{}

	quit     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	ctx      context.Context
	stop     context.CancelFunc

	beats atomic.Uint64 // passes of loop (observe.go)

	// On a store replicas share (shared.go): the store's leases, this
	// replica's name, the lease time, and when due polls were last
	// claimed.
	shared    Leases
	owner     string
	lease     time.Duration
	lastClaim time.Time
}

// ErrBusy means a poll of that resource is already running.
var ErrBusy = errors.New("a poll of this resource is already running")

// SchedulerOptions tune StartSchedulerWith. The scheduler's clock is the
// Poller's Options.Now.
type SchedulerOptions struct {
	// Concurrency bounds polls running at once (default 4).
	Concurrency int
	// Rand returns numbers in [0, 1) for the jitter of first polls and
	// intervals (default math/rand/v2.Float64); tests fix it.
	Rand func() float64
	// Shared, set when several replicas poll from one store, makes this
	// scheduler poll only what it leases (shared.go), as Owner, each
	// lease lasting Lease (default store.DefaultLease) unless renewed. Due
	// times then live in the store, on the database's clock.
	Shared Leases
	Owner  string
	Lease  time.Duration
}

// StartScheduler starts polling; Stop ends it.
func StartScheduler(st SchedulerStore, p *Poller, concurrency int) *Scheduler {
	return StartSchedulerWith(st, p, SchedulerOptions{Concurrency: concurrency})
}

// StartSchedulerWith is StartScheduler with every option.
func StartSchedulerWith(st SchedulerStore, p *Poller, o SchedulerOptions) *Scheduler {
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = 4
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{p: p, st: st, rand: o.Rand, sem: make(chan struct{}, concurrency),
		due: map[key]time.Time{}, running: map[key]bool{}, stamp: map[int64]time.Time{},
		wake: make(chan struct{}, 1), quit: make(chan struct{}), ctx: ctx, stop: cancel,
		shared: o.Shared, owner: o.Owner, lease: o.Lease}
	if s.shared != nil && s.lease <= 0 {
		s.lease = store.DefaultLease
	}
	if s.shared != nil && s.owner == "" {
		s.owner = "scheduler"
	}
	s.wg.Add(1)
	go s.loop()
	return s
}

// Stop cancels running polls and waits for them; later calls only wait.
func (s *Scheduler) Stop() {
	s.stopOnce.Do(func() {
		close(s.quit)
		s.stop()
	})
	s.wg.Wait()
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) loop() {
	defer s.wg.Done()
	sub := s.st.Subscribe()
	defer sub.Close()
	// Older builds kept the state of dropped resources and deleted
	// instances, which the console and the API still listed.
	if n, err := s.st.ForgetStalePollStatuses(s.ctx); err != nil {
		s.p.log.Warn("scheduler cannot forget stale poll state", "err", err)
	} else if n > 0 {
		s.p.log.Info("forgot poll state of resources no longer configured", "statuses", n)
	}
	version := ^uint64(0)
	for {
		s.beats.Add(1)
		if v := s.st.InstancesVersion(); v != version {
			version = v
			s.reload()
		}
		wait := s.startDue()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-s.quit:
			return
		case <-sub.C:
		case <-s.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// reload aligns the schedules with the stored instances: new polling
// instances and resources get a first poll soon (spread with jitter), edited
// ones are rescheduled, disabled and deleted ones dropped.
func (s *Scheduler) reload() {
	insts, err := s.st.Instances(s.ctx)
	if err != nil {
		s.p.log.Warn("scheduler cannot read instances", "err", err)
		return
	}
	now := s.p.opts.Now()
	// On a shared store the schedules go to the database, after the lock.
	type op struct {
		k       key
		due     time.Time
		replace bool // the instance changed: due now, known or not
		drop    bool
	}
	var ops []op
	defer func() {
		for _, o := range ops {
			var err error
			switch {
			case o.drop:
				err = s.shared.Unschedule(s.ctx, store.KindPoll, o.k.instance, o.k.resource)
			case o.replace:
				err = s.shared.Schedule(s.ctx, store.KindPoll, o.k.instance, o.k.resource, o.due)
			default:
				err = s.shared.Ensure(s.ctx, store.KindPoll, o.k.instance, o.k.resource, o.due)
			}
			if err != nil {
				s.p.log.Warn("scheduler cannot store a poll schedule", "instance", o.k.instance, "resource", o.k.resource, "err", err)
			}
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[key]bool{}
	for _, in := range insts {
		// An instance first seen (at start) is not "changed": its stored
		// NextDue stands, so a restart keeps the rhythm. Instances that do
		// not poll are stamped too, so enabling one later is a change.
		seen, known := s.stamp[in.ID]
		changed := known && !seen.Equal(in.UpdatedAt)
		s.stamp[in.ID] = in.UpdatedAt
		if !in.Polling() {
			continue
		}
		cfg, err := in.Poller()
		if err != nil {
			continue
		}
		for _, res := range cfg.Resources() {
			k := key{in.ID, res}
			want[k] = true
			if _, ok := s.due[k]; ok && !changed {
				continue
			}
			due := now.Add(s.jitter(in.RefreshInterval()))
			if st, err := s.st.PollStatus(s.ctx, in.ID, res); err == nil && st.NextDue.After(now) && !changed {
				due = st.NextDue // a restart keeps the rhythm
			}
			s.due[k] = due
			if s.shared != nil {
				ops = append(ops, op{k: k, due: due, replace: changed})
			}
		}
	}
	for k := range s.due {
		if !want[k] {
			delete(s.due, k)
			if s.shared != nil {
				ops = append(ops, op{k: k, drop: true})
			}
		}
	}
}

// jitter spreads first polls over up to a tenth of the interval (at most
// 30 s) so many instances do not hit vendors at the same instant.
func (s *Scheduler) jitter(interval time.Duration) time.Duration {
	spread := min(interval/10, 30*time.Second)
	return time.Duration(s.rand() * float64(spread))
}

// startDue launches every due poll and returns the wait until the next one
// (0: nothing scheduled).
func (s *Scheduler) startDue() time.Duration {
	now := s.p.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shared != nil {
		// Every replica hears of every commit; claims go on a timer, or
		// when a poll of this replica ended (a free slot).
		if since := time.Since(s.lastClaim); since < s.claimEvery() {
			return s.claimEvery() - since
		}
		s.lastClaim = time.Now()
		s.claimDue()
		return s.claimEvery()
	}
	var next time.Duration
	for k, due := range s.due {
		if s.running[k] {
			continue
		}
		if d := due.Sub(now); d > 0 {
			if next == 0 || d < next {
				next = d
			}
			continue
		}
		s.running[k] = true
		s.wg.Add(1)
		go s.run(k)
	}
	return next
}

func (s *Scheduler) run(k key) {
	defer s.wg.Done()
	select {
	case s.sem <- struct{}{}:
	case <-s.quit:
		return
	}
	defer func() { <-s.sem }()
	// A schedule can outlive its resource by a moment (the update lands
	// while the poll waits for its turn); polling it would only record an
	// error for a resource that is gone. A configuration that cannot be
	// parsed is polled, so its error is recorded.
	in, err := s.st.Instance(s.ctx, k.instance)
	if err != nil || !in.Polling() || !in.KeepsPollerResource(k.resource) {
		s.finish(k, time.Time{}, false)
		return
	}
	s.started(k, in)
	st, _, err := s.p.Poll(s.ctx, in, k.resource, false)
	if s.ctx.Err() != nil {
		s.finish(k, time.Time{}, true)
		return
	}
	next := s.nextDue(in, st, err)
	st.NextDue = next
	_ = s.st.SetPollStatus(s.ctx, st)
	if err != nil {
		s.p.log.Warn("poll failed", "instance", k.instance, "resource", k.resource, "err", err, "retryAt", next.Format(time.RFC3339))
	} else {
		s.p.log.Info("polled", "instance", k.instance, "resource", k.resource, "pages", st.Pages, "records", st.Records, "events", st.Events)
	}
	s.finish(k, next, true)
}

// nextDue: a success waits the refresh interval from the poll's start
// (±5%); a failure backs off exponentially from 30 s up to the interval;
// rejected credentials wait the full interval (no retry storm).
func (s *Scheduler) nextDue(in model.Instance, st model.PollStatus, err error) time.Time {
	interval := in.RefreshInterval()
	if err == nil {
		j := time.Duration((s.rand()*0.1 - 0.05) * float64(interval))
		return st.LastStart.Add(interval + j)
	}
	if errors.Is(err, ErrCredentialsRejected) {
		return s.p.opts.Now().Add(interval)
	}
	backoff := 30 * time.Second
	for i := 1; i < st.Failures && backoff < interval; i++ {
		backoff *= 2
	}
	return s.p.opts.Now().Add(min(backoff, interval))
}

func (s *Scheduler) finish(k key, next time.Time, keep bool) {
	s.mu.Lock()
	delete(s.running, k)
	if _, ok := s.due[k]; ok && keep && !next.IsZero() {
		s.due[k] = next
	}
	s.mu.Unlock()
	s.poke()
}

// PollNow runs one cycle now for one resource, or all of the instance's
// resources when resource is empty, and returns the statuses and the events
// stored. It works whether or not events are enabled.
func (s *Scheduler) PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error) {
	return pollNow(ctx, s.st, id, resource, func(ctx context.Context, k key) (*Poller, context.Context, func(), error) {
		if s.shared != nil {
			p, ctx, release, err := s.claimKey(ctx, k)
			return p, ctx, release, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.running[k] {
			return nil, nil, nil, ErrBusy
		}
		s.running[k] = true
		return s.p, ctx, func() {
			s.mu.Lock()
			delete(s.running, k)
			s.mu.Unlock()
			s.poke()
		}, nil
	})
}

// PollNow runs one cycle without a scheduler (the command line's poll verb).
func PollNow(ctx context.Context, st Store, p *Poller, id int64, resource string) ([]model.PollStatus, []model.Event, error) {
	return pollNow(ctx, st, id, resource, func(ctx context.Context, _ key) (*Poller, context.Context, func(), error) {
		return p, ctx, func() {}, nil
	})
}

// ErrDisabled is "poll now" of a disabled instance: nothing polls it until
// it is enabled again.
var ErrDisabled = errors.New("the instance is disabled")

// pollNow polls an instance's resources one after the other; claim takes
// each resource (ErrBusy while it is being polled), giving the poller and
// context to poll it with and what to call after.
func pollNow(ctx context.Context, st Store, id int64, resource string, claim func(context.Context, key) (*Poller, context.Context, func(), error)) ([]model.PollStatus, []model.Event, error) {
	in, err := st.Instance(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if in.Disabled {
		return nil, nil, fmt.Errorf("instance %d: %w; it is not polled until enabled again (\"disabled\": false)", id, ErrDisabled)
	}
	cfg, err := in.Poller()
	if err != nil {
		return nil, nil, err
	}
	resources := cfg.Resources()
	if resource != "" {
		if _, ok := cfg[resource]; !ok {
			return nil, nil, fmt.Errorf("instance %d has no poller resource %q (configured: %v)", id, resource, resources)
		}
		resources = []string{resource}
	}
	sort.Strings(resources)
	var (
		statuses []model.PollStatus
		events   []model.Event
		firstErr error
	)
	for _, res := range resources {
		p, pctx, release, err := claim(ctx, key{id, res})
		if err != nil {
			return statuses, events, fmt.Errorf("%s: %w", res, err)
		}
		stat, evs, err := p.Poll(pctx, in, res, true)
		release()
		statuses = append(statuses, stat)
		events = append(events, evs...)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", res, err)
		}
	}
	return statuses, events, firstErr
}
