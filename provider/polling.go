package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// PollNower runs a poll cycle on demand; the engine's scheduler is one.
type PollNower interface {
	PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error)
}

// pollResult answers POST /instances/{id}/events/poll.
type pollResult struct {
	Statuses []model.PollStatus `json:"statuses"`
	Events   []model.Event      `json:"events"`
	Error    string             `json:"error,omitempty"`
}

// pollNowTimeout bounds a poll run on behalf of an HTTP client.
const pollNowTimeout = 5 * time.Minute

func (s *Server) pollNow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var in model.Instance
	if err == nil {
		in, err = s.st.Instance(r.Context(), id)
		err = notFoundErr(err, "instance")
	}
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if in.Disabled {
		s.fail(w, r, errorf(http.StatusConflict, fmt.Sprintf(`instance %d is disabled: it is not polled until enabled again (PATCH {"disabled": false})`, id)), nil)
		return
	}
	if s.cfg.Poller == nil {
		s.fail(w, r, errorf(http.StatusServiceUnavailable, "polling is not running in this process"), nil)
		return
	}
	// The poll outlives the server's write timeout; it is bounded itself.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(pollNowTimeout + 10*time.Second))
	ctx, cancel := context.WithTimeout(r.Context(), pollNowTimeout)
	defer cancel()
	statuses, events, err := s.cfg.Poller.PollNow(ctx, id, r.URL.Query().Get("resource"))
	if statuses == nil && err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		s.fail(w, r, &httpError{status: status, msg: err.Error(), err: err}, nil)
		return
	}
	res := pollResult{Statuses: statuses, Events: events}
	if res.Events == nil {
		res.Events = []model.Event{}
	}
	status := http.StatusOK
	if err != nil {
		res.Error, status = err.Error(), http.StatusBadGateway
	}
	writeJSON(w, status, res)
}

func (s *Server) pollStatuses(w http.ResponseWriter, r *http.Request, id int64) {
	list, err := s.st.PollStatuses(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if list == nil {
		list = []model.PollStatus{}
	}
	writeJSON(w, http.StatusOK, list)
}
