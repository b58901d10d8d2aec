package metrics

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

var (
	descInstances     = desc("instances", "Configured instances.")
	descLastEventID   = desc("event_last_id", "Id of the newest stored event; its increase over a minute is the console's events/min.")
	descNotifications = desc("notifications", "Notifications by state: pending (waiting for a first attempt in its retry cycle), failing (waiting for a retry), dead (every retry used). The console's pending is pending+failing.", "state")
	descQueue         = desc("instance_notifications", "An instance's pending, failing and dead notifications.", "instance", "element", "state")
	descOldest        = desc("oldest_pending_notification_age_seconds", "Age of an instance's oldest notification still to be delivered (pending or failing).", "instance", "element")
	descHeld          = desc("held_lanes", "Instances whose oldest undelivered notification has failed: delivering in order, everything behind it waits.")
	descRejected      = desc("rejected_requests", "Refused requests held in the rejected-request ring (the console's rejected).")
	descDBBytes       = desc("store_db_bytes", "Size of the database file.")
	descDedupe        = desc("store_dedupe_keys", "Webhook dedupe keys held in memory.")
	descCircuits      = desc("delivery_open_circuits", "Callback endpoints whose circuit is open (deliveries paused after repeated failures).")
)

// storeCollector reads the gauges from the store when scraped, through
// store.Overview — the function the console's status bar reads — so a
// scrape and the status bar never disagree.
type storeCollector struct {
	st       Source
	circuits atomic.Pointer[CircuitCounter]
}

// Describe sends every gauge's description.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInstances, descLastEventID, descNotifications, descQueue, descOldest, descHeld, descRejected, descDBBytes, descDedupe, descCircuits} {
		ch <- d
	}
}

// Collect reads one Overview and sends its figures.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	if cc := c.circuits.Load(); cc != nil {
		ch <- prometheus.MustNewConstMetric(descCircuits, prometheus.GaugeValue, float64((*cc).OpenCircuits()))
	}
	if c.st == nil {
		return
	}
	// A Prometheus scrape hands the collector no context.
	o, err := c.st.Overview(context.Background())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descNotifications, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descInstances, float64(o.Instances))
	gauge(descLastEventID, float64(o.LastEventID))
	gauge(descNotifications, float64(o.Pending), "pending")
	gauge(descNotifications, float64(o.Failing), "failing")
	gauge(descNotifications, float64(o.Dead), "dead")
	held := 0
	for _, q := range o.Queues {
		id := instanceLabel(q.InstanceID)
		gauge(descQueue, float64(q.Pending), id, q.ElementKey, "pending")
		gauge(descQueue, float64(q.Failing), id, q.ElementKey, "failing")
		gauge(descQueue, float64(q.Dead), id, q.ElementKey, "dead")
		if !q.OldestPending.IsZero() {
			gauge(descOldest, max(0, o.At.Sub(q.OldestPending).Seconds()), id, q.ElementKey)
		}
		if q.Held {
			held++
		}
	}
	gauge(descHeld, float64(held))
	gauge(descRejected, float64(o.Rejected))
	gauge(descDBBytes, float64(o.DBBytes))
	gauge(descDedupe, float64(o.DedupeKeys))
}
