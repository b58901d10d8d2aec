package dispatch

import (
	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Observer is told the outcome of every delivery attempt. The metrics
// package implements it; nil (the default) observes nothing.
type Observer interface {
	// AttemptMade reports one attempt at delivering a notification of in
	// and the state it leaves the notification in.
	AttemptMade(in model.Instance, a model.Attempt, state model.NotificationState)
}

// observe reports an attempt's outcome to the Observer, if any.
func (d *Dispatcher) observe(in model.Instance, rec store.AttemptRecord) {
	if d.opts.Observer != nil {
		d.opts.Observer.AttemptMade(in, rec.Attempt, rec.State)
	}
}

// Beats counts passes of the dispatcher's manage loop. The loop passes
// after every store commit, so a readiness check that commits and then sees
// Beats move knows the loop is alive.
func (d *Dispatcher) Beats() uint64 { return d.beats.Load() }
