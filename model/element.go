package model

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// Field describes one configuration key an element asks for, so the console
// form and the validator share one source of truth.
type Field struct {
	Key      string
	Label    string
	Required bool
	Secret   bool
	Help     string
}

// Element is one catalogue entry: a vendor eventdesk can connect to.
type Element struct {
	ID          int
	Key         string
	Name        string
	Description string
	Image       string
	Hub         string
	// AuthType is CE's authentication type: "custom" or "basic".
	AuthType string
	// Fields are the vendor connection fields, in form order.
	Fields []Field
	// RequiredAny lists alternative sets of keys; a configuration is complete
	// when every key of at least one set is present.
	RequiredAny [][]string
	// Defaults are added to a new instance's configuration unless given.
	Defaults map[string]string
	// HubResources maps a hub resource name to the vendor's object name.
	HubResources map[string]string
	// DefaultPoller is the element's default event.poller.configuration, as
	// compact JSON, exactly the seed's objects.
	DefaultPoller string
	// DocumentedDates are Go layouts of the dates the vendor's API
	// documents for its records. The seed's date patterns are kept as
	// Cloud Elements wrote them, though the vendor has since moved on
	// (Pipedrive's API v2 answers RFC 3339): a record date in a documented
	// layout under a default pattern is what the vendor promises, read
	// without a warning.
	DocumentedDates []string
}

// Configuration keys shared by every element.
const (
	KeyBaseURL             = "base.url"
	KeyPaginationMax       = "pagination.max"
	KeyPaginationOffset    = "pagination.offset"
	KeyEventsEnabled       = "event.notification.enabled"
	KeyVendorType          = "event.vendor.type"
	KeyCallbackURL         = "event.notification.callback.url"
	KeySignatureKey        = "event.notification.signature.key"
	KeyStandardSecret      = "event.notification.standard.secret"
	KeyBasicUsername       = "event.notification.basic.username"
	KeyBasicPassword       = "event.notification.basic.password"
	KeyCallbackHeaders     = "event.notification.callback.headers"
	KeyRefreshInterval     = "event.poller.refresh_interval"
	KeyPollerConfiguration = "event.poller.configuration"
	KeyPollerURLs          = "event.poller.urls"
	KeyWebhookUsername     = "event.webhook.username"
	KeyWebhookPassword     = "event.webhook.password"
	KeyWebhookSignatureKey = "event.webhook.signature.key"
	KeyWebhookID           = "event.notification.subscription.id"
	KeyConcurrency         = "event.notification.concurrency"
	KeyOrdered             = "event.notification.ordered"
	KeyOrderedMaxHold      = "event.notification.ordered.maxHold"
)

// Element-specific configuration keys.
const (
	KeyPipedriveToken    = "pipedrive.api.token"
	KeyPipedriveEmail    = "pipedrive.email"
	KeyPipedrivePassword = "pipedrive.password"
	KeyCloseAPIKey       = "username"
	KeyClosePassword     = "password"
)

const pipedrivePoller = `{"accounts":{"url":"/hubs/crm/accounts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'","idField":"id","datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss","createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd HH:mm:ss"}},` +
	`"contacts":{"url":"/hubs/crm/contacts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'","idField":"id","datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss","createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd HH:mm:ss"}},` +
	`"opportunities":{"url":"/hubs/crm/opportunities?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'","idField":"id","datesConfiguration":{"updatedDateField":"update_time","updatedDateFormat":"yyyy-MM-dd HH:mm:ss","createdDateField":"add_time","createdDateFormat":"yyyy-MM-dd HH:mm:ss"}}}`

const closePoller = `{"contacts":{"url":"/hubs/crm/contacts?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX}'","idField":"id","datesConfiguration":{"updatedDateField":"date_updated","updatedDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX","createdDateField":"date_created","createdDateFormat":"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"}}}`

// catalogue is data, not code paths: a third vendor is one more entry plus
// its adapter in provider/.
var catalogue = []Element{
	{
		ID:          16,
		Key:         "pipedrive",
		Name:        "Pipedrive",
		Description: "Add a Pipedrive Instance to connect your existing Pipedrive account to the CRM Hub, allowing you to manage contacts, accounts, opportunities etc. across multiple CRM Elements. You will need your Pipedrive account information to add an instance.",
		Image:       "https://pbs.twimg.com/profile_images/501332028000702464/rDOcFppt.png",
		Hub:         "crm",
		AuthType:    "custom",
		Fields: []Field{
			{Key: KeyPipedriveToken, Label: "API token", Secret: true, Help: "Settings › Personal preferences › API; or give email and password"},
			{Key: KeyPipedriveEmail, Label: "Email", Help: "with password, exchanged for the API token"},
			{Key: KeyPipedrivePassword, Label: "Password", Secret: true},
			{Key: KeyBaseURL, Label: "Base URL", Help: "your company domain's /v1 URL, or a test server"},
		},
		RequiredAny: [][]string{{KeyPipedriveToken}, {KeyPipedriveEmail, KeyPipedrivePassword}},
		Defaults:    map[string]string{KeyBaseURL: "https://api.pipedrive.com/v1"},
		HubResources: map[string]string{
			"accounts":      "organization",
			"contacts":      "person",
			"opportunities": "deal",
			"leads":         "lead",
		},
		DefaultPoller: pipedrivePoller,
		// API v2: "2024-05-06T07:08:09Z"; v1 leads: "2024-05-06T07:08:09.123Z".
		DocumentedDates: []string{time.RFC3339Nano},
	},
	{
		ID:          146,
		Key:         "closeio",
		Name:        "Close",
		Description: "Add a Close.io CRM Instance to connect your existing Close.io account to the CRM Hub, allowing you to manage contacts, accounts, opportunities, etc. across multiple CRM Elements. You will need your Close.io CRM account information to add an instance.",
		Image:       "https://pbs.twimg.com/profile_images/497905627948015616/vNCOkr1Z.png",
		Hub:         "crm",
		AuthType:    "basic",
		Fields: []Field{
			{Key: KeyCloseAPIKey, Label: "API key", Required: true, Secret: true, Help: "Settings › Developer › API keys"},
			{Key: KeyClosePassword, Label: "Password", Secret: true, Help: "Close uses an empty one"},
			{Key: KeyBaseURL, Label: "Base URL", Help: "https://api.close.com/api/v1, or a test server"},
		},
		RequiredAny: [][]string{{KeyCloseAPIKey}},
		Defaults:    map[string]string{KeyBaseURL: "https://api.close.com/api/v1"},
		HubResources: map[string]string{
			"contacts":      "contact",
			"leads":         "lead",
			"opportunities": "opportunity",
		},
		DefaultPoller: closePoller,
		// Records: "2013-02-20T05:30:24.854000+00:00"; event dates have no
		// offset ("2013-02-20T05:30:24.854000", UTC).
		DocumentedDates: []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"},
	},
}

// Elements returns the catalogue, ordered by key.
func Elements() []Element {
	out := append([]Element(nil), catalogue...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// LookupElement finds an element by key.
func LookupElement(key string) (Element, bool) {
	for _, e := range catalogue {
		if e.Key == key {
			return e, true
		}
	}
	return Element{}, false
}

// ElementKeys lists the known element keys, for error messages.
func ElementKeys() []string {
	keys := make([]string, 0, len(catalogue))
	for _, e := range Elements() {
		keys = append(keys, e.Key)
	}
	return keys
}

// HubResource names the hub resource for a vendor object, or returns the
// vendor's own name when the element does not map it, so polling and
// webhooks agree on object types.
func (e Element) HubResource(vendorObject string) string {
	for res, obj := range e.HubResources {
		if obj == vendorObject {
			return res
		}
	}
	return vendorObject
}

// VendorObject is HubResource's inverse: the vendor's object for a hub
// resource ("contacts" → "person" for Pipedrive, true). An unmapped name is
// returned unchanged with ok false, so it can be used as the vendor's own.
func (e Element) VendorObject(resource string) (string, bool) {
	if obj, ok := e.HubResources[resource]; ok {
		return obj, true
	}
	return resource, false
}

// Field returns the element's field description for key.
func (e Element) Field(key string) (Field, bool) {
	for _, f := range e.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// requirementText renders RequiredAny for humans:
// "pipedrive.api.token, or both pipedrive.email and pipedrive.password".
func (e Element) requirementText() string {
	parts := make([]string, 0, len(e.RequiredAny))
	for _, set := range e.RequiredAny {
		if len(set) == 1 {
			parts = append(parts, set[0])
		} else {
			parts = append(parts, "both "+strings.Join(set, " and "))
		}
	}
	return strings.Join(parts, ", or ")
}

// defaultDatePatterns are the date patterns of each element's default
// poller configuration, by element key; built once, on first use.
var defaultDatePatterns = sync.OnceValue(func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, el := range catalogue {
		pats := map[string]bool{}
		pc, _ := ParsePollerConfig([]byte(el.DefaultPoller))
		for _, r := range pc {
			for _, p := range []string{r.Dates.UpdatedDateFormat, r.Dates.CreatedDateFormat} {
				if p = strings.TrimSpace(p); p != "" {
					pats[p] = true
				}
			}
		}
		out[el.Key] = pats
	}
	return out
})

// DocumentedDate reports whether a record date that did not match its
// configured pattern is nonetheless as the vendor documents it, under a
// pattern the element's default poller configuration uses: then it is read
// as ISO 8601 without a warning. A pattern the operator chose that does not
// match is worth a warning; the element's own default is not.
func (e Element) DocumentedDate(pattern string, value any) bool {
	text, ok := value.(string)
	if !ok || !defaultDatePatterns()[e.Key][strings.TrimSpace(pattern)] {
		return false
	}
	for _, layout := range e.DocumentedDates {
		if _, err := time.Parse(layout, text); err == nil {
			return true
		}
	}
	return false
}
