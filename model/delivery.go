package model

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Delivery settings of an instance, read from its configuration.
const (
	// DefaultConcurrency is how many notifications of one instance may be
	// in flight at once unless event.notification.concurrency says otherwise.
	DefaultConcurrency = 8
	// MaxConcurrency bounds event.notification.concurrency: more requests at
	// once to one receiver stop helping and start hurting it.
	MaxConcurrency = 64
	// DefaultMaxHold is how long a failing head may hold an ordered lane
	// unless event.notification.ordered.maxHold says otherwise.
	DefaultMaxHold = 10 * time.Minute
	// MinMaxHold and MaxMaxHold bound event.notification.ordered.maxHold:
	// under a second every blip kills the head; beyond CE's whole retry
	// schedule (≈73 h) the hold would outlive the retries it waits for.
	MinMaxHold = time.Second
	MaxMaxHold = 73 * time.Hour
)

func parseConcurrency(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > MaxConcurrency {
		return 0, fmt.Errorf("must be a whole number from 1 to %d (requests in flight at once to the callback URL; default %d), got %q", MaxConcurrency, DefaultConcurrency, v)
	}
	return n, nil
}

func parseMaxHold(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < MinMaxHold || d > MaxMaxHold {
		return 0, fmt.Errorf("must be a duration from %s to %s such as 30s, 10m or 2h (how long a failing notification may hold an ordered lane; default %s), got %q", MinMaxHold, "73h", "10m", v)
	}
	return d, nil
}

// Concurrency is how many of the instance's notifications may be in flight
// at once (event.notification.concurrency); 1 in ordered mode. Invalid
// values were refused on save, so the default covers only hand-edited data.
func (in Instance) Concurrency() int {
	if in.Ordered() {
		return 1
	}
	n, err := parseConcurrency(in.Configuration[KeyConcurrency])
	if err != nil {
		return DefaultConcurrency
	}
	return n
}

// Ordered reports whether the instance's notifications go out one at a
// time in creation order (event.notification.ordered = true).
func (in Instance) Ordered() bool {
	return isTrue(in.Configuration[KeyOrdered])
}

// MaxHold is how long a failing head may hold the instance's ordered lane
// before it goes dead (event.notification.ordered.maxHold).
func (in Instance) MaxHold() time.Duration {
	d, err := parseMaxHold(in.Configuration[KeyOrderedMaxHold])
	if err != nil {
		return DefaultMaxHold
	}
	return d
}

// Deliverable reports whether the dispatcher may send the instance's
// notifications now. A disabled instance still gets notifications for the
// events it stores (Sendable), but they wait until it is enabled again.
func (in Instance) Deliverable() bool {
	return in.Sendable() && !in.Disabled
}

// PermanentRejection reports whether a callback status says the receiver
// will refuse this notification however often it is sent: a 4xx other
// than 408 Request Timeout, 409 Conflict, 425 Too Early and 429 Too Many
// Requests (which say "later") and 410 Gone (which turns notifications off).
func PermanentRejection(status int) bool {
	if status < 400 || status >= 500 {
		return false
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests, http.StatusGone:
		return false
	}
	return true
}

// EndpointFailure reports whether an attempt's outcome says the endpoint
// itself is in trouble (no answer, a 5xx, 408 or 429), as opposed to
// refusing one notification: only these count towards the circuit that
// slows attempts to a failing receiver.
func EndpointFailure(status int, errText string) bool {
	switch {
	case status == 0:
		return errText != ""
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	}
	return false
}

// LaneStatus is what the dispatcher is doing with one instance's
// notifications, for the console and the API.
type LaneStatus struct {
	InstanceID int64 `json:"instanceId"`
	Ordered    bool  `json:"ordered"`
	// InFlight requests now; Queued notifications known and not in flight.
	InFlight int `json:"inFlight"`
	Queued   int `json:"queued"`
	// HeldBy is the id of the failing head of an ordered lane, and
	// HeldSince when it first failed: nothing behind it goes out meanwhile.
	HeldBy    string    `json:"heldBy,omitempty"`
	HeldSince time.Time `json:"heldSince,omitzero"`
	// CircuitOpen is set while many failures in a row to the callback URL
	// slow attempts down; the next probe goes at CircuitUntil.
	CircuitOpen  bool      `json:"circuitOpen,omitempty"`
	CircuitUntil time.Time `json:"circuitUntil,omitzero"`
	// Paused says why nothing is sent (disabled, notifications off, outcomes
	// cannot be recorded), empty while delivering.
	Paused string `json:"paused,omitempty"`
	// Replica, set when another replica on a shared store delivers the
	// lane, names it; the state is then as it reported it at AsOf.
	Replica string    `json:"replica,omitempty"`
	AsOf    time.Time `json:"asOf,omitzero"`
}

// Held reports whether an ordered lane waits behind a failing head.
func (s LaneStatus) Held() bool { return s.HeldBy != "" }

// Summary is the lane's state in one line ("held since 12:03 by
// notification 41; circuit open until 12:05"), empty when all is well.
func (s LaneStatus) Summary() string {
	var parts []string
	if s.Paused != "" {
		parts = append(parts, "paused: "+s.Paused)
	}
	if s.Held() {
		parts = append(parts, fmt.Sprintf("held since %s by notification %s", s.HeldSince.Local().Format("15:04:05"), s.HeldBy))
	}
	if s.CircuitOpen {
		parts = append(parts, fmt.Sprintf("circuit open (callback failing); next probe at %s", s.CircuitUntil.Local().Format("15:04:05")))
	}
	if len(parts) > 0 && s.Replica != "" {
		return fmt.Sprintf("on replica %s (as of %s): %s", s.Replica, s.AsOf.Local().Format("15:04:05"), strings.Join(parts, "; "))
	}
	return strings.Join(parts, "; ")
}
