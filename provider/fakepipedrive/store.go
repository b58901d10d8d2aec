package fakepipedrive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Record kinds, named as Pipedrive's webhook entities are.
const (
	KindPerson       = "person"
	KindOrganization = "organization"
	KindDeal         = "deal"
	KindLead         = "lead"
)

// kinds lists every kind the fake stores.
var kinds = []string{KindPerson, KindOrganization, KindDeal, KindLead}

// ErrNotFound is returned for an unknown or deleted record.
var ErrNotFound = errors.New("fakepipedrive: record not found")

// Record is a snapshot of one stored record.
type Record struct {
	// Kind is KindPerson, KindOrganization, KindDeal or KindLead.
	Kind string
	// ID is the record id: a decimal integer, or a UUID for leads.
	ID string
	// AddTime and UpdateTime are the stamped times (whole seconds for API
	// v2 kinds, milliseconds for leads, as Pipedrive serves them).
	AddTime, UpdateTime time.Time
	// Deleted is true for a deleted person, organization or deal.
	Deleted bool
	// JSON is the record exactly as the API serves it (API v2 shape; the
	// v1 shape for leads).
	JSON json.RawMessage
}

// Fields decodes JSON into a map, for convenient assertions.
func (r Record) Fields() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.JSON, &m)
	return m
}

// record is the stored form: the served JSON, encoded once per change, and
// the few fields the API filters and sorts on, so that serving a page never
// decodes anything.
type record struct {
	id         int64  // numeric id (0 for leads)
	uuid       string // lead id
	add, upd   int64  // unix nanoseconds
	del        int64  // deletion time, unix nanoseconds
	deleted    bool
	archived   bool
	status     string
	ownerID    int64
	orgID      int64
	personID   int64
	stageID    int64
	pipelineID int64
	body       []byte // never mutated in place: readers share it unlocked
}

// key is the record's id as the API and the maps spell it.
func (r *record) key() string {
	if r.uuid != "" {
		return r.uuid
	}
	return strconv.FormatInt(r.id, 10)
}

// export snapshots r.
func (r *record) export(kind string) Record {
	return Record{
		Kind: kind, ID: r.key(),
		AddTime: time.Unix(0, r.add).UTC(), UpdateTime: time.Unix(0, r.upd).UTC(),
		Deleted: r.deleted, JSON: bytes.Clone(r.body),
	}
}

// table holds one kind of record with its indexes.
type table struct {
	kind   string
	byKey  map[string]*record
	order  []*record // creation order, i.e. ascending id; deleted ones stay
	live   int
	views  *fakevendor.SortedViews[*record] // by update_time and add_time
	nextID int64
}

func newTable(kind string) *table {
	return &table{kind: kind, byKey: make(map[string]*record), nextID: 1, views: fakevendor.NewSortedViews(sortKeys)}
}

// insert adds a new record.
func (t *table) insert(r *record) {
	t.byKey[r.key()] = r
	t.order = append(t.order, r)
	t.live++
	t.stale()
}

// stale drops the time indexes; the next list rebuilds them. Rebuilding is
// one sort, paid once after a batch of changes rather than per change.
func (t *table) stale() { t.views.Stale() }

// sortKeys are the time fields lists sort by, besides id.
var sortKeys = map[string]func(*record) int64{
	"update_time": func(r *record) int64 { return r.upd },
	"add_time":    func(r *record) int64 { return r.add },
}

// index returns the records sorted by field ("id", "update_time" or
// "add_time"), then id. order is creation order, so the stable sort keeps
// ties in id order, and lead ties (whose ids are UUIDs) in creation order.
func (t *table) index(field string) []*record { return t.views.Of(field, t.order) }

// mustTable returns the table of kind; an unknown kind is a bug in the
// calling test, so it panics with the valid kinds.
func (s *Server) mustTable(kind string) *table {
	t, ok := s.tables[kind]
	if !ok {
		panic(fmt.Sprintf("fakepipedrive: unknown kind %q (want one of %s)", kind, strings.Join(kinds, ", ")))
	}
	return t
}

// stamp rounds t to the precision Pipedrive keeps for kind.
func stamp(kind string, t time.Time) time.Time {
	if kind == KindLead {
		return t.UTC().Truncate(time.Millisecond)
	}
	return t.UTC().Truncate(time.Second)
}

// formatTime renders t as the API does for kind.
func formatTime(kind string, t time.Time) string {
	if kind == KindLead {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return t.UTC().Format(time.RFC3339)
}

// defaults returns the fields of an empty record of kind, the same key set
// the generator produces.
func (s *Server) defaults(kind string) map[string]any {
	empty := []any{}
	switch kind {
	case KindPerson:
		return map[string]any{
			"name": "", "first_name": "", "last_name": "", "owner_id": s.opts.UserID, "org_id": nil,
			"emails": empty, "phones": empty, "is_deleted": false, "visible_to": 3,
			"label_ids": empty, "picture_id": nil, "custom_fields": map[string]any{},
		}
	case KindOrganization:
		return map[string]any{
			"name": "", "owner_id": s.opts.UserID, "address": nil, "is_deleted": false, "visible_to": 3,
			"label_ids": empty, "picture_id": nil, "custom_fields": map[string]any{},
		}
	case KindDeal:
		return map[string]any{
			"title": "", "creator_user_id": s.opts.UserID, "owner_id": s.opts.UserID, "value": 0, "currency": "EUR",
			"person_id": nil, "org_id": nil, "stage_id": 1, "pipeline_id": 1, "status": "open",
			"stage_change_time": nil, "is_deleted": false, "is_archived": false, "archive_time": nil,
			"probability": nil, "lost_reason": nil, "visible_to": 3, "close_time": nil, "won_time": nil,
			"lost_time": nil, "expected_close_date": nil, "label_ids": empty, "origin": "API",
			"custom_fields": map[string]any{},
		}
	default: // KindLead
		return map[string]any{
			"title": "", "owner_id": s.opts.UserID, "creator_id": s.opts.UserID, "label_ids": empty,
			"person_id": nil, "organization_id": nil, "source_name": "API", "origin": "API", "origin_id": nil,
			"channel": nil, "channel_id": nil, "is_archived": false, "was_seen": false, "value": nil,
			"expected_close_date": nil, "next_activity_id": nil, "visible_to": "3",
			"cc_email": s.opts.CompanyDomain + "+lead@pipedrivemail.com",
		}
	}
}

// overlay copies fields into m, rendering time.Time values the way kind
// serves times. The id cannot be overridden.
func overlay(kind string, m, fields map[string]any) {
	for k, v := range fields {
		if k == "id" {
			continue
		}
		if t, ok := v.(time.Time); ok {
			v = formatTime(kind, stamp(kind, t))
		}
		m[k] = v
	}
	if kind != KindPerson {
		return
	}
	// Keep name, first_name and last_name consistent, as Pipedrive does:
	// the "Update person" webhook shows name changing with first_name.
	_, hasName := fields["name"]
	_, hasFirst := fields["first_name"]
	_, hasLast := fields["last_name"]
	switch {
	case (hasFirst || hasLast) && !hasName:
		first, _ := m["first_name"].(string)
		last, _ := m["last_name"].(string)
		m["name"] = strings.TrimSpace(first + " " + last)
	case hasName && !hasFirst && !hasLast:
		name, _ := m["name"].(string)
		first, last, _ := strings.Cut(name, " ")
		m["first_name"], m["last_name"] = first, last
	}
}

// parseTimeField reads a time field of m, or returns def.
func parseTimeField(m map[string]any, key string, def time.Time) time.Time {
	s, _ := m[key].(string)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if t, err := time.Parse(time.DateTime, s); err == nil {
		return t
	}
	return def
}

// toInt reads an integer-ish JSON value; anything else is 0.
func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// reindex refreshes the filter fields of r from its decoded form m.
func reindex(kind string, r *record, m map[string]any) {
	r.ownerID = toInt(m["owner_id"])
	r.personID = toInt(m["person_id"])
	if kind == KindLead {
		r.orgID = toInt(m["organization_id"])
		r.archived, _ = m["is_archived"].(bool)
	} else {
		r.orgID = toInt(m["org_id"])
	}
	r.stageID = toInt(m["stage_id"])
	r.pipelineID = toInt(m["pipeline_id"])
	r.status, _ = m["status"].(string)
}

// decodeBody decodes a stored body, keeping numbers exact.
func decodeBody(b []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic("fakepipedrive: stored record is not JSON: " + err.Error())
	}
	return m
}

// mustMarshal encodes m; failure means a test passed an unencodable value.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("fakepipedrive: cannot encode record: " + err.Error())
	}
	return b
}

// Create stores a new record of kind with fields over empty defaults,
// stamps add_time and update_time from the clock (unless fields give them,
// as time.Time or strings) and queues "create" webhooks. The id is assigned
// (the next integer, or a UUID for leads). It panics on an unknown kind or
// an unencodable field value, both bugs in the calling test.
func (s *Server) Create(kind string, fields map[string]any) Record {
	s.mu.Lock()
	t := s.mustTable(kind)
	now := stamp(kind, s.clock.Now())
	m := s.defaults(kind)
	r := &record{}
	if kind == KindLead {
		r.uuid = s.uuid()
		m["id"] = r.uuid
	} else {
		r.id = t.nextID
		t.nextID++
		m["id"] = r.id
	}
	m["add_time"], m["update_time"] = formatTime(kind, now), formatTime(kind, now)
	overlay(kind, m, fields)
	r.add = stamp(kind, parseTimeField(m, "add_time", now)).UnixNano()
	r.upd = stamp(kind, parseTimeField(m, "update_time", now)).UnixNano()
	r.body = mustMarshal(m)
	reindex(kind, r, m)
	t.insert(r)
	s.enqueue(kind, "create", r.key(), r.body, nil, nil)
	out := r.export(kind)
	s.mu.Unlock()
	s.kick()
	return out
}

// Update changes fields of a record, stamps update_time from the clock
// (unless fields give it) and queues "change" webhooks whose previous holds
// the old values of the fields that changed. It returns ErrNotFound for an
// unknown or deleted record.
func (s *Server) Update(kind, id string, fields map[string]any) (Record, error) {
	s.mu.Lock()
	t := s.mustTable(kind)
	r := t.byKey[id]
	if r == nil || r.deleted {
		s.mu.Unlock()
		return Record{}, ErrNotFound
	}
	now := stamp(kind, s.clock.Now())
	old := decodeBody(r.body)
	m := maps.Clone(old)
	overlay(kind, m, fields)
	if _, ok := fields["update_time"]; !ok {
		m["update_time"] = formatTime(kind, now)
	}
	prev := make(map[string]any)
	for k, v := range m {
		if k == "update_time" {
			continue
		}
		if ov, ok := old[k]; !ok || !bytes.Equal(mustMarshal(ov), mustMarshal(v)) {
			prev[k] = ov
		}
	}
	oldBody := r.body
	r.body = mustMarshal(m)
	r.upd = stamp(kind, parseTimeField(m, "update_time", now)).UnixNano()
	r.add = stamp(kind, parseTimeField(m, "add_time", time.Unix(0, r.add))).UnixNano()
	reindex(kind, r, m)
	t.stale()
	s.enqueue(kind, "change", id, r.body, mustMarshal(prev), oldBody)
	out := r.export(kind)
	s.mu.Unlock()
	s.kick()
	return out, nil
}

// Delete deletes a record and queues "delete" webhooks. Persons,
// organizations and deals are kept marked is_deleted (a deal's status
// becomes "deleted", listed only with status=deleted for 30 days); leads
// are removed. It returns ErrNotFound for an unknown or deleted record.
func (s *Server) Delete(kind, id string) error {
	s.mu.Lock()
	t := s.mustTable(kind)
	r := t.byKey[id]
	if r == nil || r.deleted {
		s.mu.Unlock()
		return ErrNotFound
	}
	now := stamp(kind, s.clock.Now())
	oldBody := r.body
	r.deleted = true
	r.del = now.UnixNano()
	t.live--
	if kind == KindLead {
		delete(t.byKey, id)
	} else {
		m := decodeBody(r.body)
		m["is_deleted"] = true
		m["update_time"] = formatTime(kind, now)
		if kind == KindDeal {
			m["status"] = "deleted"
		}
		r.body = mustMarshal(m)
		r.upd = now.UnixNano()
		reindex(kind, r, m)
	}
	t.stale()
	s.enqueue(kind, "delete", id, nil, oldBody, oldBody)
	s.mu.Unlock()
	s.kick()
	return nil
}

// Get returns a record, including a deleted person, organization or deal
// (with Deleted set).
func (s *Server) Get(kind, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustTable(kind).byKey[id]
	if r == nil {
		return Record{}, false
	}
	return r.export(kind), true
}

// IDs returns the ids of the records of kind that are not deleted, in
// creation order.
func (s *Server) IDs(kind string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(kind)
	out := make([]string, 0, t.live)
	for _, r := range t.order {
		if !r.deleted {
			out = append(out, r.key())
		}
	}
	return out
}

// Count returns how many records of kind are not deleted.
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustTable(kind).live
}
