// Package fakeclose is an in-process fake of the Close (close.com) REST API,
// faithful enough for eventdesk's Close adapter, poller and webhook receiver
// to be tested, benchmarked and demonstrated without the real vendor.
//
// It serves, under one http.Handler:
//
//	GET    /api/v1/lead/, /contact/, /opportunity/     _skip/_limit lists
//	GET    /api/v1/lead|contact|opportunity/{id}/     one record
//	GET    /api/v1/event/, /event/{id}/                the Event Log (_cursor)
//	GET    /api/v1/webhook/, POST /api/v1/webhook/    subscriptions
//	GET|PUT|DELETE /api/v1/webhook/{id}/
//	GET    /api/v1/me/                                 the key's user
//
// A client's base.url is the server URL + "/api/v1", the shape of
// https://api.close.com/api/v1. The same paths are also served without the
// /api/v1 prefix, so a base.url of the bare server URL works too (demo
// mode), and the trailing slash Close's paths end in is optional.
//
// Authentication is HTTP Basic with the API key as user name and an empty
// password. Data lives in memory and is changed through Go methods (Create,
// Update, Delete, Generate) that stamp times from a controllable Clock,
// append to the Event Log and queue signed webhook deliveries; Flush sends
// them. Fail injects faults on a path prefix and Requests returns what
// clients asked for. Records are stored pre-encoded and indexed, so a page
// costs O(page + log n) however large the store is.
//
// Parameters the fake does not implement (_fields, query, the Event Log's
// allowed-combination rules, extra_filter) are ignored rather than
// refused. Error bodies follow Close's {"error"} and
// {"errors","field-errors"} shapes; their texts are the fake's own.
package fakeclose

import (
	"crypto/subtle"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// DefaultAPIKey is the API key accepted when Options.APIKey is empty.
const DefaultAPIKey = "fake-close-api-key"

// maxBodyBytes bounds request bodies.
const maxBodyBytes = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// APIKey is the only key accepted (DefaultAPIKey when empty).
	APIKey string
	// Clock supplies the time; nil means the wall clock.
	Clock Clock
	// PageLimitMax caps _limit on lead, contact and opportunity lists
	// (default 100); larger values are silently capped, so a client must
	// advance _skip by what it received, not by what it asked for.
	PageLimitMax int
	// EventLimitMax caps _limit on the Event Log (default 50: "capped at
	// and defaulting to 50").
	EventLimitMax int
	// SkipMax, when > 0, answers 400 to a larger _skip, as Close does with
	// its per-resource maximum.
	SkipMax int
	// Burst, when > 0, enforces that many requests per 1-second window (on
	// the Clock) and answers 429 beyond it. Zero reports
	// "limit=100, remaining=99, reset=1" without enforcing anything.
	Burst int
	// OmitEventData serves every Event Log event with null data and
	// previous_data, as Close does for events older than an hour to
	// non-admins, so a poller must fetch the objects.
	OmitEventData bool
	// EventDataMaxAge, when > 0, omits data and previous_data only for
	// events older than this on the Clock (Close: one hour).
	EventDataMaxAge time.Duration
	// OrganizationID and UserID appear in records and events (defaults are
	// fixed fake ids).
	OrganizationID, UserID string
	// Seed seeds the generator of names, values and ids (default 1).
	Seed uint64
	// HTTPClient delivers webhooks (default: 10 s timeout, redirects not
	// followed).
	HTTPClient *http.Client
	// MaxAttempts is how many times a failed delivery is attempted in all
	// (default 4).
	MaxAttempts int
	// AutoDeliver starts a goroutine that delivers queued webhooks as soon
	// as they are queued (for demo mode); tests leave it off and call Flush.
	// Failed deliveries are retried on the next trigger, not on a timer.
	// Call Close to stop the goroutine.
	AutoDeliver bool
	// OnDelivery, if set, is called with every result of the AutoDeliver
	// goroutine.
	OnDelivery func(DeliveryResult)
	// MaxRequestLog bounds the request log (default 10000).
	MaxRequestLog int
}

// Server is the fake Close. Create it with New and serve it with net/http
// or httptest. All methods are safe for concurrent use.
type Server struct {
	opts  Options
	clock Clock

	// mu guards the data, the Event Log, the subscriptions and rng.
	mu       sync.Mutex
	tables   map[string]*table
	rng      *rand.Rand
	seq      int64
	events   []*logEvent // sorted by (DateUpdated, seq)
	eventIDs map[string]*logEvent
	subs     []*Subscription
	statuses statusIDs

	outbox fakevendor.Outbox[*delivery]
	pump   *fakevendor.Pump // nil unless AutoDeliver
	reqLog fakevendor.RequestLog
	faults fakevendor.Faults
	burst  fakevendor.RateWindow
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.PageLimitMax <= 0 {
		opts.PageLimitMax = 100
	}
	if opts.EventLimitMax <= 0 {
		opts.EventLimitMax = 50
	}
	if opts.OrganizationID == "" {
		opts.OrganizationID = "orga_FakeCloseOrganization0000000000000000000"
	}
	if opts.UserID == "" {
		opts.UserID = "user_FakeCloseUser00000000000000000000000000000"
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = fakevendor.NewWebhookClient()
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.MaxRequestLog <= 0 {
		opts.MaxRequestLog = 10000
	}
	s := &Server{
		opts:     opts,
		clock:    fakevendor.OrWall(opts.Clock),
		tables:   make(map[string]*table, len(kinds)),
		rng:      fakevendor.NewRand(opts.Seed),
		eventIDs: make(map[string]*logEvent),
		reqLog:   fakevendor.RequestLog{Max: opts.MaxRequestLog},
	}
	for _, k := range kinds {
		s.tables[k] = newTable(k)
	}
	s.statuses = s.newStatusIDs()
	if opts.AutoDeliver {
		s.pump = fakevendor.StartPump(s.Flush, opts.OnDelivery)
	}
	return s
}

// Close stops the AutoDeliver goroutine, if any. The handler keeps working.
func (s *Server) Close() { s.pump.Close() }

// request carries what the handlers need besides the ResponseWriter.
type request struct {
	*http.Request
	body         []byte
	now          time.Time
	repeatCursor bool
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := fakevendor.Arrive(w, r, s.clock, maxBodyBytes, &s.reqLog, &s.faults)
	if !ok {
		return
	}
	f := a.Fault
	limited, reset := s.rateLimit(w.Header(), a.Now, f.Status == http.StatusTooManyRequests)
	if limited {
		w.Header().Set("Retry-After", strconv.Itoa(reset))
		writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "Too many requests, please wait and try again."})
		return
	}
	if f.Status != 0 {
		s.writeFault(w, f)
		return
	}
	if a.BodyErr != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "Request body too large."})
		return
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, unauthorized)
		return
	}
	if f.Malformed {
		tw := fakevendor.NewTruncWriter(w, `{"dat`)
		defer tw.Finish()
		w = tw
	}
	s.route(w, &request{Request: r, body: a.Body, now: a.Now, repeatCursor: f.RepeatCursor})
}

// errorBody is Close's plain error answer.
type errorBody struct {
	Error string `json:"error"`
}

// unauthorized is the 401 body. Close does not document it; this is a
// plausible error object a client must not depend on.
var unauthorized = errorBody{Error: "Unauthorized. Please provide a valid API key."}

// validationBody is Close's 400 shape: "errors" and "field-errors".
type validationBody struct {
	Errors      []string          `json:"errors"`
	FieldErrors map[string]string `json:"field-errors"`
}

// badField answers a 400 naming one field.
func badField(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, validationBody{Errors: []string{}, FieldErrors: map[string]string{field: msg}})
}

// notFound answers a 404.
func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, errorBody{Error: "Not found."})
}

// rateLimit counts the request in the current 1-second window, sets the
// RateLimit header and reports whether the burst limit is exceeded (and the
// seconds to the reset). Reset is a whole number because the official
// client parses it with `reset=(\d+)`. forceEmpty reports a spent window,
// for the 429 fault.
func (s *Server) rateLimit(h http.Header, now time.Time, forceEmpty bool) (bool, int) {
	rt := s.burst.Hit(now, time.Second, s.opts.Burst, 100, forceEmpty)
	h.Set("RateLimit", "limit="+strconv.Itoa(rt.Limit)+", remaining="+strconv.Itoa(rt.Remaining)+", reset="+strconv.Itoa(rt.Reset))
	return rt.Exceeded, rt.Reset
}

// writeJSON answers v as JSON with the status, falling back to Close's
// {"error"} shape if v cannot be encoded.
func writeJSON(w http.ResponseWriter, status int, v any) {
	fakevendor.WriteJSON(w, status, v, `{"error":"encoding failed"}`)
}

// authorized checks HTTP Basic: the API key as user, an empty password.
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	return ok && pass == "" && subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.APIKey)) == 1
}

// route dispatches a request. The /api/v1 prefix and the trailing slash
// are optional (see the package documentation).
func (s *Server) route(w http.ResponseWriter, r *request) {
	p := strings.TrimPrefix(r.URL.Path, "/api/v1")
	seg := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(seg) == 1 && seg[0] == "me":
		if allow(w, r, http.MethodGet) {
			s.handleMe(w)
		}
		return
	case len(seg) == 1 && isKind(seg[0]):
		if allow(w, r, http.MethodGet) {
			s.handleList(w, r, seg[0])
		}
		return
	case len(seg) == 2 && isKind(seg[0]):
		if allow(w, r, http.MethodGet) {
			s.handleGetOne(w, seg[0], seg[1])
		}
		return
	case len(seg) == 1 && seg[0] == "event":
		if allow(w, r, http.MethodGet) {
			s.handleEvents(w, r)
		}
		return
	case len(seg) == 2 && seg[0] == "event":
		if allow(w, r, http.MethodGet) {
			s.handleGetEvent(w, r, seg[1])
		}
		return
	case len(seg) == 1 && seg[0] == "webhook":
		if allow(w, r, http.MethodGet, http.MethodPost) {
			if r.Method == http.MethodPost {
				s.handleCreateSubscription(w, r)
			} else {
				s.handleListSubscriptions(w)
			}
		}
		return
	case len(seg) == 2 && seg[0] == "webhook":
		if allow(w, r, http.MethodGet, http.MethodPut, http.MethodDelete) {
			s.handleSubscription(w, r, seg[1])
		}
		return
	}
	notFound(w)
}

// allow answers 405 unless the method is one of methods.
func allow(w http.ResponseWriter, r *request, methods ...string) bool {
	if fakevendor.Allowed(w, r.Method, methods...) {
		return true
	}
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "Method not allowed."})
	return false
}

// handleMe answers GET /me/, which clients use to test a key.
func (s *Server) handleMe(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.opts.UserID, "first_name": "Fake", "last_name": "Admin", "email": "admin@fakeclose.example",
		"organizations": []any{map[string]any{"id": s.opts.OrganizationID, "name": "Fake Organization"}},
	})
}
