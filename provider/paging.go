package provider

import (
	"fmt"
	"net/http"
	"strconv"
)

// Paging: pageSize (default 50, at most 500) and nextPage; the
// next token goes in the Elements-Next-Page-Token header, empty at the end.
const (
	defaultPageSize = 50
	maxPageSize     = 500
	nextPageHeader  = "Elements-Next-Page-Token"
)

type page struct {
	size   int
	cursor uint64
}

func parsePage(r *http.Request) (page, error) {
	p := page{size: defaultPageSize}
	q := r.URL.Query()
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return p, errorf(http.StatusBadRequest, fmt.Sprintf("pageSize must be a whole number from 1 to %d, got %q", maxPageSize, v))
		}
		p.size = n
	}
	if v := q.Get("nextPage"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return p, errorf(http.StatusBadRequest, fmt.Sprintf("nextPage %q is not a token this server gave out (use the %s header of the previous page)", v, nextPageHeader))
		}
		p.cursor = n
	}
	return p, nil
}

func setNext(w http.ResponseWriter, next uint64) {
	if next == 0 {
		w.Header().Set(nextPageHeader, "")
		return
	}
	w.Header().Set(nextPageHeader, strconv.FormatUint(next, 10))
}
