package fakeclose

import (
	"net/http"
	"sort"
	"strconv"
)

// listQuery is a parsed lead/contact/opportunity list request.
type listQuery struct {
	order      string // "", date_updated, date_created
	desc       bool
	skip       int
	limit      int
	updLo      int64 // [updLo, updHi) on date_updated, unix nanos
	updHi      int64
	creLo      int64 // [creLo, creHi) on date_created
	creHi      int64
	leadID     string
	statusType string
	userID     string
}

// scanFilters reports whether filters beyond the sorted range apply, which
// forces a scan instead of direct indexing.
func (q *listQuery) scanFilters() bool {
	return q.leadID != "" || q.statusType != "" || q.userID != "" ||
		(q.order != "date_updated" && (q.updLo != minTime || q.updHi != maxTime)) ||
		(q.order != "date_created" && (q.creLo != minTime || q.creHi != maxTime))
}

const (
	minTime = int64(-1 << 63)
	maxTime = int64(1<<63 - 1)
)

func (q *listQuery) match(r *record) bool {
	return r.updated >= q.updLo && r.updated < q.updHi && r.created >= q.creLo && r.created < q.creHi &&
		(q.leadID == "" || r.leadID == q.leadID) && (q.statusType == "" || r.statusType == q.statusType) &&
		(q.userID == "" || r.userID == q.userID)
}

// list returns one page, whether more match, and the total number of
// matches. Without filters beyond the sort field's range it indexes
// directly: O(log n + page) per page, however deep _skip goes.
func (t *table) list(q *listQuery) (page []*record, more bool, total int) {
	idx := t.index(q.order)
	lo, hi := 0, len(idx)
	switch q.order {
	case "date_updated":
		lo = sort.Search(len(idx), func(i int) bool { return idx[i].updated >= q.updLo })
		hi = sort.Search(len(idx), func(i int) bool { return idx[i].updated >= q.updHi })
	case "date_created":
		lo = sort.Search(len(idx), func(i int) bool { return idx[i].created >= q.creLo })
		hi = sort.Search(len(idx), func(i int) bool { return idx[i].created >= q.creHi })
	}
	hi = max(hi, lo)
	at := func(i int) *record { // i-th record of the range in the requested direction
		if q.desc {
			return idx[hi-1-i]
		}
		return idx[lo+i]
	}
	n := hi - lo
	if !q.scanFilters() {
		for i := q.skip; i < n && len(page) < q.limit; i++ {
			page = append(page, at(i))
		}
		return page, q.skip+len(page) < n, n
	}
	for i := range n {
		r := at(i)
		if !q.match(r) {
			continue
		}
		if total >= q.skip && len(page) < q.limit {
			page = append(page, r)
		}
		total++
	}
	return page, q.skip+len(page) < total, total
}

// handleList serves GET /lead/, /contact/ and /opportunity/.
func (s *Server) handleList(w http.ResponseWriter, r *request, kind string) {
	qv := r.URL.Query()
	q := &listQuery{limit: 100, updLo: minTime, updHi: maxTime, creLo: minTime, creHi: maxTime}
	if v := qv.Get("_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badField(w, "_limit", "Must be a non-negative integer.")
			return
		}
		q.limit = n
	}
	q.limit = min(q.limit, s.opts.PageLimitMax)
	if v := qv.Get("_skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badField(w, "_skip", "Must be a non-negative integer.")
			return
		}
		if s.opts.SkipMax > 0 && n > s.opts.SkipMax {
			badField(w, "_skip", "The maximum _skip for this resource is "+strconv.Itoa(s.opts.SkipMax)+
				". Use date ranges to page deeper.")
			return
		}
		q.skip = n
	}
	q.leadID = qv.Get("lead_id")
	if kind == KindLead {
		q.leadID = "" // a lead list has no lead_id filter
	}
	if kind == KindOpportunity {
		switch v := qv.Get("_order_by"); v {
		case "", "date_updated", "date_created":
			q.order = v
		case "-date_updated", "-date_created":
			q.order, q.desc = v[1:], true
		default:
			badField(w, "_order_by", "Unsupported ordering: "+v)
			return
		}
		q.statusType = qv.Get("status_type")
		q.userID = qv.Get("user_id")
		for _, p := range []struct {
			name   string
			lo, hi *int64
		}{{"date_updated", &q.updLo, &q.updHi}, {"date_created", &q.creLo, &q.creHi}} {
			for _, op := range []string{"", "__gt", "__gte", "__lt", "__lte"} {
				v := qv.Get(p.name + op)
				if v == "" {
					continue
				}
				t, ok := parseCloseTime(v)
				if !ok {
					badField(w, p.name+op, "Invalid date: "+v)
					return
				}
				n := t.UnixNano()
				switch op {
				case "":
					*p.lo, *p.hi = max(*p.lo, n), min(*p.hi, n+1)
				case "__gt":
					*p.lo = max(*p.lo, n+1)
				case "__gte":
					*p.lo = max(*p.lo, n)
				case "__lt":
					*p.hi = min(*p.hi, n)
				case "__lte":
					*p.hi = min(*p.hi, n+1)
				}
			}
		}
	}

	s.mu.Lock()
	page, more, total := s.tables[kind].list(q)
	bodies := make([][]byte, len(page))
	for i, rec := range page {
		bodies[i] = rec.body
	}
	s.mu.Unlock()
	if r.repeatCursor {
		more = true
	}

	// Written piecewise from the stored bodies: nothing decoded, nothing
	// proportional to the whole store.
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"data":[`))
	for i, b := range bodies {
		if i > 0 {
			_, _ = w.Write(comma)
		}
		_, _ = w.Write(b)
	}
	tail := []byte(`],"has_more":`)
	tail = strconv.AppendBool(tail, more)
	if kind == KindOpportunity {
		tail = append(tail, `,"total_results":`...)
		tail = strconv.AppendInt(tail, int64(total), 10)
	}
	_, _ = w.Write(append(tail, '}'))
}

// handleGetOne serves GET /{kind}/{id}/.
func (s *Server) handleGetOne(w http.ResponseWriter, kind, id string) {
	s.mu.Lock()
	var body []byte
	if rec := s.tables[kind].byID[id]; rec != nil {
		body = rec.body
	}
	s.mu.Unlock()
	if body == nil {
		notFound(w)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// comma separates records in a page; a shared slice, because a []byte
// literal passed to Write escapes and would allocate once per record.
var comma = []byte{','}
