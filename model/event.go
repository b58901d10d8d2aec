package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// EventType is the normalized kind of change, as CE names it.
type EventType string

// The four event types CE defines. UNKNOWN keeps a payload whose shape we do
// not recognise rather than dropping it.
const (
	Created EventType = "CREATED"
	Updated EventType = "UPDATED"
	Deleted EventType = "DELETED"
	Unknown EventType = "UNKNOWN"
)

// Source says how an event reached eventdesk.
type Source string

// Event sources.
const (
	SourcePolling Source = "polling"
	SourceWebhook Source = "webhook"
)

// Event is one normalized change of one vendor object.
type Event struct {
	// ID is the store's sequence number as a decimal string; empty until stored.
	ID         string    `json:"id"`
	InstanceID int64     `json:"instanceId"`
	ElementKey string    `json:"elementKey"`
	HubKey     string    `json:"hubKey"`
	Source     Source    `json:"source"`
	ObjectType string    `json:"objectType"`
	ObjectID   string    `json:"objectId"`
	EventType  EventType `json:"eventType"`
	// Date is when the vendor says the change happened; zero when unknown.
	Date time.Time `json:"date,omitzero"`
	// PollDate is the start of the poll that found the change (polling only).
	PollDate   time.Time `json:"pollDate,omitzero"`
	ReceivedAt time.Time `json:"receivedAt"`
	// VendorEventID identifies the vendor's delivery, used to drop retries.
	VendorEventID string `json:"vendorEventId,omitempty"`
	// Raw is the vendor's record or body, byte for byte as received.
	Raw json.RawMessage `json:"raw"`
	// BodyHash is what recognises a resend of a webhook whose format has no
	// event id (Close's legacy format, an unknown shape): the receiver sets
	// it to BodyHash(body). A vendor's resend is byte for byte the same,
	// while two changes of one object differ at least in their dates. It is
	// used when storing and not kept.
	BodyHash string `json:"-"`
}

// BodyHash is the hex SHA-256 of a webhook body, for Event.BodyHash.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// DedupeKey identifies a change so a repeat of it is stored once: a vendor
// retry of a webhook (same vendor event id, or the same BodyHash when the
// format has no id), or a polled record seen again in the overlap of two
// poll windows (same object and updated date). Empty means the event cannot
// be recognised again.
func (e Event) DedupeKey() string {
	id := strconv.FormatInt(e.InstanceID, 10)
	switch {
	case e.Source == SourceWebhook && e.VendorEventID != "":
		return "w\x00" + id + "\x00" + e.VendorEventID
	case e.Source == SourceWebhook && e.BodyHash != "":
		// \x01 after the (decimal) instance id, where a vendor id's key has
		// \x00: no vendor id can make the same key.
		return "w\x00" + id + "\x01" + e.BodyHash
	case e.Source == SourcePolling && e.ObjectID != "":
		return "p\x00" + id + "\x00" + e.ObjectType + "\x00" + e.ObjectID + "\x00" + e.Date.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// Seq is the event's store sequence number, 0 when not stored yet.
func (e Event) Seq() uint64 {
	n, _ := strconv.ParseUint(e.ID, 10, 64)
	return n
}
