// Package fakepipedrive is an in-process fake of the Pipedrive API, faithful
// enough for eventdesk's Pipedrive adapter, poller and webhook receiver to be
// tested, benchmarked and demonstrated without the real vendor.
//
// It serves, under one http.Handler:
//
//	POST   /v1/authorizations              legacy email/password → api_token
//	GET    /v1/users/me                     the token's user
//	GET    /v1/leads, /v1/leads/{id}        leads (start/limit paging)
//	GET    /v1/webhooks                     webhook subscriptions
//	POST   /v1/webhooks
//	DELETE /v1/webhooks/{id}
//	GET    /api/v2/persons|organizations|deals[/{id}]   cursor paging
//
// Every /v1 path is also served under /api/v1, as company domains do. A
// client's base.url is therefore server URL + "/v1" (the shape of
// https://api.pipedrive.com/v1) and the v2 base is server URL + "/api/v2".
//
// Data lives in memory, keyed by id, and is changed through Go methods
// (Create, Update, Delete, Generate) that stamp times from a controllable
// Clock and queue v1/v2 webhook deliveries for matching subscriptions; Flush
// sends them. Fail injects faults on a path prefix and Requests returns what
// clients asked for. Records are stored pre-encoded and indexed, so a page
// costs O(page + log n) however large the store is.
//
// Parameters the fake does not implement (filter_id, include_fields,
// custom_fields, sort on /v1/leads) are ignored rather than refused. Error
// bodies use Pipedrive's {"success":false,"error","errorCode"} envelope;
// texts other than the documented 401 and webhook errors are the fake's own.
package fakepipedrive

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAPIToken is the API token accepted when Options.APIToken is empty.
const DefaultAPIToken = "fake-pipedrive-token"

// maxBodyBytes bounds request bodies; Pipedrive's own JSON bodies are tiny.
const maxBodyBytes = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// APIToken is the only token accepted (DefaultAPIToken when empty).
	APIToken string
	// Email and Password are the credentials POST /v1/authorizations
	// exchanges for APIToken. Empty Email disables the exchange (401).
	Email, Password string
	// Clock supplies the time; nil means the wall clock.
	Clock Clock
	// PageLimitMax is the largest accepted limit (default 500, as Pipedrive).
	// API v2 answers 400 above it; /v1/leads silently caps to it.
	PageLimitMax int
	// Burst, when > 0, enforces that many requests per 2-second window (on
	// the Clock) and answers 429 beyond it. Zero reports the documented
	// example headers (limit 40) without enforcing anything.
	Burst int
	// DailyRequests is the x-daily-requests-left budget for POST/PUT/PATCH/
	// DELETE requests per UTC day (default 10000). It is reported, not
	// enforced.
	DailyRequests int
	// CompanyID and UserID appear in webhook metas, tokens and
	// subscriptions (default 1 each).
	CompanyID, UserID int64
	// CompanyDomain is the company subdomain used for meta.host (default
	// "fakecompany", giving "fakecompany.pipedrive.com").
	CompanyDomain string
	// Seed seeds the generator of names, values and UUIDs, making data
	// reproducible (default 1).
	Seed uint64
	// HTTPClient delivers webhooks (default: 10 s timeout, redirects not
	// followed, as Pipedrive requires subscription URLs not to redirect).
	HTTPClient *http.Client
	// MaxAttempts is how many times a failed delivery is attempted in all
	// (default 4: the first try and Pipedrive's 3 retries).
	MaxAttempts int
	// AutoDeliver starts a goroutine that delivers queued webhooks as soon
	// as they are queued (for demo mode); tests leave it off and call Flush.
	// Failed deliveries are retried on the next trigger, not on a timer.
	// Call Close to stop the goroutine.
	AutoDeliver bool
	// OnDelivery, if set, is called with every delivery result of the
	// AutoDeliver goroutine.
	OnDelivery func(DeliveryResult)
	// MaxRequestLog bounds the request log (default 10000).
	MaxRequestLog int
}

// Server is the fake Pipedrive. Create it with New and serve it with
// net/http or httptest. All methods are safe for concurrent use.
type Server struct {
	opts  Options
	clock Clock

	// mu guards the data, the subscriptions, the delivery queue and rng.
	mu       sync.Mutex
	tables   map[string]*table
	rng      *rand.Rand
	hooks    []*Webhook
	nextHook int64
	pending  []*delivery

	logMu  sync.Mutex
	reqLog []RecordedRequest

	faultMu sync.Mutex
	faults  []*faultRule

	rlMu        sync.Mutex
	windowStart time.Time
	windowCount int
	day         string
	dailyLeft   int

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	if opts.APIToken == "" {
		opts.APIToken = DefaultAPIToken
	}
	if opts.PageLimitMax <= 0 {
		opts.PageLimitMax = 500
	}
	if opts.DailyRequests <= 0 {
		opts.DailyRequests = 10000
	}
	if opts.CompanyID == 0 {
		opts.CompanyID = 1
	}
	if opts.UserID == 0 {
		opts.UserID = 1
	}
	if opts.CompanyDomain == "" {
		opts.CompanyDomain = "fakecompany"
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.MaxRequestLog <= 0 {
		opts.MaxRequestLog = 10000
	}
	s := &Server{
		opts:     opts,
		clock:    opts.Clock,
		tables:   make(map[string]*table, len(kinds)),
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		nextHook: 1,
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	for _, k := range kinds {
		s.tables[k] = newTable(k)
	}
	if opts.AutoDeliver {
		s.wake = make(chan struct{}, 1)
		s.stop = make(chan struct{})
		s.done = make(chan struct{})
		go s.autoDeliver()
	}
	return s
}

// Close stops the AutoDeliver goroutine, if any. The handler keeps working.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.done
		}
	})
}

// host is the company host that webhook metas name.
func (s *Server) host() string { return s.opts.CompanyDomain + ".pipedrive.com" }

// request carries what the handlers need besides the ResponseWriter.
type request struct {
	*http.Request
	body         []byte
	now          time.Time
	repeatCursor bool
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	var body []byte
	var bodyErr error
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		body, bodyErr = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	}
	s.recordRequest(r, body, now)
	w.Header().Set("Content-Type", "application/json")

	f, faulty := s.takeFault(r.URL.Path)
	if faulty && f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	limited, retry := s.rateLimit(w.Header(), r.Method, now, faulty && f.Status == http.StatusTooManyRequests)
	if limited {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeJSON(w, http.StatusTooManyRequests, errBody("Request over limit", http.StatusTooManyRequests))
		return
	}
	if faulty && f.Status != 0 {
		s.writeFault(w, f)
		return
	}
	if bodyErr != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, errBody("Request body too large", http.StatusRequestEntityTooLarge))
		return
	}
	if faulty && f.Malformed {
		tw := &truncWriter{w: w}
		defer tw.finish()
		w = tw
	}
	s.route(w, &request{Request: r, body: body, now: now, repeatCursor: faulty && f.RepeatCursor})
}

// writeFault answers an injected status.
func (s *Server) writeFault(w http.ResponseWriter, f Fault) {
	switch f.Status {
	case http.StatusTooManyRequests:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 2 * time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(ra)))
		writeJSON(w, f.Status, errBody("Request over limit", f.Status))
	case http.StatusUnauthorized:
		writeJSON(w, f.Status, unauthorized)
	default:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(f.RetryAfter)))
		}
		writeJSON(w, f.Status, errBody(http.StatusText(f.Status), f.Status))
	}
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// rateLimit counts the request in the current 2-second window, sets
// Pipedrive's rate-limit headers and reports whether the burst limit is
// exceeded (and the seconds until the window resets). forceEmpty reports a
// spent window, for the 429 fault.
func (s *Server) rateLimit(h http.Header, method string, now time.Time, forceEmpty bool) (bool, int) {
	s.rlMu.Lock()
	defer s.rlMu.Unlock()
	const window = 2 * time.Second
	if s.windowStart.IsZero() || !now.Before(s.windowStart.Add(window)) || now.Before(s.windowStart) {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	day := now.UTC().Format(time.DateOnly)
	if day != s.day {
		s.day, s.dailyLeft = day, s.opts.DailyRequests
	}
	if method != http.MethodGet && method != http.MethodHead && s.dailyLeft > 0 {
		s.dailyLeft--
	}
	limit, remaining, reset := 40, 39, 2
	exceeded := false
	if s.opts.Burst > 0 {
		limit = s.opts.Burst
		remaining = max(limit-s.windowCount, 0)
		reset = ceilSeconds(s.windowStart.Add(window).Sub(now))
		exceeded = s.windowCount > limit
	}
	if forceEmpty {
		remaining = 0
	}
	h.Set("x-ratelimit-limit", strconv.Itoa(limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-ratelimit-reset", strconv.Itoa(reset))
	h.Set("x-daily-requests-left", strconv.Itoa(s.dailyLeft))
	return exceeded, reset
}

// unauthorized is Pipedrive's documented 401 body.
var unauthorized = errBody("unauthorized access", http.StatusUnauthorized)

// errorEnvelope is Pipedrive's usual error body; a struct keeps the
// documented key order, byte for byte.
type errorEnvelope struct {
	Success   bool   `json:"success"`
	Error     string `json:"error"`
	ErrorCode int    `json:"errorCode"`
	ErrorInfo string `json:"error_info,omitempty"`
}

// errBody is Pipedrive's usual error envelope.
func errBody(msg string, code int) errorEnvelope {
	return errorEnvelope{Error: msg, ErrorCode: code}
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"error":"encoding failed","errorCode":500}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// authorized checks the token: the x-api-token header everywhere, and the
// api_token query parameter on v1 paths only (whether v2 accepts it is not
// documented, so the fake refuses it to keep clients on the safe side).
func (s *Server) authorized(r *http.Request, v1 bool) bool {
	if tok := r.Header.Get("x-api-token"); tok != "" {
		return tok == s.opts.APIToken
	}
	return v1 && r.URL.Query().Get("api_token") == s.opts.APIToken && s.opts.APIToken != ""
}

// route dispatches a request to its handler.
func (s *Server) route(w http.ResponseWriter, r *request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(p, "/api/v1/"); ok {
		p = "/v1/" + rest
	}
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case len(seg) >= 2 && seg[0] == "v1":
		if seg[1] == "authorizations" && len(seg) == 2 {
			if !allow(w, r, http.MethodPost) {
				return
			}
			s.handleAuthorizations(w, r)
			return
		}
		if !s.authorized(r.Request, true) {
			writeJSON(w, http.StatusUnauthorized, unauthorized)
			return
		}
		switch {
		case seg[1] == "users" && len(seg) == 3 && seg[2] == "me":
			if allow(w, r, http.MethodGet) {
				s.handleMe(w, r)
			}
			return
		case seg[1] == "leads" && len(seg) == 2:
			if allow(w, r, http.MethodGet) {
				s.handleLeads(w, r)
			}
			return
		case seg[1] == "leads" && len(seg) == 3:
			if allow(w, r, http.MethodGet) {
				s.handleGetOne(w, KindLead, seg[2])
			}
			return
		case seg[1] == "webhooks" && len(seg) == 2:
			if allow(w, r, http.MethodGet, http.MethodPost) {
				if r.Method == http.MethodPost {
					s.handleCreateWebhook(w, r)
				} else {
					s.handleListWebhooks(w)
				}
			}
			return
		case seg[1] == "webhooks" && len(seg) == 3:
			if allow(w, r, http.MethodDelete) {
				s.handleDeleteWebhook(w, seg[2])
			}
			return
		}
	case len(seg) >= 3 && seg[0] == "api" && seg[1] == "v2":
		if !s.authorized(r.Request, false) {
			writeJSON(w, http.StatusUnauthorized, unauthorized)
			return
		}
		kind, ok := v2Collections[seg[2]]
		if ok && len(seg) == 3 {
			if allow(w, r, http.MethodGet) {
				s.handleV2List(w, r, kind)
			}
			return
		}
		if ok && len(seg) == 4 {
			if allow(w, r, http.MethodGet) {
				s.handleGetOne(w, kind, seg[3])
			}
			return
		}
	}
	writeJSON(w, http.StatusNotFound, errorEnvelope{Error: "Unknown method .", ErrorCode: http.StatusNotFound,
		ErrorInfo: "Please check developers.pipedrive.com for more information about Pipedrive API."})
}

// allow answers 405 unless the method is one of methods.
func allow(w http.ResponseWriter, r *request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, errBody("Method not allowed", http.StatusMethodNotAllowed))
	return false
}

// v2Collections maps API v2 collection names to record kinds.
var v2Collections = map[string]string{
	"persons":       KindPerson,
	"organizations": KindOrganization,
	"deals":         KindDeal,
}

// parseBody reads a JSON or form-encoded body into string values, as the
// Pipedrive API accepts both.
func parseBody(r *request) (map[string]any, error) {
	ct := r.Header.Get("Content-Type")
	trimmed := strings.TrimSpace(string(r.body))
	if strings.Contains(ct, "json") || strings.HasPrefix(trimmed, "{") {
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			return nil, errors.New("invalid JSON body")
		}
		return m, nil
	}
	vals, err := url.ParseQuery(trimmed)
	if err != nil {
		return nil, errors.New("invalid form body")
	}
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		m[k] = v[0]
	}
	return m, nil
}

// handleAuthorizations emulates Pipedrive's legacy login exchange: email and
// password in, the user's api_token out.
func (s *Server) handleAuthorizations(w http.ResponseWriter, r *request) {
	m, err := parseBody(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody(err.Error(), http.StatusBadRequest))
		return
	}
	email, _ := m["email"].(string)
	password, _ := m["password"].(string)
	if s.opts.Email == "" || email != s.opts.Email || password != s.opts.Password {
		writeJSON(w, http.StatusUnauthorized, unauthorized)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"data": []any{map[string]any{
			"user_id":    s.opts.UserID,
			"company_id": s.opts.CompanyID,
			"api_token":  s.opts.APIToken,
			"add_time":   r.now.UTC().Format(time.DateTime),
			"company": map[string]any{"info": map[string]any{
				"id": s.opts.CompanyID, "name": "Fake Company", "domain": s.opts.CompanyDomain,
			}},
		}},
		"additional_data": map[string]any{
			"user":               map[string]any{"profile": map[string]any{"id": s.opts.UserID, "email": s.opts.Email, "name": "Fake Admin"}},
			"multiple_companies": false,
			"default_company_id": s.opts.CompanyID,
		},
	})
}

// handleMe answers GET /v1/users/me, which clients use to test a token.
func (s *Server) handleMe(w http.ResponseWriter, r *request) {
	email := s.opts.Email
	if email == "" {
		email = "admin@" + s.opts.CompanyDomain + ".example"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"data": map[string]any{
			"id": s.opts.UserID, "name": "Fake Admin", "email": email,
			"company_id": s.opts.CompanyID, "company_domain": s.opts.CompanyDomain,
			"company_name": "Fake Company", "is_admin": 1, "active_flag": true,
			"timezone_name": "UTC", "locale": "en_US", "lang": 1,
			"created": "2020-01-01 00:00:00", "modified": r.now.UTC().Format(time.DateTime),
		},
	})
}
