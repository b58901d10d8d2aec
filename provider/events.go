package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

func (s *Server) eventRoutes() {
	s.mux.HandleFunc("POST "+prefix+"/events/{elementKey}/{encodedId}", s.observeWebhooks(s.receive))
	s.mux.HandleFunc("POST "+prefix+"/events/{elementKey}", s.observeWebhooks(s.receive))
	s.mux.Handle("GET "+prefix+"/instances/events", s.authed(s.listEvents))
	s.mux.Handle("GET "+prefix+"/instances/events/stream", s.authed(s.streamEvents))
	s.mux.Handle("GET "+prefix+"/instances/events/search", s.authed(s.searchEvents))
	// /instances/events/{eventId} and /instances/{id}/events overlap at
	// /instances/events/events, which ServeMux refuses; one handler splits them.
	s.mux.Handle(instanceSubPattern, s.authed(s.instanceSub))
	s.mux.Handle("GET "+prefix+"/instances/events/{eventId}/raw", s.authed(s.getEventRaw))
	s.mux.Handle("GET "+prefix+"/rejected-requests", s.authed(s.listRejected))
}

// instanceSubPattern is the one route for GET /instances/events/{eventId},
// /instances/{id}/events and /instances/{id}/polling.
const instanceSubPattern = "GET " + prefix + "/instances/{id}/{sub}"

// instanceSubServes reports whether instanceSub answers GET
// /instances/{id}/{sub} other than with "no such endpoint".
func instanceSubServes(id, sub string) bool {
	return id == "events" || sub == "events" || sub == "polling"
}

func (s *Server) instanceSub(w http.ResponseWriter, r *http.Request) {
	id, sub := r.PathValue("id"), r.PathValue("sub")
	if !instanceSubServes(id, sub) {
		s.notFound(w, r)
		return
	}
	switch {
	case id == "events":
		s.getEvent(w, r, sub)
	case sub == "events":
		iid, err := pathID(r)
		if err == nil {
			_, err = s.st.Instance(r.Context(), iid)
		}
		if err != nil {
			s.fail(w, r, notFoundErr(err, "instance"), nil)
			return
		}
		s.listEventsFiltered(w, r, iid)
	case sub == "polling":
		iid, err := pathID(r)
		if err == nil {
			_, err = s.st.Instance(r.Context(), iid)
		}
		if err != nil {
			s.fail(w, r, notFoundErr(err, "instance"), nil)
			return
		}
		s.pollStatuses(w, r, iid)
	default:
		s.notFound(w, r)
	}
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, id string) {
	e, err := s.st.Event(r.Context(), id)
	if err != nil {
		s.fail(w, r, notFoundErr(err, "event"), nil)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// getEventRaw answers the vendor's payload exactly as it was received; in
// JSON answers it is re-encoded, which loses the vendor's whitespace.
func (s *Server) getEventRaw(w http.ResponseWriter, r *http.Request) {
	e, err := s.st.Event(r.Context(), r.PathValue("eventId"))
	if err != nil {
		s.fail(w, r, notFoundErr(err, "event"), nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(e.Raw)
}

// eventFilter reads the list filters: instance, objectType, objectId,
// eventType, source, since and until (RFC 3339), raw.
func eventFilter(r *http.Request) (store.EventFilter, error) {
	q := r.URL.Query()
	f := store.EventFilter{ObjectType: q.Get("objectType"), ObjectID: q.Get("objectId"), Raw: q.Get("raw")}
	if n := len(f.Raw); n > maxRawQuery {
		return f, errorf(http.StatusBadRequest, fmt.Sprintf("raw must be at most %d bytes, got %d", maxRawQuery, n))
	}
	if v := q.Get("instance"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, errorf(http.StatusBadRequest, fmt.Sprintf("instance must be a positive instance id, got %q", v))
		}
		f.InstanceID = n
	}
	if v := q.Get("eventType"); v != "" {
		switch t := model.EventType(v); t {
		case model.Created, model.Updated, model.Deleted, model.Unknown:
			f.EventType = t
		default:
			return f, errorf(http.StatusBadRequest, fmt.Sprintf("eventType must be CREATED, UPDATED, DELETED or UNKNOWN, got %q", v))
		}
	}
	if v := q.Get("source"); v != "" {
		switch src := model.Source(v); src {
		case model.SourcePolling, model.SourceWebhook:
			f.Source = src
		default:
			return f, errorf(http.StatusBadRequest, fmt.Sprintf("source must be polling or webhook, got %q", v))
		}
	}
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, errorf(http.StatusBadRequest, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", b.name, v))
			}
			*b.t = t
		}
	}
	return f, nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	s.listEventsFiltered(w, r, 0)
}

func (s *Server) listEventsFiltered(w http.ResponseWriter, r *http.Request, instanceID int64) {
	f, err := eventFilter(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if instanceID != 0 {
		f.InstanceID = instanceID
	}
	p, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if v := r.URL.Query().Get("after"); v != "" {
		s.listEventsAfter(w, r, f, v, p.size)
		return
	}
	f.Before = p.cursor
	events, next, err := s.st.Events(r.Context(), f, p.size)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if events == nil {
		events = []model.Event{}
	}
	setNext(w, next)
	writeJSON(w, http.StatusOK, events)
}

// listEventsAfter answers ?after=ID: the events with a larger id, oldest
// first, as a client catching up reads them; a page that comes back short
// of pageSize is the end. Filters apply after the page is read.
func (s *Server) listEventsAfter(w http.ResponseWriter, r *http.Request, f store.EventFilter, v string, size int) {
	after, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.fail(w, r, errorf(http.StatusBadRequest, fmt.Sprintf("after must be an event id, got %q", v)), nil)
		return
	}
	batch, err := s.st.EventsAfter(r.Context(), after, size)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	out := make([]model.Event, 0, len(batch))
	for i := range batch {
		if f.Match(&batch[i]) {
			out = append(out, batch[i])
		}
	}
	setNext(w, 0)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listRejected(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	list, next, err := s.st.RejectedList(r.Context(), p.cursor, p.size)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if list == nil {
		list = []store.Rejected{}
	}
	setNext(w, next)
	writeJSON(w, http.StatusOK, list)
}

// streamHeartbeat keeps proxies and idle timeouts from closing a quiet stream.
const streamHeartbeat = 15 * time.Second

// streamEvents sends new events as Server-Sent Events. A client that
// reconnects with Last-Event-ID (or ?after=ID) gets what it missed, read
// from the store, so nothing is lost between connections.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	f, err := eventFilter(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	after, err := s.streamStart(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	sub := s.st.Subscribe()
	defer sub.Close()
	rc, ok := startStream(w, fmt.Sprintf(": eventdesk event stream, after event %d\n\n", after))
	if !ok {
		return
	}
	tick := time.NewTicker(streamHeartbeat)
	defer tick.Stop()
	for {
		for {
			batch, err := s.st.EventsAfter(r.Context(), after, 500)
			if err != nil {
				s.log.Warn("event stream read failed", append(reqAttrs(r), "err", err)...)
				return
			}
			for _, e := range batch {
				after = e.Seq()
				if !f.Match(&e) {
					continue
				}
				data, _ := json.Marshal(e)
				fmt.Fprintf(w, "id: %s\nevent: event\ndata: %s\n\n", e.ID, data)
			}
			if len(batch) < 500 {
				break
			}
		}
		if !awaitChange(w, r, rc, sub, tick) {
			return
		}
	}
}

func (s *Server) streamStart(r *http.Request) (uint64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return s.st.LastEventID(r.Context())
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, fmt.Sprintf("Last-Event-ID/after must be an event id, got %q", v))
	}
	return n, nil
}

// startStream answers 200 with a server-sent event stream and writes its
// opening comment; ok is false when the client is already gone. The stream
// lives longer than the server's write timeout, so that is lifted, and
// proxies are asked not to buffer it.
func startStream(w http.ResponseWriter, opening string) (rc *http.ResponseController, ok bool) {
	rc = http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, opening)
	return rc, rc.Flush() == nil
}

// awaitChange flushes what a stream wrote and waits for the store's next
// commit, writing a ping at each heartbeat so proxies keep the connection;
// false ends the stream (client gone, store closed).
func awaitChange(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, sub *store.Subscription, tick *time.Ticker) bool {
	for {
		if err := rc.Flush(); err != nil {
			return false
		}
		select {
		case <-r.Context().Done():
			return false
		case _, ok := <-sub.C:
			return ok
		case <-tick.C:
			_, _ = io.WriteString(w, ": ping\n\n")
		}
	}
}
