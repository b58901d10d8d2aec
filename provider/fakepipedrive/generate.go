package fakepipedrive

import (
	"strconv"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Pipedrive-only word lists; names come from fakevendor's shared lists.
var (
	dealWords  = []string{"renewal", "expansion", "pilot", "licence", "support plan", "onboarding", "upgrade"}
	currencies = []string{"EUR", "USD", "GBP"}
)

// Generate stores n realistic records of kind, all stamped with the clock's
// current time, as a bulk import would. Deals and leads point at existing
// persons and organizations when there are some. It queues no webhooks
// (Pipedrive does not send them for imports either) and encodes records
// directly, so 100,000 records take well under a second. It panics on an
// unknown kind.
func (s *Server) Generate(kind string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(kind)
	now := stamp(kind, s.clock.Now())
	nowNano := now.UnixNano()
	ts := formatTime(kind, now)
	persons := s.tables[KindPerson].nextID - 1
	orgs := s.tables[KindOrganization].nextID - 1
	slab := make([]record, n) // one allocation for all the records
	for i := range slab {
		r := &slab[i]
		r.add, r.upd = nowNano, nowNano
		r.ownerID = s.opts.UserID
		switch kind {
		case KindLead:
			r.uuid = s.uuid()
		default:
			r.id = t.nextID
			t.nextID++
		}
		var b []byte
		switch kind {
		case KindPerson:
			r.orgID = s.ref(orgs)
			b = s.genPerson(r, ts)
		case KindOrganization:
			b = s.genOrganization(r, ts)
		case KindDeal:
			r.orgID, r.personID = s.ref(orgs), s.ref(persons)
			b = s.genDeal(r, ts)
		case KindLead:
			r.orgID, r.personID = s.ref(orgs), s.ref(persons)
			b = s.genLead(r, ts)
		}
		r.body = b
		t.byKey[r.key()] = r
		t.order = append(t.order, r)
	}
	t.live += n
	t.stale()
}

// ref picks an id in 1..n, or 0 (null) when there is nothing to point at.
func (s *Server) ref(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return 1 + s.rng.Int64N(n)
}

// pick returns a random element of words from the seeded generator.
func (s *Server) pick(words []string) string { return fakevendor.Pick(s.rng, words) }

// uuid returns a random (version 4) UUID from the seeded generator, so that
// runs with the same seed produce the same ids.
func (s *Server) uuid() string {
	var b [16]byte
	hi, lo := s.rng.Uint64(), s.rng.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	return formatUUID(b)
}

// formatUUID sets the version-4 and variant bits and renders b.
func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdig = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdig[c>>4], hexdig[c&0xf])
	}
	return string(out)
}

func (s *Server) genPerson(r *record, ts string) []byte {
	first, last, company := s.pick(fakevendor.FirstNames), s.pick(fakevendor.LastNames), s.pick(fakevendor.CompanyNames)
	slugs := fakevendor.Slugs
	o := fakevendor.NewObj(420)
	o.Str("add_time", ts)
	o.Raw("custom_fields", "{}")
	o.Key("emails") // the word lists need no JSON escaping
	o.B = append(o.B, `[{"label":"work","primary":true,"value":"`...)
	o.B = append(append(append(append(append(o.B, slugs[first]...), '.'), slugs[last]...), '@'), slugs[company]...)
	o.B = append(o.B, `.example"}]`...)
	o.Str("first_name", first)
	o.Num("id", r.id)
	o.Raw("is_deleted", "false")
	o.Raw("label_ids", "[]")
	o.Str("last_name", last)
	o.Key("name")
	o.B = append(append(append(append(append(o.B, '"'), first...), ' '), last...), '"')
	o.Ref("org_id", r.orgID)
	o.Num("owner_id", r.ownerID)
	o.Key("phones") // 555-0100…0199 are fictional numbers
	o.B = append(o.B, `[{"label":"work","primary":true,"value":"+1 555 01`...)
	o.B = strconv.AppendInt(o.B, int64(10+s.rng.IntN(90)), 10)
	o.B = append(o.B, `"}]`...)
	o.Raw("picture_id", "null")
	o.Str("update_time", ts)
	o.Num("visible_to", 3)
	return o.Done()
}

func (s *Server) genOrganization(r *record, ts string) []byte {
	o := fakevendor.NewObj(320)
	o.Str("add_time", ts)
	o.Key("address")
	o.B = append(o.B, `{"value":`...)
	o.B = fakevendor.AppendJSONString(o.B, strconv.Itoa(1+s.rng.IntN(200))+" Main Street, Springfield")
	o.B = append(o.B, '}')
	o.Raw("custom_fields", "{}")
	o.Num("id", r.id)
	o.Raw("is_deleted", "false")
	o.Raw("label_ids", "[]")
	o.Str("name", s.pick(fakevendor.CompanyNames)+" "+s.pick(fakevendor.CompanySuffixes))
	o.Num("owner_id", r.ownerID)
	o.Raw("picture_id", "null")
	o.Str("update_time", ts)
	o.Num("visible_to", 3)
	return o.Done()
}

func (s *Server) genDeal(r *record, ts string) []byte {
	r.stageID, r.pipelineID = 1+s.rng.Int64N(5), 1
	r.status = "open"
	switch x := s.rng.IntN(10); {
	case x == 0:
		r.status = "lost"
	case x <= 2:
		r.status = "won"
	}
	closed := func(status string) string {
		if r.status == status {
			return `"` + ts + `"`
		}
		return "null"
	}
	o := fakevendor.NewObj(640)
	o.Str("add_time", ts)
	o.Raw("archive_time", "null")
	if r.status == "open" {
		o.Raw("close_time", "null")
	} else {
		o.Str("close_time", ts)
	}
	o.Num("creator_user_id", r.ownerID)
	o.Str("currency", s.pick(currencies))
	o.Raw("custom_fields", "{}")
	o.Raw("expected_close_date", "null")
	o.Num("id", r.id)
	o.Raw("is_archived", "false")
	o.Raw("is_deleted", "false")
	o.Raw("label_ids", "[]")
	if r.status == "lost" {
		o.Str("lost_reason", "Price")
	} else {
		o.Raw("lost_reason", "null")
	}
	o.Raw("lost_time", closed("lost"))
	o.Ref("org_id", r.orgID)
	o.Str("origin", "API")
	o.Num("owner_id", r.ownerID)
	o.Ref("person_id", r.personID)
	o.Num("pipeline_id", r.pipelineID)
	o.Raw("probability", "null")
	o.Raw("stage_change_time", "null")
	o.Num("stage_id", r.stageID)
	o.Str("status", r.status)
	o.Str("title", s.pick(fakevendor.CompanyNames)+" "+s.pick(dealWords))
	o.Str("update_time", ts)
	o.Num("value", int64(500+s.rng.IntN(200)*250))
	o.Num("visible_to", 3)
	o.Raw("won_time", closed("won"))
	return o.Done()
}

func (s *Server) genLead(r *record, ts string) []byte {
	o := fakevendor.NewObj(560)
	o.Str("add_time", ts)
	o.Str("cc_email", s.opts.CompanyDomain+"+lead@pipedrivemail.com")
	o.Raw("channel", "null")
	o.Raw("channel_id", "null")
	o.Num("creator_id", r.ownerID)
	o.Raw("expected_close_date", "null")
	o.Str("id", r.uuid)
	o.Raw("is_archived", "false")
	o.Raw("label_ids", "[]")
	o.Raw("next_activity_id", "null")
	o.Ref("organization_id", r.orgID)
	o.Str("origin", "API")
	o.Raw("origin_id", "null")
	o.Num("owner_id", r.ownerID)
	o.Ref("person_id", r.personID)
	o.Str("source_name", "API")
	o.Str("title", s.pick(fakevendor.CompanyNames)+" lead")
	o.Str("update_time", ts)
	o.Key("value")
	o.B = append(o.B, `{"amount":`...)
	o.B = strconv.AppendInt(o.B, int64(100+s.rng.IntN(100)*100), 10)
	o.B = append(o.B, `,"currency":`...)
	o.B = fakevendor.AppendJSONString(o.B, s.pick(currencies))
	o.B = append(o.B, '}')
	o.Str("visible_to", "3")
	o.Raw("was_seen", "false")
	return o.Done()
}
