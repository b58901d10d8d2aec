// Package pipedrive is eventdesk's Pipedrive adapter: it normalizes webhook
// bodies (v2 and legacy v1) into model.Event values and registers and deletes
// webhook subscriptions through Pipedrive's API.
package pipedrive

import (
	"encoding/json"
	"strings"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/vendorjson"
)

// ElementKey and HubKey are the element's catalogue key and hub.
const (
	ElementKey = "pipedrive"
	HubKey     = "crm"
)

// UnknownObject is the ObjectType of an event whose object cannot be told.
const UnknownObject = "unknown"

var element, _ = model.LookupElement(ElementKey)

// object is a webhook body's JSON object, values kept raw so that ids keep
// every digit (see vendorjson.Object).
type object = vendorjson.Object

// HubResource names the hub resource for a Pipedrive object (organization →
// accounts, person → contacts, deal → opportunities, lead → leads) and
// returns any other object name unchanged.
func HubResource(vendorObject string) string {
	return element.HubResource(vendorObject)
}

// VendorObject is HubResource's inverse: the Pipedrive object for a hub
// resource ("contacts" → "person", true). An unmapped name is returned
// unchanged with ok false, so it can be used as the vendor's own name.
func VendorObject(resource string) (string, bool) {
	return element.VendorObject(resource)
}

// actions maps v2 verbs (create/change/delete) and v1 verbs
// (added/updated/merged/deleted) to event types.
var actions = map[string]model.EventType{
	"create":  model.Created,
	"added":   model.Created,
	"change":  model.Updated,
	"updated": model.Updated,
	"merged":  model.Updated,
	"delete":  model.Deleted,
	"deleted": model.Deleted,
}

func eventType(action string) model.EventType {
	if t, ok := actions[action]; ok {
		return t
	}
	return model.Unknown
}

// Normalize turns one Pipedrive webhook body into events (always one: a
// Pipedrive body carries one change). Invalid JSON gives an error wrapping
// the *json.SyntaxError; valid JSON of an unknown shape, or with an unknown
// action, gives one UNKNOWN event rather than nothing.
//
// Filled: ElementKey, HubKey, Source (webhook), ObjectType (hub resource
// name where mapped), ObjectID, EventType, Date (zero when unknown),
// VendorEventID (empty when the body has none) and Raw (body itself, not
// copied). ID, InstanceID and ReceivedAt are the caller's.
func Normalize(body []byte) ([]model.Event, error) {
	if err := vendorjson.CheckJSON(ElementKey, body); err != nil {
		return nil, err
	}
	ev := model.Event{
		ElementKey: ElementKey,
		HubKey:     HubKey,
		Source:     model.SourceWebhook,
		ObjectType: UnknownObject,
		EventType:  model.Unknown,
		Raw:        json.RawMessage(body),
	}
	// CheckJSON has validated the body, so no part of it needs checking
	// again; and only the members read below are collected.
	top, ok := vendorjson.ValidObject(body, topKeys...)
	if ok {
		meta, _ := vendorjson.ValidObject(top["meta"], metaKeys...)
		switch {
		case isV2(meta):
			normalizeV2(&ev, meta)
		case top.Has("v") || top.Has("event") || top.Has("current"):
			normalizeV1(&ev, top, meta)
		default:
			guess(&ev, meta)
		}
	}
	if ev.ObjectType == "" {
		ev.ObjectType = UnknownObject
	}
	return []model.Event{ev}, nil
}

// topKeys and metaKeys are every member of the body and of its meta that
// Normalize and the functions below read: add to them when reading more.
var (
	topKeys  = []string{"meta", "v", "event", "current", "previous"}
	metaKeys = []string{"version", "entity", "action", "entity_id", "id", "timestamp", "object", "timestamp_micro", "webhook_id"}
)

func isV2(meta object) bool {
	v, _ := meta.Str("version")
	return v == "2.0"
}

// normalizeV2 reads a webhooks v2 body: everything is in meta.
func normalizeV2(ev *model.Event, meta object) {
	entity, _ := meta.Str("entity")
	action, _ := meta.Str("action")
	ev.ObjectType = HubResource(entity)
	ev.ObjectID, _ = meta.Str("entity_id")
	ev.EventType = eventType(action)
	ev.Date = vendorjson.ParseTime(meta["timestamp"])
	id, _ := meta.Str("id")
	if id != "" && id == ev.ObjectID {
		// For the user entity meta.id is the user's id, not an event id, so
		// alone it would make every later change of that user look like a
		// retry. The change time and action tell changes apart; a retry
		// repeats them.
		ts, _ := meta.Str("timestamp")
		id = "v2:" + entity + ":" + id + ":" + action + ":" + ts
	}
	ev.VendorEventID = id
}

// normalizeV1 reads a legacy v1 body: meta.object, meta.id (an integer) and
// meta.action, or the top-level event "action.object".
func normalizeV1(ev *model.Event, top, meta object) {
	action, _ := meta.Str("action")
	obj, _ := meta.Str("object")
	if e, ok := top.Str("event"); ok {
		a, o, _ := strings.Cut(e, ".")
		if action == "" {
			action = a
		}
		if obj == "" {
			obj = o
		}
	}
	ev.ObjectType = HubResource(obj)
	ev.EventType = eventType(action)
	id, ok := meta.Str("id")
	if !ok {
		id = recordID(top, "current", "previous")
	}
	ev.ObjectID = id

	stamp, ok := meta.Str("timestamp_micro")
	if ok {
		ev.Date = vendorjson.ParseTime(meta["timestamp_micro"])
	} else {
		stamp, _ = meta.Str("timestamp")
		ev.Date = vendorjson.ParseTime(meta["timestamp"])
	}
	hook, _ := meta.Str("webhook_id")
	if hook != "" && id != "" && action != "" && stamp != "" {
		ev.VendorEventID = "v1:" + hook + ":" + id + ":" + action + ":" + stamp
	}
}

// recordID finds the id of the record in the first of keys that holds an
// object, or an array of them (v1 user bodies use [record]).
func recordID(top object, keys ...string) string {
	for _, k := range keys {
		raw := top[k]
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			raw = list[0]
		}
		if rec, ok := vendorjson.AsObject(raw); ok {
			if id, ok := rec.Str("id"); ok {
				return id
			}
		}
	}
	return ""
}

// guess fills what it can from a body of no known shape; the event stays
// UNKNOWN.
func guess(ev *model.Event, meta object) {
	for _, k := range []string{"entity", "object"} {
		if s, ok := meta.Str(k); ok && s != "" {
			ev.ObjectType = HubResource(s)
			break
		}
	}
	ev.ObjectID, _ = meta.Str("entity_id")
}
