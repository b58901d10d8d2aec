// Package dispatch delivers notifications from the store's outbox to each
// instance's callback URL: signed, retried on CE's schedule, in order per
// instance, with one instance's failing endpoint never delaying another.
package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/model/signature"
	"github.com/eventdesk/eventdesk/store"
)

// Options tune a Dispatcher. Zero values take CE's defaults.
type Options struct {
	// Policy is the retry schedule (default model.DefaultRetryPolicy);
	// tests and demos shorten Base.
	Policy model.RetryPolicy
	// Timeout bounds one attempt (default 15 s).
	Timeout time.Duration
	// Client sends the callbacks; redirects must not be followed.
	Client *http.Client
	Logger *slog.Logger
	// Now and Rand are the clock and the jitter source.
	Now  func() time.Time
	Rand func() float64
	// UserAgent is sent with every callback.
	UserAgent string
	// Observer is told every attempt's outcome (observe.go); nil: nobody.
	Observer Observer
}

// Dispatcher runs one lane (goroutine) per instance with pending
// notifications.
type Dispatcher struct {
	st   *store.Store
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	lanes map[int64]*lane

	recs chan recItem
	// recsStop tells the recorder that no lane will send any more;
	// recExited is closed when it has stored the last outcome.
	recsStop, recExited chan struct{}
	quit                chan struct{}
	wg                  sync.WaitGroup
	beats               atomic.Uint64 // passes of manage (observe.go)
}

// responseExcerpt is how much of a callback's answer the attempt log keeps.
const responseExcerpt = 1 << 10

// Start begins delivering; Stop ends it.
func Start(st *store.Store, opts Options) *Dispatcher {
	if opts.Policy.Base <= 0 {
		opts.Policy = model.DefaultRetryPolicy
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "eventdesk"
	}
	if opts.Client == nil {
		opts.Client = &http.Client{
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				MaxIdleConns:        256,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     90 * time.Second,
				TLSHandshakeTimeout: 10 * time.Second,
			},
			// A redirect is a failure: CE did not follow them, and following
			// one would send a signed payload somewhere unconfigured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{st: st, opts: opts, log: log, lanes: map[int64]*lane{},
		recs: make(chan recItem, 1024), quit: make(chan struct{}),
		recsStop: make(chan struct{}), recExited: make(chan struct{})}
	d.wg.Add(2)
	go d.recorder()
	go d.manage()
	return d
}

// Stop ends every lane and flushes recorded attempts.
func (d *Dispatcher) Stop() {
	close(d.quit)
	d.wg.Wait()
}

// manage starts or wakes lanes whenever the store reports a commit.
func (d *Dispatcher) manage() {
	defer d.wg.Done()
	sub := d.st.Subscribe()
	defer sub.Close()
	for {
		d.beats.Add(1)
		d.scan()
		select {
		case <-d.quit:
			d.mu.Lock()
			lanes := make([]*lane, 0, len(d.lanes))
			for _, l := range d.lanes {
				lanes = append(lanes, l)
			}
			d.mu.Unlock()
			for _, l := range lanes {
				<-l.done
			}
			close(d.recsStop)
			return
		case _, ok := <-sub.C:
			if !ok {
				<-d.quit
			}
		}
	}
}

func (d *Dispatcher) scan() {
	ids, err := d.st.PendingInstances()
	if err != nil {
		d.log.Warn("cannot read pending notifications", "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if l, ok := d.lanes[id]; ok {
			if l.idle() {
				l.poke()
			}
			continue
		}
		l := newLane(d, id)
		d.lanes[id] = l
		d.wg.Add(1)
		go l.run()
	}
}

// Replay puts one notification back in line and wakes its lane.
func (d *Dispatcher) Replay(id string) (model.Notification, error) {
	// An outcome still queued for the store would overwrite the replay.
	d.flush()
	n, err := d.st.Replay(id)
	if err == nil {
		d.resetLane(n.InstanceID)
	}
	return n, err
}

// ReplayDead replays every dead notification of an instance since a time.
func (d *Dispatcher) ReplayDead(instanceID int64, since time.Time) ([]string, error) {
	d.flush()
	ids, err := d.st.ReplayDead(instanceID, since)
	if err == nil && len(ids) > 0 {
		d.resetLane(instanceID)
	}
	return ids, err
}

// resetLane makes a lane re-read its queue from the start, so a replayed
// older notification goes out before newer ones.
func (d *Dispatcher) resetLane(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.lanes[id]; ok {
		l.mu.Lock()
		l.reset = true
		l.mu.Unlock()
		l.poke()
	}
}

// recItem is an attempt outcome to store, or a barrier to wait on.
type recItem struct {
	rec     store.AttemptRecord
	barrier chan struct{}
}

// recorder stores attempt outcomes in batches: lanes never wait for a disk
// write between sends. If the process dies first, the notification is sent
// again (at-least-once; receivers dedupe on webhook-id).
func (d *Dispatcher) recorder() {
	defer d.wg.Done()
	defer close(d.recExited)
	var batch []store.AttemptRecord
	var barriers []chan struct{}
	add := func(it recItem) {
		if it.barrier != nil {
			barriers = append(barriers, it.barrier)
		} else {
			batch = append(batch, it.rec)
		}
	}
	for {
		stopping := false
		select {
		case it := <-d.recs:
			add(it)
		case <-d.recsStop:
			stopping = true
		}
	drain:
		for len(batch) < 1000 {
			select {
			case it := <-d.recs:
				add(it)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if err := d.st.RecordAttempts(batch); err != nil {
				d.log.Error("cannot record delivery attempts", "n", len(batch), "err", err)
			}
		}
		for _, b := range barriers {
			close(b)
		}
		batch, barriers = batch[:0], barriers[:0]
		if stopping && len(d.recs) == 0 {
			return
		}
	}
}

// flush waits until every outcome submitted before it is stored.
func (d *Dispatcher) flush() {
	b := make(chan struct{})
	select {
	case d.recs <- recItem{barrier: b}:
	case <-d.recExited:
		return
	}
	select {
	case <-b:
	case <-d.recExited:
	}
}

// send makes one attempt and returns its log entry and, for 429/503, the
// wait the receiver asked for.
func (d *Dispatcher) send(ctx context.Context, in model.Instance, n model.Notification, attemptNo int) (model.Attempt, time.Duration) {
	now := d.opts.Now()
	a := model.Attempt{NotificationID: n.ID, N: attemptNo, Time: now.UTC(), URL: in.CallbackURL()}
	req, err := d.request(ctx, in, n, now)
	if err != nil {
		a.Error = err.Error()
		return a, 0
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := d.opts.Client.Do(req.WithContext(ctx))
	a.Latency = time.Since(start)
	if err != nil {
		a.Error = errText(err, d.opts.Timeout)
		return a, 0
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	a.Latency = time.Since(start)
	a.Status = resp.StatusCode
	a.Response = string(excerpt)
	var wait time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		wait = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.Error = "redirect to " + resp.Header.Get("Location") + " not followed; configure the final URL as the callback"
	}
	// A receiver that echoes the request (its headers, say) would put the
	// callback's credentials into the stored attempt.
	if secrets := in.SecretValues(); len(secrets) > 0 {
		a.Response = model.ScrubSecrets(a.Response, secrets...)
		a.Error = model.ScrubSecrets(a.Error, secrets...)
	}
	return a, wait
}

// request builds the POST with every signing and identity header a callback carries.
func (d *Dispatcher) request(ctx context.Context, in model.Instance, n model.Notification, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.CallbackURL(), bytes.NewReader(n.Body))
	if err != nil {
		return nil, fmt.Errorf("callback URL: %w", err)
	}
	cfg := in.Configuration
	if extra := cfg[model.KeyCallbackHeaders]; extra != "" {
		var h map[string]string
		if err := json.Unmarshal([]byte(extra), &h); err == nil {
			for k, v := range h {
				req.Header.Set(k, v)
			}
		}
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.opts.UserAgent)
	req.Header.Set("Elements-Webhook-Id", n.WebhookID)
	req.Header.Set("webhook-id", n.WebhookID)
	req.Header.Set("webhook-timestamp", ts)
	if key := cfg[model.KeySignatureKey]; key != "" {
		req.Header.Set("Elements-Webhook-Signature", signature.CE(key, n.Body))
	}
	if secret := cfg[model.KeyStandardSecret]; secret != "" {
		sig, err := signature.Standard(secret, n.WebhookID, now.Unix(), n.Body)
		if err != nil {
			return nil, fmt.Errorf("event.notification.standard.secret: %w", err)
		}
		req.Header.Set("webhook-signature", sig)
	}
	if u, p := cfg[model.KeyBasicUsername], cfg[model.KeyBasicPassword]; u != "" || p != "" {
		req.SetBasicAuth(u, p)
	}
	return req, nil
}

func errText(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return err.Error()
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
