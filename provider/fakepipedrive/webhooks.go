package fakepipedrive

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/provider/fakevendor"
)

// Webhook is a webhook subscription, in the shape of POST /v1/webhooks'
// answer (field for field the documented 201 example; nil pointers are
// JSON nulls).
type Webhook struct {
	ID               int64   `json:"id"`
	CompanyID        int64   `json:"company_id"`
	OwnerID          int64   `json:"owner_id"`
	UserID           int64   `json:"user_id"`
	EventAction      string  `json:"event_action"` // create|change|delete|* (or a v1 action)
	EventObject      string  `json:"event_object"` // person, deal, ... or *
	SubscriptionURL  string  `json:"subscription_url"`
	Version          string  `json:"version"` // "1.0" or "2.0" (the default)
	IsActive         int     `json:"is_active"`
	AddTime          string  `json:"add_time"`
	RemoveTime       *string `json:"remove_time"`
	Type             string  `json:"type"`
	HTTPAuthUser     *string `json:"http_auth_user"`     // Basic auth user sent with deliveries
	HTTPAuthPassword *string `json:"http_auth_password"` // Basic auth password sent with deliveries
	RemoveReason     *string `json:"remove_reason"`
	LastDeliveryTime *string `json:"last_delivery_time"` // set by Flush
	LastHTTPStatus   *int    `json:"last_http_status"`   // set by Flush (0: no answer)
	AdminID          int64   `json:"admin_id"`
	Name             string  `json:"name"`
}

// webhookActions and webhookObjects are the accepted enums; the v1-era
// actions are accepted too, as Pipedrive still does for version 1.0.
var (
	webhookActions = []string{"create", "change", "delete", "*", "added", "updated", "deleted", "merged"}
	webhookObjects = []string{"activity", "activityType", "deal", "lead", "note", "organization", "person",
		"pipeline", "product", "stage", "user", "*"}
)

// v1Action maps a v2 action to its v1 name.
func v1Action(a string) string {
	switch a {
	case "create":
		return "added"
	case "change":
		return "updated"
	case "delete":
		return "deleted"
	}
	return a
}

// matches reports whether the subscription wants this event.
func (h *Webhook) matches(entity, action string) bool {
	if h.EventObject != "*" && h.EventObject != entity {
		return false
	}
	if h.Version == "1.0" && entity == KindLead { // v1 has no lead object
		return false
	}
	return h.EventAction == "*" || h.EventAction == action || h.EventAction == v1Action(action)
}

// Webhooks returns the current subscriptions.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, len(s.hooks))
	for i, h := range s.hooks {
		out[i] = *h
	}
	return out
}

// statusEnvelope is the {"status","success",...} envelope of the webhooks
// API, as a struct to keep the documented key order.
type statusEnvelope struct {
	Status  string              `json:"status"`
	Success bool                `json:"success"`
	Errors  map[string][]string `json:"errors,omitempty"`
	Data    any                 `json:"data,omitempty"`
}

// webhookErrors answers Pipedrive's validation error shape.
func webhookErrors(w http.ResponseWriter, status int, errs map[string][]string) {
	writeJSON(w, status, statusEnvelope{Status: "error", Errors: errs})
}

// optString reads an optional, nullable string field.
func optString(m map[string]any, k string) *string {
	switch v := m[k].(type) {
	case string:
		return &v
	case json.Number:
		s := v.String()
		return &s
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		return &s
	}
	return nil
}

// handleCreateWebhook serves POST /v1/webhooks.
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *request) {
	m, err := parseBody(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	str := func(k string) string {
		if p := optString(m, k); p != nil {
			return *p
		}
		return ""
	}
	errs := map[string][]string{}
	sub := str("subscription_url")
	if u, err := url.Parse(sub); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.HasSuffix(u.Hostname(), "pipedrive.com") {
		errs["subscription_url"] = []string{"invalid or non-reachable URL"}
	}
	action, object := str("event_action"), str("event_object")
	if !slices.Contains(webhookActions, action) {
		errs["event_action"] = []string{"must be one of create, change, delete, *"}
	}
	if !slices.Contains(webhookObjects, object) {
		errs["event_object"] = []string{"must be one of " + strings.Join(webhookObjects, ", ")}
	}
	name := str("name")
	if name == "" || len(name) > 255 {
		errs["name"] = []string{"is required and must be at most 255 characters"}
	}
	version := str("version")
	switch version {
	case "":
		version = "2.0" // the default since 2025-03-17
	case "1.0", "2.0":
	default:
		errs["version"] = []string{"must be one of 1.0, 2.0"}
	}
	userID := s.opts.UserID
	if v := str("user_id"); v != "" {
		n, ok := parsePositive(v)
		if !ok {
			errs["user_id"] = []string{"must be an integer"}
		}
		userID = n
	}
	if len(errs) > 0 {
		webhookErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.mu.Lock()
	h := &Webhook{
		ID: s.nextHook, CompanyID: s.opts.CompanyID, OwnerID: s.opts.UserID, UserID: userID,
		EventAction: action, EventObject: object, SubscriptionURL: sub, Version: version, IsActive: 1,
		AddTime: r.now.UTC().Format("2006-01-02T15:04:05.000Z"), Type: "general",
		HTTPAuthUser: optString(m, "http_auth_user"), HTTPAuthPassword: optString(m, "http_auth_password"),
		AdminID: s.opts.UserID, Name: name,
	}
	s.nextHook++
	s.hooks = append(s.hooks, h)
	out := *h
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, statusEnvelope{Status: "ok", Success: true, Data: out})
}

// handleListWebhooks serves GET /v1/webhooks.
func (s *Server) handleListWebhooks(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, statusEnvelope{Status: "ok", Success: true, Data: s.Webhooks()})
}

// handleDeleteWebhook serves DELETE /v1/webhooks/{id}. Deliveries still
// queued for it are dropped when Flush reaches them.
func (s *Server) handleDeleteWebhook(w http.ResponseWriter, id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	i := slices.IndexFunc(s.hooks, func(h *Webhook) bool { return h.ID == n })
	if i >= 0 {
		s.hooks = slices.Delete(s.hooks, i, i+1)
	}
	s.mu.Unlock()
	if i < 0 {
		webhookErrors(w, http.StatusNotFound, map[string][]string{"id": {"not found"}})
		return
	}
	writeJSON(w, http.StatusOK, statusEnvelope{Status: "ok", Success: true})
}

// delivery is one queued webhook push; the outbox counts its attempts.
// Bodies are built at send time because attempt (v2) and retry (v1) change
// between attempts; meta.id and correlation_id stay, so receivers can
// dedupe retries.
type delivery struct {
	hookID        int64
	entity        string
	action        string // create | change | delete
	entityID      string
	data          []byte // v2 data; nil for delete
	previous      []byte // v2 previous: changed fields, or the last state on delete
	prevFull      []byte // v1 previous: the full old object
	eventID       string
	correlationID string
	at            time.Time
}

// enqueue queues a delivery per matching subscription. Called with s.mu
// held; nothing is sent here.
func (s *Server) enqueue(entity, action, id string, data, previous, prevFull []byte) {
	if len(s.hooks) == 0 {
		return
	}
	at := s.clock.Now().UTC()
	corr := s.uuid()
	for _, h := range s.hooks {
		if !h.matches(entity, action) {
			continue
		}
		s.outbox.Add(&delivery{
			hookID: h.ID, entity: entity, action: action, entityID: id,
			data: data, previous: previous, prevFull: prevFull,
			eventID: s.uuid(), correlationID: corr, at: at,
		})
	}
}

// kick wakes the AutoDeliver goroutine, if there is one.
func (s *Server) kick() { s.pump.Kick() }

// Pending returns how many deliveries are queued.
func (s *Server) Pending() int { return s.outbox.Len() }

// DeliveryResult reports one delivery attempt.
type DeliveryResult struct {
	// WebhookID is the subscription's id.
	WebhookID int64
	// URL is the subscription URL posted to.
	URL string
	// Version is the subscription's webhook version, "1.0" or "2.0".
	Version string
	// Action is the v2 action (create, change, delete).
	Action string
	// Entity and EntityID name the changed record.
	Entity, EntityID string
	// Attempt counts from 1.
	Attempt int
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
// again for the next Flush until Options.MaxAttempts. Deliveries of a
// subscription deleted meanwhile are dropped, as at Pipedrive. When ctx
// ends, the unsent rest stays queued.
func (s *Server) Flush(ctx context.Context) []DeliveryResult {
	return fakevendor.Flush(ctx, &s.outbox, s.opts.MaxAttempts, s.send)
}

// send makes one attempt of d for Flush and records its outcome on the
// subscription (last_delivery_time, last_http_status).
func (s *Server) send(ctx context.Context, d *delivery, attempt int, retry bool) (DeliveryResult, bool, bool) {
	s.mu.Lock()
	var hook Webhook
	found := false
	if j := slices.IndexFunc(s.hooks, func(h *Webhook) bool { return h.ID == d.hookID }); j >= 0 {
		hook, found = *s.hooks[j], true
	}
	s.mu.Unlock()
	if !found {
		return DeliveryResult{}, false, false
	}
	res := s.deliver(ctx, hook, d, attempt)
	s.mu.Lock()
	if j := slices.IndexFunc(s.hooks, func(h *Webhook) bool { return h.ID == d.hookID }); j >= 0 {
		t := s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		st := res.StatusCode
		s.hooks[j].LastDeliveryTime, s.hooks[j].LastHTTPStatus = &t, &st
	}
	s.mu.Unlock()
	res.Requeued = res.Err != nil && retry
	return res, true, res.Err != nil
}

// deliver posts one attempt.
func (s *Server) deliver(ctx context.Context, h Webhook, d *delivery, attempt int) DeliveryResult {
	res := DeliveryResult{
		WebhookID: h.ID, URL: h.SubscriptionURL, Version: h.Version, Action: d.action,
		Entity: d.entity, EntityID: d.entityID, Attempt: attempt,
	}
	var err error
	if h.Version == "1.0" {
		objID, _ := strconv.ParseInt(d.entityID, 10, 64)
		var current, previous any
		if d.action != "delete" {
			current = toV1(d.data)
		}
		if d.action != "create" {
			previous = toV1(d.prevFull)
		}
		res.Body, err = WebhookV1Body(V1Meta{
			Action: v1Action(d.action), Object: d.entity, ID: objID, CompanyID: s.opts.CompanyID,
			UserID: s.opts.UserID, Host: s.host(), Timestamp: d.at, WebhookID: h.ID, ChangeSource: "api",
			PermittedUserIDs: []int64{s.opts.UserID}, Retry: attempt - 1,
		}, current, previous)
	} else {
		uid := strconv.FormatInt(s.opts.UserID, 10)
		res.Body, err = WebhookV2Body(V2Meta{
			Action: d.action, Entity: d.entity, EntityID: d.entityID, ID: d.eventID, CorrelationID: d.correlationID,
			CompanyID: strconv.FormatInt(s.opts.CompanyID, 10), UserID: uid,
			WebhookID: strconv.FormatInt(h.ID, 10), WebhookOwnerID: strconv.FormatInt(h.OwnerID, 10),
			Timestamp: d.at, Attempt: attempt, Host: s.host(), ChangeSource: "api",
			PermittedUserIDs: []string{uid},
		}, json.RawMessage(d.data), json.RawMessage(d.previous))
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.StatusCode, res.Err = fakevendor.Post(ctx, s.opts.HTTPClient, h.SubscriptionURL, res.Body, "fakepipedrive", func(req *http.Request) {
		req.Header.Set("User-Agent", "Pipedrive-Webhook")
		if (h.HTTPAuthUser != nil && *h.HTTPAuthUser != "") || (h.HTTPAuthPassword != nil && *h.HTTPAuthPassword != "") {
			var u, p string
			if h.HTTPAuthUser != nil {
				u = *h.HTTPAuthUser
			}
			if h.HTTPAuthPassword != nil {
				p = *h.HTTPAuthPassword
			}
			req.SetBasicAuth(u, p)
		}
	})
	return res
}

// toV1 converts a stored (v2-shaped) record into the v1 shape webhooks v1
// carry: times as "YYYY-MM-DD HH:MM:SS" and custom fields flattened.
func toV1(body []byte) any {
	if len(body) == 0 {
		return nil
	}
	m := decodeBody(body)
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_time") {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				m[k] = t.UTC().Format(time.DateTime)
			}
		}
	}
	if cf, ok := m["custom_fields"].(map[string]any); ok {
		delete(m, "custom_fields")
		for k, v := range cf {
			if typed, ok := v.(map[string]any); ok {
				if val, ok := typed["value"]; ok {
					v = val
				}
			}
			m[k] = v
		}
	}
	return m
}

// V2Meta is the meta object of a webhooks v2 body. Zero fields get
// defaults: Version "2.0", Type "general", Attempt 1, ChangeSource "app",
// random ID and CorrelationID, Timestamp now.
type V2Meta struct {
	Action           string // create | change | delete
	Entity           string // person, deal, ...
	EntityID         string
	ID               string // event UUID
	CorrelationID    string
	CompanyID        string
	UserID           string
	WebhookID        string
	WebhookOwnerID   string
	Timestamp        time.Time
	IntegerTimestamp bool // send unix seconds, as Pipedrive does for the user entity
	Attempt          int
	Host             string
	ChangeSource     string
	IsBulkEdit       bool
	Type             string
	Version          string
	PermittedUserIDs []string // omitted when empty, as for the user entity
	MergedToID       string   // on the delete half of a merge
	MergedFromID     string   // on the change half of a merge
}

// v2MetaJSON fixes the field order of the documented "Update person"
// example.
type v2MetaJSON struct {
	Action           string          `json:"action"`
	CompanyID        string          `json:"company_id"`
	CorrelationID    string          `json:"correlation_id"`
	EntityID         string          `json:"entity_id"`
	Entity           string          `json:"entity"`
	ID               string          `json:"id"`
	IsBulkEdit       bool            `json:"is_bulk_edit"`
	Timestamp        json.RawMessage `json:"timestamp"`
	Type             string          `json:"type"`
	UserID           string          `json:"user_id"`
	Version          string          `json:"version"`
	WebhookID        string          `json:"webhook_id"`
	WebhookOwnerID   string          `json:"webhook_owner_id"`
	ChangeSource     string          `json:"change_source"`
	Attempt          int             `json:"attempt"`
	Host             string          `json:"host"`
	PermittedUserIDs []string        `json:"permitted_user_ids,omitempty"`
	MergedToID       string          `json:"merged_to_id,omitempty"`
	MergedFromID     string          `json:"merged_from_id,omitempty"`
}

// rawJSON turns data into raw JSON: nil and empty byte slices are null,
// []byte and json.RawMessage are used as they are, anything else is
// marshalled.
func rawJSON(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case nil:
		return json.RawMessage("null"), nil
	case json.RawMessage:
		if len(x) == 0 {
			return json.RawMessage("null"), nil
		}
		return x, nil
	case []byte:
		if len(x) == 0 {
			return json.RawMessage("null"), nil
		}
		return x, nil
	}
	return json.Marshal(v)
}

// randomUUID is for the builders, which have no server and need no
// reproducibility.
func randomUUID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	return formatUUID(b)
}

// WebhookV2Body builds a webhooks v2 body {"data","previous","meta"}, as
// Pipedrive sends it (see the "Update person" example of the migration
// guide). data and previous may be nil (null), raw JSON or any value to
// marshal: for create previous is nil, for change it holds only the changed
// fields' old values, for delete data is nil and previous the last state.
func WebhookV2Body(meta V2Meta, data, previous any) ([]byte, error) {
	d, err := rawJSON(data)
	if err != nil {
		return nil, err
	}
	p, err := rawJSON(previous)
	if err != nil {
		return nil, err
	}
	m := v2MetaJSON{
		Action: meta.Action, CompanyID: meta.CompanyID, CorrelationID: meta.CorrelationID,
		EntityID: meta.EntityID, Entity: meta.Entity, ID: meta.ID, IsBulkEdit: meta.IsBulkEdit,
		Type: meta.Type, UserID: meta.UserID, Version: meta.Version, WebhookID: meta.WebhookID,
		WebhookOwnerID: meta.WebhookOwnerID, ChangeSource: meta.ChangeSource, Attempt: meta.Attempt,
		Host: meta.Host, PermittedUserIDs: meta.PermittedUserIDs,
		MergedToID: meta.MergedToID, MergedFromID: meta.MergedFromID,
	}
	if m.ID == "" {
		m.ID = randomUUID()
	}
	if m.CorrelationID == "" {
		m.CorrelationID = randomUUID()
	}
	if m.Type == "" {
		m.Type = "general"
	}
	if m.Version == "" {
		m.Version = "2.0"
	}
	if m.Attempt == 0 {
		m.Attempt = 1
	}
	if m.ChangeSource == "" {
		m.ChangeSource = "app"
	}
	ts := meta.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	if meta.IntegerTimestamp {
		m.Timestamp = strconv.AppendInt(nil, ts.Unix(), 10)
	} else {
		m.Timestamp = fakevendor.AppendJSONString(nil, ts.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	return json.Marshal(struct {
		Data     json.RawMessage `json:"data"`
		Previous json.RawMessage `json:"previous"`
		Meta     v2MetaJSON      `json:"meta"`
	}{d, p, m})
}

// V1Meta is the meta object of a webhooks v1 body. Zero Timestamp means
// now and zero ChangeSource "app".
type V1Meta struct {
	Action           string // added | updated | deleted | merged
	Object           string // deal, person, ...
	ID               int64  // the object's id
	CompanyID        int64
	UserID           int64
	Host             string
	Timestamp        time.Time
	WebhookID        int64
	ChangeSource     string
	PermittedUserIDs []int64
	IsBulkUpdate     bool
	Retry            int // 0 on the first attempt, up to 3
}

// WebhookV1Body builds a legacy webhooks v1 body with "v":1, "event":
// "<action>.<object>", meta, retry, current and previous (each nil, raw
// JSON or a value to marshal).
func WebhookV1Body(meta V1Meta, current, previous any) ([]byte, error) {
	c, err := rawJSON(current)
	if err != nil {
		return nil, err
	}
	p, err := rawJSON(previous)
	if err != nil {
		return nil, err
	}
	ts := meta.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	cs := meta.ChangeSource
	if cs == "" {
		cs = "app"
	}
	permitted := meta.PermittedUserIDs
	if permitted == nil {
		permitted = []int64{}
	}
	type filters struct {
		Current  []any `json:"current"`
		Previous []any `json:"previous"`
	}
	type v1meta struct {
		V                    int     `json:"v"`
		Action               string  `json:"action"`
		Object               string  `json:"object"`
		ChangeSource         string  `json:"change_source"`
		ID                   int64   `json:"id"`
		CompanyID            int64   `json:"company_id"`
		UserID               int64   `json:"user_id"`
		Host                 string  `json:"host"`
		Timestamp            int64   `json:"timestamp"`
		TimestampMicro       int64   `json:"timestamp_micro"`
		PermittedUserIDs     []int64 `json:"permitted_user_ids"`
		TransPending         bool    `json:"trans_pending"`
		IsBulkUpdate         bool    `json:"is_bulk_update"`
		PipedriveServiceName bool    `json:"pipedrive_service_name"`
		MatchesFilters       filters `json:"matches_filters"`
		WebhookID            int64   `json:"webhook_id"`
	}
	empty := filters{Current: []any{}, Previous: []any{}}
	return json.Marshal(struct {
		V              int             `json:"v"`
		MatchesFilters filters         `json:"matches_filters"`
		Meta           v1meta          `json:"meta"`
		Retry          int             `json:"retry"`
		Current        json.RawMessage `json:"current"`
		Previous       json.RawMessage `json:"previous"`
		Event          string          `json:"event"`
	}{
		V: 1, MatchesFilters: empty,
		Meta: v1meta{
			V: 1, Action: meta.Action, Object: meta.Object, ChangeSource: cs, ID: meta.ID,
			CompanyID: meta.CompanyID, UserID: meta.UserID, Host: meta.Host,
			Timestamp: ts.Unix(), TimestampMicro: ts.UnixMicro(), PermittedUserIDs: permitted,
			IsBulkUpdate: meta.IsBulkUpdate, MatchesFilters: empty, WebhookID: meta.WebhookID,
		},
		Retry: meta.Retry, Current: c, Previous: p, Event: meta.Action + "." + meta.Object,
	})
}
