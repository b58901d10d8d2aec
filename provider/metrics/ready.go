package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Loop is a background loop readiness checks: Beats must move after a
// store commit (the dispatcher's and the scheduler's loops pass after
// every commit they are told of).
type Loop struct {
	Name  string
	Beats func() uint64
}

// Check is one more readiness check (a database server, when one is used).
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// ReadyOptions configure NewReadiness.
type ReadyOptions struct {
	// Probe makes one durable store write (store.Store.Probe); it may
	// block, and runs aside, one at a time.
	Probe func(ctx context.Context) error
	// Loops must pass after the probe's commit.
	Loops []Loop
	// Checks run after the probe.
	Checks []Check
	// Timeout bounds one round of checks (default 3 s).
	Timeout time.Duration
	// Cache is how long one round's answer is reused (default 1 s): the
	// endpoint is open, and each round costs an fsync.
	Cache time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Readiness answers GET /health/ready: 200 when the store takes a write
// and every loop and check answers, else 503; each check is reported with
// its error now and the last error it had, so a flapping check is visible
// after it recovered.
type Readiness struct {
	opts ReadyOptions

	mu       sync.Mutex // one round at a time; guards the fields below
	lastErrs map[string]lastError
	report   ReadyReport
	at       time.Time
	// probing is the probe still running from an earlier round (a stuck
	// store), started at probeStart; a new round waits for it instead of
	// piling up another.
	probing    chan error
	probeStart time.Time
	// beatsAtProbe are the loops' beats when the probe started: a loop is
	// alive when it passed since.
	beatsAtProbe []uint64
}

type lastError struct {
	msg string
	at  time.Time
}

// ReadyReport is /health/ready's answer.
type ReadyReport struct {
	Status string        `json:"status"` // "ready" or "not ready"
	Checks []CheckResult `json:"checks"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Error is why the check fails now.
	Error string `json:"error,omitempty"`
	// LastError and LastErrorAt are the most recent failure, kept after
	// the check recovered.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	Took        string    `json:"took"`
}

// NewReadiness builds the readiness answer.
func NewReadiness(opts ReadyOptions) *Readiness {
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.Cache <= 0 {
		opts.Cache = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Readiness{opts: opts, lastErrs: map[string]lastError{}}
}

// ServeHTTP runs (or reuses) a round of checks and answers 200 or 503.
func (rd *Readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := rd.Check(r.Context())
	status := http.StatusOK
	if rep.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}

// Check runs a round of checks, unless one finished within the cache time.
func (rd *Readiness) Check(ctx context.Context) ReadyReport {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.at.IsZero() && rd.opts.Now().Sub(rd.at) < rd.opts.Cache {
		return rd.report
	}
	ctx, cancel := context.WithTimeout(ctx, rd.opts.Timeout)
	defer cancel()
	var results []CheckResult
	add := func(name string, start time.Time, err error) {
		res := CheckResult{Name: name, OK: err == nil, Took: time.Since(start).Round(time.Microsecond).String()}
		if err != nil {
			res.Error = err.Error()
			rd.lastErrs[name] = lastError{msg: res.Error, at: rd.opts.Now().UTC()}
		}
		if le, ok := rd.lastErrs[name]; ok {
			res.LastError, res.LastErrorAt = le.msg, le.at
		}
		results = append(results, res)
	}
	start := time.Now()
	before, probeErr := rd.probe(ctx)
	add("store", start, probeErr)
	for i, l := range rd.opts.Loops {
		start := time.Now()
		var err error
		if probeErr != nil {
			err = errors.New("not checked: the store write that wakes the loop failed")
		} else {
			err = waitBeat(ctx, l, before[i])
		}
		add(l.Name, start, err)
	}
	for _, c := range rd.opts.Checks {
		start := time.Now()
		add(c.Name, start, c.Run(ctx))
	}
	rep := ReadyReport{Status: "ready", Checks: results}
	for _, c := range results {
		if !c.OK {
			rep.Status = "not ready"
		}
	}
	rd.report, rd.at = rep, rd.opts.Now()
	return rep
}

// probe runs the store probe aside, or keeps waiting for the one an
// earlier round started, until ctx ends. It returns the loops' beats from
// when that probe started.
func (rd *Readiness) probe(ctx context.Context) ([]uint64, error) {
	if rd.opts.Probe == nil {
		return nil, errors.New("no store probe configured")
	}
	if rd.probing == nil {
		rd.beatsAtProbe = make([]uint64, len(rd.opts.Loops))
		for i, l := range rd.opts.Loops {
			rd.beatsAtProbe[i] = l.Beats()
		}
		c := make(chan error, 1)
		// The probe outlives this round when the store is stuck (the next
		// round waits for it), so the round's deadline must not cancel it.
		pctx := context.WithoutCancel(ctx)
		go func(probe func(context.Context) error) { c <- probe(pctx) }(rd.opts.Probe)
		rd.probing, rd.probeStart = c, time.Now()
	}
	select {
	case err := <-rd.probing:
		rd.probing = nil
		return rd.beatsAtProbe, err
	case <-ctx.Done():
		return nil, fmt.Errorf("a store write started %s ago has not committed: the disk or the group writer is stuck", time.Since(rd.probeStart).Round(time.Millisecond))
	}
}

// waitBeat waits until l passed since it stood at before, or ctx ends.
func waitBeat(ctx context.Context, l Loop, before uint64) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for l.Beats() == before {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the %s loop did not pass within the check's time after a store commit: stuck or stopped", l.Name)
		case <-t.C:
		}
	}
	return nil
}
