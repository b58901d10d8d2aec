package fakevendor

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Arrival is what a fake knows about a request once Arrive has taken it in.
type Arrival struct {
	// Now is the fake clock's time at arrival; every time the request
	// stamps or compares uses it, so one request sees one instant.
	Now time.Time
	// Body is the request body (nil for GET and HEAD).
	Body []byte
	// BodyErr is set when the body could not be read, e.g. it is larger
	// than the limit; the fake answers that after faults, as a proxy would.
	BodyErr error
	// Fault is the injected fault that matched, or the zero Fault, whose
	// every field means "behave normally".
	Fault Fault
}

// Arrive does what every fake does before its own checks: it reads the body
// (at most maxBody bytes), logs the request, marks the answer as JSON, takes
// the first matching fault and waits out its Delay. It returns false when
// the client went away during that delay; the fake then writes nothing.
func Arrive(w http.ResponseWriter, r *http.Request, clock Clock, maxBody int64, log *RequestLog, faults *Faults) (Arrival, bool) {
	a := Arrival{Now: clock.Now()}
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.Body, a.BodyErr = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	}
	log.Record(r, a.Body, a.Now)
	w.Header().Set("Content-Type", "application/json")
	a.Fault, _ = faults.Take(r.URL.Path)
	if a.Fault.Delay > 0 {
		t := time.NewTimer(a.Fault.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return a, false
		}
	}
	return a, true
}

// Rate is a burst window's state after counting a request, for the
// vendor to render in its own rate-limit headers.
type Rate struct {
	// Limit is the requests allowed per window.
	Limit int
	// Remaining is how many more the window allows.
	Remaining int
	// Reset is the whole seconds until the window ends.
	Reset int
	// Exceeded is true when the request is over an enforced limit.
	Exceeded bool
}

// RateWindow counts requests in fixed windows on the fake clock. The zero
// value is ready; it is safe for concurrent use.
type RateWindow struct {
	mu    sync.Mutex
	start time.Time
	count int
}

// Hit counts a request at now in a window of length size. With burst > 0
// that many requests per window are allowed and the rest exceed it; with
// burst 0 nothing is enforced and the vendor's documented example values
// are reported (limit nominal, remaining nominal-1, reset the window
// length), so clients that read the headers see plausible ones. spent
// reports remaining 0, as the 429 fault does.
func (rw *RateWindow) Hit(now time.Time, size time.Duration, burst, nominal int, spent bool) Rate {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	// A clock set backwards starts a new window rather than extending one
	// that would otherwise never end.
	if rw.start.IsZero() || !now.Before(rw.start.Add(size)) || now.Before(rw.start) {
		rw.start, rw.count = now, 0
	}
	rw.count++
	rt := Rate{Limit: nominal, Remaining: nominal - 1, Reset: CeilSeconds(size)}
	if burst > 0 {
		rt.Limit = burst
		rt.Remaining = max(burst-rw.count, 0)
		rt.Reset = CeilSeconds(rw.start.Add(size).Sub(now))
		rt.Exceeded = rw.count > burst
	}
	if spent {
		rt.Remaining = 0
	}
	return rt
}

// WriteJSON answers v as JSON with the status. fallback is the vendor's
// error body for the one case v cannot be encoded (a bug in the fake),
// answered with 500.
func WriteJSON(w http.ResponseWriter, status int, v any, fallback string) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(fallback)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Allowed reports whether method is one of methods. When it is not, it
// sets the Allow header, and the vendor answers 405 in its own words.
func Allowed(w http.ResponseWriter, method string, methods ...string) bool {
	for _, m := range methods {
		if method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	return false
}

// NewWebhookClient returns the default client fakes deliver webhooks with:
// a 10 s timeout, and redirects not followed, because vendors require
// subscription URLs not to redirect.
func NewWebhookClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// NewRand returns the generator a fake draws names, values and ids from;
// the same seed gives the same data, so runs are reproducible.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
