package fakepipedrive

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// cursorJSON is the decoded API v2 cursor. Pipedrive's spec example decodes
// to {"field":"id","fieldValue":7,"sortDirection":"asc","id":7}; the fake
// uses the same shape, so the cursor is a keyset position: the sort field's
// value and the id of the last record served.
type cursorJSON struct {
	Field         string          `json:"field"`
	FieldValue    json.RawMessage `json:"fieldValue"`
	SortDirection string          `json:"sortDirection"`
	ID            int64           `json:"id"`
}

// listQuery is a parsed API v2 list request.
type listQuery struct {
	field      string // id | update_time | add_time
	desc       bool
	since      int64 // inclusive, unix nanos; 0 = none
	until      int64 // exclusive, unix nanos; 0 = none
	limit      int
	hasCursor  bool
	curKey     int64
	curID      int64
	ownerID    int64
	ids        map[int64]bool
	statuses   map[string]bool // deals; nil = open, won, lost
	personID   int64
	orgID      int64
	pipelineID int64
	stageID    int64
	now        int64
}

// sortKey is r's value of the sort field.
func sortKey(r *record, field string) int64 {
	switch field {
	case "update_time":
		return r.upd
	case "add_time":
		return r.add
	}
	return r.id
}

// after reports whether r sorts strictly after the position (k, id).
func after(r *record, field string, k, id int64) bool {
	rk := sortKey(r, field)
	return rk > k || (rk == k && r.id > id)
}

// match applies every filter except the keyset position.
func (q *listQuery) match(kind string, r *record) bool {
	if kind == KindDeal {
		st := r.status
		if r.deleted {
			st = "deleted"
		}
		if q.statuses == nil {
			if st == "deleted" {
				return false
			}
		} else if !q.statuses[st] {
			return false
		}
		// "deals that have been deleted up to 30 days ago will be included"
		if st == "deleted" && q.now-r.del > int64(30*24*time.Hour) {
			return false
		}
	} else if r.deleted {
		return false
	}
	if q.since != 0 && r.upd < q.since {
		return false
	}
	if q.until != 0 && r.upd >= q.until {
		return false
	}
	if q.ownerID != 0 && r.ownerID != q.ownerID {
		return false
	}
	if q.ids != nil && !q.ids[r.id] {
		return false
	}
	if q.personID != 0 && r.personID != q.personID {
		return false
	}
	if q.orgID != 0 && r.orgID != q.orgID {
		return false
	}
	if q.pipelineID != 0 && r.pipelineID != q.pipelineID {
		return false
	}
	if q.stageID != 0 && r.stageID != q.stageID {
		return false
	}
	return true
}

// list returns one page and whether more records match. It binary-searches
// the sorted index for the keyset position (and the update_time range when
// sorting by it), so a page costs O(log n + page) when filters match most
// records.
func (t *table) list(q *listQuery) (page []*record, more bool) {
	idx := t.index(q.field)
	lo, hi := 0, len(idx)
	if q.field == "update_time" {
		if q.since != 0 {
			lo = sort.Search(len(idx), func(i int) bool { return idx[i].upd >= q.since })
		}
		if q.until != 0 {
			hi = sort.Search(len(idx), func(i int) bool { return idx[i].upd >= q.until })
		}
	}
	if q.hasCursor {
		if q.desc {
			// Keep records strictly before the position: cut at the first
			// one at or after it, i.e. after (key, id-1).
			e := sort.Search(len(idx), func(i int) bool { return after(idx[i], q.field, q.curKey, q.curID-1) })
			hi = min(hi, e)
		} else {
			p := sort.Search(len(idx), func(i int) bool { return after(idx[i], q.field, q.curKey, q.curID) })
			lo = max(lo, p)
		}
	}
	page = make([]*record, 0, min(q.limit, max(hi-lo, 0)))
	step := func(r *record) bool { // false stops the walk
		if !q.match(t.kind, r) {
			return true
		}
		if len(page) == q.limit {
			more = true
			return false
		}
		page = append(page, r)
		return true
	}
	if q.desc {
		for i := hi - 1; i >= lo && step(idx[i]); i-- {
		}
	} else {
		for i := lo; i < hi && step(idx[i]); i++ {
		}
	}
	return page, more
}

// badRequest answers a 400 in Pipedrive's error envelope.
func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, errBody(msg, http.StatusBadRequest))
}

// parseV2Time parses an API v2 date-time filter. Whole seconds only: a
// fractional value is refused with 400, as the real API is reported to do.
func parseV2Time(name, v string) (int64, string) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0, name + ": invalid date-time, expected RFC 3339 like 2025-01-01T10:20:00Z"
	}
	if strings.Contains(v, ".") {
		return 0, name + ": fractional seconds are not supported, use e.g. 2025-01-01T10:20:00Z"
	}
	return t.UnixNano(), ""
}

// parsePositive parses an optional positive integer parameter.
func parsePositive(v string) (int64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// decodeCursor decodes an API v2 cursor, accepting either base64 alphabet
// with or without padding.
func decodeCursor(s string) (cursorJSON, bool) {
	var c cursorJSON
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if json.Unmarshal(b, &c) != nil {
			return c, false
		}
		ok := (c.Field == "id" || c.Field == "update_time" || c.Field == "add_time") &&
			(c.SortDirection == "asc" || c.SortDirection == "desc") && c.ID > 0
		return c, ok
	}
	return c, false
}

// encodeCursor encodes the keyset position after r.
func encodeCursor(r *record, field string, desc bool) string {
	c := cursorJSON{Field: field, SortDirection: "asc", ID: r.id}
	if desc {
		c.SortDirection = "desc"
	}
	if field == "id" {
		c.FieldValue = strconv.AppendInt(nil, r.id, 10)
	} else {
		c.FieldValue = fakevendor.AppendJSONString(nil, time.Unix(0, sortKey(r, field)).UTC().Format(time.RFC3339))
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleV2List serves GET /api/v2/persons|organizations|deals.
func (s *Server) handleV2List(w http.ResponseWriter, r *request, kind string) {
	qv := r.URL.Query()
	q := &listQuery{field: "id", limit: 100, now: r.now.UnixNano()}
	if v := qv.Get("sort_by"); v != "" {
		if v != "id" && v != "update_time" && v != "add_time" {
			badRequest(w, "sort_by: must be one of id, update_time, add_time")
			return
		}
		q.field = v
	}
	switch v := qv.Get("sort_direction"); v {
	case "", "asc":
	case "desc":
		q.desc = true
	default:
		badRequest(w, "sort_direction: must be one of asc, desc")
		return
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.opts.PageLimitMax {
			badRequest(w, "limit: must be an integer from 1 to "+strconv.Itoa(s.opts.PageLimitMax))
			return
		}
		q.limit = n
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"updated_since", &q.since}, {"updated_until", &q.until}} {
		if v := qv.Get(p.name); v != "" {
			n, msg := parseV2Time(p.name, v)
			if msg != "" {
				badRequest(w, msg)
				return
			}
			*p.dst = n
		}
	}
	rawCursor := qv.Get("cursor")
	if rawCursor != "" {
		c, ok := decodeCursor(rawCursor)
		if !ok {
			badRequest(w, "cursor: invalid cursor")
			return
		}
		// The cursor carries its sort; it wins over the sort parameters so
		// that a client that repeats or drops them still pages correctly.
		q.field, q.desc, q.hasCursor, q.curID = c.Field, c.SortDirection == "desc", true, c.ID
		if c.Field == "id" {
			q.curKey = c.ID
		} else {
			var ts string
			t, err := time.Time{}, json.Unmarshal(c.FieldValue, &ts)
			if err == nil {
				t, err = time.Parse(time.RFC3339, ts)
			}
			if err != nil {
				badRequest(w, "cursor: invalid cursor")
				return
			}
			q.curKey = t.UnixNano()
		}
	}
	ints := []struct {
		name string
		dst  *int64
		only string
	}{{"owner_id", &q.ownerID, ""}, {"person_id", &q.personID, KindDeal}, {"org_id", &q.orgID, KindDeal},
		{"pipeline_id", &q.pipelineID, KindDeal}, {"stage_id", &q.stageID, KindDeal}}
	for _, p := range ints {
		if v := qv.Get(p.name); v != "" && (p.only == "" || p.only == kind) {
			n, ok := parsePositive(v)
			if !ok {
				badRequest(w, p.name+": must be a positive integer")
				return
			}
			*p.dst = n
		}
	}
	if v := qv.Get("ids"); v != "" {
		q.ids = make(map[int64]bool)
		for part := range strings.SplitSeq(v, ",") {
			n, ok := parsePositive(strings.TrimSpace(part))
			if !ok {
				badRequest(w, "ids: must be comma-separated positive integers")
				return
			}
			q.ids[n] = true
		}
		if len(q.ids) > 100 {
			badRequest(w, "ids: at most 100 ids")
			return
		}
	}
	if v := qv.Get("status"); v != "" && kind == KindDeal {
		q.statuses = make(map[string]bool)
		for part := range strings.SplitSeq(v, ",") {
			switch part {
			case "open", "won", "lost", "deleted":
				q.statuses[part] = true
			default:
				badRequest(w, "status: must be one or more of open, won, lost, deleted")
				return
			}
		}
	}

	s.mu.Lock()
	page, more := s.tables[kind].list(q)
	bodies := make([][]byte, len(page))
	for i, rec := range page {
		bodies[i] = rec.body
	}
	next := ""
	if more {
		next = encodeCursor(page[len(page)-1], q.field, q.desc)
	}
	s.mu.Unlock()
	if r.repeatCursor && rawCursor != "" {
		next = rawCursor
	}

	// Written piecewise from the stored bodies: no decoding, no per-record
	// allocation, and nothing proportional to the whole store.
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"success":true,"data":[`))
	for i, b := range bodies {
		if i > 0 {
			_, _ = w.Write(comma)
		}
		_, _ = w.Write(b)
	}
	tail := []byte(`],"additional_data":{"next_cursor":`)
	if next == "" {
		tail = append(tail, "null"...)
	} else {
		tail = fakevendor.AppendJSONString(tail, next)
	}
	_, _ = w.Write(append(tail, "}}"...))
}

// handleLeads serves GET /v1/leads: not archived leads in creation order,
// paged with start/limit.
func (s *Server) handleLeads(w http.ResponseWriter, r *request) {
	qv := r.URL.Query()
	start, limit := 0, 100
	if v := qv.Get("start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, "start: must be a non-negative integer")
			return
		}
		start = n
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			badRequest(w, "limit: must be a positive integer")
			return
		}
		// v1 caps rather than refuses (Pipedrive's v1 pagination page).
		limit = min(n, s.opts.PageLimitMax)
	}
	var since int64
	if v := qv.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			badRequest(w, "updated_since: invalid date-time, expected ISO 8601 like 2025-01-01T10:20:00Z")
			return
		}
		since = t.UnixNano()
	}
	var ownerID, personID, orgID int64
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"owner_id", &ownerID}, {"person_id", &personID}, {"organization_id", &orgID}} {
		if v := qv.Get(p.name); v != "" {
			n, ok := parsePositive(v)
			if !ok {
				badRequest(w, p.name+": must be a positive integer")
				return
			}
			*p.dst = n
		}
	}

	s.mu.Lock()
	t := s.tables[KindLead]
	bodies := make([][]byte, 0, min(limit, t.live))
	more, skipped := false, 0
	for _, rec := range t.order {
		if rec.deleted || rec.archived || rec.upd < since ||
			(ownerID != 0 && rec.ownerID != ownerID) || (personID != 0 && rec.personID != personID) ||
			(orgID != 0 && rec.orgID != orgID) {
			continue
		}
		if skipped < start {
			skipped++
			continue
		}
		if len(bodies) == limit {
			more = true
			break
		}
		bodies = append(bodies, rec.body)
	}
	s.mu.Unlock()
	nextStart := start + len(bodies)
	if r.repeatCursor {
		more, nextStart = true, start
	}

	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"success":true,"data":[`))
	for i, b := range bodies {
		if i > 0 {
			_, _ = w.Write(comma)
		}
		_, _ = w.Write(b)
	}
	tail := []byte(`],"additional_data":{"pagination":{"start":`)
	tail = strconv.AppendInt(tail, int64(start), 10)
	tail = append(tail, `,"limit":`...)
	tail = strconv.AppendInt(tail, int64(limit), 10)
	tail = append(tail, `,"more_items_in_collection":`...)
	tail = strconv.AppendBool(tail, more)
	if more {
		tail = append(tail, `,"next_start":`...)
		tail = strconv.AppendInt(tail, int64(nextStart), 10)
	}
	_, _ = w.Write(append(tail, "}}}"...))
}

// handleGetOne serves one record: GET /api/v2/{collection}/{id} and
// GET /v1/leads/{id}. Deleted persons and organizations are 404; a deleted
// deal is still served, with status "deleted".
func (s *Server) handleGetOne(w http.ResponseWriter, kind, id string) {
	s.mu.Lock()
	rec := s.tables[kind].byKey[id]
	var body []byte
	if rec != nil && (!rec.deleted || kind == KindDeal) {
		body = rec.body
	}
	s.mu.Unlock()
	if body == nil {
		name := strings.ToUpper(kind[:1]) + kind[1:]
		writeJSON(w, http.StatusNotFound, errBody(name+" not found", http.StatusNotFound))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"success":true,"data":`))
	_, _ = w.Write(body)
	_, _ = w.Write([]byte(`}`))
}

// comma separates records in a page; a shared slice, because a []byte
// literal passed to Write escapes and would allocate once per record.
var comma = []byte{','}
