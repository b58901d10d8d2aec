package fakeclose

import (
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// titles are contact job titles, a Close-only field; names come from
// fakevendor's shared lists.
var titles = []string{"CEO", "CTO", "Head of Sales", "Buyer", "Office Manager", "Engineer", "Founder"}

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
		s.create(KindLead, map[string]any{"name": s.pick(fakevendor.CompanyNames) + " " + s.pick(fakevendor.CompanySuffixes)}, false)
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

// pick returns a random element of words from the seeded generator.
func (s *Server) pick(words []string) string { return fakevendor.Pick(s.rng, words) }

func (s *Server) genLead(r *record, ts string) []byte {
	name := s.pick(fakevendor.CompanyNames) + " " + s.pick(fakevendor.CompanySuffixes)
	r.name = name
	status := leadStatuses[s.rng.IntN(len(leadStatuses))]
	u := s.opts.UserID
	o := fakevendor.NewObj(820)
	o.Raw("addresses", "[]")
	o.Str("created_by", u)
	o.Str("created_by_name", "Fake Admin")
	o.Raw("custom", "{}")
	o.Str("date_created", ts)
	o.Str("date_updated", ts)
	o.Str("description", "")
	o.Str("display_name", name)
	o.Str("html_url", "https://app.close.com/lead/"+r.id+"/")
	o.Str("id", r.id)
	o.Str("name", name)
	o.Str("organization_id", s.opts.OrganizationID)
	o.Str("status_id", s.statuses.lead[status])
	o.Str("status_label", status)
	o.Str("updated_by", u)
	o.Str("updated_by_name", "Fake Admin")
	o.Str("url", "https://www."+fakevendor.Slug(name)+".example")
	return o.Done()
}

func (s *Server) genContact(r *record, ts string) []byte {
	first, last, company := s.pick(fakevendor.FirstNames), s.pick(fakevendor.LastNames), s.pick(fakevendor.CompanyNames)
	name := first + " " + last
	digits := 10 + s.rng.IntN(90) // 555-0100…0199 are fictional numbers
	u := s.opts.UserID
	slugs := fakevendor.Slugs
	o := fakevendor.NewObj(700)
	o.Str("created_by", u)
	o.Str("date_created", ts)
	o.Str("date_updated", ts)
	o.Str("display_name", name)
	o.Key("emails") // the word lists need no JSON escaping
	o.B = append(o.B, `[{"email":"`...)
	o.B = append(append(append(append(append(o.B, slugs[first]...), '.'), slugs[last]...), '@'), slugs[company]...)
	o.B = append(o.B, `.example","type":"office"}]`...)
	o.Str("id", r.id)
	o.Str("lead_id", r.leadID)
	o.Str("name", name)
	o.Str("organization_id", s.opts.OrganizationID)
	o.Key("phones")
	o.B = append(o.B, `[{"phone":"+155501`...)
	o.B = strconv.AppendInt(o.B, int64(digits), 10)
	o.B = append(o.B, `","phone_formatted":"+1 555-01`...)
	o.B = strconv.AppendInt(o.B, int64(digits), 10)
	o.B = append(o.B, `","type":"office"}]`...)
	o.Str("title", s.pick(titles))
	o.Str("updated_by", u)
	o.Raw("urls", "[]")
	return o.Done()
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
	o := fakevendor.NewObj(880)
	o.Num("confidence", confidence)
	o.Raw("contact_id", "null")
	o.Str("created_by", u)
	o.Str("date_created", ts)
	o.Raw("date_lost", lost)
	o.Str("date_updated", ts)
	o.Raw("date_won", won)
	o.Str("id", r.id)
	o.Str("lead_id", r.leadID)
	o.Str("lead_name", lead.name)
	o.Str("note", "")
	o.Str("organization_id", s.opts.OrganizationID)
	o.Str("status_id", s.statuses.opp[r.statusType])
	o.Str("status_label", oppLabels[r.statusType])
	o.Str("status_type", r.statusType)
	o.Str("updated_by", u)
	o.Str("user_id", u)
	o.Str("user_name", "Fake Admin")
	o.Num("value", dollars*100) // Close values are in cents
	o.Str("value_currency", "USD")
	o.Key("value_formatted")
	o.B = append(append(append(o.B, `"$`...), groupThousands(dollars)...), '"')
	o.Str("value_period", "one_time")
	return o.Done()
}

// groupThousands renders n with comma separators, as value_formatted does.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
