package fakepipedrive

import (
	"strconv"
	"strings"
)

// Word lists for generated records: small, but enough for data to look
// like a CRM rather than "name 1, name 2".
var (
	firstNames = []string{"Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
		"Kira", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"}
	lastNames = []string{"Smith", "Müller", "Garcia", "Rossi", "Novak", "Kowalski", "Dubois", "Jensen", "Silva",
		"Tanaka", "Okafor", "Brown", "Ivanova", "Larsen", "Moreau", "Fischer", "Costa", "Nguyen", "Walsh", "Berg"}
	companyNames = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell",
		"Cyberdyne", "Soylent", "Wonka", "Vandelay", "Gringotts", "Monarch", "Oscorp", "Massive Dynamic"}
	companySuffixes = []string{"Ltd", "GmbH", "Inc", "SA", "Group", "Labs", "Holdings", "BV"}
	dealWords       = []string{"renewal", "expansion", "pilot", "licence", "support plan", "onboarding", "upgrade"}
	currencies      = []string{"EUR", "USD", "GBP"}
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

// pick returns a random element of words.
func (s *Server) pick(words []string) string { return words[s.rng.IntN(len(words))] }

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

// obj appends a JSON object field by field. Keys are written in
// alphabetical order by the callers, matching what encoding/json produces
// for the maps of Create and Update.
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
func (o *obj) ref(k string, v int64) { // 0 is null
	if v == 0 {
		o.raw(k, "null")
		return
	}
	o.num(k, v)
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

// slugs maps the words of the lists to e-mail-safe ASCII, computed once so
// that generating a record does not allocate for it.
var slugs = func() map[string]string {
	r := strings.NewReplacer(" ", "", "ü", "u", "é", "e")
	m := map[string]string{}
	for _, list := range [][]string{firstNames, lastNames, companyNames} {
		for _, w := range list {
			m[w] = strings.ToLower(r.Replace(w))
		}
	}
	return m
}()

func (s *Server) genPerson(r *record, ts string) []byte {
	first, last, company := s.pick(firstNames), s.pick(lastNames), s.pick(companyNames)
	o := newObj(420)
	o.str("add_time", ts)
	o.raw("custom_fields", "{}")
	o.key("emails") // the word lists need no JSON escaping
	o.b = append(o.b, `[{"label":"work","primary":true,"value":"`...)
	o.b = append(append(append(append(append(o.b, slugs[first]...), '.'), slugs[last]...), '@'), slugs[company]...)
	o.b = append(o.b, `.example"}]`...)
	o.str("first_name", first)
	o.num("id", r.id)
	o.raw("is_deleted", "false")
	o.raw("label_ids", "[]")
	o.str("last_name", last)
	o.key("name")
	o.b = append(append(append(append(append(o.b, '"'), first...), ' '), last...), '"')
	o.ref("org_id", r.orgID)
	o.num("owner_id", r.ownerID)
	o.key("phones") // 555-0100…0199 are fictional numbers
	o.b = append(o.b, `[{"label":"work","primary":true,"value":"+1 555 01`...)
	o.b = strconv.AppendInt(o.b, int64(10+s.rng.IntN(90)), 10)
	o.b = append(o.b, `"}]`...)
	o.raw("picture_id", "null")
	o.str("update_time", ts)
	o.num("visible_to", 3)
	return o.done()
}

func (s *Server) genOrganization(r *record, ts string) []byte {
	o := newObj(320)
	o.str("add_time", ts)
	o.key("address")
	o.b = append(o.b, `{"value":`...)
	o.b = appendJSONString(o.b, strconv.Itoa(1+s.rng.IntN(200))+" Main Street, Springfield")
	o.b = append(o.b, '}')
	o.raw("custom_fields", "{}")
	o.num("id", r.id)
	o.raw("is_deleted", "false")
	o.raw("label_ids", "[]")
	o.str("name", s.pick(companyNames)+" "+s.pick(companySuffixes))
	o.num("owner_id", r.ownerID)
	o.raw("picture_id", "null")
	o.str("update_time", ts)
	o.num("visible_to", 3)
	return o.done()
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
	o := newObj(640)
	o.str("add_time", ts)
	o.raw("archive_time", "null")
	if r.status == "open" {
		o.raw("close_time", "null")
	} else {
		o.str("close_time", ts)
	}
	o.num("creator_user_id", r.ownerID)
	o.str("currency", s.pick(currencies))
	o.raw("custom_fields", "{}")
	o.raw("expected_close_date", "null")
	o.num("id", r.id)
	o.raw("is_archived", "false")
	o.raw("is_deleted", "false")
	o.raw("label_ids", "[]")
	if r.status == "lost" {
		o.str("lost_reason", "Price")
	} else {
		o.raw("lost_reason", "null")
	}
	o.raw("lost_time", closed("lost"))
	o.ref("org_id", r.orgID)
	o.str("origin", "API")
	o.num("owner_id", r.ownerID)
	o.ref("person_id", r.personID)
	o.num("pipeline_id", r.pipelineID)
	o.raw("probability", "null")
	o.raw("stage_change_time", "null")
	o.num("stage_id", r.stageID)
	o.str("status", r.status)
	o.str("title", s.pick(companyNames)+" "+s.pick(dealWords))
	o.str("update_time", ts)
	o.num("value", int64(500+s.rng.IntN(200)*250))
	o.num("visible_to", 3)
	o.raw("won_time", closed("won"))
	return o.done()
}

func (s *Server) genLead(r *record, ts string) []byte {
	o := newObj(560)
	o.str("add_time", ts)
	o.str("cc_email", s.opts.CompanyDomain+"+lead@pipedrivemail.com")
	o.raw("channel", "null")
	o.raw("channel_id", "null")
	o.num("creator_id", r.ownerID)
	o.raw("expected_close_date", "null")
	o.str("id", r.uuid)
	o.raw("is_archived", "false")
	o.raw("label_ids", "[]")
	o.raw("next_activity_id", "null")
	o.ref("organization_id", r.orgID)
	o.str("origin", "API")
	o.raw("origin_id", "null")
	o.num("owner_id", r.ownerID)
	o.ref("person_id", r.personID)
	o.str("source_name", "API")
	o.str("title", s.pick(companyNames)+" lead")
	o.str("update_time", ts)
	o.key("value")
	o.b = append(o.b, `{"amount":`...)
	o.b = strconv.AppendInt(o.b, int64(100+s.rng.IntN(100)*100), 10)
	o.b = append(o.b, `,"currency":`...)
	o.b = appendJSONString(o.b, s.pick(currencies))
	o.b = append(o.b, '}')
	o.str("visible_to", "3")
	o.raw("was_seen", "false")
	return o.done()
}
