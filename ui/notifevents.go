package ui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
)

// jumpEvents opens live events narrowed to a notification's events (on the
// Deliveries list and a notification's page).
var jumpEvents = bind("e", "e", "its events")

// newNotificationEventsScreen is live events narrowed by n:ID: the events
// notification id carries, newest first, in a filter the operator can
// read and edit.
func newNotificationEventsScreen(ctx *Context, id string) *eventsScreen {
	s := newEventsScreen(ctx, 0)
	q := "n:" + id
	s.filter.Apply(q)
	s.query = parseFeedQuery(q, 0, ctx.Now())
	// Its events are stored with it: there is nothing new to follow.
	s.follow = false
	return s
}

// notificationEvents reads, newest first, up to want of the events of the
// query's notification older than before (0: all) that the rest of the
// query matches, with their payloads. A notification holds a batch, not
// a history, so reading its events one by one is cheap.
func notificationEvents(st backend.Backend, q feedQuery, label func(int64) string, before uint64, want int) ([]model.Event, uint64, error) {
	n, err := st.Notification(opCtx(), q.notification)
	if err != nil {
		return nil, 0, fmt.Errorf("notification %s: %w", q.notification, err)
	}
	seqs := make([]uint64, 0, len(n.EventIDs))
	for _, id := range n.EventIDs {
		if seq, err := strconv.ParseUint(id, 10, 64); err == nil && (before == 0 || seq < before) {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	slices.Reverse(seqs)
	if want <= 0 {
		want = len(seqs)
	}
	var out []model.Event
	for i, seq := range seqs {
		if len(out) == want {
			return out, seqs[i-1], nil
		}
		e, err := st.Event(opCtx(), strconv.FormatUint(seq, 10))
		if err != nil {
			if errors.Is(err, backend.ErrNotFound) {
				continue // removed by retention
			}
			return out, 0, err
		}
		if !q.match(&e, label(e.InstanceID)) {
			continue
		}
		out = append(out, e)
	}
	return out, 0, nil
}

// Notification is the notification whose events the query keeps (n:ID),
// or "".
func (q EventQuery) Notification() string { return q.q.notification }

// NotificationEvents are up to limit of the events of the query's
// notification that the rest of the query matches, newest first
// (instanceLabel as for Match).
func NotificationEvents(b backend.Backend, q EventQuery, instanceLabel func(int64) string, limit int) ([]model.Event, error) {
	evs, _, err := notificationEvents(b, q.q, instanceLabel, 0, limit)
	return evs, err
}
