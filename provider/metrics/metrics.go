// Package metrics is eventdesk's Prometheus instrumentation: counters and
// histograms fed by the receiver, the dispatcher, the poller and the store's
// group writer through small observer interfaces each of them declares, and
// gauges read from the store when scraped. Every engine has its own
// registry (there is no global one), so engines in one process — tests run
// in parallel — never mix their figures.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// Namespace prefixes every eventdesk metric.
const Namespace = "eventdesk"

// Label values are bounded: instance ids are chosen by the operator,
// element keys and resources come from the configuration, outcomes and
// reasons are the fixed sets below. Nothing is labelled by event, object
// or notification id.

// Webhook request outcomes (label outcome).
const (
	OutcomeStored    = "stored"    // at least one event stored
	OutcomeDuplicate = "duplicate" // every event was a duplicate
	OutcomeRejected  = "rejected"  // refused with a 4xx (label reason says why)
	OutcomeError     = "error"     // failed with a 5xx (the store could not write)
)

// Metrics holds one engine's collectors and its registry. Its methods are
// the observers the receiver, dispatcher, poller and store call.
type Metrics struct {
	reg *prometheus.Registry

	webhookRequests *prometheus.CounterVec
	webhookEvents   *prometheus.CounterVec
	webhookRejected *prometheus.CounterVec
	webhookLatency  *prometheus.HistogramVec
	webhookBytes    *prometheus.HistogramVec

	pollCycles     *prometheus.CounterVec
	pollRecords    *prometheus.CounterVec
	pollEvents     *prometheus.CounterVec
	pollDuration   *prometheus.HistogramVec
	poll429        *prometheus.CounterVec
	poll429Wait    *prometheus.CounterVec
	pollStartDelay *prometheus.HistogramVec

	attempts        *prometheus.CounterVec
	attemptLatency  *prometheus.HistogramVec
	notificationEnd *prometheus.CounterVec

	commitLatency prometheus.Histogram
	groupSize     prometheus.Histogram
	pruned        *prometheus.CounterVec

	gauges *storeCollector
}

// Source is the store as the metrics see it: its counts at scrape time,
// and its commits as they happen.
type Source interface {
	Overview(ctx context.Context) (store.Overview, error)
	// SetCommitObserver has o told about every commit.
	SetCommitObserver(o store.CommitObserver)
}

// Options configure New.
type Options struct {
	// Store is read for the gauges at scrape time; nil leaves the store's
	// gauges and commit figures out (tests of one observer).
	Store Source
	// NoProcess leaves out the Go runtime and process collectors; an
	// engine keeps them.
	NoProcess bool
}

// CircuitCounter is a dispatcher that opens circuits to failing endpoints:
// WatchCircuits finds out whether the one it is given does.
type CircuitCounter interface {
	OpenCircuits() int
}

// New builds an engine's metrics on a registry of their own and registers
// the store's commit observer.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(h)
		return h
	}
	latency := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	slow := []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	bytes := prometheus.ExponentialBuckets(256, 4, 8) // 256 B … 4 MiB

	m.webhookRequests = counter("webhook_requests_total", "Webhook requests by element and outcome (stored, duplicate, rejected, error).", "element", "outcome")
	m.webhookEvents = counter("webhook_events_total", "Events in accepted webhooks by instance and outcome (stored or duplicate).", "instance", "element", "outcome")
	m.webhookRejected = counter("webhook_rejected_total", "Webhook requests refused with a 4xx, by reason.", "element", "reason")
	m.webhookLatency = histogram("webhook_receive_seconds", "Time from a webhook's arrival to its 2xx answer, sent after the fsync'd commit.", latency, "element")
	m.webhookBytes = histogram("webhook_body_bytes", "Body size of accepted webhooks.", bytes, "element")

	m.pollCycles = counter("poll_cycles_total", "Finished poll cycles by outcome (ok or error).", "instance", "element", "resource", "outcome")
	m.pollRecords = counter("poll_records_total", "Records fetched from vendors by polling.", "instance", "element", "resource")
	m.pollEvents = counter("poll_events_total", "Events stored by polling (new changes, after dedupe).", "instance", "element", "resource")
	m.pollDuration = histogram("poll_cycle_seconds", "Duration of poll cycles, rate-limit waits included.", slow, "element", "resource")
	m.poll429 = counter("poll_rate_limited_total", "Vendor 429 answers met while polling.", "instance", "element", "resource")
	m.poll429Wait = counter("poll_rate_limit_wait_seconds_total", "Time polls spent waiting as vendors' 429 answers asked.", "instance", "element", "resource")
	m.pollStartDelay = histogram("poll_start_delay_seconds", "How long after its due time a scheduled poll started.", slow, "element")

	m.attempts = counter("delivery_attempts_total", "Callback delivery attempts by answer class (2xx, 3xx, 4xx, 5xx, or error: no answer).", "instance", "element", "class")
	m.attemptLatency = histogram("delivery_attempt_seconds", "Duration of callback delivery attempts.", latency, "element")
	m.notificationEnd = counter("notifications_finished_total", "Notifications that reached a final state (delivered, or dead after every retry).", "instance", "element", "state")

	m.commitLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_commit_seconds", Help: "Duration of store group commits, fsync included.", Buckets: latency})
	m.groupSize = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_commit_writes", Help: "Writes carried by one group commit.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}})
	m.reg.MustRegister(m.commitLatency, m.groupSize)
	m.pruned = counter("retention_pruned_total", "Records removed by retention, by kind (events, notifications, dedupe_keys).", "kind")

	m.gauges = &storeCollector{st: opts.Store}
	m.reg.MustRegister(m.gauges)
	if !opts.NoProcess {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if opts.Store != nil {
		opts.Store.SetCommitObserver(m)
	}
	return m
}

// WatchCircuits makes the metrics report d's open circuits, when d is a
// dispatcher that opens circuits (CircuitCounter). Call it before serving.
func (m *Metrics) WatchCircuits(d any) {
	if cc, ok := d.(CircuitCounter); ok {
		m.gauges.circuits.Store(&cc)
	}
}

// Registry is the engine's registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format. A gauge the
// store cannot give is left out and logged by the collector; the rest is
// still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg})
}

func instanceLabel(id int64) string { return strconv.FormatInt(id, 10) }

// WebhookHandled counts one webhook request (provider.WebhookObserver).
func (m *Metrics) WebhookHandled(o provider.WebhookOutcome) {
	el := o.ElementKey
	if el == "" {
		el = "unknown"
	}
	switch {
	case o.Status >= 200 && o.Status < 300:
		stored := 0
		for _, in := range o.Instances {
			id := instanceLabel(in.ID)
			if in.Stored > 0 {
				m.webhookEvents.WithLabelValues(id, el, OutcomeStored).Add(float64(in.Stored))
			}
			if in.Duplicates > 0 {
				m.webhookEvents.WithLabelValues(id, el, OutcomeDuplicate).Add(float64(in.Duplicates))
			}
			stored += in.Stored
		}
		outcome := OutcomeStored
		if stored == 0 {
			outcome = OutcomeDuplicate
		}
		m.webhookRequests.WithLabelValues(el, outcome).Inc()
		m.webhookLatency.WithLabelValues(el).Observe(o.Took.Seconds())
		m.webhookBytes.WithLabelValues(el).Observe(float64(o.BodyBytes))
	case o.Status >= 500:
		m.webhookRequests.WithLabelValues(el, OutcomeError).Inc()
	default:
		m.webhookRequests.WithLabelValues(el, OutcomeRejected).Inc()
		m.webhookRejected.WithLabelValues(el, RejectReason(o.Status)).Inc()
	}
}

// RejectReason names why a webhook was refused, from its status.
func RejectReason(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request" // unreadable payload or instance id
	case http.StatusUnauthorized:
		return "unauthorized" // Basic credentials or signature did not match
	case http.StatusNotFound:
		return "unknown_target" // no such element or instance
	case http.StatusMethodNotAllowed:
		return "method"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	}
	return "other"
}

// AttemptClass is an attempt's answer class: "2xx" … "5xx", or "error"
// when no answer came (connection refused, timeout).
func AttemptClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// AttemptMade counts one delivery attempt (dispatch.Observer).
func (m *Metrics) AttemptMade(in model.Instance, a model.Attempt, state model.NotificationState) {
	id := instanceLabel(in.ID)
	m.attempts.WithLabelValues(id, in.ElementKey, AttemptClass(a.Status)).Inc()
	m.attemptLatency.WithLabelValues(in.ElementKey).Observe(a.Latency.Seconds())
	if state == model.StateDelivered || state == model.StateDead {
		m.notificationEnd.WithLabelValues(id, in.ElementKey, string(state)).Inc()
	}
}

// PollFinished counts one poll cycle (poll.Observer).
func (m *Metrics) PollFinished(in model.Instance, st model.PollStatus, err error) {
	id := instanceLabel(in.ID)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.pollCycles.WithLabelValues(id, in.ElementKey, st.Resource, outcome).Inc()
	m.pollRecords.WithLabelValues(id, in.ElementKey, st.Resource).Add(float64(st.Records))
	m.pollEvents.WithLabelValues(id, in.ElementKey, st.Resource).Add(float64(st.Events))
	if !st.LastEnd.IsZero() && !st.LastStart.IsZero() {
		m.pollDuration.WithLabelValues(in.ElementKey, st.Resource).Observe(st.LastEnd.Sub(st.LastStart).Seconds())
	}
}

// RateLimited counts a vendor's 429 and, when the poll waited it out, the
// wait (poll.Observer).
func (m *Metrics) RateLimited(in model.Instance, resource string, wait time.Duration, gaveUp bool) {
	id := instanceLabel(in.ID)
	m.poll429.WithLabelValues(id, in.ElementKey, resource).Inc()
	if !gaveUp {
		m.poll429Wait.WithLabelValues(id, in.ElementKey, resource).Add(wait.Seconds())
	}
}

// PollLate records how late a scheduled poll started (poll.Observer).
func (m *Metrics) PollLate(in model.Instance, resource string, late time.Duration) {
	m.pollStartDelay.WithLabelValues(in.ElementKey).Observe(late.Seconds())
}

// StoreCommitted records one group commit (store.CommitObserver).
func (m *Metrics) StoreCommitted(writes int, took time.Duration) {
	m.commitLatency.Observe(took.Seconds())
	m.groupSize.Observe(float64(writes))
}

// Pruned counts what one retention pass removed.
func (m *Metrics) Pruned(res store.PruneResult) {
	m.pruned.WithLabelValues("events").Add(float64(res.Events))
	m.pruned.WithLabelValues("notifications").Add(float64(res.Notifications))
	m.pruned.WithLabelValues("dedupe_keys").Add(float64(res.DedupeKeys))
}

// The observer interfaces Metrics implements.
var (
	_ provider.WebhookObserver = (*Metrics)(nil)
	_ dispatch.Observer        = (*Metrics)(nil)
	_ poll.Observer            = (*Metrics)(nil)
	_ store.CommitObserver     = (*Metrics)(nil)
)
