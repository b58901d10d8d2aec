package fakeclose

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Event is one Event Log entry, as GET /event/ serves it and webhooks carry
// it under "event".
type Event struct {
	// ID is "ev_…".
	ID string
	// ObjectType is lead, contact or opportunity; ObjectID the object's id.
	ObjectType, ObjectID string
	// Action is created, updated or deleted (or merged, for crafted bodies).
	Action string
	// LeadID is the lead concerned ("" is null); for a lead, its own id.
	LeadID string
	// OrganizationID, UserID and RequestID identify who did it ("" is null).
	OrganizationID, UserID, RequestID string
	// APIKeyID is the API key used ("" is null).
	APIKeyID string
	// DateCreated and DateUpdated are rendered without offset, like
	// "2019-01-15T12:48:23.395000", as Close does for events.
	DateCreated, DateUpdated time.Time
	// ChangedFields lists the changed fields of an update (nil is []).
	ChangedFields []string
	// Data is the object as the API serves it; nil is null (deletes).
	Data json.RawMessage
	// PreviousData holds the old values of changed fields, or the whole
	// object for a delete; nil is null.
	PreviousData json.RawMessage
	// Meta is free-form, e.g. {"request_method":"PUT","request_path":…};
	// nil is {}.
	Meta map[string]any
}

// eventJSON fixes the key order of Close's documented example.
type eventJSON struct {
	DateCreated    string          `json:"date_created"`
	Meta           map[string]any  `json:"meta"`
	ID             string          `json:"id"`
	Action         string          `json:"action"`
	DateUpdated    string          `json:"date_updated"`
	ChangedFields  []string        `json:"changed_fields"`
	PreviousData   json.RawMessage `json:"previous_data"`
	OrganizationID *string         `json:"organization_id"`
	Data           json.RawMessage `json:"data"`
	RequestID      *string         `json:"request_id"`
	ObjectID       string          `json:"object_id"`
	UserID         *string         `json:"user_id"`
	ObjectType     string          `json:"object_type"`
	LeadID         *string         `json:"lead_id"`
	APIKeyID       *string         `json:"api_key_id"`
}

// nullable maps "" to null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// rawOrNull maps an empty RawMessage to null.
func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// MarshalJSON renders the event in Close's shape.
func (e Event) MarshalJSON() ([]byte, error) {
	meta := e.Meta
	if meta == nil {
		meta = map[string]any{}
	}
	changed := e.ChangedFields
	if changed == nil {
		changed = []string{}
	}
	return json.Marshal(eventJSON{
		DateCreated: e.DateCreated.UTC().Format(eventTimeLayout), Meta: meta, ID: e.ID, Action: e.Action,
		DateUpdated: e.DateUpdated.UTC().Format(eventTimeLayout), ChangedFields: changed,
		PreviousData: rawOrNull(e.PreviousData), OrganizationID: nullable(e.OrganizationID), Data: rawOrNull(e.Data),
		RequestID: nullable(e.RequestID), ObjectID: e.ObjectID, UserID: nullable(e.UserID),
		ObjectType: e.ObjectType, LeadID: nullable(e.LeadID), APIKeyID: nullable(e.APIKeyID),
	})
}

// logEvent is an Event Log entry with its sort position.
type logEvent struct {
	seq int64
	upd int64 // DateUpdated, unix nanoseconds
	ev  Event
}

// appendEvent logs a mutation and, with notify, queues webhooks. Called
// with s.mu held.
func (s *Server) appendEvent(kind, action string, r *record, data, previous []byte, changed []string, meta map[string]any, notify bool) {
	s.appendEventReq(kind, action, r, data, previous, changed, meta, notify, s.newID("req_", 22))
}

// appendEventReq is appendEvent with a given request id, which Generate
// shares among the events of one bulk import, as they stem from one request.
func (s *Server) appendEventReq(kind, action string, r *record, data, previous []byte, changed []string, meta map[string]any, notify bool, requestID string) {
	now := stamp(s.clock.Now())
	s.seq++
	le := &logEvent{seq: s.seq, upd: now.UnixNano(), ev: Event{
		ID: s.newID("ev_", 22), ObjectType: kind, ObjectID: r.id, Action: action, LeadID: r.leadID,
		OrganizationID: s.opts.OrganizationID, UserID: s.opts.UserID, RequestID: requestID,
		DateCreated: now, DateUpdated: now, ChangedFields: changed, Data: data, PreviousData: previous,
		Meta: meta,
	}}
	// Events are kept sorted by date_updated; a clock set backwards inserts
	// in place instead of appending.
	i := len(s.events)
	if i > 0 && s.events[i-1].upd > le.upd {
		i = sort.Search(len(s.events), func(j int) bool { return s.events[j].upd > le.upd })
	}
	s.events = slices.Insert(s.events, i, le)
	s.eventIDs[le.ev.ID] = le
	if notify {
		s.enqueue(le.ev)
	}
}

// Events returns the Event Log, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, le := range s.events {
		out[i] = le.ev
	}
	return out
}

// servedEvent applies the data-omission options to an event.
func (s *Server) servedEvent(ev Event, now time.Time) Event {
	if s.opts.OmitEventData || (s.opts.EventDataMaxAge > 0 && now.Sub(ev.DateCreated) > s.opts.EventDataMaxAge) {
		ev.Data, ev.PreviousData = nil, nil
	}
	return ev
}

// eventCursor is the decoded _cursor: the (date_updated, seq) position of
// the last event served; the next page continues with older ones.
type eventCursor struct {
	U int64 `json:"u"`
	S int64 `json:"s"`
}

// handleEvents serves GET /event/: newest first, filtered, _cursor paged.
func (s *Server) handleEvents(w http.ResponseWriter, r *request) {
	qv := r.URL.Query()
	if qv.Has("_skip") {
		badField(w, "_skip", "_skip is not supported for events, use _cursor.")
		return
	}
	limit := s.opts.EventLimitMax
	if v := qv.Get("_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			badField(w, "_limit", "Must be a positive integer.")
			return
		}
		limit = min(n, s.opts.EventLimitMax)
	}
	// Bounds in unix nanoseconds, as a half-open range [lo, hi).
	var lo, hi int64 = -1 << 63, 1<<63 - 1
	for _, p := range []struct {
		name string
		set  func(int64)
	}{
		{"date_updated__gte", func(n int64) { lo = max(lo, n) }},
		{"date_updated__gt", func(n int64) { lo = max(lo, n+1) }},
		{"date_updated__lt", func(n int64) { hi = min(hi, n) }},
		{"date_updated__lte", func(n int64) { hi = min(hi, n+1) }},
		{"date_updated", func(n int64) { lo, hi = max(lo, n), min(hi, n+1) }},
	} {
		if v := qv.Get(p.name); v != "" {
			t, ok := parseCloseTime(v)
			if !ok {
				badField(w, p.name, "Invalid date: "+v)
				return
			}
			p.set(t.UnixNano())
		}
	}
	var cur *eventCursor
	rawCursor := qv.Get("_cursor")
	if rawCursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(rawCursor)
		var c eventCursor
		if err != nil || json.Unmarshal(b, &c) != nil || c.S == 0 {
			badField(w, "_cursor", "Invalid cursor.")
			return
		}
		cur = &c
	}
	match := map[string]string{}
	for _, f := range []string{"object_type", "object_id", "action", "lead_id", "user_id", "request_id"} {
		if v := qv.Get(f); v != "" {
			match[f] = v
		}
	}

	s.mu.Lock()
	evs := s.events
	a := sort.Search(len(evs), func(i int) bool { return evs[i].upd >= lo })
	b := sort.Search(len(evs), func(i int) bool { return evs[i].upd >= hi })
	if cur != nil {
		c := sort.Search(len(evs), func(i int) bool {
			return evs[i].upd > cur.U || (evs[i].upd == cur.U && evs[i].seq >= cur.S)
		})
		b = min(b, c)
	}
	page := make([]Event, 0, min(limit, max(b-a, 0)))
	var last *logEvent
	more := false
	for i := b - 1; i >= a; i-- {
		e := evs[i]
		if !eventMatches(&e.ev, match) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, s.servedEvent(e.ev, r.now))
		last = e
	}
	s.mu.Unlock()

	var next *string
	if more {
		b, _ := json.Marshal(eventCursor{U: last.upd, S: last.seq})
		c := base64.RawURLEncoding.EncodeToString(b)
		next = &c
	}
	if r.repeatCursor && rawCursor != "" {
		next = &rawCursor
	}
	writeJSON(w, http.StatusOK, struct {
		Data           []Event `json:"data"`
		CursorNext     *string `json:"cursor_next"`
		CursorPrevious *string `json:"cursor_previous"`
	}{page, next, nil})
}

// eventMatches applies the equality filters.
func eventMatches(e *Event, m map[string]string) bool {
	for k, v := range m {
		var got string
		switch k {
		case "object_type":
			got = e.ObjectType
		case "object_id":
			got = e.ObjectID
		case "action":
			got = e.Action
		case "lead_id":
			got = e.LeadID
		case "user_id":
			got = e.UserID
		case "request_id":
			got = e.RequestID
		}
		if got != v {
			return false
		}
	}
	return true
}

// handleGetEvent serves GET /event/{id}/.
func (s *Server) handleGetEvent(w http.ResponseWriter, r *request, id string) {
	s.mu.Lock()
	le := s.eventIDs[id]
	var ev Event
	if le != nil {
		ev = s.servedEvent(le.ev, r.now)
	}
	s.mu.Unlock()
	if le == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}
