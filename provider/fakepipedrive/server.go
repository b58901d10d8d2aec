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
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
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

	// mu guards the data, the subscriptions and rng.
	mu       sync.Mutex
	tables   map[string]*table
	rng      *rand.Rand
	hooks    []*Webhook
	nextHook int64

	outbox fakevendor.Outbox[*delivery]
	pump   *fakevendor.Pump // nil unless AutoDeliver
	reqLog fakevendor.RequestLog
	faults fakevendor.Faults
	burst  fakevendor.RateWindow

	// dayMu guards the x-daily-requests-left budget.
	dayMu     sync.Mutex
	day       string
	dailyLeft int
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
		nextHook: 1,
		reqLog:   fakevendor.RequestLog{Max: opts.MaxRequestLog},
	}
	for _, k := range kinds {
		s.tables[k] = newTable(k)
	}
	if opts.AutoDeliver {
		s.pump = fakevendor.StartPump(s.Flush, opts.OnDelivery)
	}
	return s
}

// Close stops the AutoDeliver goroutine, if any. The handler keeps working.
func (s *Server) Close() { s.pump.Close() }

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
	a, ok := fakevendor.Arrive(w, r, s.clock, maxBodyBytes, &s.reqLog, &s.faults)
	if !ok {
		return
	}
	f := a.Fault
	limited, retry := s.rateLimit(w.Header(), r.Method, a.Now, f.Status == http.StatusTooManyRequests)
	if limited {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeJSON(w, http.StatusTooManyRequests, errBody("Request over limit", http.StatusTooManyRequests))
		return
	}
	if f.Status != 0 {
		s.writeFault(w, f)
		return
	}
	if a.BodyErr != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, errBody("Request body too large", http.StatusRequestEntityTooLarge))
		return
	}
	if f.Malformed {
		tw := fakevendor.NewTruncWriter(w, `{"succ`)
		defer tw.Finish()
		w = tw
	}
	s.route(w, &request{Request: r, body: a.Body, now: a.Now, repeatCursor: f.RepeatCursor})
}

// rateLimit counts the request in the current 2-second window, sets
// Pipedrive's rate-limit headers and reports whether the burst limit is
// exceeded (and the seconds until the window resets). forceEmpty reports a
// spent window, for the 429 fault. Without Options.Burst the headers show
// the documented example (limit 40).
func (s *Server) rateLimit(h http.Header, method string, now time.Time, forceEmpty bool) (bool, int) {
	rt := s.burst.Hit(now, 2*time.Second, s.opts.Burst, 40, forceEmpty)
	s.dayMu.Lock()
	day := now.UTC().Format(time.DateOnly)
	if day != s.day {
		s.day, s.dailyLeft = day, s.opts.DailyRequests
	}
	if method != http.MethodGet && method != http.MethodHead && s.dailyLeft > 0 {
		s.dailyLeft--
	}
	dailyLeft := s.dailyLeft
	s.dayMu.Unlock()
	h.Set("x-ratelimit-limit", strconv.Itoa(rt.Limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(rt.Remaining))
	h.Set("x-ratelimit-reset", strconv.Itoa(rt.Reset))
	h.Set("x-daily-requests-left", strconv.Itoa(dailyLeft))
	return rt.Exceeded, rt.Reset
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

// writeJSON answers v as JSON with the status, falling back to Pipedrive's
// envelope if v cannot be encoded.
func writeJSON(w http.ResponseWriter, status int, v any) {
	fakevendor.WriteJSON(w, status, v, `{"success":false,"error":"encoding failed","errorCode":500}`)
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
	if fakevendor.Allowed(w, r.Method, methods...) {
		return true
	}
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
