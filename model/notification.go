package model

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// NotificationState is where a notification is in its delivery life.
type NotificationState string

// Notification states. Pending ones are waiting to be sent (now or at
// NextAttempt); dead ones used every retry and wait for a replay.
const (
	StatePending   NotificationState = "pending"
	StateDelivered NotificationState = "delivered"
	StateDead      NotificationState = "dead"
)

// Notification is one POST of CE's payload to an instance's callback URL,
// carrying up to 10 polled or 20 webhook events.
type Notification struct {
	// ID is the store's sequence number as a decimal string.
	ID         string `json:"id"`
	InstanceID int64  `json:"instanceId"`
	// WebhookID is sent as Elements-Webhook-Id and webhook-id; it stays the
	// same on every retry so receivers can drop repeats.
	WebhookID  string            `json:"webhookId"`
	EventIDs   []string          `json:"eventIds"`
	ObjectType string            `json:"objectType"`
	Source     Source            `json:"source"`
	CreatedAt  time.Time         `json:"createdAt"`
	State      NotificationState `json:"state"`
	Attempts   int               `json:"attempts"`
	// CycleStart is Attempts when the current retry cycle began (0, or the
	// count at the last replay), so retries are counted per cycle.
	CycleStart  int       `json:"cycleStart,omitempty"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	LastStatus  int       `json:"lastStatus,omitempty"`
	LastError   string    `json:"lastError,omitempty"`
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
	// Body is the exact JSON payload; built once so every retry sends the
	// same bytes.
	Body json.RawMessage `json:"-"`
}

// Attempt is one try at delivering a notification.
type Attempt struct {
	NotificationID string        `json:"notificationId"`
	N              int           `json:"n"`
	Time           time.Time     `json:"time"`
	URL            string        `json:"url"`
	Status         int           `json:"status,omitempty"`
	Latency        time.Duration `json:"latencyNs"`
	// Response is the first 1 KiB of the response body.
	Response string `json:"response,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Group sizes CE uses: up to 10 polled or 20 webhook events a notification.
const (
	PollingGroup = 10
	WebhookGroup = 20
)

// GroupEvents splits one instance's stored events into notification-sized
// groups: polled events by resource, 10 at a time; webhook events (one vendor
// body) 20 at a time. Order within and across groups follows the input.
func GroupEvents(events []Event) [][]Event {
	var groups [][]Event
	open := map[string]int{} // key → index of the group still filling
	for _, e := range events {
		size, key := WebhookGroup, "w"
		if e.Source == SourcePolling {
			size, key = PollingGroup, "p\x00"+e.ObjectType
		}
		if i, ok := open[key]; ok && len(groups[i]) < size {
			groups[i] = append(groups[i], e)
			continue
		}
		groups = append(groups, []Event{e})
		open[key] = len(groups) - 1
	}
	return groups
}

// payload is CE's notification envelope.
type payload struct {
	Severity    string         `json:"severity"`
	CreatedDate string         `json:"createdDate"`
	Topic       string         `json:"topic"`
	Action      string         `json:"action"`
	ID          string         `json:"id"`
	Message     payloadMessage `json:"message"`
	User        string         `json:"user"`
}

type payloadMessage struct {
	ElementKey   string          `json:"elementKey"`
	EventID      string          `json:"eventId"`
	InstanceID   int64           `json:"instanceId"`
	InstanceID2  int64           `json:"instance_id"`
	InstanceName string          `json:"instanceName"`
	InstanceTags []string        `json:"instanceTags"`
	Raw          json.RawMessage `json:"raw"`
	Events       []payloadEvent  `json:"events"`
}

type payloadEvent struct {
	Date       string    `json:"date,omitempty"`
	ElementKey string    `json:"elementKey"`
	PollDate   string    `json:"pollDate,omitempty"`
	EventType  EventType `json:"eventType"`
	HubKey     string    `json:"hubKey"`
	ObjectID   string    `json:"objectId"`
	ObjectType string    `json:"objectType"`
}

// javaDate is Java's Date.toString() layout, which CE's createdDate uses.
const javaDate = "Mon Jan 02 15:04:05 MST 2006"

// NotificationUser is the envelope's user field.
const NotificationUser = "notifications@eventdesk"

// Payload builds the exact callback body for one group of one instance's
// events. id is the notification's id.
func Payload(in Instance, id string, created time.Time, group []Event) ([]byte, error) {
	el, _ := in.Element()
	tags := in.Tags
	if tags == nil {
		tags = []string{}
	}
	p := payload{
		Severity:    "medium",
		CreatedDate: created.UTC().Format(javaDate),
		Topic:       "instance-" + strconv.FormatInt(in.ID, 10) + "-" + in.ElementKey + "-events",
		Action:      "create",
		ID:          id,
		User:        NotificationUser,
		Message: payloadMessage{
			ElementKey: in.ElementKey, InstanceID: in.ID, InstanceID2: in.ID,
			InstanceName: in.Name, InstanceTags: tags,
		},
	}
	if len(group) > 0 {
		p.Message.EventID = group[0].ID
	}
	for _, e := range group {
		pe := payloadEvent{
			ElementKey: e.ElementKey, EventType: e.EventType, HubKey: e.HubKey,
			ObjectID: e.ObjectID, ObjectType: e.ObjectType,
		}
		if pe.HubKey == "" {
			pe.HubKey = el.Hub
		}
		if !e.Date.IsZero() {
			pe.Date = e.Date.UTC().Format(time.RFC3339)
		}
		if !e.PollDate.IsZero() {
			pe.PollDate = e.PollDate.UTC().Format(time.RFC3339)
		}
		p.Message.Events = append(p.Message.Events, pe)
	}
	raw, err := groupRaw(group)
	if err != nil {
		return nil, err
	}
	p.Message.Raw = raw
	return json.Marshal(p)
}

// groupRaw is the webhook body itself, or for polling
// {resource: [records], objectType, pollDate (epoch ms)}. What it holds is
// always valid JSON in UTF-8 (RFC 8259), whatever the vendor sent: bytes
// that are not UTF-8 become \ufffd, as encoding/json writes them, and a
// body or record that is not JSON, or nests deeper than MaxJSONDepth, is
// left out (null). The stored event keeps the vendor's bytes.
func groupRaw(group []Event) (json.RawMessage, error) {
	if len(group) == 0 {
		return json.RawMessage("{}"), nil
	}
	first := group[0]
	if first.Source != SourcePolling {
		if !forwardable(first.Raw) {
			return json.RawMessage("null"), nil
		}
		return ValidUTF8JSON(first.Raw), nil
	}
	records := make([]json.RawMessage, 0, len(group))
	for _, e := range group {
		if forwardable(e.Raw) {
			records = append(records, ValidUTF8JSON(e.Raw))
		}
	}
	obj := map[string]any{
		first.ObjectType: records,
		"objectType":     first.ObjectType,
		"pollDate":       first.PollDate.UnixMilli(),
	}
	b, err := json.Marshal(obj)
	return b, err
}

// forwardable reports whether raw can go into a notification: JSON a strict
// receiver parses (once its UTF-8 is mended).
func forwardable(raw json.RawMessage) bool {
	return len(raw) > 0 && json.Valid(raw) && CheckJSONDepth(raw, MaxJSONDepth) == nil
}

// RetryPolicy is CE's: MaxRetries retries after the first attempt, the n-th
// due Base·4^n after the cycle's first failure (4 s, 16 s, 64 s … the 9th
// ≈72.8 h after it, with the defaults: "a little under 73 hours after the
// original failed attempt"), each wait ±Jitter.
type RetryPolicy struct {
	Base       time.Duration
	MaxRetries int
	Jitter     float64
}

// DefaultRetryPolicy is CE's documented policy.
var DefaultRetryPolicy = RetryPolicy{Base: time.Second, MaxRetries: 9, Jitter: 0.2}

// Delay is when retry n (1-based) is due, counted from the cycle's first
// failure: Base·4^n, ±Jitter. r in [0,1) picks the jitter, so callers
// supply randomness and this stays pure.
func (p RetryPolicy) Delay(n int, r float64) time.Duration {
	return jittered(float64(p.Base)*math.Pow(4, float64(n)), p.Jitter, r)
}

// Wait is the pause after the attempt before retry n (1-based): the
// distance between the nominal due times of retries n-1 and n (Base·4, then
// Base·3·4^(n-1)), ±Jitter, so retry n falls Base·4^n after the first
// failure and the whole default schedule spans ≈72.8 h, not the ≈97 h that
// waiting Base·4^n after every failure would add up to.
func (p RetryPolicy) Wait(n int, r float64) time.Duration {
	gap := float64(p.Base) * math.Pow(4, float64(n))
	if n > 1 {
		gap -= float64(p.Base) * math.Pow(4, float64(n-1))
	}
	return jittered(gap, p.Jitter, r)
}

// jittered scales d by 1±jitter and keeps it a valid, non-negative Duration
// (a long policy must not overflow into "retry at once").
func jittered(d, jitter, r float64) time.Duration {
	d *= 1 + jitter*(2*r-1)
	switch {
	case d >= math.MaxInt64:
		return math.MaxInt64
	case d < 0 || math.IsNaN(d):
		return 0
	}
	return time.Duration(d)
}

// Schedule lists the nominal (jitter-free) due times of the retries,
// counted from the first failure, for help texts.
func (p RetryPolicy) Schedule() []time.Duration {
	out := make([]time.Duration, p.MaxRetries)
	for i := range out {
		out[i] = p.Delay(i+1, 0.5)
	}
	return out
}

// Tries is the number of attempts in the current retry cycle.
func (n Notification) Tries() int { return n.Attempts - n.CycleStart }

// Seq is the notification's store sequence number.
func (n Notification) Seq() uint64 {
	v, _ := strconv.ParseUint(n.ID, 10, 64)
	return v
}

// Sendable reports whether the instance should get notifications now.
func (in Instance) Sendable() bool {
	return in.EventsEnabled() && in.CallbackURL() != "" && in.NotificationsOff == ""
}
