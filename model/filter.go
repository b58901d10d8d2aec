package model

import "time"

// EventFilter selects events. Zero fields match everything. The store
// answers it, the API reads it from a query string and the console builds
// it from its filter syntax, so it lives here with no storage in it.
type EventFilter struct {
	InstanceID int64
	ObjectType string
	// ObjectID is the vendor's id of the record: with InstanceID and
	// ObjectType, one object's history.
	ObjectID  string
	EventType EventType
	Source    Source
	Since     time.Time
	// Until keeps events received before it (zero: no bound).
	Until time.Time
	// Raw keeps events whose raw payload contains it, ignoring case
	// (see ContainsFold).
	Raw string
	// Before pages: only events with a smaller id (0 = from the newest).
	Before uint64
}

// Match reports whether e passes the filter (Before aside).
func (f EventFilter) Match(e *Event) bool {
	return (f.InstanceID == 0 || e.InstanceID == f.InstanceID) &&
		(f.ObjectType == "" || e.ObjectType == f.ObjectType) &&
		(f.ObjectID == "" || e.ObjectID == f.ObjectID) &&
		(f.EventType == "" || e.EventType == f.EventType) &&
		(f.Source == "" || e.Source == f.Source) &&
		(f.Since.IsZero() || !e.ReceivedAt.Before(f.Since)) &&
		(f.Until.IsZero() || e.ReceivedAt.Before(f.Until)) &&
		(f.Raw == "" || ContainsFold(e.Raw, f.Raw))
}

// NotificationFilter selects notifications; zero fields match all.
type NotificationFilter struct {
	InstanceID int64
	State      NotificationState
	// Failing keeps only pending notifications that have been tried and
	// failed at least once (State is then implied: pending).
	Failing bool
	// Before pages: only notifications with a smaller id (0 = newest).
	Before uint64
}

// RejectedCapacity bounds the rejected-request ring: the oldest entries go
// first, so a flood of bad requests cannot fill the disk.
const RejectedCapacity = 1000

// Rejected is one request the listener refused with a 4xx, kept so an
// operator can see why a vendor's webhook or a client's call bounced.
type Rejected struct {
	ID         string              `json:"id"`
	Time       time.Time           `json:"time"`
	RequestID  string              `json:"requestId"`
	RemoteAddr string              `json:"remoteAddr"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Status     int                 `json:"status"`
	Reason     string              `json:"reason"`
	Headers    map[string][]string `json:"headers"`
	// Body is the first 4 KiB of the request body.
	Body      string `json:"body"`
	Truncated bool   `json:"truncated,omitempty"`
	// Dropped, on an entry of its own, counts rejections not recorded
	// because they came too fast; the entry has no request fields.
	Dropped int `json:"dropped,omitempty"`
}

// Match reports whether n passes the filter (Before aside).
func (f NotificationFilter) Match(n *Notification) bool {
	if f.Failing && (n.State != StatePending || n.Tries() == 0) {
		return false
	}
	return (f.InstanceID == 0 || n.InstanceID == f.InstanceID) && (f.State == "" || n.State == f.State)
}
