package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// laneBatch is how many pending notifications a lane reads at once.
const laneBatch = 256

// lane delivers one instance's notifications strictly in order: the head
// is retried until delivered or dead before the next one goes.
type lane struct {
	d    *Dispatcher
	id   int64
	wake chan struct{}
	done chan struct{}

	mu      sync.Mutex
	waiting bool // idle or paused: the manager may wake it
	reset   bool // re-read the queue from the start (after a replay)
}

func newLane(d *Dispatcher, id int64) *lane {
	return &lane{d: d, id: id, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting
}

func (l *lane) setWaiting(v bool) {
	l.mu.Lock()
	l.waiting = v
	l.mu.Unlock()
}

func (l *lane) takeReset() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reset
	l.reset = false
	return r
}

// errStop ends the lane.
var errStop = errors.New("stop")

// wait blocks until d passes, the lane is poked, or the dispatcher stops.
// A zero or negative d waits for a poke only.
func (l *lane) wait(d time.Duration, wakeable bool) error {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	l.setWaiting(wakeable)
	defer l.setWaiting(false)
	select {
	case <-l.d.quit:
		return errStop
	case <-l.wake:
	case <-timer:
	}
	return nil
}

func (l *lane) run() {
	defer l.d.wg.Done()
	defer close(l.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.d.quit:
			cancel()
		case <-l.done:
		}
	}()
	var (
		queue  []model.Notification
		cursor uint64
	)
	for {
		if l.takeReset() {
			l.d.flush()
			queue, cursor = nil, 0
		}
		if len(queue) == 0 {
			// Outcomes still in the recorder would otherwise read as pending.
			l.d.flush()
			var err error
			queue, err = l.d.st.PendingNotifications(l.id, cursor, laneBatch)
			if err != nil {
				l.d.log.Warn("cannot read pending notifications", "instance", l.id, "err", err)
			}
			if len(queue) == 0 {
				if l.retire() {
					return
				}
				continue
			}
		}
		in, err := l.d.st.Instance(l.id)
		if errors.Is(err, store.ErrNotFound) {
			l.retireNow()
			return
		}
		if err != nil || !in.Sendable() {
			// Paused (events off, no callback URL, or a 410): wait for a change.
			if l.wait(0, true) != nil {
				return
			}
			continue
		}
		n := &queue[0]
		if due := n.NextAttempt.Sub(l.d.opts.Now()); due > 0 {
			if l.wait(due, false) != nil {
				return
			}
			continue
		}
		attempt, wait := l.d.send(ctx, in, *n, n.Attempts+1)
		if ctx.Err() != nil {
			return // stopping: this attempt does not count
		}
		rec := l.outcome(in, n, attempt, wait)
		l.d.observe(in, rec)
		l.d.recs <- recItem{rec: rec}
		if rec.State != model.StatePending {
			cursor = n.Seq()
			queue = queue[1:]
		}
	}
}

// outcome decides what an attempt leaves the notification in.
func (l *lane) outcome(in model.Instance, n *model.Notification, a model.Attempt, wait time.Duration) store.AttemptRecord {
	now := l.d.opts.Now()
	n.Attempts = a.N
	rec := store.AttemptRecord{Attempt: a}
	switch {
	case a.Status >= 200 && a.Status < 300:
		rec.State = model.StateDelivered
		l.d.log.Debug("notification delivered", "instance", in.ID, "notification", n.ID, "status", a.Status)
	case a.Status == http.StatusGone:
		rec.State, rec.NextAttempt = model.StatePending, now
		n.NextAttempt = now
		reason := fmt.Sprintf("callback answered 410 Gone at %s; notifications are off until the callback URL changes or events are re-enabled", now.UTC().Format(time.RFC3339))
		if err := l.d.st.SetNotificationsOff(in.ID, reason); err != nil {
			l.d.log.Warn("cannot turn notifications off", "instance", in.ID, "err", err)
		}
		l.d.log.Warn("callback gone; notifications turned off", "instance", in.ID)
	case n.Tries() > l.d.opts.Policy.MaxRetries:
		rec.State = model.StateDead
		l.d.log.Warn("notification dead after retries", "instance", in.ID, "notification", n.ID, "attempts", n.Attempts, "status", a.Status, "error", a.Error)
	default:
		delay := l.d.opts.Policy.Wait(n.Tries(), l.d.opts.Rand())
		if wait > 0 {
			delay = wait
		}
		rec.State, rec.NextAttempt = model.StatePending, now.Add(delay)
		n.NextAttempt = rec.NextAttempt
	}
	return rec
}

// retire removes an empty lane, unless work arrived meanwhile (then the
// lane carries on). It waits briefly for more work first, so a steady
// trickle does not start a goroutine per notification.
func (l *lane) retire() bool {
	if l.wait(time.Second, true) != nil {
		return true
	}
	l.d.mu.Lock()
	defer l.d.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.wake:
		return false
	default:
	}
	if pending, _ := l.d.st.PendingNotifications(l.id, 0, 1); len(pending) > 0 {
		l.reset = true // pending behind the cursor: start over
		return false
	}
	delete(l.d.lanes, l.id)
	return true
}

func (l *lane) retireNow() {
	l.d.mu.Lock()
	delete(l.d.lanes, l.id)
	l.d.mu.Unlock()
}
