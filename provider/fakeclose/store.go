package fakeclose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Record kinds, named as Close's object types.
const (
	KindLead        = "lead"
	KindContact     = "contact"
	KindOpportunity = "opportunity"
)

// kinds lists every kind the fake stores.
var kinds = []string{KindLead, KindContact, KindOpportunity}

// idPrefixes are Close's id prefixes per kind.
var idPrefixes = map[string]string{KindLead: "lead_", KindContact: "cont_", KindOpportunity: "oppo_"}

func isKind(k string) bool { _, ok := idPrefixes[k]; return ok }

// ErrNotFound is returned for an unknown or deleted record.
var ErrNotFound = errors.New("fakeclose: record not found")

// Record is a snapshot of one stored record.
type Record struct {
	// Kind is KindLead, KindContact or KindOpportunity.
	Kind string
	// ID is the record id, e.g. "oppo_…".
	ID string
	// LeadID is the lead the record belongs to (its own id for a lead).
	LeadID string
	// DateCreated and DateUpdated are the stamped times (microseconds, as
	// Close keeps them).
	DateCreated, DateUpdated time.Time
	// JSON is the record exactly as the API serves it.
	JSON json.RawMessage
}

// Fields decodes JSON into a map, for convenient assertions.
func (r Record) Fields() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.JSON, &m)
	return m
}

// record is the stored form: the served JSON, encoded once per change, and
// the fields the API filters and sorts on.
type record struct {
	seq        int64 // creation order, the tie-breaker of every sort
	id         string
	leadID     string
	statusType string
	userID     string
	name       string // a lead's display_name, for opportunities' lead_name
	created    int64  // unix nanoseconds
	updated    int64
	body       []byte // never mutated in place: readers share it unlocked
}

func (r *record) export(kind string) Record {
	return Record{
		Kind: kind, ID: r.id, LeadID: r.leadID,
		DateCreated: time.Unix(0, r.created).UTC(), DateUpdated: time.Unix(0, r.updated).UTC(),
		JSON: bytes.Clone(r.body),
	}
}

// table holds one kind of record with its indexes. Deletes are hard, as in
// Close, so the indexes hold live records only.
type table struct {
	kind  string
	byID  map[string]*record
	order []*record                        // creation order
	views *fakevendor.SortedViews[*record] // by date_updated and date_created
}

func newTable(kind string) *table {
	return &table{kind: kind, byID: make(map[string]*record), views: fakevendor.NewSortedViews(sortKeys)}
}

func (t *table) insert(r *record) {
	t.byID[r.id] = r
	t.order = append(t.order, r)
	t.stale()
}

func (t *table) remove(r *record) {
	delete(t.byID, r.id)
	if i := slices.Index(t.order, r); i >= 0 {
		t.order = slices.Delete(t.order, i, i+1)
	}
	t.stale()
}

// stale drops the time indexes; the next list that needs one rebuilds it,
// once per batch of changes rather than per change.
func (t *table) stale() { t.views.Stale() }

// sortKeys are the date fields lists sort by.
var sortKeys = map[string]func(*record) int64{
	"date_updated": func(r *record) int64 { return r.updated },
	"date_created": func(r *record) int64 { return r.created },
}

// index returns the records sorted by "date_updated", "date_created" or,
// for anything else, creation order; ties stay in creation order (seq).
func (t *table) index(field string) []*record { return t.views.Of(field, t.order) }

// mustTable returns the table of kind; an unknown kind is a bug in the
// calling test, so it panics.
func (s *Server) mustTable(kind string) *table {
	t, ok := s.tables[kind]
	if !ok {
		panic(fmt.Sprintf("fakeclose: unknown kind %q (want one of %s)", kind, strings.Join(kinds, ", ")))
	}
	return t
}

// Close time formats: objects carry an offset, Event Log dates do not.
const (
	objectTimeLayout = "2006-01-02T15:04:05.000000+00:00"
	eventTimeLayout  = "2006-01-02T15:04:05.000000"
)

// stamp rounds t to Close's microsecond precision.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// formatObjectTime renders an object date like 2019-01-15T12:41:24.496000+00:00.
func formatObjectTime(t time.Time) string { return t.UTC().Format(objectTimeLayout) }

// parseCloseTime parses the date forms Close accepts in filters and emits:
// with or without offset and fraction, or a bare date. A naive time is UTC.
// A "+" that arrived unescaped in a query string reads as a space; it is
// put back.
func parseCloseTime(v string) (time.Time, bool) {
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "+")
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// statusIDs are the fixed lead and opportunity statuses of the fake
// organization.
type statusIDs struct {
	lead map[string]string // label → id
	opp  map[string]string // status_type → id
}

// leadStatuses and oppLabels are Close's default statuses.
var (
	leadStatuses = []string{"Potential", "Bad Fit", "Qualified", "Customer"}
	oppLabels    = map[string]string{"active": "Active", "won": "Won", "lost": "Lost"}
)

func (s *Server) newStatusIDs() statusIDs {
	st := statusIDs{lead: map[string]string{}, opp: map[string]string{}}
	for _, l := range leadStatuses {
		st.lead[l] = s.newID("stat_", 43)
	}
	for _, t := range []string{"active", "won", "lost"} {
		st.opp[t] = s.newID("stat_", 43)
	}
	return st
}

// base62 is the alphabet of Close's ids.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix + n random base62 characters, like
// "oppo_8H4sjNso7FyBFaeR3RXi5PMJbilfo0c6UPCxsJtEhCO" (43) or
// "ev_2sYKRjcrA79yKxi3S4Crd7" (22). Called with s.mu held (or from New).
func (s *Server) newID(prefix string, n int) string {
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	for n > 0 {
		x := s.rng.Uint64()
		for i := 0; i < 10 && n > 0; i++ { // 10 digits of base 62 fit in 60 bits
			b = append(b, base62[x%62])
			x /= 62
			n--
		}
	}
	return string(b)
}

// defaults returns the fields of an empty record of kind, the same key set
// the generator produces.
func (s *Server) defaults(kind string) map[string]any {
	u, org := s.opts.UserID, s.opts.OrganizationID
	switch kind {
	case KindLead:
		return map[string]any{
			"name": "", "display_name": "", "description": "", "url": nil, "status_id": s.statuses.lead["Potential"],
			"status_label": "Potential", "organization_id": org, "created_by": u, "updated_by": u,
			"created_by_name": "Fake Admin", "updated_by_name": "Fake Admin", "addresses": []any{}, "custom": map[string]any{},
			"html_url": "",
		}
	case KindContact:
		return map[string]any{
			"lead_id": nil, "name": "", "display_name": "", "title": "", "emails": []any{}, "phones": []any{}, "urls": []any{},
			"organization_id": org, "created_by": u, "updated_by": u,
		}
	default: // KindOpportunity
		return map[string]any{
			"lead_id": nil, "lead_name": "", "contact_id": nil, "status_id": s.statuses.opp["active"], "status_label": "Active",
			"status_type": "active", "confidence": 50, "value": 0, "value_currency": "USD", "value_period": "one_time",
			"value_formatted": "$0", "note": "", "user_id": u, "user_name": "Fake Admin", "organization_id": org,
			"created_by": u, "updated_by": u, "date_won": nil, "date_lost": nil,
		}
	}
}

// overlay copies fields into m, rendering time.Time values as Close object
// dates and keeping derived fields (display_name, status label and id)
// consistent. The id cannot be overridden.
func (s *Server) overlay(kind string, m, fields map[string]any) {
	for k, v := range fields {
		if k == "id" {
			continue
		}
		if t, ok := v.(time.Time); ok {
			v = formatObjectTime(stamp(t))
		}
		m[k] = v
	}
	if _, ok := fields["name"]; ok {
		if _, ok := fields["display_name"]; !ok && kind != KindOpportunity {
			m["display_name"] = m["name"]
		}
	}
	if kind == KindOpportunity {
		if _, ok := fields["value"]; ok {
			if _, given := fields["value_formatted"]; !given {
				cents := toInt(m["value"])
				m["value_formatted"] = "$" + groupThousands(cents/100)
			}
		}
		if st, ok := fields["status_type"].(string); ok {
			if _, given := fields["status_label"]; !given && oppLabels[st] != "" {
				m["status_label"], m["status_id"] = oppLabels[st], s.statuses.opp[st]
			}
		}
	}
}

// toInt reads an integer-ish JSON value; anything else is 0.
func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

// parseTimeField reads an object date of m, or returns def.
func parseTimeField(m map[string]any, key string, def time.Time) time.Time {
	if v, ok := m[key].(string); ok {
		if t, ok := parseCloseTime(v); ok {
			return t
		}
	}
	return def
}

// reindex refreshes the filter fields of r from its decoded form.
func reindex(kind string, r *record, m map[string]any) {
	if kind == KindLead {
		r.leadID = r.id
		r.name, _ = m["display_name"].(string)
	} else {
		r.leadID, _ = m["lead_id"].(string)
	}
	r.statusType, _ = m["status_type"].(string)
	r.userID, _ = m["user_id"].(string)
}

// decodeBody decodes a stored body, keeping numbers exact.
func decodeBody(b []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic("fakeclose: stored record is not JSON: " + err.Error())
	}
	return m
}

// mustMarshal encodes v; failure means a test passed an unencodable value.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("fakeclose: cannot encode: " + err.Error())
	}
	return b
}

// requestPath is the API path a mutation of kind would have used, for
// event meta.
func requestPath(kind, id string) string {
	if id == "" {
		return "/api/v1/" + kind + "/"
	}
	return "/api/v1/" + kind + "/" + id + "/"
}

// eventMeta is the meta of an event caused by an API request.
func eventMeta(method, path string) map[string]any {
	return map[string]any{"request_method": method, "request_path": path}
}

// Create stores a new record of kind with fields over empty defaults,
// stamps date_created and date_updated from the clock (unless fields give
// them, as time.Time or strings), appends a "created" event to the Event
// Log and queues webhooks. A contact or opportunity whose lead_id is
// missing or unknown gets a new lead, as Close creates one for a contact
// posted without a lead (that lead has its own event). It panics on an
// unknown kind or an unencodable value, both bugs in the calling test.
func (s *Server) Create(kind string, fields map[string]any) Record {
	s.mu.Lock()
	out := s.create(kind, fields, true)
	s.mu.Unlock()
	s.kick()
	return out
}

// create is Create with s.mu held; notify false skips webhooks.
func (s *Server) create(kind string, fields map[string]any, notify bool) Record {
	t := s.mustTable(kind)
	now := stamp(s.clock.Now())
	m := s.defaults(kind)
	r := &record{id: s.newID(idPrefixes[kind], 43)}
	s.seq++
	r.seq = s.seq
	m["id"] = r.id
	if kind == KindLead {
		m["html_url"] = "https://app.close.com/lead/" + r.id + "/"
	}
	m["date_created"], m["date_updated"] = formatObjectTime(now), formatObjectTime(now)
	s.overlay(kind, m, fields)
	if kind != KindLead {
		leadID, _ := m["lead_id"].(string)
		lead := s.tables[KindLead].byID[leadID]
		if lead == nil {
			nl := s.create(KindLead, map[string]any{"name": "Lead for " + kind}, notify)
			leadID, lead = nl.ID, s.tables[KindLead].byID[nl.ID]
			m["lead_id"] = leadID
		}
		if kind == KindOpportunity {
			if _, given := fields["lead_name"]; !given {
				m["lead_name"] = lead.name
			}
		}
	}
	r.created = stamp(parseTimeField(m, "date_created", now)).UnixNano()
	r.updated = stamp(parseTimeField(m, "date_updated", now)).UnixNano()
	r.body = mustMarshal(m)
	reindex(kind, r, m)
	t.insert(r)
	s.appendEvent(kind, "created", r, r.body, []byte("{}"), nil, eventMeta("POST", requestPath(kind, "")), notify)
	return r.export(kind)
}

// Update changes fields of a record, stamps date_updated from the clock
// (unless fields give it), and appends an "updated" event whose
// changed_fields and previous_data name the fields that changed, including
// date_updated, as in Close's example. It returns ErrNotFound for an
// unknown or deleted record.
func (s *Server) Update(kind, id string, fields map[string]any) (Record, error) {
	s.mu.Lock()
	t := s.mustTable(kind)
	r := t.byID[id]
	if r == nil {
		s.mu.Unlock()
		return Record{}, ErrNotFound
	}
	now := stamp(s.clock.Now())
	old := decodeBody(r.body)
	m := maps.Clone(old)
	s.overlay(kind, m, fields)
	if _, ok := fields["date_updated"]; !ok {
		m["date_updated"] = formatObjectTime(now)
	}
	prev := make(map[string]any)
	var changed []string
	for k, v := range m {
		if ov, ok := old[k]; !ok || !bytes.Equal(mustMarshal(ov), mustMarshal(v)) {
			prev[k] = ov
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	r.body = mustMarshal(m)
	r.updated = stamp(parseTimeField(m, "date_updated", now)).UnixNano()
	r.created = stamp(parseTimeField(m, "date_created", time.Unix(0, r.created))).UnixNano()
	reindex(kind, r, m)
	t.stale()
	s.appendEvent(kind, "updated", r, r.body, mustMarshal(prev), changed, eventMeta("PUT", requestPath(kind, id)), true)
	out := r.export(kind)
	s.mu.Unlock()
	s.kick()
	return out, nil
}

// Delete removes a record and appends a "deleted" event (data null,
// previous_data the whole object). Deleting a lead does not cascade to its
// contacts and opportunities. It returns ErrNotFound for an unknown record.
func (s *Server) Delete(kind, id string) error {
	s.mu.Lock()
	t := s.mustTable(kind)
	r := t.byID[id]
	if r == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	t.remove(r)
	s.appendEvent(kind, "deleted", r, nil, r.body, nil, eventMeta("DELETE", requestPath(kind, id)), true)
	s.mu.Unlock()
	s.kick()
	return nil
}

// Get returns a record that exists.
func (s *Server) Get(kind, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustTable(kind).byID[id]
	if r == nil {
		return Record{}, false
	}
	return r.export(kind), true
}

// IDs returns the ids of the records of kind, in creation order.
func (s *Server) IDs(kind string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(kind)
	out := make([]string, len(t.order))
	for i, r := range t.order {
		out[i] = r.id
	}
	return out
}

// Count returns how many records of kind exist.
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mustTable(kind).order)
}
