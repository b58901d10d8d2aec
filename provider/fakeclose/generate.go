package fakeclose

import (
	"strconv"
	"strings"
	"time"
)

// Word lists for generated records.
var (
	firstNames = []string{"Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
		"Kira", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"}
	lastNames = []string{"Smith", "Müller", "Garcia", "Rossi", "Novak", "Kowalski", "Dubois", "Jensen", "Silva",
		"Tanaka", "Okafor", "Brown", "Ivanova", "Larsen", "Moreau", "Fischer", "Costa", "Nguyen", "Walsh", "Berg"}
	companyNames = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell",
		"Cyberdyne", "Soylent", "Wonka", "Vandelay", "Gringotts", "Monarch", "Oscorp", "Massive Dynamic"}
	companySuffixes = []string{"Ltd", "GmbH", "Inc", "SA", "Group", "Labs", "Holdings", "BV"}
	titles          = []string{"CEO", "CTO", "Head of Sales", "Buyer", "Office Manager", "Engineer", "Founder"}
)

// slugger folds words to e-mail- and URL-safe ASCII.
var slugger = strings.NewReplacer(" ", "", "ü", "u", "é", "e")

// slug lower-cases a word for e-mail addresses and domains.
func slug(s string) string { return strings.ToLower(slugger.Replace(s)) }

// slugs holds the slugs of the word lists, computed once so that
// generating a record does not allocate for them.
var slugs = func() map[string]string {
	m := map[string]string{}
	for _, list := range [][]string{firstNames, lastNames, companyNames} {
		for _, w := range list {
			m[w] = slug(w)
		}
	}
	return m
}()

// Generate stores n realistic records of kind, all stamped with the clock's
// current time, and logs a "created" event for each so that Event Log
// pollers see them. It queues no webhooks (a bulk import). Contacts and
// opportunities belong to random existing leads; when there is none, one
// lead is created first. Records are encoded directly, so 100,000 take well
// under a second. It panics on an unknown kind.
func (s *Server) Generate(kind string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(kind)
	leads := s.tables[KindLead]
	if kind != KindLead && len(leads.order) == 0 && n > 0 {
		s.create(KindLead, map[string]any{"name": s.pick(companyNames) + " " + s.pick(companySuffixes)}, false)
	}
	now := stamp(s.clock.Now())
	nowNano := now.UnixNano()
	ts := formatObjectTime(now)
	meta := eventMeta("POST", requestPath(kind, "")) // shared: read-only
	requestID := s.newID("req_", 22)
	day := `"` + now.Format(time.DateOnly) + `"`
	created := []byte("{}")
	slab := make([]record, n) // one allocation for all the records
	for i := range slab {
		r := &slab[i]
		s.seq++
		r.seq = s.seq
		r.id = s.newID(idPrefixes[kind], 43)
		r.created, r.updated = nowNano, nowNano
		r.userID = s.opts.UserID
		var lead *record
		if kind != KindLead {
			lead = leads.order[s.rng.IntN(len(leads.order))]
			r.leadID = lead.id
		}
		switch kind {
		case KindLead:
			r.leadID = r.id
			r.body = s.genLead(r, ts)
		case KindContact:
			r.body = s.genContact(r, ts)
		case KindOpportunity:
			r.body = s.genOpportunity(r, lead, ts, day)
		}
		t.byID[r.id] = r
		t.order = append(t.order, r)
		s.appendEventReq(kind, "created", r, r.body, created, nil, meta, false, requestID)
	}
	t.stale()
}

// pick returns a random element of words.
func (s *Server) pick(words []string) string { return words[s.rng.IntN(len(words))] }

// obj appends a JSON object field by field, keys in alphabetical order as
// encoding/json writes the maps of Create and Update.
type obj struct{ b []byte }

func newObj(capacity int) obj { return obj{b: append(make([]byte, 0, capacity), '{')} }

func (o *obj) key(k string) {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}
func (o *obj) str(k, v string) { o.key(k); o.b = appendJSONString(o.b, v) }
func (o *obj) num(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}
func (o *obj) raw(k, v string) { o.key(k); o.b = append(o.b, v...) }
func (o *obj) done() []byte    { return append(o.b, '}') }

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hexdig = "0123456789abcdef"
	b = append(b, '"')
	// Copy the run that needs no escaping in one go; ids, names and dates,
	// i.e. nearly everything, are one such run.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexdig[c>>4], hexdig[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func (s *Server) genLead(r *record, ts string) []byte {
	name := s.pick(companyNames) + " " + s.pick(companySuffixes)
	r.name = name
	status := leadStatuses[s.rng.IntN(len(leadStatuses))]
	u := s.opts.UserID
	o := newObj(820)
	o.raw("addresses", "[]")
	o.str("created_by", u)
	o.str("created_by_name", "Fake Admin")
	o.raw("custom", "{}")
	o.str("date_created", ts)
	o.str("date_updated", ts)
	o.str("description", "")
	o.str("display_name", name)
	o.str("html_url", "https://app.close.com/lead/"+r.id+"/")
	o.str("id", r.id)
	o.str("name", name)
	o.str("organization_id", s.opts.OrganizationID)
	o.str("status_id", s.statuses.lead[status])
	o.str("status_label", status)
	o.str("updated_by", u)
	o.str("updated_by_name", "Fake Admin")
	o.str("url", "https://www."+slug(name)+".example")
	return o.done()
}

func (s *Server) genContact(r *record, ts string) []byte {
	first, last, company := s.pick(firstNames), s.pick(lastNames), s.pick(companyNames)
	name := first + " " + last
	digits := 10 + s.rng.IntN(90) // 555-0100…0199 are fictional numbers
	u := s.opts.UserID
	o := newObj(700)
	o.str("created_by", u)
	o.str("date_created", ts)
	o.str("date_updated", ts)
	o.str("display_name", name)
	o.key("emails") // the word lists need no JSON escaping
	o.b = append(o.b, `[{"email":"`...)
	o.b = append(append(append(append(append(o.b, slugs[first]...), '.'), slugs[last]...), '@'), slugs[company]...)
	o.b = append(o.b, `.example","type":"office"}]`...)
	o.str("id", r.id)
	o.str("lead_id", r.leadID)
	o.str("name", name)
	o.str("organization_id", s.opts.OrganizationID)
	o.key("phones")
	o.b = append(o.b, `[{"phone":"+155501`...)
	o.b = strconv.AppendInt(o.b, int64(digits), 10)
	o.b = append(o.b, `","phone_formatted":"+1 555-01`...)
	o.b = strconv.AppendInt(o.b, int64(digits), 10)
	o.b = append(o.b, `","type":"office"}]`...)
	o.str("title", s.pick(titles))
	o.str("updated_by", u)
	o.raw("urls", "[]")
	return o.done()
}

func (s *Server) genOpportunity(r *record, lead *record, ts, day string) []byte {
	r.statusType = "active"
	switch x := s.rng.IntN(20); {
	case x < 3:
		r.statusType = "lost"
	case x < 8:
		r.statusType = "won"
	}
	dollars := int64(500 + s.rng.IntN(200)*250)
	confidence := int64(10 * (1 + s.rng.IntN(9)))
	won, lost := "null", "null"
	switch r.statusType {
	case "won":
		won, confidence = day, 100
	case "lost":
		lost, confidence = day, 0
	}
	u := s.opts.UserID
	o := newObj(880)
	o.num("confidence", confidence)
	o.raw("contact_id", "null")
	o.str("created_by", u)
	o.str("date_created", ts)
	o.raw("date_lost", lost)
	o.str("date_updated", ts)
	o.raw("date_won", won)
	o.str("id", r.id)
	o.str("lead_id", r.leadID)
	o.str("lead_name", lead.name)
	o.str("note", "")
	o.str("organization_id", s.opts.OrganizationID)
	o.str("status_id", s.statuses.opp[r.statusType])
	o.str("status_label", oppLabels[r.statusType])
	o.str("status_type", r.statusType)
	o.str("updated_by", u)
	o.str("user_id", u)
	o.str("user_name", "Fake Admin")
	o.num("value", dollars*100) // Close values are in cents
	o.str("value_currency", "USD")
	o.key("value_formatted")
	o.b = append(append(append(o.b, `"$`...), groupThousands(dollars)...), '"')
	o.str("value_period", "one_time")
	return o.done()
}

// groupThousands renders n with comma separators, as value_formatted does.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
