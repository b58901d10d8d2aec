package fakeclose

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// SubscriptionEvent is one {object_type, action} pair a subscription wants.
type SubscriptionEvent struct {
	ObjectType  string          `json:"object_type"`            // lead, contact, opportunity, ...
	Action      string          `json:"action"`                 // created, updated, deleted, ...
	ExtraFilter json.RawMessage `json:"extra_filter,omitempty"` // stored, not applied
}

// Subscription is a webhook subscription as the API answers it. Only id
// and signature_key are confirmed by Close's docs; the other fields are the
// likely ones listed in the research notes.
type Subscription struct {
	ID             string              `json:"id"` // "whsub_…"
	URL            string              `json:"url"`
	Events         []SubscriptionEvent `json:"events"`
	Status         string              `json:"status"` // active | paused
	VerifySSL      bool                `json:"verify_ssl"`
	SignatureKey   string              `json:"signature_key"` // 64 hex chars; see Sign
	OrganizationID string              `json:"organization_id"`
	CreatedBy      string              `json:"created_by"`
	UpdatedBy      string              `json:"updated_by"`
	DateCreated    string              `json:"date_created"`
	DateUpdated    string              `json:"date_updated"`
}

// wants reports whether the subscription wants the event.
func (sub *Subscription) wants(objectType, action string) bool {
	if sub.Status != "active" {
		return false
	}
	return slices.ContainsFunc(sub.Events, func(e SubscriptionEvent) bool {
		return e.ObjectType == objectType && e.Action == action
	})
}

// Subscriptions returns the current webhook subscriptions.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Subscription, len(s.subs))
	for i, sub := range s.subs {
		out[i] = *sub
		out[i].Events = slices.Clone(sub.Events)
	}
	return out
}

// subscriptionInput is the body of POST and PUT /webhook/.
type subscriptionInput struct {
	URL       *string              `json:"url"`
	Events    *[]SubscriptionEvent `json:"events"`
	VerifySSL *bool                `json:"verify_ssl"`
	Status    *string              `json:"status"`
}

// validate checks the input; create requires url and events.
func (in *subscriptionInput) validate(create bool) map[string]string {
	errs := map[string]string{}
	if in.URL == nil && create {
		errs["url"] = "This field is required."
	} else if in.URL != nil {
		if u, err := url.Parse(*in.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs["url"] = "Enter a valid URL."
		}
	}
	if in.Events == nil && create {
		errs["events"] = "This field is required."
	} else if in.Events != nil {
		if len(*in.Events) == 0 {
			errs["events"] = "At least one event is required."
		}
		for _, e := range *in.Events {
			if e.ObjectType == "" || e.Action == "" {
				errs["events"] = "Each event needs object_type and action."
			}
		}
	}
	if in.Status != nil && *in.Status != "active" && *in.Status != "paused" {
		errs["status"] = "Must be active or paused."
	}
	return errs
}

// decodeInput parses a subscription body, answering 400 on failure.
func decodeInput(w http.ResponseWriter, r *request, create bool) (*subscriptionInput, bool) {
	var in subscriptionInput
	if err := json.Unmarshal(r.body, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, validationBody{Errors: []string{"Invalid JSON body."}, FieldErrors: map[string]string{}})
		return nil, false
	}
	if errs := in.validate(create); len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, validationBody{Errors: []string{}, FieldErrors: errs})
		return nil, false
	}
	return &in, true
}

// newSignatureKey returns 32 random bytes in hex, like Close's keys.
func newSignatureKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// handleCreateSubscription serves POST /webhook/.
func (s *Server) handleCreateSubscription(w http.ResponseWriter, r *request) {
	in, ok := decodeInput(w, r, true)
	if !ok {
		return
	}
	now := formatObjectTime(stamp(r.now))
	s.mu.Lock()
	sub := &Subscription{
		ID: s.newID("whsub_", 22), URL: *in.URL, Events: *in.Events, Status: "active", VerifySSL: true,
		SignatureKey: newSignatureKey(), OrganizationID: s.opts.OrganizationID,
		CreatedBy: s.opts.UserID, UpdatedBy: s.opts.UserID, DateCreated: now, DateUpdated: now,
	}
	if in.VerifySSL != nil {
		sub.VerifySSL = *in.VerifySSL
	}
	if in.Status != nil {
		sub.Status = *in.Status
	}
	s.subs = append(s.subs, sub)
	out := *sub
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleListSubscriptions serves GET /webhook/.
func (s *Server) handleListSubscriptions(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, struct {
		Data    []Subscription `json:"data"`
		HasMore bool           `json:"has_more"`
	}{s.Subscriptions(), false})
}

// handleSubscription serves GET, PUT and DELETE /webhook/{id}/.
func (s *Server) handleSubscription(w http.ResponseWriter, r *request, id string) {
	var in *subscriptionInput
	if r.Method == http.MethodPut {
		var ok bool
		if in, ok = decodeInput(w, r, false); !ok {
			return
		}
	}
	s.mu.Lock()
	i := slices.IndexFunc(s.subs, func(sub *Subscription) bool { return sub.ID == id })
	if i < 0 {
		s.mu.Unlock()
		notFound(w)
		return
	}
	sub := s.subs[i]
	switch r.Method {
	case http.MethodDelete:
		s.subs = slices.Delete(s.subs, i, i+1)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, struct{}{})
		return
	case http.MethodPut:
		if in.URL != nil {
			sub.URL = *in.URL
		}
		if in.Events != nil {
			sub.Events = *in.Events
		}
		if in.VerifySSL != nil {
			sub.VerifySSL = *in.VerifySSL
		}
		if in.Status != nil {
			sub.Status = *in.Status
		}
		sub.DateUpdated = formatObjectTime(stamp(r.now))
	}
	out := *sub
	out.Events = slices.Clone(sub.Events)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// delivery is one queued webhook push of an event to a subscription; the
// outbox counts its attempts.
type delivery struct {
	subID string
	event Event
}

// enqueue queues the event for every subscription that wants it. Called
// with s.mu held; nothing is sent here.
func (s *Server) enqueue(ev Event) {
	for _, sub := range s.subs {
		if sub.wants(ev.ObjectType, ev.Action) {
			s.outbox.Add(&delivery{subID: sub.ID, event: ev})
		}
	}
}

// kick wakes the AutoDeliver goroutine, if there is one.
func (s *Server) kick() { s.pump.Kick() }

// Pending returns how many deliveries are queued.
func (s *Server) Pending() int { return s.outbox.Len() }

// DeliveryResult reports one delivery attempt.
type DeliveryResult struct {
	// SubscriptionID and URL name the subscription posted to.
	SubscriptionID, URL string
	// EventID, ObjectType, ObjectID and Action describe the event.
	EventID, ObjectType, ObjectID, Action string
	// Attempt counts from 1.
	Attempt int
	// Timestamp and Signature are the close-sig-timestamp and
	// close-sig-hash headers sent.
	Timestamp, Signature string
	// StatusCode is the receiver's status (0 when the request failed).
	StatusCode int
	// Err is the transport error or a non-2xx status.
	Err error
	// Body is the JSON body sent.
	Body []byte
	// Requeued is true when the failure will be retried by a later Flush.
	Requeued bool
}

// Flush sends every queued delivery once, in order, and returns the
// results. Nothing is sent while a lock is held, so receivers may call back
// into the server. A failed delivery (transport error, non-2xx) is queued
// again for the next Flush until Options.MaxAttempts, with the same event
// id. Deliveries for a subscription deleted or paused meanwhile are
// dropped. When ctx ends, the unsent rest stays queued.
func (s *Server) Flush(ctx context.Context) []DeliveryResult {
	return fakevendor.Flush(ctx, &s.outbox, s.opts.MaxAttempts, s.send)
}

// send makes one attempt of d for Flush, unless its subscription is gone
// or paused.
func (s *Server) send(ctx context.Context, d *delivery, attempt int, retry bool) (DeliveryResult, bool, bool) {
	s.mu.Lock()
	var sub Subscription
	j := slices.IndexFunc(s.subs, func(x *Subscription) bool { return x.ID == d.subID })
	if j >= 0 {
		sub = *s.subs[j]
	}
	now := s.clock.Now()
	s.mu.Unlock()
	if j < 0 || sub.Status != "active" {
		return DeliveryResult{}, false, false
	}
	res := s.deliver(ctx, sub, d, attempt, now)
	res.Requeued = res.Err != nil && retry
	return res, true, res.Err != nil
}

// deliver posts one signed attempt.
func (s *Server) deliver(ctx context.Context, sub Subscription, d *delivery, attempt int, now time.Time) DeliveryResult {
	res := DeliveryResult{
		SubscriptionID: sub.ID, URL: sub.URL, EventID: d.event.ID, ObjectType: d.event.ObjectType,
		ObjectID: d.event.ObjectID, Action: d.event.Action, Attempt: attempt,
	}
	body, err := WebhookBody(sub.ID, d.event)
	if err != nil {
		res.Err = err
		return res
	}
	res.Body = body
	// The timestamp is the signing time (the research notes: "it looks like
	// the signing time"), from the fake clock so tests can check replay
	// windows.
	res.Timestamp = strconv.FormatInt(now.Unix(), 10)
	res.Signature = Sign(sub.SignatureKey, res.Timestamp, body)
	res.StatusCode, res.Err = fakevendor.Post(ctx, s.opts.HTTPClient, sub.URL, body, "fakeclose", func(req *http.Request) {
		req.Header.Set("close-sig-hash", res.Signature)
		req.Header.Set("close-sig-timestamp", res.Timestamp)
	})
	return res
}

// WebhookBody builds the body Close posts to a subscription:
// {"event":{…},"subscription_id":"whsub_…"}.
func WebhookBody(subscriptionID string, ev Event) ([]byte, error) {
	return json.Marshal(struct {
		Event          Event  `json:"event"`
		SubscriptionID string `json:"subscription_id"`
	}{ev, subscriptionID})
}

// Sign returns the close-sig-hash of a body: the lowercase hex
// HMAC-SHA256, keyed with the hex-decoded signature key, of the timestamp
// string immediately followed by the raw body. It returns "" when keyHex is
// not hex.
func Sign(keyHex, ts string, body []byte) string {
	key, err := hex.DecodeString(keyHex)
	if err != nil {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports, in constant time, whether sig is the close-sig-hash of
// body at timestamp ts under keyHex.
func Verify(keyHex, ts, sig string, body []byte) bool {
	want := Sign(keyHex, ts, body)
	return want != "" && hmac.Equal([]byte(want), []byte(sig))
}
