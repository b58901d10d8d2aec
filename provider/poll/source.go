package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// item is one record a source yields; eventType forces the event type for
// sources that know it (Close's event log reports deletions).
type item struct {
	raw       json.RawMessage
	eventType model.EventType
	// date, when set, is when the vendor logged the change (Close's event
	// date_updated); a deletion's record still carries its last update.
	date string
}

// source pages through one resource's changes since a time. next returns
// the following page's items; done reports the last page.
type source interface {
	next(ctx context.Context) (items []item, done bool, err error)
	// sortedByUpdate reports whether pages come oldest change first, so a
	// poll cut short by the page cap can still move its checkpoint.
	sortedByUpdate() bool
	// request builds the next page's request (for previews: the first).
	request() func() (*http.Request, error)
}

// auth decorates vendor requests with the instance's credentials.
type auth func(*http.Request)

// request builds a GET of base + path + query.
func request(base, path string, q url.Values, a auth) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		u := strings.TrimRight(base, "/") + path
		if len(q) > 0 {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + q.Encode()
		}
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("bad vendor URL %q: %w", u, err)
		}
		req.Header.Set("Accept", "application/json")
		a(req)
		return req, nil
	}
}

// loopGuard fails a poll whose vendor hands out the same cursor twice,
// instead of spinning forever.
type loopGuard map[string]bool

func (g loopGuard) check(cursor string) error {
	if g[cursor] {
		return fmt.Errorf("pagination loop: the vendor returned cursor %q twice", cursor)
	}
	g[cursor] = true
	return nil
}

// pipedriveV2 pages API v2 lists with updated_since and cursors.
type pipedriveV2 struct {
	f      *fetcher
	base   string
	path   string
	since  time.Time
	limit  int
	a      auth
	cursor string
	seen   loopGuard
}

func (s *pipedriveV2) sortedByUpdate() bool { return true }

func (s *pipedriveV2) request() func() (*http.Request, error) {
	q := url.Values{}
	// Pipedrive refuses fractional seconds here; whole seconds, rounded
	// down, never miss a change.
	q.Set("updated_since", s.since.UTC().Truncate(time.Second).Format(time.RFC3339))
	q.Set("sort_by", "update_time")
	q.Set("sort_direction", "asc")
	q.Set("limit", strconv.Itoa(s.limit))
	if s.cursor != "" {
		q.Set("cursor", s.cursor)
	}
	return request(s.base, s.path, q, s.a)
}

func (s *pipedriveV2) next(ctx context.Context) ([]item, bool, error) {
	body, err := s.f.get(ctx, s.request())
	if err != nil {
		return nil, false, err
	}
	var page struct {
		Success *bool             `json:"success"`
		Data    []json.RawMessage `json:"data"`
		Extra   struct {
			NextCursor *string `json:"next_cursor"`
		} `json:"additional_data"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, false, malformed(s.f.lastURL, body, err)
	}
	if page.Success != nil && !*page.Success {
		return nil, false, fmt.Errorf("GET %s: vendor answered success=false: %s", s.f.lastURL, excerpt(body))
	}
	done := page.Extra.NextCursor == nil || *page.Extra.NextCursor == ""
	if !done {
		s.cursor = *page.Extra.NextCursor
		if err := s.seen.check(s.cursor); err != nil {
			return nil, false, err
		}
	}
	return plain(page.Data), done, nil
}

// offsetPager pages lists with start/limit (Pipedrive v1) or _skip/_limit
// (Close), following whichever continuation the answer carries.
type offsetPager struct {
	f         *fetcher
	base      string
	path      string
	q         url.Values
	skipParam string // "start" or "_skip"
	limParam  string
	limit     int
	a         auth
	offset    int
	sorted    bool
	pages     int
}

func (s *offsetPager) sortedByUpdate() bool { return s.sorted }

func (s *offsetPager) request() func() (*http.Request, error) {
	q := url.Values{}
	for k, v := range s.q {
		q[k] = v
	}
	q.Set(s.limParam, strconv.Itoa(s.limit))
	if s.offset > 0 {
		q.Set(s.skipParam, strconv.Itoa(s.offset))
	}
	return request(s.base, s.path, q, s.a)
}

func (s *offsetPager) next(ctx context.Context) ([]item, bool, error) {
	body, err := s.f.get(ctx, s.request())
	if err != nil {
		return nil, false, err
	}
	var page struct {
		Data    []json.RawMessage `json:"data"`
		HasMore *bool             `json:"has_more"`
		Extra   struct {
			More       *bool   `json:"more_items_in_collection"`
			NextStart  *int    `json:"next_start"`
			NextCursor *string `json:"next_cursor"`
			Pagination struct {
				More      *bool `json:"more_items_in_collection"`
				NextStart *int  `json:"next_start"`
			} `json:"pagination"`
		} `json:"additional_data"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, false, malformed(s.f.lastURL, body, err)
	}
	more := false
	switch {
	case page.HasMore != nil:
		more = *page.HasMore
	case page.Extra.Pagination.More != nil:
		more = *page.Extra.Pagination.More
	case page.Extra.More != nil:
		more = *page.Extra.More
	}
	if !more || len(page.Data) == 0 {
		return plain(page.Data), true, nil
	}
	next := s.offset + len(page.Data)
	if p := page.Extra.Pagination.NextStart; p != nil {
		next = *p
	} else if p := page.Extra.NextStart; p != nil {
		next = *p
	}
	if next <= s.offset {
		return nil, false, fmt.Errorf("pagination loop: the vendor's next offset %d does not move past %d", next, s.offset)
	}
	s.offset = next
	return plain(page.Data), false, nil
}

// closeEventLog pages Close's Event Log for one object type, newest first,
// turning events into records: data is the record, deletions become
// DELETED, and an event without data is completed by fetching the object.
type closeEventLog struct {
	f          *fetcher
	base       string
	objectType string
	since      time.Time
	a          auth
	cursor     string
	seen       loopGuard
	// emitted keeps the newest change per object within one poll; the log
	// lists every event, a poll reports each changed object once.
	emitted map[string]bool
}

func (s *closeEventLog) sortedByUpdate() bool { return false }

func (s *closeEventLog) request() func() (*http.Request, error) {
	q := url.Values{}
	q.Set("object_type", s.objectType)
	q.Set("date_updated__gte", s.since.UTC().Format("2006-01-02T15:04:05.000000"))
	q.Set("_limit", "50")
	if s.cursor != "" {
		q.Set("_cursor", s.cursor)
	}
	return request(s.base, "/event/", q, s.a)
}

func (s *closeEventLog) next(ctx context.Context) ([]item, bool, error) {
	body, err := s.f.get(ctx, s.request())
	if err != nil {
		return nil, false, err
	}
	var page struct {
		Data       []json.RawMessage `json:"data"`
		CursorNext *string           `json:"cursor_next"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, false, malformed(s.f.lastURL, body, err)
	}
	var items []item
	for _, raw := range page.Data {
		var ev struct {
			ObjectID     string          `json:"object_id"`
			Action       string          `json:"action"`
			Data         json.RawMessage `json:"data"`
			PreviousData json.RawMessage `json:"previous_data"`
			DateUpdated  string          `json:"date_updated"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, false, malformed(s.f.lastURL, body, err)
		}
		if ev.ObjectID == "" || s.emitted[ev.ObjectID] {
			continue
		}
		s.emitted[ev.ObjectID] = true
		switch {
		case ev.Action == "deleted":
			rec := ev.PreviousData
			if isNull(rec) {
				rec, _ = json.Marshal(map[string]string{"id": ev.ObjectID, "date_updated": ev.DateUpdated})
			}
			items = append(items, item{raw: rec, eventType: model.Deleted, date: ev.DateUpdated})
		case isNull(ev.Data):
			rec, err := s.f.get(ctx, request(s.base, "/"+s.objectType+"/"+url.PathEscape(ev.ObjectID)+"/", nil, s.a))
			if err != nil {
				return nil, false, fmt.Errorf("fetch %s %s (the event log carried no data): %w", s.objectType, ev.ObjectID, err)
			}
			if !json.Valid(rec) {
				return nil, false, malformed(s.f.lastURL, rec, json.Unmarshal(rec, new(any)))
			}
			items = append(items, item{raw: rec})
		default:
			items = append(items, item{raw: ev.Data})
		}
	}
	done := page.CursorNext == nil || *page.CursorNext == ""
	if !done {
		s.cursor = *page.CursorNext
		if err := s.seen.check(s.cursor); err != nil {
			return nil, false, err
		}
	}
	return items, done, nil
}

func plain(raws []json.RawMessage) []item {
	items := make([]item, len(raws))
	for i, r := range raws {
		items[i] = item{raw: r}
	}
	return items
}

func isNull(r json.RawMessage) bool {
	t := bytes.TrimSpace(r)
	return len(t) == 0 || string(t) == "null"
}

func malformed(u string, body []byte, err error) error {
	return fmt.Errorf("GET %s: malformed answer (%v): %s", u, model.JSONError(body, err), excerpt(body))
}
