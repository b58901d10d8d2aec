package fakevendor

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
)

// queued is one job waiting in an Outbox, with the attempt it is on.
type queued[D any] struct {
	job     D
	attempt int
}

// Outbox is a fake's queue of webhook deliveries. Mutations queue jobs and
// Flush sends them, so tests decide when deliveries happen. The zero value
// is ready; it is safe for concurrent use. D is the vendor's job type
// (which subscription, which change).
type Outbox[D any] struct {
	mu      sync.Mutex
	pending []queued[D]
}

// Add queues job for its first attempt. It does not send, so it may be
// called with the fake's data lock held.
func (o *Outbox[D]) Add(job D) {
	o.mu.Lock()
	o.pending = append(o.pending, queued[D]{job: job, attempt: 1})
	o.mu.Unlock()
}

// Len returns how many deliveries are queued.
func (o *Outbox[D]) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}

// Flush sends every queued job once, in order, through send, and returns
// the results of the jobs sent. No lock is held while send runs, so a
// receiver may call back into the fake.
//
// send gets the job, its attempt (counting from 1) and retry, true when a
// failure of this attempt will be queued again (attempt < maxAttempts), so
// the result can say so. It returns the result, sent false when the job was
// dropped without an attempt (its subscription is gone: no result, no
// retry), and failed when the attempt failed (transport error, non-2xx).
// When ctx ends, the unsent rest stays queued, ahead of anything queued
// meanwhile.
func Flush[D, R any](ctx context.Context, o *Outbox[D], maxAttempts int,
	send func(ctx context.Context, job D, attempt int, retry bool) (res R, sent, failed bool)) []R {
	o.mu.Lock()
	jobs := o.pending
	o.pending = nil
	o.mu.Unlock()
	results := make([]R, 0, len(jobs))
	for i, q := range jobs {
		if ctx.Err() != nil {
			o.mu.Lock()
			o.pending = append(slices.Clone(jobs[i:]), o.pending...)
			o.mu.Unlock()
			break
		}
		retry := q.attempt < maxAttempts
		res, sent, failed := send(ctx, q.job, q.attempt, retry)
		if !sent {
			continue
		}
		if failed && retry {
			q.attempt++
			o.mu.Lock()
			o.pending = append(o.pending, q)
			o.mu.Unlock()
		}
		results = append(results, res)
	}
	return results
}

// Pump runs a fake's AutoDeliver loop: a goroutine that flushes whenever
// kicked, until Close. A nil *Pump (AutoDeliver off) ignores Kick and Close,
// so the fake need not check.
type Pump struct {
	wake, stop, done chan struct{}
	closeOnce        sync.Once
}

// StartPump starts a goroutine that, whenever kicked, calls flush and hands
// every result to onResult (when not nil). The context passed to flush ends
// at Close, so that Close does not wait for a slow receiver.
func StartPump[R any](flush func(context.Context) []R, onResult func(R)) *Pump {
	p := &Pump{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-p.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		for {
			select {
			case <-p.stop:
				return
			case <-p.wake:
			}
			for _, res := range flush(ctx) {
				if onResult != nil {
					onResult(res)
				}
			}
		}
	}()
	return p
}

// Kick wakes the pump without blocking; kicks while it is busy collapse
// into one more flush.
func (p *Pump) Kick() {
	if p == nil {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Close stops the pump and waits for it. It may be called more than once.
func (p *Pump) Close() {
	if p == nil {
		return
	}
	p.closeOnce.Do(func() {
		close(p.stop)
		<-p.done
	})
}

// ReceiverError is a webhook receiver's non-2xx answer. Its text names the
// fake, e.g. "fakeclose: receiver answered 500".
type ReceiverError struct {
	// Fake is the fake's package name.
	Fake string
	// Status is the receiver's HTTP status.
	Status int
}

// Error names the fake and the status, as delivery results report it.
func (e ReceiverError) Error() string {
	return e.Fake + ": receiver answered " + strconv.Itoa(e.Status)
}

// Post sends one webhook body to url with hc, as fake named fake. prepare
// adds the vendor's own headers (signatures, auth, user agent) after
// Content-Type. It returns the receiver's status (0 when the request
// failed) and the error: the transport's, or a ReceiverError for a non-2xx
// answer. The answer is drained (up to 64 KiB) so connections are reused.
func Post(ctx context.Context, hc *http.Client, url string, body []byte, fake string, prepare func(*http.Request)) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if prepare != nil {
		prepare(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, ReceiverError{Fake: fake, Status: resp.StatusCode}
	}
	return resp.StatusCode, nil
}
