package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/store"
)

// changeCursor is a position in the change stream: the newest event,
// rejected request and notification sent. All three are the store's own
// sequences, so a client resuming with Last-Event-ID gets exactly what came
// after, with no gap and no duplicate, even across an engine restart.
// Written "E.R.N".
type changeCursor struct{ event, rejected, notification uint64 }

func (c changeCursor) String() string {
	return strconv.FormatUint(c.event, 10) + "." + strconv.FormatUint(c.rejected, 10) + "." + strconv.FormatUint(c.notification, 10)
}

func parseCursor(v string) (changeCursor, error) {
	var c changeCursor
	parts := strings.Split(v, ".")
	if len(parts) == 1 {
		// A bare event id, as the event stream's ids are.
		n, err := strconv.ParseUint(v, 10, 64)
		c.event = n
		if err != nil {
			return c, errorf(http.StatusBadRequest, fmt.Sprintf("Last-Event-ID %q is not a position of this stream (E.R.N or an event id)", v))
		}
		return c, nil
	}
	if len(parts) != 3 {
		return c, errorf(http.StatusBadRequest, fmt.Sprintf("Last-Event-ID %q is not a position of this stream (E.R.N or an event id)", v))
	}
	var vals [3]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return c, errorf(http.StatusBadRequest, fmt.Sprintf("Last-Event-ID %q is not a position of this stream (E.R.N or an event id)", v))
		}
		vals[i] = n
	}
	return changeCursor{vals[0], vals[1], vals[2]}, nil
}

// InstanceChange is the data of an "instance" change.
type InstanceChange struct {
	ID int64 `json:"id"`
	// Op is created, updated or deleted.
	Op string `json:"op"`
}

// watchedNotifications is how many of the newest notifications the stream
// watches for state changes (attempts, replays) after it sent them.
const watchedNotifications = 200

// noteKey is what makes a notification's state change worth sending.
type noteKey struct {
	state    model.NotificationState
	attempts int
}

// head is the stream's starting point when the client gives none: now.
func (s *Server) changeHead(ctx context.Context) (changeCursor, error) {
	var c changeCursor
	var err error
	if c.event, err = s.st.LastEventID(ctx); err != nil {
		return c, err
	}
	if rs, _, err := s.st.RejectedList(ctx, 0, 1); err == nil && len(rs) == 1 {
		c.rejected, _ = strconv.ParseUint(rs[0].ID, 10, 64)
	}
	if ns, _, err := s.st.Notifications(ctx, model.NotificationFilter{}, 1); err == nil && len(ns) == 1 {
		c.notification = ns[0].Seq()
	}
	return c, nil
}

// streamChanges sends typed changes as Server-Sent Events: event,
// notification (created, then state changes of recent ones), instance and
// rejected. ?kinds=event,rejected keeps only some kinds; the event filters
// of the events list apply to events.
func (s *Server) streamChanges(w http.ResponseWriter, r *http.Request) {
	f, err := eventFilter(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	kinds := map[string]bool{backend.ChangeEvent: true, backend.ChangeNotification: true, backend.ChangeInstance: true, backend.ChangeRejected: true}
	if v := r.URL.Query().Get("kinds"); v != "" {
		want := map[string]bool{}
		for k := range strings.SplitSeq(v, ",") {
			if !kinds[k] {
				s.fail(w, r, errorf(http.StatusBadRequest, fmt.Sprintf("kinds: %q is not one of event, notification, instance, rejected", k)), nil)
				return
			}
			want[k] = true
		}
		kinds = want
	}
	var cur changeCursor
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		cur, err = parseCursor(v)
	} else if v := r.URL.Query().Get("after"); v != "" {
		cur, err = parseCursor(v)
	} else {
		cur, err = s.changeHead(r.Context())
	}
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	sub := s.st.Subscribe()
	defer sub.Close()
	// The instances are read before the stream starts: a client may act
	// as soon as it is connected, and an instance changed after this
	// snapshot must show as a change, not as part of the snapshot.
	insts := map[int64]time.Time{}
	instVer := s.st.InstancesVersion()
	if list, err := s.st.Instances(r.Context()); err == nil {
		for _, in := range list {
			insts[in.ID] = in.UpdatedAt
		}
	}
	rc, ok := startStream(w, fmt.Sprintf(": eventdesk change stream after %s\nretry: 1000\n\n", cur))
	if !ok {
		return
	}
	send := func(kind string, v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", cur, kind, data)
	}
	notes := map[string]noteKey{}
	tick := time.NewTicker(streamHeartbeat)
	defer tick.Stop()
	for {
		if err := s.sendEvents(r.Context(), &cur, f, kinds[backend.ChangeEvent], send); err != nil {
			s.log.Warn("change stream read failed", append(reqAttrs(r), "err", err)...)
			return
		}
		if err := s.sendRejected(r.Context(), &cur, kinds[backend.ChangeRejected], send); err != nil {
			return
		}
		if err := s.sendNotifications(r.Context(), &cur, notes, kinds[backend.ChangeNotification], send); err != nil {
			return
		}
		if v := s.st.InstancesVersion(); v != instVer {
			instVer = v
			if err := s.sendInstances(r.Context(), insts, kinds[backend.ChangeInstance], send); err != nil {
				return
			}
		}
		if !awaitChange(w, r, rc, sub, tick) {
			return
		}
	}
}

func (s *Server) sendEvents(ctx context.Context, cur *changeCursor, f store.EventFilter, want bool, send func(string, any)) error {
	for {
		batch, err := s.st.EventsAfter(ctx, cur.event, 500)
		if err != nil {
			return err
		}
		for i := range batch {
			cur.event = batch[i].Seq()
			if want && f.Match(&batch[i]) {
				send(backend.ChangeEvent, batch[i])
			}
		}
		if len(batch) < 500 {
			return nil
		}
	}
}

func (s *Server) sendRejected(ctx context.Context, cur *changeCursor, want bool, send func(string, any)) error {
	// Most signals are events: look at the newest rejection first, and
	// read more only when there is something new.
	head, _, err := s.st.RejectedList(ctx, 0, 1)
	if err != nil || len(head) == 0 {
		return err
	}
	if seq, _ := strconv.ParseUint(head[0].ID, 10, 64); seq <= cur.rejected {
		return nil
	}
	list, _, err := s.st.RejectedList(ctx, 0, store.RejectedCapacity)
	if err != nil {
		return err
	}
	for i := len(list) - 1; i >= 0; i-- {
		seq, _ := strconv.ParseUint(list[i].ID, 10, 64)
		if seq <= cur.rejected {
			continue
		}
		cur.rejected = seq
		if want {
			send(backend.ChangeRejected, list[i])
		}
	}
	return nil
}

// sendNotifications sends notifications created after the cursor, then
// the state changes of the newest ones (which carry the cursor unchanged:
// a client that missed them reloads state when it reconnects).
func (s *Server) sendNotifications(ctx context.Context, cur *changeCursor, notes map[string]noteKey, want bool, send func(string, any)) error {
	list, _, err := s.st.Notifications(ctx, model.NotificationFilter{}, watchedNotifications)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		n := list[i]
		seen[n.ID] = true
		k := noteKey{n.State, n.Attempts}
		if n.Seq() > cur.notification {
			cur.notification = n.Seq()
			notes[n.ID] = k
			if want {
				send(backend.ChangeNotification, n)
			}
			continue
		}
		if old, ok := notes[n.ID]; ok && old != k {
			notes[n.ID] = k
			if want {
				send(backend.ChangeNotification, n)
			}
		} else if !ok {
			notes[n.ID] = k
		}
	}
	for id := range notes {
		if !seen[id] {
			delete(notes, id)
		}
	}
	return nil
}

func (s *Server) sendInstances(ctx context.Context, known map[int64]time.Time, want bool, send func(string, any)) error {
	list, err := s.st.Instances(ctx)
	if err != nil {
		return err
	}
	var changes []InstanceChange
	now := make(map[int64]bool, len(list))
	for _, in := range list {
		now[in.ID] = true
		old, ok := known[in.ID]
		switch {
		case !ok:
			changes = append(changes, InstanceChange{in.ID, "created"})
		case !old.Equal(in.UpdatedAt):
			changes = append(changes, InstanceChange{in.ID, "updated"})
		}
		known[in.ID] = in.UpdatedAt
	}
	for id := range known {
		if !now[id] {
			changes = append(changes, InstanceChange{id, "deleted"})
			delete(known, id)
		}
	}
	slices.SortFunc(changes, func(a, b InstanceChange) int { return int(a.ID - b.ID) })
	if want {
		for _, c := range changes {
			send(backend.ChangeInstance, c)
		}
	}
	return nil
}
