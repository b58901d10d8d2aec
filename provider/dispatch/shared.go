package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Lanes is what a dispatcher needs of a store that several replicas share:
// leases on instances' delivery lanes. A replica delivers only the lanes it
// holds, so an instance's concurrency cap and, for an ordered instance,
// its order hold across replicas; a dead replica's lanes pass to the
// others once their leases run out.
type Lanes interface {
	// ClaimLanes leases lanes with pending notifications that nobody
	// holds, up to owner's share and limit, and returns the share: a
	// replica holding more gives lanes up.
	ClaimLanes(ctx context.Context, owner string, lease time.Duration, limit int) ([]store.Lease, int, error)
	// RenewLane renews a lane's lease and stores the lane's state (JSON)
	// for the other replicas' LaneReports.
	RenewLane(ctx context.Context, l store.Lease, lease time.Duration, status []byte) (store.Lease, error)
	LaneReports(ctx context.Context) ([]store.LaneReport, error)
	// Finish gives a lane up: its row goes, and comes back for whoever
	// claims next if notifications are pending.
	Finish(ctx context.Context, l store.Lease) error
	// Heartbeat and Gone tell the others this replica is alive or
	// stopping, so that the lanes are divided by the replicas alive.
	Heartbeat(ctx context.Context, owner string, ttl time.Duration) error
	Gone(ctx context.Context, owner string) error
}

// claimLimit caps the lanes one claim takes; claimGap is the least time
// between two claims.
const (
	claimLimit = 1024
	claimGap   = 100 * time.Millisecond
)

// claimEvery is how often a replica looks for lanes nobody holds even
// without a commit to wake it: a dead replica's lanes are taken over at
// most this long after its leases run out (a tenth of the lease, at most a
// second).
func (d *Dispatcher) claimEvery() time.Duration {
	return min(d.opts.Lease/10, time.Second)
}

// callTimeout bounds each call about leases: a database that stops
// answering must not hold up the renewals, which would otherwise not see
// their leases run out.
func (d *Dispatcher) callTimeout() time.Duration { return d.opts.Lease / 3 }

// shared reports whether lanes are leased from a store replicas share.
func (d *Dispatcher) shared() bool { return d.opts.Shared != nil }

// claim starts lanes for the lanes this replica could lease.
func (d *Dispatcher) claim() {
	ctx, cancel := context.WithTimeout(d.ctx, d.callTimeout())
	got, share, err := d.opts.Shared.ClaimLanes(ctx, d.opts.Owner, d.opts.Lease, claimLimit)
	cancel()
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Warn("cannot claim delivery lanes", "err", err)
		}
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// More than the share (a replica started since): the extra lanes are
	// handed over once their attempts in flight have ended.
	var kept []*lane
	for _, l := range d.lanes {
		if !l.ending() {
			kept = append(kept, l)
		}
	}
	// At share 0 nothing is pending anywhere: the lanes retire by
	// themselves.
	if extra := len(kept) - share; share > 0 && extra > 0 {
		sort.Slice(kept, func(i, j int) bool { return kept[i].id > kept[j].id })
		for _, l := range kept[:extra] {
			d.log.Info("handing a delivery lane over to another replica", "instance", l.id, "share", share)
			l.end(false)
		}
	}
	for _, lease := range got {
		if l, ok := d.lanes[lease.InstanceID]; ok {
			l.mu.Lock()
			lost := l.lost || l.leaving
			if !lost {
				// Its lease ran out unnoticed (the database was away)
				// and nobody else took it: the lane carries on.
				l.lease = lease
			}
			l.mu.Unlock()
			if lost {
				// Still winding down after losing it: the new lease
				// goes back, to be claimed again once that lane is gone.
				d.finish(lease)
			}
			continue
		}
		l := newLane(d, lease.InstanceID)
		l.lease = lease
		d.lanes[lease.InstanceID] = l
		d.wg.Add(1)
		go l.run()
	}
}

// finish gives a lane's lease up; a failure is only logged, since the
// lease runs out by itself.
func (d *Dispatcher) finish(lease store.Lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), d.callTimeout())
	defer cancel()
	if err := d.opts.Shared.Finish(ctx, lease); err != nil && !errors.Is(err, store.ErrLeaseLost) {
		d.log.Warn("cannot give a delivery lane up; it passes on when its lease runs out", "instance", lease.InstanceID, "err", err)
	}
}

// keep renews this replica's heartbeat and lane leases until Stop. A lane
// whose lease was taken over, or could not be renewed before it ran out
// (the database away), stops at once: another replica may be delivering
// it. Each renewal also makes the lanes read their queues afresh, so a
// notification replayed through another replica is picked up.
func (d *Dispatcher) keep() {
	defer d.wg.Done()
	every := d.opts.Lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(d.ctx, d.callTimeout())
		err := d.opts.Shared.Heartbeat(ctx, d.opts.Owner, d.opts.Lease)
		cancel()
		if err != nil && d.ctx.Err() == nil {
			d.log.Warn("cannot tell the other replicas this one is alive", "err", err)
		}
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
		lanes := d.laneList()
		for _, l := range lanes {
			l.mu.Lock()
			lease, gone := l.lease, l.lost
			l.mu.Unlock()
			if gone {
				continue
			}
			l.mu.Lock()
			st := l.status
			l.mu.Unlock()
			st.InstanceID, st.AsOf = l.id, time.Now().UTC()
			report, _ := json.Marshal(st)
			ctx, cancel := context.WithTimeout(d.ctx, d.callTimeout())
			renewed, err := d.opts.Shared.RenewLane(ctx, lease, d.opts.Lease, report)
			cancel()
			switch {
			case err == nil:
				l.mu.Lock()
				l.lease, l.reset = renewed, true
				l.mu.Unlock()
				l.poke()
			case errors.Is(err, store.ErrLeaseLost) || time.Now().After(lease.Until):
				d.log.Warn("delivery lane lost; another replica takes it over", "instance", l.id, "err", err)
				l.end(true)
			default:
				d.log.Warn("cannot renew a delivery lane's lease; retrying", "instance", l.id, "until", lease.Until, "err", err)
			}
		}
	}
}

// end stops the lane: its lease is gone (lost), or it is handed over
// once the attempts in flight have ended.
func (l *lane) end(lost bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost || l.leaving {
		return
	}
	l.lost, l.leaving = lost, !lost
	close(l.stop)
}

// ending reports whether the lane is stopping for good.
func (l *lane) ending() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost || l.leaving
}

// leave ends a lane being handed over: its attempts in flight report
// back (so their outcomes are recorded, and not sent again by the next
// holder), unless the dispatcher stops first.
func (l *lane) leave(s *laneState) {
	for s.inflight > 0 {
		select {
		case r := <-l.results:
			l.finished(s, r)
		case <-l.d.quit:
			return
		}
	}
}

// leaveShared gives up the leases of the lanes still held at Stop, so the
// other replicas take them at once rather than when the leases run out.
func (d *Dispatcher) leaveShared() {
	lanes := d.laneList()
	for _, l := range lanes {
		l.mu.Lock()
		lease, lost := l.lease, l.lost
		l.mu.Unlock()
		if !lost {
			d.finish(lease) // a lane being handed over too: it is gone
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), d.callTimeout())
	defer cancel()
	if err := d.opts.Shared.Gone(ctx, d.opts.Owner); err != nil {
		d.log.Warn("cannot tell the other replicas this one stops", "err", err)
	}
}

// reportTimeout bounds the read of the other replicas' lanes.
const reportTimeout = 2 * time.Second

// remoteLanes are the lanes other replicas deliver, as they last reported
// them at a renewal, skipping those in local.
func (d *Dispatcher) remoteLanes(local map[int64]bool) []model.LaneStatus {
	ctx, cancel := context.WithTimeout(d.ctx, reportTimeout)
	defer cancel()
	reports, err := d.opts.Shared.LaneReports(ctx)
	if err != nil {
		d.log.Debug("cannot read the other replicas' lanes", "err", err)
		return nil
	}
	var out []model.LaneStatus
	for _, r := range reports {
		if r.Owner == d.opts.Owner || local[r.InstanceID] {
			continue
		}
		var st model.LaneStatus
		if len(r.Status) > 0 {
			_ = json.Unmarshal(r.Status, &st)
		}
		st.InstanceID, st.Replica = r.InstanceID, r.Owner
		out = append(out, st)
	}
	return out
}
