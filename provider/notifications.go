package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Replayer puts notifications back in line. The engine's dispatcher is one
// (it also wakes the instance's delivery lane); without it the store is.
type Replayer interface {
	Replay(ctx context.Context, id string) (model.Notification, error)
	ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error)
}

func (s *Server) notificationRoutes() {
	s.mux.Handle("GET "+prefix+"/notifications", s.authed(s.listNotifications))
	s.mux.Handle("GET "+prefix+"/notifications/{nid}", s.authed(s.getNotification))
	s.mux.Handle("POST "+prefix+"/notifications/{nid}/replay", s.authed(s.replayNotification))
	s.mux.Handle("POST "+prefix+"/instances/{id}/notifications/replay", s.authed(s.replayDead))
}

func (s *Server) replayer() Replayer {
	if s.cfg.Replayer != nil {
		return s.cfg.Replayer
	}
	return s.st
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	q := r.URL.Query()
	f := store.NotificationFilter{Before: p.cursor}
	if v := q.Get("instance"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.fail(w, r, errorf(http.StatusBadRequest, fmt.Sprintf("instance must be a positive instance id, got %q", v)), nil)
			return
		}
		f.InstanceID = n
	}
	if v := q.Get("state"); v != "" {
		switch st := model.NotificationState(v); st {
		case model.StatePending, model.StateDelivered, model.StateDead:
			f.State = st
		case "failing":
			// Pending, and tried at least once without success.
			f.State, f.Failing = model.StatePending, true
		default:
			s.fail(w, r, errorf(http.StatusBadRequest, fmt.Sprintf("state must be pending, failing, delivered or dead, got %q", v)), nil)
			return
		}
	}
	list, next, err := s.st.Notifications(r.Context(), f, p.size)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if list == nil {
		list = []model.Notification{}
	}
	setNext(w, next)
	writeJSON(w, http.StatusOK, list)
}

// notificationDetail is one notification with its payload and attempts.
type notificationDetail struct {
	model.Notification
	Payload  json.RawMessage `json:"payload"`
	Attempts []model.Attempt `json:"attemptLog"`
}

func (s *Server) getNotification(w http.ResponseWriter, r *http.Request) {
	n, err := s.st.Notification(r.Context(), r.PathValue("nid"))
	if err != nil {
		s.fail(w, r, notFoundErr(err, "notification"), nil)
		return
	}
	s.writeNotification(w, r, n)
}

// writeNotification answers a notification with its payload and attempts.
func (s *Server) writeNotification(w http.ResponseWriter, r *http.Request, n model.Notification) {
	atts, err := s.st.Attempts(r.Context(), n.ID)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if atts == nil {
		atts = []model.Attempt{}
	}
	writeJSON(w, http.StatusOK, notificationDetail{Notification: n, Payload: n.Body, Attempts: atts})
}

func (s *Server) replayNotification(w http.ResponseWriter, r *http.Request) {
	n, err := s.replayer().Replay(r.Context(), r.PathValue("nid"))
	if err != nil {
		s.fail(w, r, notFoundErr(err, "notification"), nil)
		return
	}
	n.Body = nil
	writeJSON(w, http.StatusOK, n)
}

func (s *Server) replayDead(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		_, err = s.st.Instance(r.Context(), id)
		err = notFoundErr(err, "instance")
	}
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			s.fail(w, r, errorf(http.StatusBadRequest, fmt.Sprintf("since must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", v)), nil)
			return
		}
	}
	ids, err := s.replayer().ReplayDead(r.Context(), id, since)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayed": ids})
}
