package backend

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// apiPrefix is where the engine's API lives under its URL.
const apiPrefix = "/elements/api-v2"

// Timeouts of the remote client: an ordinary call answers quickly; a poll
// may page through a vendor, a backup copies the whole file.
const (
	callTimeout   = 30 * time.Second
	pollTimeout   = 6 * time.Minute
	backupTimeout = 30 * time.Minute
	dialTimeout   = 5 * time.Second
)

// RemoteOptions configure a client of an engine's HTTP API.
type RemoteOptions struct {
	// URL is the engine's base URL (https://events.example.com).
	URL string
	// User and Organization are the API secrets.
	User, Organization string
	// Insecure allows plain http to a host that is not this machine.
	Insecure bool
	// Attached describes the link for headers and notes (default
	// "remote · URL"; with Local, "attached to serve · pid N · HOST:PORT"
	// with the pid the engine gives, which changes when it restarts).
	Attached string
	// Local says the engine is this machine's, found through its .engine
	// file.
	Local bool
	// PinnedCert, when set, is the only certificate (DER) the server may
	// present; a local engine's .engine file carries it.
	PinnedCert []byte
	// RootCAs, when set, replaces the system's roots (tests, private CAs).
	RootCAs *x509.CertPool
	// HTTPClient overrides the transport (tests); its Timeout is ignored,
	// each call is bounded on its own.
	HTTPClient *http.Client
}

// Remote is the engine boundary over HTTP: a client of the engine's API.
type Remote struct {
	base *url.URL
	opts RemoteOptions
	hc   *http.Client
	auth string
}

var _ Backend = (*Remote)(nil)

// NewRemote checks the URL and builds a client. Secrets never travel in
// clear over a network: plain http is allowed only to a loopback host,
// or with Insecure.
func NewRemote(opts RemoteOptions) (*Remote, error) {
	raw := strings.TrimSuffix(strings.TrimSpace(opts.URL), "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server URL %q: use an absolute http(s) URL such as https://events.example.com", opts.URL)
	}
	if u.Scheme == "http" && !opts.Insecure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("server URL %s is plain http to %s, which would send the API secrets readable to anyone on the way; use https (serve --tls-cert/--tls-key), or --insecure if the network is yours", raw, u.Hostname())
	}
	if opts.User == "" || opts.Organization == "" {
		return nil, fmt.Errorf("attaching to %s needs the API secrets: --user-secret and --org-secret (or EVENTDESK_USER_SECRET and EVENTDESK_ORG_SECRET); `eventdesk secrets` on the server prints them", raw)
	}
	hc := opts.HTTPClient
	if hc == nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opts.RootCAs}
		if pin := opts.PinnedCert; len(pin) > 0 {
			// The name check cannot pass on a loopback address; the pinned
			// certificate stands in for it.
			tc.InsecureSkipVerify = true
			tc.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, pin) {
					return fmt.Errorf("the engine at %s presented another certificate than the one its .engine file names", raw)
				}
				return nil
			}
		}
		hc = &http.Client{Transport: &http.Transport{
			TLSClientConfig:       tc,
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   dialTimeout,
			ResponseHeaderTimeout: 0, // per call, by context
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
		}}
	}
	if opts.Attached == "" {
		opts.Attached = "remote · " + raw
		if opts.Local {
			opts.Attached = "attached to serve · " + u.Host
		}
	}
	return &Remote{base: u, opts: opts, hc: hc, auth: "User " + opts.User + ", Organization " + opts.Organization}, nil
}

// isLoopback reports whether host is this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL is the engine's base URL.
func (r *Remote) URL() string { return r.base.String() }

// apiError is the engine's error answer.
type apiError struct {
	RequestID string          `json:"requestId"`
	Message   string          `json:"message"`
	Problems  []model.Problem `json:"problems"`
}

// StatusError is an answer other than 2xx, with the engine's message.
type StatusError struct {
	Status  int
	Message string
	// Server is the engine's URL, named in the message.
	Server string
}

// Error names the engine, the status and its message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("eventdesk at %s: %s (HTTP %d)", e.Server, e.Message, e.Status)
}

// Is makes a 404 an ErrNotFound.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// request sends one call and decodes a JSON answer into out (nil: drop).
func (r *Remote) request(ctx context.Context, method, path string, q url.Values, body, out any, timeout time.Duration) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := r.send(ctx, method, path, q, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return nil, fmt.Errorf("%s %s: reading the answer of %s: %w", method, path, r.base, err)
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp.Header, nil
}

// send makes the call and turns a non-2xx answer into an error; the caller
// closes the body of a 2xx.
func (r *Remote) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	return r.sendOK(ctx, method, path, q, body)
}

// sendOK is send with more statuses whose body the caller reads.
func (r *Remote) sendOK(ctx context.Context, method, path string, q url.Values, body any, also ...int) (*http.Response, error) {
	u := *r.base
	u.Path = strings.TrimSuffix(u.Path, "/") + apiPrefix + path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", r.auth)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("%s %s at %s: %w", method, path, r.base, context.Canceled)
		}
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("eventdesk at %s did not answer %s %s in time: %w", r.base, method, path, err)
		}
		return nil, fmt.Errorf("cannot reach eventdesk at %s: %w (is it running? check --server/--context)", r.base, unwrapURLError(err))
	}
	if resp.StatusCode/100 == 2 || slices.Contains(also, resp.StatusCode) {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ae apiError
	if json.Unmarshal(b, &ae) != nil || ae.Message == "" {
		ae.Message = strings.TrimSpace(string(b))
		if ae.Message == "" {
			ae.Message = resp.Status
		}
	}
	if resp.StatusCode == http.StatusBadRequest && len(ae.Problems) > 0 {
		return nil, &model.ValidationError{Problems: ae.Problems}
	}
	if resp.StatusCode == http.StatusUnauthorized {
		ae.Message += " (check --user-secret/--org-secret or the context's secrets)"
	}
	return nil, &StatusError{Status: resp.StatusCode, Message: ae.Message, Server: r.base.String()}
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func nextToken(h http.Header) uint64 {
	n, _ := strconv.ParseUint(h.Get("Elements-Next-Page-Token"), 10, 64)
	return n
}

// Info implements Backend.
func (r *Remote) Info(ctx context.Context) (Info, error) {
	var info Info
	if _, err := r.request(ctx, http.MethodGet, "/engine", nil, nil, &info, callTimeout); err != nil {
		return info, err
	}
	info.Attached = r.opts.Attached
	if r.opts.Local {
		info.Attached = fmt.Sprintf("attached to serve · pid %d · %s", info.PID, r.base.Host)
	}
	return info, nil
}

// instanceJSON is the API's instance answer, as far as the client needs it.
type instanceJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Token   string `json:"token"`
	Element struct {
		Key string `json:"key"`
	} `json:"element"`
	Configuration     map[string]string `json:"configuration"`
	Tags              []string          `json:"tags"`
	CreatedDate       time.Time         `json:"createdDate"`
	UpdatedDate       time.Time         `json:"updatedDate"`
	EventsEnabledDate time.Time         `json:"eventsEnabledDate"`
	NotificationsOff  string            `json:"notificationsOff"`
	Disabled          bool              `json:"disabled"`
}

func (j instanceJSON) instance() model.Instance {
	return model.Instance{ID: j.ID, Name: j.Name, Token: j.Token, ElementKey: j.Element.Key, Configuration: j.Configuration,
		Tags: j.Tags, CreatedAt: j.CreatedDate, UpdatedAt: j.UpdatedDate, EventsEnabledAt: j.EventsEnabledDate, NotificationsOff: j.NotificationsOff, Disabled: j.Disabled}
}

func instancePath(id int64) string { return "/instances/" + strconv.FormatInt(id, 10) }

// Instances implements Backend.
func (r *Remote) Instances(ctx context.Context) ([]model.Instance, error) {
	var out []model.Instance
	var next uint64
	for {
		q := url.Values{"pageSize": {"500"}}
		if next != 0 {
			q.Set("nextPage", strconv.FormatUint(next, 10))
		}
		var page []instanceJSON
		h, err := r.request(ctx, http.MethodGet, "/instances", q, nil, &page, callTimeout)
		if err != nil {
			return nil, err
		}
		for _, j := range page {
			out = append(out, j.instance())
		}
		if next = nextToken(h); next == 0 {
			return out, nil
		}
	}
}

func (r *Remote) instanceCall(ctx context.Context, method, path string, body any) (model.Instance, error) {
	var j instanceJSON
	_, err := r.request(ctx, method, path, nil, body, &j, callTimeout)
	return j.instance(), err
}

// Instance implements Backend (secrets masked).
func (r *Remote) Instance(ctx context.Context, id int64) (model.Instance, error) {
	return r.instanceCall(ctx, http.MethodGet, instancePath(id), nil)
}

// RevealInstance implements Backend.
func (r *Remote) RevealInstance(ctx context.Context, id int64) (model.Instance, error) {
	return r.instanceCall(ctx, http.MethodGet, instancePath(id)+"/secrets", nil)
}

// CreateInstance implements Backend.
func (r *Remote) CreateInstance(ctx context.Context, req model.InstanceRequest) (model.Instance, error) {
	return r.instanceCall(ctx, http.MethodPost, "/instances", req)
}

// PatchInstance implements Backend.
func (r *Remote) PatchInstance(ctx context.Context, id int64, req model.InstanceRequest) (model.Instance, error) {
	return r.instanceCall(ctx, http.MethodPatch, instancePath(id), req)
}

// DeleteInstance implements Backend.
func (r *Remote) DeleteInstance(ctx context.Context, id int64) error {
	_, err := r.request(ctx, http.MethodDelete, instancePath(id), nil, nil, nil, callTimeout)
	return err
}

// maxPage is the API's largest page.
const maxPage = 500

// EventQuery is f as the API's query string.
func EventQuery(f model.EventFilter) url.Values {
	q := url.Values{}
	if f.InstanceID != 0 {
		q.Set("instance", strconv.FormatInt(f.InstanceID, 10))
	}
	if f.ObjectID != "" {
		q.Set("objectId", f.ObjectID)
	}
	if f.ObjectType != "" {
		q.Set("objectType", f.ObjectType)
	}
	if f.EventType != "" {
		q.Set("eventType", string(f.EventType))
	}
	if f.Source != "" {
		q.Set("source", string(f.Source))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Raw != "" {
		q.Set("raw", f.Raw)
	}
	return q
}

// Events implements Backend; a limit above the API's page size takes
// several calls.
func (r *Remote) Events(ctx context.Context, f model.EventFilter, limit int) ([]model.Event, uint64, error) {
	return pages[model.Event](ctx, r, "/instances/events", EventQuery(f), f.Before, limit)
}

// EventsAfter implements Backend.
func (r *Remote) EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []model.Event
	for len(out) < limit {
		q := url.Values{"after": {strconv.FormatUint(after, 10)}, "pageSize": {strconv.Itoa(min(limit-len(out), maxPage))}}
		var page []model.Event
		if _, err := r.request(ctx, http.MethodGet, "/instances/events", q, nil, &page, callTimeout); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) == 0 || len(page) < min(limit, maxPage) {
			break
		}
		after = page[len(page)-1].Seq()
	}
	return out, nil
}

// LastEventID implements Backend.
func (r *Remote) LastEventID(ctx context.Context) (uint64, error) {
	s, err := r.Stats(ctx)
	return s.LastEventID, err
}

// Event implements Backend.
func (r *Remote) Event(ctx context.Context, id string) (model.Event, error) {
	var e model.Event
	_, err := r.request(ctx, http.MethodGet, "/instances/events/"+url.PathEscape(id), nil, nil, &e, callTimeout)
	return e, err
}

// notificationDetail is the API's one-notification answer.
type notificationDetail struct {
	model.Notification
	Payload  json.RawMessage `json:"payload"`
	Attempts []model.Attempt `json:"attemptLog"`
}

// Notifications implements Backend.
func (r *Remote) Notifications(ctx context.Context, f model.NotificationFilter, limit int) ([]model.Notification, uint64, error) {
	q := url.Values{}
	if f.InstanceID != 0 {
		q.Set("instance", strconv.FormatInt(f.InstanceID, 10))
	}
	switch {
	case f.Failing:
		q.Set("state", "failing")
	case f.State != "":
		q.Set("state", string(f.State))
	}
	return pages[model.Notification](ctx, r, "/notifications", q, f.Before, limit)
}

func (r *Remote) notification(ctx context.Context, path string) (notificationDetail, error) {
	var d notificationDetail
	_, err := r.request(ctx, http.MethodGet, path, nil, nil, &d, callTimeout)
	d.Notification.Body = []byte(d.Payload)
	return d, err
}

// Notification implements Backend.
func (r *Remote) Notification(ctx context.Context, id string) (model.Notification, error) {
	d, err := r.notification(ctx, "/notifications/"+url.PathEscape(id))
	return d.Notification, err
}

// NotificationOfEvent implements Backend; the engine answers 204 when
// the event has no notification.
func (r *Remote) NotificationOfEvent(ctx context.Context, eventID string) (model.Notification, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := r.send(ctx, http.MethodGet, "/instances/events/"+url.PathEscape(eventID)+"/notification", nil, nil)
	if err != nil {
		return model.Notification{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return model.Notification{}, &StatusError{Status: http.StatusNotFound, Message: "event " + eventID + " has no notification", Server: r.base.String()}
	}
	var d notificationDetail
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return model.Notification{}, fmt.Errorf("the notification of event %s at %s: %w", eventID, r.base, err)
	}
	d.Notification.Body = []byte(d.Payload)
	return d.Notification, nil
}

// Attempts implements Backend.
func (r *Remote) Attempts(ctx context.Context, id string) ([]model.Attempt, error) {
	d, err := r.notification(ctx, "/notifications/"+url.PathEscape(id))
	return d.Attempts, err
}

// Replay implements Backend.
func (r *Remote) Replay(ctx context.Context, id string) (model.Notification, error) {
	var n model.Notification
	_, err := r.request(ctx, http.MethodPost, "/notifications/"+url.PathEscape(id)+"/replay", nil, nil, &n, callTimeout)
	return n, err
}

// ReplayDead implements Backend.
func (r *Remote) ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	var out struct {
		Replayed []string `json:"replayed"`
	}
	_, err := r.request(ctx, http.MethodPost, instancePath(instanceID)+"/notifications/replay", q, nil, &out, callTimeout)
	return out.Replayed, err
}

// Rejected implements Backend.
func (r *Remote) Rejected(ctx context.Context, before uint64, limit int) ([]model.Rejected, uint64, error) {
	return pages[model.Rejected](ctx, r, "/rejected-requests", url.Values{}, before, limit)
}

// pages reads a newest-first list of the API from before (0: the newest)
// until limit items (default 50) or its end, following the nextPage tokens
// the API hands out; next continues where it stopped (0: the end).
func pages[T any](ctx context.Context, r *Remote, path string, q url.Values, before uint64, limit int) (out []T, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	for {
		q.Set("pageSize", strconv.Itoa(min(limit-len(out), maxPage)))
		q.Del("nextPage")
		if before != 0 {
			q.Set("nextPage", strconv.FormatUint(before, 10))
		}
		var page []T
		h, err := r.request(ctx, http.MethodGet, path, q, nil, &page, callTimeout)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, page...)
		before = nextToken(h)
		if before == 0 || len(out) >= limit {
			return out, before, nil
		}
	}
}

// PollStatuses implements Backend.
func (r *Remote) PollStatuses(ctx context.Context, id int64) ([]model.PollStatus, error) {
	var out []model.PollStatus
	_, err := r.request(ctx, http.MethodGet, instancePath(id)+"/polling", nil, nil, &out, callTimeout)
	return out, err
}

// PollerPreview implements Backend.
func (r *Remote) PollerPreview(ctx context.Context, id int64, draft []byte) ([]model.PollPreview, error) {
	var out []model.PollPreview
	var err error
	if draft == nil {
		_, err = r.request(ctx, http.MethodGet, instancePath(id)+"/polling/preview", nil, nil, &out, callTimeout)
	} else {
		_, err = r.request(ctx, http.MethodPost, instancePath(id)+"/polling/preview", nil, json.RawMessage(draft), &out, callTimeout)
	}
	return out, err
}

// PollNow implements Backend. Cancelling ctx closes the request, which
// stops the poll on the engine.
func (r *Remote) PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error) {
	q := url.Values{}
	if resource != "" {
		q.Set("resource", resource)
	}
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	// A poll that failed at the vendor answers 502 with what it did
	// before failing: decode that too.
	resp, err := r.sendOK(ctx, http.MethodPost, instancePath(id)+"/events/poll", q, nil, http.StatusBadGateway)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var res struct {
		Statuses []model.PollStatus `json:"statuses"`
		Events   []model.Event      `json:"events"`
		Error    string             `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return nil, nil, fmt.Errorf("poll of instance %d at %s: reading the answer: %w", id, r.base, err)
	}
	if res.Error != "" {
		return res.Statuses, res.Events, errors.New(res.Error)
	}
	return res.Statuses, res.Events, nil
}

// RegisterWebhook implements Backend.
func (r *Remote) RegisterWebhook(ctx context.Context, id int64) (model.Instance, error) {
	return r.instanceCall(ctx, http.MethodPost, instancePath(id)+"/webhook", nil)
}

// UnregisterWebhook implements Backend.
func (r *Remote) UnregisterWebhook(ctx context.Context, id int64) (model.Instance, error) {
	return r.instanceCall(ctx, http.MethodDelete, instancePath(id)+"/webhook", nil)
}

// Stats implements Backend.
func (r *Remote) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	_, err := r.request(ctx, http.MethodGet, "/stats", nil, nil, &s, callTimeout)
	return s, err
}

// Lanes implements Backend.
func (r *Remote) Lanes(ctx context.Context) ([]model.LaneStatus, error) {
	var l []model.LaneStatus
	_, err := r.request(ctx, http.MethodGet, "/lanes", nil, nil, &l, callTimeout)
	return l, err
}

// Secrets implements Backend: the secrets this client was given, checked
// against the engine (a wrong pair is refused with 401).
func (r *Remote) Secrets(ctx context.Context) (Secrets, error) {
	if _, err := r.Info(ctx); err != nil {
		return Secrets{}, err
	}
	return Secrets{User: r.opts.User, Organization: r.opts.Organization}, nil
}

// Backup implements Backend.
func (r *Remote) Backup(ctx context.Context, w io.Writer) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, backupTimeout)
	defer cancel()
	resp, err := r.send(ctx, http.MethodGet, "/backup", nil, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}

// Close implements Backend.
func (r *Remote) Close() error {
	r.hc.CloseIdleConnections()
	return nil
}

// SearchEvents implements Backend: one call of the API's search, which
// examines one chunk.
func (r *Remote) SearchEvents(ctx context.Context, f model.EventFilter, cursor uint64, limit int) (model.EventSearchPage, error) {
	if f.Before != 0 && (cursor == 0 || f.Before < cursor) {
		cursor = f.Before
	}
	q := EventQuery(f)
	q.Set("pageSize", strconv.Itoa(min(max(limit, 1), maxPage)))
	if cursor != 0 {
		q.Set("nextPage", strconv.FormatUint(cursor, 10))
	}
	var page model.EventSearchPage
	h, err := r.request(ctx, http.MethodGet, "/instances/events/search", q, nil, &page.Events, callTimeout)
	if err != nil {
		return model.EventSearchPage{}, err
	}
	page.Next = nextToken(h)
	page.Done = page.Next == 0
	page.Scanned, _ = strconv.Atoi(h.Get("Elements-Events-Scanned"))
	return page, nil
}
