// Package poll runs CE-style polling: for each (instance, resource) of an
// instance's poller configuration it asks the vendor for changes since the
// last successful poll, classifies records as CREATED or UPDATED (Close's
// event log also reports DELETED), stores them as events with their
// notifications, and only then moves the checkpoint.
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/model/ceql"
	"github.com/eventdesk/eventdesk/model/timefmt"
	"github.com/eventdesk/eventdesk/provider/pipedrive"
	"github.com/eventdesk/eventdesk/store"
)

// Options tune a Poller.
type Options struct {
	// Client calls vendors (default: 30 s timeout).
	Client *http.Client
	// MaxPages caps one poll (default 1000 pages).
	MaxPages int
	// Overlap widens each query window backwards; dedupe by (object,
	// updated date) drops what the overlap brings twice (default 60 s).
	Overlap time.Duration
	// MaxRateWait is the longest vendor-requested wait a poll sits out
	// before failing (default 2 minutes).
	MaxRateWait time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
	// Sleep waits for rate limits (tests make it instant).
	Sleep func(ctx context.Context, d time.Duration) error
	// Observer is told about cycles and rate limits (observe.go); nil: nobody.
	Observer Observer
}

// Poller runs poll cycles against the store.
type Poller struct {
	st   Store
	opts Options
	log  *slog.Logger
}

// New builds a Poller.
func New(st Store, opts Options) *Poller {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = 1000
	}
	if opts.Overlap == 0 {
		opts.Overlap = time.Minute
	}
	if opts.MaxRateWait <= 0 {
		opts.MaxRateWait = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{st: st, opts: opts, log: log}
}

// Poll runs one cycle for one resource and returns its status (already
// stored, NextDue left to the caller) and, when collect is set, the events
// it stored. Errors are reported in the status as well.
func (p *Poller) Poll(ctx context.Context, in model.Instance, resource string, collect bool) (model.PollStatus, []model.Event, error) {
	st, err := p.st.PollStatus(ctx, in.ID, resource)
	if err != nil {
		return st, nil, err
	}
	start := p.opts.Now().UTC()
	st.LastStart, st.Pages, st.Records, st.Events, st.Warnings = start, 0, 0, 0, nil
	events, checkpoint, err := p.cycle(ctx, in, resource, &st, start, collect)
	st.LastEnd = p.opts.Now().UTC()
	if err != nil || len(st.Warnings) > 0 {
		// Vendor answers are quoted in errors and warnings; a vendor that
		// echoes the request would show the instance's credentials.
		secrets := p.secretValues(ctx, in)
		err = model.ScrubError(err, secrets...)
		for i, w := range st.Warnings {
			st.Warnings[i] = model.ScrubSecrets(w, secrets...)
		}
	}
	if err != nil {
		st.LastError = err.Error()
		st.Failures++
	} else {
		st.LastError, st.Failures, st.Checkpoint = "", 0, checkpoint
	}
	if serr := p.st.SetPollStatus(ctx, st); serr != nil && err == nil {
		err = serr
	}
	p.observe(in, st, err)
	return st, events, err
}

// secretValues are the instance's secrets, with an API token a login
// during the poll stored since in was read.
func (p *Poller) secretValues(ctx context.Context, in model.Instance) []string {
	secrets := in.SecretValues()
	// Scrubbing must not be skipped because the poll was cancelled.
	if cur, err := p.st.Instance(context.WithoutCancel(ctx), in.ID); err == nil {
		secrets = append(secrets, cur.SecretValues()...)
	}
	return secrets
}

func (p *Poller) cycle(ctx context.Context, in model.Instance, resource string, st *model.PollStatus, start time.Time, collect bool) ([]model.Event, time.Time, error) {
	cfg, err := in.Poller()
	if err != nil {
		return nil, time.Time{}, err
	}
	r, ok := cfg[resource]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("instance %d has no poller resource %q (configured: %s)", in.ID, resource, strings.Join(cfg.Resources(), ", "))
	}
	el, _ := in.Element()
	filterSince := Since(in, *st, r)
	querySince := filterSince.Add(-p.opts.Overlap)
	f := &fetcher{client: p.opts.Client, maxWait: p.opts.MaxRateWait, sleep: p.opts.Sleep, onLimit: p.rateLimitHook(in, resource)}
	defer func() { st.LastURL = f.lastURL }()
	src, where, err := p.open(ctx, in, el, r, f, querySince)
	if err != nil {
		return nil, time.Time{}, err
	}
	keys := recordKeys(r, where)
	var (
		collected  []model.Event
		maxUpdated time.Time
		warnings   = map[string]bool{}
		done       bool
		// pending is the previous page's store write, which runs while the
		// next page is fetched and classified. Pages are stored in order,
		// one at a time, and all before the checkpoint moves.
		pending chan appended
	)
	settle := func() error {
		if pending == nil {
			return nil
		}
		a := <-pending
		pending = nil
		if a.err != nil {
			return a.err
		}
		st.Events += len(a.res.Stored)
		if collect {
			collected = append(collected, a.res.Stored...)
		}
		return nil
	}
	defer settle() // a failed poll leaves no write running behind it
	for !done {
		if st.Pages >= p.opts.MaxPages {
			break
		}
		var items []item
		items, done, err = src.next(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		st.Pages++
		batch := make([]model.Event, 0, len(items))
		for _, it := range items {
			st.Records++
			e, keep, warn, err := p.record(in, el, resource, r, it, where, keys, filterSince, start)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("page %d from %s: %w", st.Pages, f.lastURL, err)
			}
			if warn != "" {
				warnings[warn] = true
			}
			if !keep {
				continue
			}
			if e.Date.After(maxUpdated) {
				maxUpdated = e.Date
			}
			batch = append(batch, e)
		}
		if err := settle(); err != nil {
			return nil, time.Time{}, err
		}
		if len(batch) > 0 {
			pending = make(chan appended, 1)
			go func(c chan<- appended) {
				res, err := p.st.AppendEvents(ctx, batch)
				c <- appended{res, err}
			}(pending)
		}
	}
	if err := settle(); err != nil {
		return nil, time.Time{}, err
	}
	for w := range warnings {
		st.Warnings = append(st.Warnings, w)
	}
	sort.Strings(st.Warnings)
	checkpoint := start
	if !done {
		if !src.sortedByUpdate() || maxUpdated.IsZero() {
			return collected, time.Time{}, fmt.Errorf("stopped at the page cap (%d pages) and the vendor's order does not allow resuming; checkpoint kept", p.opts.MaxPages)
		}
		checkpoint = maxUpdated
		st.Warnings = append(st.Warnings, fmt.Sprintf("stopped at the page cap (%d pages); the next poll continues from %s", p.opts.MaxPages, maxUpdated.Format(time.RFC3339)))
	}
	return collected, checkpoint, nil
}

// appended is the outcome of one page's store write.
type appended struct {
	res store.AppendResult
	err error
}

// Since is the lower bound of changes a poll reports: the checkpoint (or,
// before any successful poll, the moment events were enabled) minus
// pollDelay.
func Since(in model.Instance, st model.PollStatus, r model.PollerResource) time.Time {
	base := st.Checkpoint
	// Events switched off and on again start afresh: what changed while
	// they were off is not reported.
	if base.IsZero() || in.EventsEnabledAt.After(base) {
		base = in.EventsEnabledAt
	}
	if base.IsZero() {
		base = in.UpdatedAt
	}
	return base.Add(-time.Duration(r.PollDelay) * time.Second)
}

// record turns one vendor item into an event, or says why not.
func (p *Poller) record(in model.Instance, el model.Element, resource string, r model.PollerResource, it item, where ceql.Expr, keys map[string]bool, since, start time.Time) (model.Event, bool, string, error) {
	rec, err := decodeRecord(it.raw, keys)
	if err != nil {
		return model.Event{}, false, "", fmt.Errorf("a record is not a JSON object: %s", excerpt(it.raw))
	}
	e := model.Event{
		InstanceID: in.ID, ElementKey: in.ElementKey, HubKey: el.Hub, Source: model.SourcePolling,
		ObjectType: resource, PollDate: start, Raw: it.raw,
	}
	idv, _ := model.Lookup(rec, r.IDField)
	e.ObjectID = model.Text(idv)
	if e.ObjectID == "" {
		return e, false, fmt.Sprintf("records without %s (idField) were skipped", r.IDField), nil
	}
	if it.eventType == model.Deleted {
		e.EventType = model.Deleted
		// Date the deletion itself: the record's updated date is its last
		// change, which an earlier event already carries (and dedupes on).
		if it.date != "" {
			e.Date, _, _ = timefmt.ParseValue(it.date, "", "")
		}
		if v, ok := model.Lookup(rec, r.Dates.UpdatedDateField); ok && e.Date.IsZero() {
			e.Date, _, _ = timefmt.ParseValue(v, r.Dates.UpdatedDateFormat, r.Dates.UpdatedDateTimezone)
		}
		if e.Date.IsZero() {
			e.Date = start
		}
		return e, true, "", nil
	}
	if where != nil && !where.Eval(rec) {
		return e, false, "", nil
	}
	c, err := model.ClassifyFor(el, rec, r, since, start)
	if err != nil {
		return e, false, fmt.Sprintf("record %s skipped: %v", e.ObjectID, err), nil
	}
	e.EventType, e.Date = c.EventType, c.Updated
	return e, c.Keep, c.Warning, nil
}

// open picks the vendor call for a resource's URL (the vendor mapping), with
// the instance's credentials.
func (p *Poller) open(ctx context.Context, in model.Instance, el model.Element, r model.PollerResource, f *fetcher, querySince time.Time) (source, ceql.Expr, error) {
	if _, err := timefmt.Expand(r.URL, querySince); err != nil {
		return nil, nil, fmt.Errorf("url: %w", err)
	}
	a, err := p.auth(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	return openSource(in, el, r, f, querySince, a)
}

// NextRequest is the exact first request the next poll of resource r will
// send (credentials left out), and the since time it asks from: the poller
// editor's preview, also of unsaved edits. It makes no network call.
func NextRequest(in model.Instance, r model.PollerResource, st model.PollStatus, overlap time.Duration) (since time.Time, request string, err error) {
	if overlap <= 0 {
		overlap = time.Minute
	}
	since = Since(in, st, r)
	el, _ := in.Element()
	src, _, err := openSource(in, el, r, nil, since.Add(-overlap), func(*http.Request) {})
	if err != nil {
		return since, "", err
	}
	req, err := src.request()()
	if err != nil {
		return since, "", err
	}
	return since, "GET " + readableURL(redactURL(req.URL)), nil
}

// readableURL is a request URL for people to read: the wire form escapes
// ':' and spaces, so the path and each query key and value are shown
// decoded ('+' as the space it stands for, %2B as '+'). What would change
// how the URL reads stays escaped: '%', '&', '=', '#', '?' and '/' inside
// a decoded part, control characters and bytes that are not UTF-8. A value
// holding "a&b=c" is thus shown as one value, a%26b%3Dc.
func readableURL(u string) string {
	path, query, hasQuery := strings.Cut(u, "?")
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		segs[i] = readablePart(seg, false)
	}
	out := strings.Join(segs, "/")
	if !hasQuery {
		return out
	}
	pairs := strings.Split(query, "&")
	for i, kv := range pairs {
		k, v, hasV := strings.Cut(kv, "=")
		pairs[i] = readablePart(k, true)
		if hasV {
			pairs[i] += "=" + readablePart(v, true)
		}
	}
	return out + "?" + strings.Join(pairs, "&")
}

// readablePart decodes one path segment or query key or value for
// readableURL, or returns it as it is when it is not valid escaping.
func readablePart(s string, query bool) string {
	var dec string
	var err error
	if query {
		dec, err = url.QueryUnescape(s)
	} else {
		dec, err = url.PathUnescape(s)
	}
	if err != nil || dec == s {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(dec); {
		r, n := utf8.DecodeRuneInString(dec[i:])
		if (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f || strings.ContainsRune("%&=#?/", r) {
			fmt.Fprintf(&b, "%%%02X", dec[i])
			i++
			continue
		}
		b.WriteString(dec[i : i+n])
		i += n
	}
	return b.String()
}

func openSource(in model.Instance, el model.Element, r model.PollerResource, f *fetcher, querySince time.Time, a auth) (source, ceql.Expr, error) {
	tmpl, err := timefmt.ParseTemplate(r.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("url: %w", err)
	}
	// A value is data: a '+' of an offset, or an '&' of a quoted literal,
	// must reach the vendor as itself, not as a space or a new parameter.
	expanded := tmpl.ExpandURL(querySince)
	base := strings.TrimRight(in.Configuration[model.KeyBaseURL], "/")
	limit := r.PageSize
	if limit <= 0 {
		limit = 100
	}
	path, query, _ := strings.Cut(expanded, "?")
	if !strings.HasPrefix(path, "/hubs/") {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, nil, fmt.Errorf("url query %q: %w", query, err)
		}
		skip, lim := "start", "limit"
		if el.Key == "closeio" {
			skip, lim = "_skip", "_limit"
		}
		return &offsetPager{f: f, base: base, path: path, q: q, skipParam: skip, limParam: lim, limit: limit, a: a}, nil, nil
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("hub URL %q: expected /hubs/{hub}/{resource}", path)
	}
	hubRes := parts[2]
	var where ceql.Expr
	since := querySince
	if w := model.TemplateWhere(tmpl, querySince); w != "" {
		if where, err = ceql.Parse(w); err != nil {
			return nil, nil, fmt.Errorf("url where clause: %w", err)
		}
		if lit, _, ok := ceql.SinceBound(where, r.Dates.UpdatedDateField); ok {
			if t, _, err := timefmt.ParseValue(lit, r.Dates.UpdatedDateFormat, r.Dates.UpdatedDateTimezone); err == nil && t.Before(since) {
				since = t
			}
		}
	}
	obj, ok := el.HubResources[hubRes]
	if !ok {
		known := make([]string, 0, len(el.HubResources))
		for k := range el.HubResources {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, nil, fmt.Errorf("hub resource %q is not mapped for %s (mapped: %s); use a vendor URL instead", hubRes, el.Key, strings.Join(known, ", "))
	}
	switch el.Key + "/" + obj {
	case "pipedrive/organization", "pipedrive/person", "pipedrive/deal":
		if limit > 500 {
			limit = 500
		}
		return &pipedriveV2{f: f, base: PipedriveV2Base(base), path: "/" + obj + "s", since: since, limit: limit, a: a, seen: loopGuard{}}, where, nil
	case "pipedrive/lead":
		q := url.Values{"updated_since": {since.UTC().Truncate(time.Second).Format(time.RFC3339)}}
		return &offsetPager{f: f, base: base, path: "/leads", q: q, skipParam: "start", limParam: "limit", limit: min(limit, 500), a: a}, where, nil
	case "closeio/opportunity":
		q := url.Values{"date_updated__gt": {since.UTC().Format("2006-01-02T15:04:05.000000+00:00")}, "_order_by": {"date_updated"}}
		return &offsetPager{f: f, base: base, path: "/opportunity/", q: q, skipParam: "_skip", limParam: "_limit", limit: limit, a: a, sorted: true}, where, nil
	case "closeio/contact", "closeio/lead":
		return &closeEventLog{f: f, base: base, objectType: obj, since: since, a: a, seen: loopGuard{}, emitted: map[string]bool{}}, where, nil
	}
	return nil, nil, fmt.Errorf("no polling adapter for %s %s", el.Key, hubRes)
}

// PipedriveV2Base derives API v2's base from base.url, so one base.url
// points both versions at a company domain or a fake server:
// https://api.pipedrive.com/v1 → https://api.pipedrive.com/api/v2.
func PipedriveV2Base(base string) string {
	base = strings.TrimRight(base, "/")
	for _, suffix := range []string{"/api/v1", "/v1"} {
		if strings.HasSuffix(base, suffix) {
			return strings.TrimSuffix(base, suffix) + "/api/v2"
		}
	}
	return base + "/api/v2"
}

// auth returns the request decorator for the instance's credentials. A
// Pipedrive instance with only email and password first exchanges them for
// an API token and stores it.
func (p *Poller) auth(ctx context.Context, in model.Instance) (auth, error) {
	cfg := in.Configuration
	switch in.ElementKey {
	case "pipedrive":
		token := cfg[model.KeyPipedriveToken]
		if token == "" {
			// Another poll of this instance may have logged in since in
			// was read.
			if cur, err := p.st.Instance(ctx, in.ID); err == nil {
				token = cur.Configuration[model.KeyPipedriveToken]
			}
		}
		if token == "" {
			var err error
			if token, err = p.pipedriveLogin(ctx, in); err != nil {
				return nil, err
			}
		}
		return func(r *http.Request) { r.Header.Set("x-api-token", token) }, nil
	case "closeio":
		user, pass := cfg[model.KeyCloseAPIKey], cfg[model.KeyClosePassword]
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }, nil
	}
	return nil, fmt.Errorf("no credentials scheme for element %s", in.ElementKey)
}

// pipedriveLogin is Pipedrive's legacy email/password exchange (the seed's form,
// pipedrive.Login); the token it yields is stored on the instance.
func (p *Poller) pipedriveLogin(ctx context.Context, in model.Instance) (string, error) {
	cfg := in.Configuration
	token, err := pipedrive.Login(ctx, p.opts.Client, cfg[model.KeyBaseURL], cfg[model.KeyPipedriveEmail], cfg[model.KeyPipedrivePassword])
	switch {
	case errors.Is(err, pipedrive.ErrNoLoginCredentials):
		return "", fmt.Errorf("pipedrive: no pipedrive.api.token, and no pipedrive.email/password to obtain one: %w", ErrCredentialsRejected)
	case errors.Is(err, pipedrive.ErrCredentialsRejected):
		// Retrying soon would only be refused again: the scheduler waits.
		return "", fmt.Errorf("pipedrive login with pipedrive.email/password: %w (%w); set pipedrive.api.token instead", ErrCredentialsRejected, err)
	case err != nil && ctx.Err() != nil:
		return "", ctx.Err()
	case errors.Is(err, pipedrive.ErrLoginUnreachable):
		// A token would not reach Pipedrive either: say what failed.
		return "", fmt.Errorf("pipedrive login with pipedrive.email/password could not connect to Pipedrive (a connection problem, not the credentials; check base.url and this machine's network; retried with backoff): %w", err)
	case errors.Is(err, pipedrive.ErrNotFound):
		return "", fmt.Errorf("pipedrive login with pipedrive.email/password: %w: base.url offers no login exchange (not Pipedrive's API, or an account without it); set pipedrive.api.token instead", err)
	case err != nil:
		return "", fmt.Errorf("pipedrive login with pipedrive.email/password did not complete (Pipedrive failed to answer it, which says nothing about the credentials; retried with backoff): %w", err)
	}
	return p.st.KeepPipedriveToken(ctx, in.ID, token)
}
