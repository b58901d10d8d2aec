package model

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Instance is an element instance: one connection to one vendor account,
// with its configuration and event settings.
type Instance struct {
	ID            int64             `json:"id"`
	Name          string            `json:"name"`
	Token         string            `json:"token"`
	ElementKey    string            `json:"elementKey"`
	Configuration map[string]string `json:"configuration"`
	Tags          []string          `json:"tags"`
	CreatedAt     time.Time         `json:"createdAt"`
	UpdatedAt     time.Time         `json:"updatedAt"`
	// EventsEnabledAt is when events were last switched on; the first poll
	// looks for changes from here, so enabling never floods history.
	EventsEnabledAt time.Time `json:"eventsEnabledAt,omitzero"`
	// NotificationsOff, when set, says why callbacks stopped (a 410 Gone).
	NotificationsOff string `json:"notificationsOff,omitempty"`
	// Disabled stops polling and holds notifications until re-enabled.
	Disabled bool `json:"disabled,omitempty"`
}

// ElementRef is the {"key": …} object of an instance request.
type ElementRef struct {
	Key string `json:"key"`
}

// InstanceRequest is the body of POST and PATCH /instances, and the
// instance.json file of the seeds. Configuration values may be strings,
// booleans, numbers, null or (for the poller configuration and callback
// headers) JSON objects; they are stored as strings as CE does.
type InstanceRequest struct {
	Element       *ElementRef                `json:"element,omitempty"`
	Configuration map[string]json.RawMessage `json:"configuration,omitempty"`
	Tags          *[]string                  `json:"tags,omitempty"`
	Name          *string                    `json:"name,omitempty"`
	// ProviderData is accepted for compatibility with CE's OAuth flow and ignored.
	ProviderData json.RawMessage `json:"providerData,omitempty"`
	// Disabled is CE's instance switch: true stops polling and holds
	// notifications; absent leaves it as it is.
	Disabled *bool `json:"disabled,omitempty"`
}

// InstanceRequestFields are the fields an instance request may have, for
// messages about a field that is not one of them.
var InstanceRequestFields = []string{"element", "name", "tags", "configuration", "disabled", "providerData"}

// EventsEnabled reports whether event.notification.enabled is true.
func (in Instance) EventsEnabled() bool {
	return isTrue(in.Configuration[KeyEventsEnabled])
}

// VendorType is "polling" or "webhook"; webhooks is what CE assumes absent
// any choice, and receiving webhooks needs no configuration.
func (in Instance) VendorType() string {
	switch strings.ToLower(strings.TrimSpace(in.Configuration[KeyVendorType])) {
	case "polling":
		return "polling"
	default:
		return "webhook"
	}
}

// Polling reports whether the scheduler should poll this instance: events
// on, the polling vendor type, and the instance not disabled.
func (in Instance) Polling() bool {
	return !in.Disabled && in.EventsEnabled() && in.VendorType() == "polling"
}

// CallbackURL is where notifications go; empty means none are sent.
func (in Instance) CallbackURL() string {
	return strings.TrimSpace(in.Configuration[KeyCallbackURL])
}

// RefreshInterval is the poll period; invalid values were refused on save, so
// the default covers only hand-edited data.
func (in Instance) RefreshInterval() time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(in.Configuration[KeyRefreshInterval]))
	if err != nil || n < 1 {
		n = 15
	}
	return time.Duration(n) * time.Minute
}

// Poller returns the parsed poller configuration.
func (in Instance) Poller() (PollerConfig, error) {
	raw := in.Configuration[KeyPollerConfiguration]
	if strings.TrimSpace(raw) == "" {
		return PollerConfig{}, nil
	}
	pc, probs := ParsePollerConfig([]byte(raw))
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return pc, nil
}

// KeepsPollerResource reports whether poll state of resource still belongs
// to in: its poller configuration names resource, or cannot be parsed (then
// nothing is known to be gone). It answers as
//
//	pc, err := in.Poller()
//	return err != nil || pc has resource
//
// but reads only the configuration's top-level keys when they name
// resource, the common case; the full parse (URL templates, where clauses,
// date patterns) runs only for a name they lack, to learn whether the
// configuration is refused.
func (in Instance) KeepsPollerResource(resource string) bool {
	return len(in.DroppedPollerResources([]string{resource})) == 0
}

// DroppedPollerResources returns, in order, those of resources whose poll
// state no longer belongs to in (KeepsPollerResource is false for them). The
// configuration is parsed in full at most once, and only when its top-level
// keys lack one of resources.
func (in Instance) DroppedPollerResources(resources []string) []string {
	names, ok := in.pollerResourceNames()
	if !ok {
		return nil
	}
	var dropped []string
	for _, r := range resources {
		if !names[r] {
			dropped = append(dropped, r)
		}
	}
	if len(dropped) == 0 {
		return nil
	}
	// Keys that read fine may still be refused for a resource's fields;
	// then nothing is known to be gone.
	if _, err := in.Poller(); err != nil {
		return nil
	}
	return dropped
}

// pollerResourceNames returns the resource names of the poller
// configuration, reading only its top-level keys the way ParsePollerConfig
// reads them. When Poller() succeeds its keys are exactly names; ok is false
// only when Poller() surely fails (the text is no object of resources), but
// Poller() may fail with ok true, on a resource's fields.
func (in Instance) pollerResourceNames() (names map[string]bool, ok bool) {
	raw := in.Configuration[KeyPollerConfiguration]
	if strings.TrimSpace(raw) == "" {
		return nil, true // Poller() gives an empty configuration
	}
	data := []byte(strings.TrimSpace(raw))
	if data[0] == '"' {
		var s string
		if json.Unmarshal(data, &s) != nil {
			return nil, false
		}
		data = []byte(strings.TrimSpace(s))
	}
	var top map[string]skipJSON
	if json.Unmarshal(data, &top) != nil || len(top) == 0 {
		return nil, false
	}
	names = make(map[string]bool, len(top))
	for k := range top {
		names[k] = true
	}
	return names, true
}

// skipJSON accepts any JSON value and keeps nothing of it, as a
// json.RawMessage would without the copy.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// Element returns the instance's catalogue entry.
func (in Instance) Element() (Element, bool) { return LookupElement(in.ElementKey) }

// Clone returns a deep copy, so callers can edit without aliasing.
func (in Instance) Clone() Instance {
	out := in
	out.Configuration = make(map[string]string, len(in.Configuration))
	for k, v := range in.Configuration {
		out.Configuration[k] = v
	}
	out.Tags = append([]string(nil), in.Tags...)
	return out
}

// NewInstance builds and validates an instance from a create request. It
// applies the element's defaults, converts the legacy event.poller.urls form
// and stores the poller configuration as compact JSON. Id and token are
// assigned by the store.
func NewInstance(req InstanceRequest, now time.Time) (Instance, error) {
	var probs []Problem
	in := Instance{Configuration: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if req.Element == nil || strings.TrimSpace(req.Element.Key) == "" {
		probs = append(probs, Problem{"element.key", "missing; known elements: " + strings.Join(ElementKeys(), ", ")})
	} else {
		in.ElementKey = strings.TrimSpace(req.Element.Key)
	}
	if req.Name != nil {
		in.Name = strings.TrimSpace(*req.Name)
	}
	if req.Tags != nil {
		in.Tags = append([]string{}, (*req.Tags)...)
	}
	if req.Disabled != nil {
		in.Disabled = *req.Disabled
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	set, unset, p := decodeConfiguration(in.ElementKey, req.Configuration)
	probs = append(probs, p...)
	_ = unset // a null on create simply means "not given"
	for k, v := range set {
		in.Configuration[k] = v
	}
	probs = append(probs, normalizePoller(in.Configuration, req.Configuration)...)
	if el, ok := in.Element(); ok {
		applyDefaults(in.Configuration, el)
	}
	if in.EventsEnabled() {
		in.EventsEnabledAt = now
	}
	probs = append(probs, in.problems()...)
	if len(probs) > 0 {
		return Instance{}, &ValidationError{Problems: probs}
	}
	return in, nil
}

// Patch merges a PATCH request into a copy of the instance and validates the
// result. Configuration keys merge one by one; a null removes a key; a masked
// secret sent back (as read from the API) leaves the stored secret alone, and
// so does a masked callback header value inside the headers document.
func (in Instance) Patch(req InstanceRequest, now time.Time) (Instance, error) {
	out := in.Clone()
	var probs []Problem
	if req.Element != nil && req.Element.Key != "" && req.Element.Key != in.ElementKey {
		probs = append(probs, Problem{"element.key", fmt.Sprintf("cannot change the element of an instance (is %q); create a new instance instead", in.ElementKey)})
	}
	if req.Name != nil {
		out.Name = strings.TrimSpace(*req.Name)
		if out.Name == "" {
			// An instance is known by its name on every screen; leave the
			// field out to keep the current one.
			probs = append(probs, Problem{"name", "must not be empty; leave name out to keep " + strconv.Quote(in.Name)})
		}
	}
	if req.Tags != nil {
		out.Tags = append([]string{}, (*req.Tags)...)
	}
	if req.Disabled != nil {
		out.Disabled = *req.Disabled
	}
	wasEnabled := in.EventsEnabled()
	set, unset, p := decodeConfiguration(in.ElementKey, req.Configuration)
	probs = append(probs, p...)
	for k, v := range set {
		if v == Mask && IsSecretKey(in.ElementKey, k) {
			continue
		}
		if k == KeyCallbackHeaders {
			restored, err := restoreMaskedHeaders(v, in.Configuration[k])
			if err != nil {
				probs = append(probs, Problem{"configuration." + k, err.Error()})
				continue
			}
			v = restored
		}
		out.Configuration[k] = v
	}
	for _, k := range unset {
		delete(out.Configuration, k)
	}
	probs = append(probs, normalizePoller(out.Configuration, req.Configuration)...)
	// A key removed with null falls back to its default, as on create (an
	// instance must never lose base.url and the like).
	if el, ok := out.Element(); ok {
		applyDefaults(out.Configuration, el)
	}
	if out.EventsEnabled() && !wasEnabled {
		out.EventsEnabledAt = now
		out.NotificationsOff = ""
	}
	if out.CallbackURL() != in.CallbackURL() {
		out.NotificationsOff = "" // a new endpoint deserves a try after a 410
	}
	if !out.EventsEnabled() {
		out.EventsEnabledAt = time.Time{}
	}
	out.UpdatedAt = now
	probs = append(probs, out.problems()...)
	if len(probs) > 0 {
		return Instance{}, &ValidationError{Problems: probs}
	}
	return out, nil
}

func applyDefaults(cfg map[string]string, el Element) {
	defaults := map[string]string{
		KeyPaginationMax:       "100",
		KeyPaginationOffset:    "true",
		KeyEventsEnabled:       "false",
		KeyRefreshInterval:     "15",
		KeyPollerConfiguration: el.DefaultPoller,
	}
	for k, v := range el.Defaults {
		defaults[k] = v
	}
	for k, v := range defaults {
		if _, ok := cfg[k]; !ok || strings.TrimSpace(cfg[k]) == "" {
			cfg[k] = v
		}
	}
}

// decodeConfiguration turns CE's loosely typed configuration values into
// strings. Objects and arrays are kept as compact JSON, except for secrets
// of the element: a secret is one string (or a number), and an array or
// object there is a mistake that would be stored, and sent to the vendor,
// as its JSON text.
func decodeConfiguration(elementKey string, raw map[string]json.RawMessage) (set map[string]string, unset []string, probs []Problem) {
	set = map[string]string{}
	for k, v := range raw {
		k = strings.TrimSpace(k)
		if t := strings.TrimSpace(string(v)); t != "" && (t[0] == '[' || t[0] == '{') && IsSecretKey(elementKey, k) {
			kind := "an array"
			if t[0] == '{' {
				kind = "an object"
			}
			probs = append(probs, Problem{"configuration." + k, fmt.Sprintf("is a secret and must be a string, got %s", kind)})
			continue
		}
		s, isNull, err := configValue(v)
		switch {
		case err != nil:
			probs = append(probs, Problem{"configuration." + k, err.Error()})
		case isNull:
			unset = append(unset, k)
		default:
			set[k] = s
		}
	}
	return set, unset, probs
}

func configValue(v json.RawMessage) (s string, isNull bool, err error) {
	t := strings.TrimSpace(string(v))
	switch {
	case t == "" || t == "null":
		return "", true, nil
	case t[0] == '"':
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false, fmt.Errorf("not a valid JSON string: %w", err)
		}
		return s, false, nil
	case t == "true" || t == "false":
		return t, false, nil
	case t[0] == '{' || t[0] == '[':
		var buf strings.Builder
		if err := compactJSON(&buf, []byte(t)); err != nil {
			return "", false, err
		}
		return buf.String(), false, nil
	default:
		if _, err := strconv.ParseFloat(t, 64); err != nil {
			return "", false, fmt.Errorf("unsupported value %s (use a string)", t)
		}
		return t, false, nil
	}
}

func isTrue(s string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return err == nil && b
}
