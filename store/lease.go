package store

import (
	"errors"
	"time"
)

// ErrLeaseLost is a leased write's error when the lease expired or another
// owner claimed the work since: the holder must stop that work.
var ErrLeaseLost = errors.New("lease lost: the work was claimed by another owner or the lease expired")

// Kinds of work replicas share by leases.
const (
	// KindPoll is one (instance, resource) poll schedule.
	KindPoll = "poll"
	// KindLane is an instance's delivery lane (resource "").
	KindLane = "lane"
)

// DefaultLease is how long a replica's hold on shared work (a delivery
// lane, a poll) lasts unrenewed: how long a dead replica's work waits
// before another takes it.
const DefaultLease = 30 * time.Second

// LaneReport is a delivery lane's state as its holder last reported it.
type LaneReport struct {
	InstanceID int64
	Owner      string
	// Status is the holder's JSON of the lane (model.LaneStatus).
	Status []byte
}

// Lease is a process's claim on one unit of shared work (an instance's
// delivery lane, one resource's poll schedule) until Until. Only a store
// shared by several processes hands them out. Token grows with every claim
// of the unit, so writes fenced by a lease fail with ErrLeaseLost once
// another owner claimed it or the lease ran out.
type Lease struct {
	Kind       string
	InstanceID int64
	Resource   string
	Owner      string
	Token      int64
	Until      time.Time
	// Due is when the work was due when claimed.
	Due time.Time
}
