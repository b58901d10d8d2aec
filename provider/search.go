package provider

import (
	"net/http"
	"strconv"

	"github.com/eventdesk/eventdesk/model"
)

// maxRawQuery bounds the raw filter: a search term, not a document.
const maxRawQuery = 256

// scannedHeader says how many events a search chunk examined, so a client
// can show progress while few match.
const scannedHeader = "Elements-Events-Scanned"

// searchEvents answers GET /instances/events/search: one chunk of a search
// through every stored event, newest first, with the list filters (raw
// looks inside the payloads). A chunk examines a bounded number of events
// however few match, so each answer comes quickly; the next page token
// resumes the search and is empty once it reached the oldest event.
func (s *Server) searchEvents(w http.ResponseWriter, r *http.Request) {
	f, err := eventFilter(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	p, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	page, err := s.st.SearchEvents(r.Context(), f, p.cursor, p.size)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	if page.Events == nil {
		page.Events = []model.Event{}
	}
	setNext(w, page.Next)
	w.Header().Set(scannedHeader, strconv.Itoa(page.Scanned))
	writeJSON(w, http.StatusOK, page.Events)
}
