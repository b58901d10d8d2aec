package ui

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
)

// feedQuery is a parsed "/" filter of the event feed. Words of the form
// key:value narrow in the store (instance, type, event, source, payload);
// other words must all occur in the row's text.
type feedQuery struct {
	store model.EventFilter
	terms string
	// notification, when set, keeps the events of that notification.
	notification string
	// byID says id: named the vendor object id: like raw:, it searches
	// every stored event rather than the newest.
	byID bool
}

// parseFeedQuery reads "i:3 type:contacts created 1468". instID, when
// not 0, is the feed's fixed instance; now anchors since:2h. A value in
// double quotes may hold spaces (raw:"Barbara Jones").
func parseFeedQuery(q string, instID int64, now time.Time) feedQuery {
	fq := feedQuery{store: model.EventFilter{InstanceID: instID}}
	var terms []string
	for _, w := range queryWords(q) {
		k, v, ok := strings.Cut(w, ":")
		if ok && v != "" {
			switch strings.ToLower(k) {
			case "i", "instance":
				if n, err := strconv.ParseInt(strings.TrimPrefix(v, "#"), 10, 64); err == nil && instID == 0 {
					fq.store.InstanceID = n
					continue
				}
			case "t", "type", "object", "objecttype":
				fq.store.ObjectType = v
				continue
			case "oid", "objectid":
				fq.store.ObjectID = v
				continue
			case "id":
				fq.store.ObjectID, fq.byID = v, true
				continue
			case "raw":
				fq.store.Raw = v
				continue
			case "n", "notification":
				fq.notification = strings.TrimPrefix(v, "#")
				continue
			case "since", "until":
				if t, ok := parseWhen(v, now); ok {
					if strings.ToLower(k) == "since" {
						fq.store.Since = t
					} else {
						fq.store.Until = t
					}
					continue
				}
			case "e", "event", "eventtype":
				fq.store.EventType = model.EventType(strings.ToUpper(v))
				continue
			case "s", "source":
				fq.store.Source = model.Source(strings.ToLower(v))
				continue
			}
		}
		terms = append(terms, w)
	}
	fq.terms = strings.Join(terms, " ")
	return fq
}

// searches reports whether the query looks through every stored event
// (raw:, id:) instead of paging the newest.
func (q feedQuery) searches() bool { return q.store.Raw != "" || q.byID }

// queryWords splits a filter into words at spaces outside double quotes,
// dropping the quotes: raw:"Barbara Jones" is one word. An unclosed quote
// runs to the end.
func queryWords(q string) []string {
	var words []string
	var b strings.Builder
	quoted, inWord := false, false
	for _, r := range q {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case !quoted && unicode.IsSpace(r):
			if inWord && b.Len() > 0 {
				words = append(words, b.String())
			}
			b.Reset()
			inWord = false
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if b.Len() > 0 {
		words = append(words, b.String())
	}
	return words
}

// parseWhen reads a time bound of the filter: an age before now ("90s",
// "30m", "2h", "7d"), a day ("2026-12-01", midnight where now is) or an
// RFC 3339 time. A word that is none of these stays a search term.
func parseWhen(v string, now time.Time) (time.Time, bool) {
	if strings.HasSuffix(v, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), true
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), true
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, now.Location()); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// match applies both parts of the query to an event.
func (q feedQuery) match(e *model.Event, instanceLabel string) bool {
	if !q.store.Match(e) {
		return false
	}
	if q.terms == "" {
		return true
	}
	return matchAll(q.terms, instanceLabel, e.ObjectType, e.ObjectID, string(e.EventType), string(e.Source), e.VendorEventID, e.ElementKey, e.ID)
}

// maxScan bounds how many events one filtered load may read when the text
// part of a filter matches little: the feed stays responsive over a
// million events and says when it stopped looking.
const maxScan = 20000

// fetchOlder reads up to want matching events older than before (0 = the
// newest), newest first. next is the cursor for more (0 = no more).
func fetchOlder(st backend.Backend, q feedQuery, label func(int64) string, before uint64, want int) (out []model.Event, next uint64, err error) {
	if q.notification != "" {
		out, next, err = notificationEvents(st, q, label, before, want)
		for i := range out {
			out[i].Raw = nil
		}
		return out, next, err
	}
	f := q.store
	f.Before = before
	scanned, calls := 0, 0
	for {
		calls++
		page := max(want-len(out), 50)
		if q.terms != "" {
			page = 500
		}
		evs, nx, err := st.Events(opCtx(), f, page)
		if err != nil {
			return out, 0, err
		}
		for _, e := range evs {
			scanned++
			if q.terms != "" && !q.match(&e, label(e.InstanceID)) {
				continue
			}
			e.Raw = nil // the feed shows metadata; detail reloads the event
			out = append(out, e)
			if len(out) == want {
				return out, e.Seq(), nil
			}
		}
		if nx == 0 {
			return out, 0, nil
		}
		f.Before = nx
		// A store-side filter that matches little makes each call scan up
		// to the store's own limit; a few calls are enough for one load.
		if scanned >= maxScan || calls >= 5 {
			return out, nx, nil
		}
	}
}

// fetchNewer reads matching events newer than after, oldest first, reading
// at most limit events. more says the limit was hit.
func fetchNewer(st backend.Backend, q feedQuery, label func(int64) string, after uint64, limit int) (out []model.Event, last uint64, more bool, err error) {
	evs, err := st.EventsAfter(opCtx(), after, limit)
	if err != nil {
		return nil, after, false, err
	}
	last = after
	for _, e := range evs {
		last = e.Seq()
		// A notification's events are stored with it: none comes later.
		if q.notification != "" || !q.match(&e, label(e.InstanceID)) {
			continue
		}
		e.Raw = nil
		out = append(out, e)
	}
	return out, last, len(evs) == limit, nil
}

// delivery is an event's notification and its state.
type delivery struct {
	id    string
	state model.NotificationState
}

// notificationScan bounds the notifications read to map events to their
// deliveries; rows beyond it show no state rather than stall the feed.
const notificationScan = 3000

// deliveriesFor maps event ids in [minSeq, maxSeq] to their notification.
// Notifications are created in event order, so scanning newest first can
// stop at the first one older than the range. It starts a little above
// maxSeq (notification ids never run far ahead of event ids: every
// notification holds at least one event of its own transaction).
func deliveriesFor(st backend.Backend, instID int64, minSeq, maxSeq uint64) map[string]delivery {
	out := map[string]delivery{}
	if maxSeq == 0 {
		return out
	}
	f := model.NotificationFilter{InstanceID: instID}
	if newest, _, err := st.Notifications(opCtx(), model.NotificationFilter{}, 1); err == nil && len(newest) == 1 {
		if start := maxSeq + 1 + 1024; start <= newest[0].Seq() {
			f.Before = start
		}
	}
	scanned := 0
	for scanned < notificationScan {
		ns, next, err := st.Notifications(opCtx(), f, 500)
		if err != nil {
			return out
		}
		for _, n := range ns {
			scanned++
			below := true
			for _, id := range n.EventIDs {
				seq, _ := strconv.ParseUint(id, 10, 64)
				if seq >= minSeq {
					below = false
				}
				if seq >= minSeq && seq <= maxSeq {
					out[id] = delivery{n.ID, n.State}
				}
			}
			if below {
				return out
			}
		}
		if next == 0 {
			return out
		}
		f.Before = next
	}
	return out
}

// EventQuery is the console's event filter syntax ("i:3 type:contacts
// created 1468"), parsed, for the command line's events verbs.
type EventQuery struct{ q feedQuery }

// ParseEventQuery reads a filter as the events screen's "/" does.
func ParseEventQuery(s string) EventQuery { return EventQuery{parseFeedQuery(s, 0, time.Now())} }

// Filter is the part the engine applies (instance, type, event, source).
func (q EventQuery) Filter() model.EventFilter { return q.q.store }

// SetFilter replaces the engine-side part (flags such as --instance).
func (q *EventQuery) SetFilter(f model.EventFilter) { q.q.store = f }

// Match applies the whole query to an event; instanceLabel is "#3 name".
func (q EventQuery) Match(e *model.Event, instanceLabel string) bool {
	return q.q.match(e, instanceLabel)
}
