package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// PollerConfig is event.poller.configuration: resource name → how to poll it.
type PollerConfig map[string]PollerResource

// DatesConfig says where a record's dates are and how to read them.
type DatesConfig struct {
	UpdatedDateField    string `json:"updatedDateField,omitempty"`
	UpdatedDateFormat   string `json:"updatedDateFormat,omitempty"`
	UpdatedDateTimezone string `json:"updatedDateTimezone,omitempty"`
	CreatedDateField    string `json:"createdDateField,omitempty"`
	CreatedDateFormat   string `json:"createdDateFormat,omitempty"`
	CreatedDateTimezone string `json:"createdDateTimezone,omitempty"`
}

// PollerResource is one resource of a poller configuration.
type PollerResource struct {
	URL     string      `json:"url"`
	IDField string      `json:"idField"`
	Dates   DatesConfig `json:"datesConfiguration"`
	// FilterByUpdatedDate defaults to true; nil means "not given".
	FilterByUpdatedDate *bool `json:"filterByUpdatedDate,omitempty"`
	FilterByCurrentDate bool  `json:"filterByCurrentDate,omitempty"`
	// CreatedCheckTolerance is in seconds; nil means the default of 10.
	CreatedCheckTolerance *int `json:"createdCheckTolerance,omitempty"`
	PageSize              int  `json:"pageSize,omitempty"`
	// PollDelay is in seconds, subtracted from the since time.
	PollDelay int `json:"pollDelay,omitempty"`
}

// FiltersByUpdatedDate applies the default of true.
func (r PollerResource) FiltersByUpdatedDate() bool {
	return r.FilterByUpdatedDate == nil || *r.FilterByUpdatedDate
}

// Tolerance applies the default of 10 seconds.
func (r PollerResource) Tolerance() int {
	if r.CreatedCheckTolerance == nil {
		return 10
	}
	return *r.CreatedCheckTolerance
}

// Resources returns the resource names in a stable order.
func (pc PollerConfig) Resources() []string {
	names := make([]string, 0, len(pc))
	for k := range pc {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ParsePollerConfig parses a poller configuration, naming every resource and
// field that is wrong. The text may be the object itself or a JSON string
// holding it (CE accepts both).
func ParsePollerConfig(data []byte) (PollerConfig, []Problem) {
	const where = "configuration." + KeyPollerConfiguration
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, []Problem{{where, JSONError(data, err).Error()}}
		}
		data = bytes.TrimSpace([]byte(s))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, []Problem{{where, "must be a JSON object of resource name to settings: " + JSONError(data, err).Error()}}
	}
	if len(top) == 0 {
		return nil, []Problem{{where, "names no resource; give at least one, e.g. {\"contacts\": {\"url\": …, \"idField\": \"id\"}}"}}
	}
	pc := PollerConfig{}
	var probs []Problem
	for _, name := range sortedKeys(top) {
		r, pp, isObject := parseResource(where+"."+name, top[name])
		probs = append(probs, pp...)
		// A resource's fields are independent: its URL template, where
		// clause, date patterns and zones are checked even when another of
		// its fields is wrong, so one answer names every problem. Only a
		// resource that is not an object has no fields to check.
		if isObject {
			for _, p := range checkResource(r) {
				p.Field = where + "." + name + "." + p.Field
				probs = append(probs, p)
			}
		}
		pc[name] = r
	}
	return pc, probs
}

// parseResource reads one resource, naming every field that is wrong; a
// field of the wrong JSON type is left empty. isObject is false when the
// resource is not a JSON object, the one problem then reported.
func parseResource(where string, raw json.RawMessage) (r PollerResource, probs []Problem, isObject bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return r, []Problem{{where, "must be a JSON object with url, idField and datesConfiguration"}}, false
	}
	reported := map[string]bool{} // fields with a problem already
	bad := func(field, msg string) {
		reported[field] = true
		probs = append(probs, Problem{where + "." + field, msg})
	}
	str := func(m map[string]json.RawMessage, field, prefix string, dst *string, required bool) {
		v, ok := m[field]
		if !ok || string(v) == "null" {
			if required {
				bad(prefix+field, "missing; it is required")
			}
			return
		}
		if err := json.Unmarshal(v, dst); err != nil {
			bad(prefix+field, "must be a string, got "+jsonKind(v))
			return
		}
		if required && strings.TrimSpace(*dst) == "" {
			bad(prefix+field, "must not be empty")
		}
	}
	num := func(field string, dst *int, min int) bool {
		v, ok := fields[field]
		if !ok || string(v) == "null" {
			return false
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil {
			// CE configurations are often all strings; accept "10" too.
			var s string
			if json.Unmarshal(v, &s) != nil || json.Unmarshal([]byte(strings.TrimSpace(s)), &f) != nil {
				bad(field, "must be a whole number, got "+jsonKind(v))
				return false
			}
		}
		if f != float64(int(f)) || int(f) < min {
			bad(field, fmt.Sprintf("must be a whole number ≥ %d, got %v", min, f))
			return false
		}
		*dst = int(f)
		return true
	}
	boolean := func(field string) *bool {
		v, ok := fields[field]
		if !ok || string(v) == "null" {
			return nil
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			var s string
			if json.Unmarshal(v, &s) == nil && (s == "true" || s == "false") {
				b = s == "true"
				return &b
			}
			bad(field, "must be true or false, got "+jsonKind(v))
			return nil
		}
		return &b
	}
	str(fields, "url", "", &r.URL, true)
	str(fields, "idField", "", &r.IDField, true)
	if dv, ok := fields["datesConfiguration"]; ok && string(dv) != "null" {
		var dates map[string]json.RawMessage
		if err := json.Unmarshal(dv, &dates); err != nil {
			bad("datesConfiguration", "must be a JSON object, got "+jsonKind(dv))
		} else {
			const p = "datesConfiguration."
			d := &r.Dates
			str(dates, "updatedDateField", p, &d.UpdatedDateField, false)
			str(dates, "updatedDateFormat", p, &d.UpdatedDateFormat, false)
			str(dates, "updatedDateTimezone", p, &d.UpdatedDateTimezone, false)
			str(dates, "createdDateField", p, &d.CreatedDateField, false)
			str(dates, "createdDateFormat", p, &d.CreatedDateFormat, false)
			str(dates, "createdDateTimezone", p, &d.CreatedDateTimezone, false)
			if d.UpdatedDateFormat != "" && d.UpdatedDateField == "" {
				bad(p+"updatedDateField", "missing while updatedDateFormat is set")
			}
			if d.CreatedDateFormat != "" && d.CreatedDateField == "" {
				bad(p+"createdDateField", "missing while createdDateFormat is set")
			}
		}
	}
	r.FilterByUpdatedDate = boolean("filterByUpdatedDate")
	if b := boolean("filterByCurrentDate"); b != nil {
		r.FilterByCurrentDate = *b
	}
	var tol int
	if num("createdCheckTolerance", &tol, 0) {
		r.CreatedCheckTolerance = &tol
	}
	num("pageSize", &r.PageSize, 1)
	num("pollDelay", &r.PollDelay, 0)
	// Whatever else is wrong with the resource, a missing updatedDateField
	// is named too; only not when it would be a follow-on of a problem
	// already named: datesConfiguration not an object, updatedDateField of
	// the wrong type (or missing beside updatedDateFormat), or a
	// filterByUpdatedDate that says neither true nor false.
	if r.FiltersByUpdatedDate() && r.Dates.UpdatedDateField == "" &&
		!reported["datesConfiguration"] && !reported["datesConfiguration.updatedDateField"] && !reported["filterByUpdatedDate"] {
		bad("datesConfiguration.updatedDateField", "missing; it is needed while filterByUpdatedDate is true (set filterByUpdatedDate to false to take every record)")
	}
	return r, probs, true
}

// normalizePoller converts the legacy event.poller.urls form and stores the
// poller configuration as compact JSON, so later reads parse one form only.
func normalizePoller(cfg map[string]string, given map[string]json.RawMessage) []Problem {
	if legacy, ok := cfg[KeyPollerURLs]; ok {
		if _, both := given[KeyPollerConfiguration]; both && given[KeyPollerURLs] != nil {
			return []Problem{{"configuration." + KeyPollerURLs, "give either event.poller.urls (legacy) or event.poller.configuration, not both"}}
		}
		if strings.TrimSpace(legacy) != "" {
			pc, probs := ConvertLegacyURLs(legacy)
			if len(probs) > 0 {
				// The good lines are checked as they would be once the
				// bad ones are fixed (templates, patterns, where
				// clauses), so one answer names every problem.
				if len(pc) > 0 {
					_, more := ParsePollerConfig([]byte(encodePoller(pc)))
					probs = append(probs, more...)
				}
				return probs
			}
			cfg[KeyPollerConfiguration] = encodePoller(pc)
		}
		delete(cfg, KeyPollerURLs)
	}
	v, ok := cfg[KeyPollerConfiguration]
	if !ok || strings.TrimSpace(v) == "" {
		delete(cfg, KeyPollerConfiguration)
		return nil
	}
	data := []byte(strings.TrimSpace(v))
	if data[0] == '"' {
		var s string
		if json.Unmarshal(data, &s) == nil {
			data = []byte(s)
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, data) == nil {
		cfg[KeyPollerConfiguration] = buf.String()
	}
	return nil
}

// encodePoller is the stored form of a poller configuration: compact JSON
// without HTML escaping, so URLs keep a readable '>' rather than \u003e.
func encodePoller(pc PollerConfig) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(pc)
	return strings.TrimSpace(b.String())
}

// ConvertLegacyURLs converts CE's line form
// resource|url|xpath|updField|updFmt|updTZ|crField|crFmt|crTZ (one resource
// a line) to a poller configuration. idField is not part of the legacy
// form; CE used "id".
func ConvertLegacyURLs(s string) (PollerConfig, []Problem) {
	const where = "configuration." + KeyPollerURLs
	pc := PollerConfig{}
	var probs []Problem
	// Split on \n only, so blank lines still count and line numbers in
	// messages match what the user sees.
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		for len(f) < 9 {
			f = append(f, "")
		}
		for j := range f {
			f[j] = strings.TrimSpace(f[j])
		}
		if f[0] == "" || f[1] == "" {
			probs = append(probs, Problem{fmt.Sprintf("%s line %d", where, i+1), "expected resource|url|xpath|updatedField|updatedFormat|updatedTimezone|createdField|createdFormat|createdTimezone, with resource and url set"})
			continue
		}
		pc[f[0]] = PollerResource{
			URL:     f[1],
			IDField: "id",
			Dates: DatesConfig{
				UpdatedDateField: f[3], UpdatedDateFormat: f[4], UpdatedDateTimezone: f[5],
				CreatedDateField: f[6], CreatedDateFormat: f[7], CreatedDateTimezone: f[8],
			},
		}
	}
	if len(pc) == 0 && len(probs) == 0 {
		probs = append(probs, Problem{where, "holds no resource line"})
	}
	return pc, probs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonKind(v json.RawMessage) string {
	t := bytes.TrimSpace(v)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
