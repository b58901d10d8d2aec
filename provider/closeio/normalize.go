// Package closeio is eventdesk's Close (close.com) adapter: it normalizes
// webhook bodies (current and legacy formats) into model.Event values and
// registers and deletes webhook subscriptions through Close's API.
package closeio

import (
	"encoding/json"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/vendorjson"
)

// ElementKey and HubKey are the element's catalogue key and hub.
const (
	ElementKey = "closeio"
	HubKey     = "crm"
)

// UnknownObject is the ObjectType of an event whose object cannot be told.
const UnknownObject = "unknown"

var element, _ = model.LookupElement(ElementKey)

// object is a webhook body's JSON object, values kept raw so that ids keep
// every digit (see vendorjson.Object).
type object = vendorjson.Object

// HubResource names the hub resource for a Close object (contact →
// contacts, lead → leads, opportunity → opportunities) and returns any other
// object name unchanged.
func HubResource(vendorObject string) string {
	return element.HubResource(vendorObject)
}

// VendorObject is HubResource's inverse: the Close object for a hub resource
// ("contacts" → "contact", true). An unmapped name is returned unchanged with
// ok false, so it can be used as the vendor's own name.
func VendorObject(resource string) (string, bool) {
	return element.VendorObject(resource)
}

// actions maps current (created/…) and legacy (create/…) verbs to event
// types; a merge updates the destination object.
var actions = map[string]model.EventType{
	"created": model.Created,
	"create":  model.Created,
	"updated": model.Updated,
	"update":  model.Updated,
	"merged":  model.Updated,
	"merge":   model.Updated,
	"deleted": model.Deleted,
	"delete":  model.Deleted,
}

func eventType(action string) model.EventType {
	if t, ok := actions[action]; ok {
		return t
	}
	return model.Unknown
}

// Normalize turns one Close webhook body into events (always one: a Close
// body carries one change). Invalid JSON gives an error wrapping the
// *json.SyntaxError; valid JSON of an unknown shape, or with an unknown
// action, gives one UNKNOWN event rather than nothing.
//
// Filled: ElementKey, HubKey, Source (webhook), ObjectType (hub resource
// name where mapped), ObjectID, EventType, Date (UTC; zero when unknown),
// VendorEventID (event.id; empty for the legacy format) and Raw (body
// itself, not copied). ID, InstanceID and ReceivedAt are the caller's.
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
	// CheckJSON has validated the body: no need to validate it again.
	if top, ok := vendorjson.ValidObject(body); ok {
		event, isEvent := top.Obj("event")
		legacyModel, isLegacyModel := top.Text("model")
		legacyAction, isLegacyAction := top.Text("event")
		switch {
		case isEvent && top.Has("subscription_id"):
			normalizeEvent(&ev, event)
		case isLegacyModel && isLegacyAction:
			normalizeLegacy(&ev, top, legacyModel, legacyAction)
		default:
			guess(&ev, top, event)
		}
	}
	if ev.ObjectType == "" {
		ev.ObjectType = UnknownObject
	}
	return []model.Event{ev}, nil
}

// normalizeEvent reads the current format {"event":{…},"subscription_id":…}.
func normalizeEvent(ev *model.Event, event object) {
	typ, _ := event.Str("object_type")
	action, _ := event.Str("action")
	ev.ObjectType = HubResource(typ)
	ev.EventType = eventType(action)
	ev.ObjectID, _ = event.Str("object_id")
	if ev.ObjectID == "" {
		ev.ObjectID = dataID(event, "data", "previous_data")
	}
	ev.VendorEventID, _ = event.Str("id")
	ev.Date = vendorjson.ParseTime(event["date_updated"])
	if ev.Date.IsZero() {
		ev.Date = vendorjson.ParseTime(event["date_created"])
	}
}

// normalizeLegacy reads {"model":…,"event":"create|update|delete|merge",
// "data":{…}}; a merge names the destination object.
func normalizeLegacy(ev *model.Event, top object, vendorObject, action string) {
	ev.ObjectType = HubResource(vendorObject)
	ev.EventType = eventType(action)
	data, _ := top.Obj("data")
	if action == "merge" {
		ev.ObjectID, _ = data.Str("destination_id")
	}
	if ev.ObjectID == "" {
		ev.ObjectID, _ = data.Str("id")
	}
	ev.Date = vendorjson.ParseTime(data["date_updated"])
	if ev.Date.IsZero() {
		ev.Date = vendorjson.ParseTime(data["date_created"])
	}
}

func dataID(o object, keys ...string) string {
	for _, k := range keys {
		if d, ok := o.Obj(k); ok {
			if id, ok := d.Str("id"); ok && id != "" {
				return id
			}
		}
	}
	return ""
}

// guess fills what it can from a body of no known shape; the event stays
// UNKNOWN.
func guess(ev *model.Event, top, event object) {
	if typ, ok := event.Str("object_type"); ok && typ != "" {
		ev.ObjectType = HubResource(typ)
		ev.ObjectID, _ = event.Str("object_id")
		return
	}
	if m, ok := top.Text("model"); ok && m != "" {
		ev.ObjectType = HubResource(m)
	}
}
