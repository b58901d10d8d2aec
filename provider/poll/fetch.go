package poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrCredentialsRejected means the vendor answered 401: retrying soon would
// only repeat it, so the scheduler waits a full interval.
var ErrCredentialsRejected = errors.New("credentials rejected")

// maxPageBytes bounds one vendor page.
const maxPageBytes = 32 << 20

// rateLimitRetries is how many 429s one page may meet before the poll fails.
const rateLimitRetries = 5

// fetcher does one vendor GET with the vendor's rate limits honoured.
type fetcher struct {
	client  *http.Client
	maxWait time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
	// lastURL is the last request URL with secrets redacted, for status.
	lastURL string
	// onLimit is told about each 429 (observe.go); nil: nobody.
	onLimit func(wait time.Duration, gaveUp bool)
}

// get sends req, waiting and retrying as the vendor says on 429, and
// returns the body of a 2xx answer.
func (f *fetcher) get(ctx context.Context, newReq func() (*http.Request, error)) ([]byte, error) {
	for try := 0; ; try++ {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		f.lastURL = redactURL(req.URL)
		resp, err := f.client.Do(req.WithContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("GET %s: %w", f.lastURL, stripURL(err))
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			wait := rateLimitWait(resp.Header, time.Now())
			gaveUp := try >= rateLimitRetries || wait > f.maxWait
			f.limited(wait, gaveUp)
			if gaveUp {
				return nil, fmt.Errorf("GET %s: rate limited (429), vendor asks to wait %s", f.lastURL, wait.Round(time.Second))
			}
			if err := f.sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("GET %s: %d: %w: %s", f.lastURL, resp.StatusCode, ErrCredentialsRejected, excerpt(body))
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			return nil, fmt.Errorf("GET %s: vendor answered %d: %s", f.lastURL, resp.StatusCode, excerpt(body))
		case rerr != nil:
			return nil, fmt.Errorf("GET %s: reading answer: %w", f.lastURL, rerr)
		case len(body) > maxPageBytes:
			return nil, fmt.Errorf("GET %s: page larger than %d MiB", f.lastURL, maxPageBytes>>20)
		}
		// Spend the remaining budget gently: a vendor that says none is left
		// gets its reset time before the next page.
		if wait := exhaustedWait(resp.Header, time.Now()); wait > 0 && wait <= f.maxWait {
			if err := f.sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		return body, nil
	}
}

var closeRateLimit = regexp.MustCompile(`reset=([0-9.]+)`)

// rateLimitWait reads how long a 429 asks to wait: Retry-After, Pipedrive's
// x-ratelimit-reset, or Close's RateLimit "reset=" (seconds, maybe decimal).
func rateLimitWait(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := h.Get("x-ratelimit-reset"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
	}
	if m := closeRateLimit.FindStringSubmatch(h.Get("RateLimit")); m != nil {
		if s, err := strconv.ParseFloat(m[1], 64); err == nil {
			return time.Duration(s * float64(time.Second))
		}
	}
	return 2 * time.Second
}

// exhaustedWait is the reset wait when a successful answer says no requests
// remain in the window.
func exhaustedWait(h http.Header, now time.Time) time.Duration {
	if h.Get("x-ratelimit-remaining") == "0" {
		return rateLimitWait(h, now)
	}
	if rl := h.Get("RateLimit"); strings.Contains(rl, "remaining=0,") || strings.HasSuffix(rl, "remaining=0") {
		return rateLimitWait(h, now)
	}
	return 0
}

// secretParams are query parameters whose values never reach a status line.
var secretParams = []string{"api_token", "token", "api_key", "apikey", "key", "password", "access_token", "secret"}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	changed := false
	for _, p := range secretParams {
		if q.Has(p) {
			q.Set(p, "REDACTED")
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// stripURL drops the URL from a *url.Error: it may carry credentials and
// the caller names the redacted URL already.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
