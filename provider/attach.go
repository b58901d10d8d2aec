package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// attachRoutes are what a console or command attached over the API needs
// beyond CE's endpoints: the engine's description, aggregates, an explicit
// secrets reveal, an event's notification and the change stream.
func (s *Server) attachRoutes() {
	s.mux.Handle("GET "+prefix+"/engine", s.authed(s.engineInfo))
	s.mux.Handle("GET "+prefix+"/stats", s.authed(s.stats))
	s.mux.Handle("GET "+prefix+"/lanes", s.authed(s.lanes))
	s.mux.Handle("GET "+prefix+"/instances/{id}/secrets", s.authed(s.revealInstance))
	s.mux.Handle("GET "+prefix+"/instances/events/{eventId}/notification", s.authed(s.eventNotification))
	s.mux.Handle("GET "+prefix+backend.ChangesPath, s.authed(s.streamChanges))
	s.mux.Handle("GET "+prefix+"/instances/{id}/polling/preview", s.authed(s.pollerPreview))
	s.mux.Handle("POST "+prefix+"/instances/{id}/polling/preview", s.authed(s.pollerPreview))
}

// PollerPreview is the next request of each resource of the instance's
// poller configuration, or of draft when it is not nil (a configuration
// JSON object, checked as saving it would be).
func PollerPreview(ctx context.Context, st PreviewStore, id int64, draft []byte) ([]model.PollPreview, error) {
	in, err := st.Instance(ctx, id)
	if err != nil {
		return nil, err
	}
	var pc model.PollerConfig
	if draft != nil {
		var probs []model.Problem
		if pc, probs = model.ParsePollerConfig(draft); len(probs) > 0 {
			return nil, &model.ValidationError{Problems: probs}
		}
	} else if pc, err = in.Poller(); err != nil {
		return nil, err
	}
	statuses, err := st.PollStatuses(ctx, id)
	if err != nil {
		return nil, err
	}
	return poll.Preview(in, pc, statuses), nil
}

func (s *Server) pollerPreview(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	var draft []byte
	if r.Method == http.MethodPost {
		if draft, err = s.readBody(w, r); err != nil {
			s.fail(w, r, err, nil)
			return
		}
	}
	out, err := PollerPreview(r.Context(), s.st, id, draft)
	if err != nil {
		s.fail(w, r, notFoundErr(err, "instance"), draft)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) engineInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, backend.Info{Addr: s.cfg.Addr, PublicURL: s.cfg.PublicURL, PID: os.Getpid(), Version: s.cfg.Version})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	st, err := s.agg.Stats(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// LaneReporter is the dispatcher as GET /lanes sees it.
type LaneReporter interface {
	Lanes() []model.LaneStatus
}

// lanes answers what the dispatcher is doing per instance: held ordered
// lanes, open circuits, pauses.
func (s *Server) lanes(w http.ResponseWriter, r *http.Request) {
	l := []model.LaneStatus{}
	if s.cfg.Lanes != nil {
		l = append(l, s.cfg.Lanes.Lanes()...)
	}
	writeJSON(w, http.StatusOK, l)
}

// revealJSON is the instance with its secrets in clear.
func revealJSON(in model.Instance, publicURL string) InstanceJSON {
	j := NewInstanceJSON(in, publicURL, true)
	j.Configuration = in.Clone().Configuration
	return j
}

func (s *Server) revealInstance(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		var in model.Instance
		if in, err = s.st.Instance(r.Context(), id); err == nil {
			s.log.Info("instance secrets revealed", append(reqAttrs(r), "id", id)...)
			writeJSON(w, http.StatusOK, revealJSON(in, s.cfg.PublicURL))
			return
		}
		err = notFoundErr(err, "instance")
	}
	s.fail(w, r, err, nil)
}

// eventNotification answers an event's notification, or 204 when it has
// none (its instance sends no callbacks): a normal answer, which the
// rejected-request log (every 4xx) should not collect from consoles
// opening events.
func (s *Server) eventNotification(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("eventId")
	if _, err := s.st.Event(r.Context(), id); err != nil {
		s.fail(w, r, notFoundErr(err, "event"), nil)
		return
	}
	n, err := NotificationOfEvent(r.Context(), s.st, id)
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	s.writeNotification(w, r, n)
}

// notificationScan bounds the notifications read to find an event's.
const notificationScan = 3000

// NotificationOfEvent finds the notification carrying an event, with its
// body. Notifications are created in event order and never run far ahead
// of event ids (each holds an event of its own transaction), so the scan
// starts a little above the event and stops at the first notification
// wholly older than it.
func NotificationOfEvent(ctx context.Context, st NotificationFinder, eventID string) (model.Notification, error) {
	e, err := st.Event(ctx, eventID)
	if err != nil {
		return model.Notification{}, err
	}
	seq := e.Seq()
	none := fmt.Errorf("notification of event %s: %w", eventID, store.ErrNotFound)
	f := model.NotificationFilter{InstanceID: e.InstanceID}
	if newest, _, err := st.Notifications(ctx, model.NotificationFilter{}, 1); err == nil && len(newest) == 1 {
		if start := seq + 1 + 1024; start <= newest[0].Seq() {
			f.Before = start
		}
	}
	for scanned := 0; scanned < notificationScan; {
		ns, next, err := st.Notifications(ctx, f, 500)
		if err != nil {
			return model.Notification{}, err
		}
		for _, n := range ns {
			scanned++
			below := true
			for _, id := range n.EventIDs {
				s, _ := strconv.ParseUint(id, 10, 64)
				if s == seq {
					return st.Notification(ctx, n.ID)
				}
				if s >= seq {
					below = false
				}
			}
			if below {
				return model.Notification{}, none
			}
		}
		if next == 0 {
			break
		}
		f.Before = next
	}
	return model.Notification{}, none
}
