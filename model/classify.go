package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model/ceql"
	"github.com/eventdesk/eventdesk/model/timefmt"
)

// Lookup follows a dotted path (idField, date fields) through a decoded
// JSON record. A key that itself contains dots is tried first, since some
// vendors use them.
func Lookup(rec map[string]any, path string) (any, bool) {
	if v, ok := rec[path]; ok {
		return v, true
	}
	cur := any(rec)
	for _, part := range strings.Split(path, ".") {
		switch m := cur.(type) {
		case map[string]any:
			v, ok := m[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(m) {
				return nil, false
			}
			cur = m[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Text renders a JSON scalar as an id string: numbers without exponent or
// trailing zeros, strings as they are.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// Classification is what CE's rules make of one polled record.
type Classification struct {
	Keep      bool
	EventType EventType
	Updated   time.Time
	// Warning is set when a date did not match its configured format and
	// was read as RFC 3339/ISO 8601 instead.
	Warning string
}

// Classify applies CE's polling rules to one record: ignore it
// when updated before since's second (filterByUpdatedDate), hold it for the next
// poll if updated after the poll started (filterByCurrentDate), CREATED
// when created ≈ updated within createdCheckTolerance, else UPDATED.
func Classify(rec map[string]any, r PollerResource, since, pollStart time.Time) (Classification, error) {
	return classify(nil, rec, r, since, pollStart)
}

// ClassifyFor is Classify for a resource of element el: a date that does
// not match the element's default pattern but is in the vendor's
// documented format (Element.DocumentedDate) is read without a warning.
func ClassifyFor(el Element, rec map[string]any, r PollerResource, since, pollStart time.Time) (Classification, error) {
	return classify(&el, rec, r, since, pollStart)
}

func classify(el *Element, rec map[string]any, r PollerResource, since, pollStart time.Time) (Classification, error) {
	// warn says whether a date read as ISO 8601 after missing its pattern
	// deserves a warning.
	warn := func(pattern string, v any) bool { return el == nil || !el.DocumentedDate(pattern, v) }
	var c Classification
	d := r.Dates
	if d.UpdatedDateField != "" {
		v, ok := Lookup(rec, d.UpdatedDateField)
		if !ok || v == nil {
			if r.FiltersByUpdatedDate() {
				return c, fmt.Errorf("record has no %s (datesConfiguration.updatedDateField)", d.UpdatedDateField)
			}
		} else {
			t, fell, err := timefmt.ParseValue(v, d.UpdatedDateFormat, d.UpdatedDateTimezone)
			if err != nil {
				return c, fmt.Errorf("updated date %v: %w", v, err)
			}
			if fell && warn(d.UpdatedDateFormat, v) {
				c.Warning = fmt.Sprintf("%s %q does not match updatedDateFormat %q; read as ISO 8601", d.UpdatedDateField, Text(v), d.UpdatedDateFormat)
			}
			c.Updated = t
		}
	}
	// since is compared at whole seconds: vendors such as Pipedrive give
	// updated dates in whole seconds, so a record changed in the same
	// second as since, after it, reads as earlier than since and would
	// never be seen. The records this lets in twice carry the same
	// (objectId, updated date) and are deduped.
	if r.FiltersByUpdatedDate() && c.Updated.Before(since.Truncate(time.Second)) {
		return c, nil
	}
	if r.FilterByCurrentDate && c.Updated.After(pollStart) {
		return c, nil
	}
	c.Keep, c.EventType = true, Updated
	if d.CreatedDateField == "" || c.Updated.IsZero() {
		return c, nil
	}
	v, ok := Lookup(rec, d.CreatedDateField)
	if !ok || v == nil {
		return c, nil
	}
	created, fell, err := timefmt.ParseValue(v, d.CreatedDateFormat, d.CreatedDateTimezone)
	if err != nil {
		return c, fmt.Errorf("created date %v: %w", v, err)
	}
	if fell && c.Warning == "" && warn(d.CreatedDateFormat, v) {
		c.Warning = fmt.Sprintf("%s %q does not match createdDateFormat %q; read as ISO 8601", d.CreatedDateField, Text(v), d.CreatedDateFormat)
	}
	diff := c.Updated.Sub(created)
	if diff < 0 {
		diff = -diff
	}
	if diff <= time.Duration(r.Tolerance())*time.Second {
		c.EventType = Created
	}
	return c, nil
}

// checkResource validates what JSON types cannot: the URL template, the
// CEQL where clause of a hub URL, date patterns and time zones. Each is
// checked whatever the others (and the resource's field problems) say, so
// one answer names them all: every bad ${…} variable, and the where clause
// with 0 standing in for the bad variables. Only an unterminated ${, which
// leaves the rest of the URL shapeless, stops the where clause check. A
// field left empty (missing, or of the wrong JSON type and so reported
// already) is not checked.
func checkResource(r PollerResource) []Problem {
	var probs []Problem
	tmpl, errs := timefmt.CheckTemplate(r.URL)
	for _, err := range errs {
		probs = append(probs, Problem{"url", err.Error()})
	}
	if tmpl != nil {
		if where := TemplateWhere(tmpl, time.Unix(0, 0).UTC()); where != "" {
			if _, err := ceql.Parse(where); err != nil {
				probs = append(probs, Problem{"url", "where clause: " + err.Error()})
			}
		}
	}
	d := r.Dates
	for _, f := range []struct{ field, format, zone string }{
		{"updatedDate", d.UpdatedDateFormat, d.UpdatedDateTimezone},
		{"createdDate", d.CreatedDateFormat, d.CreatedDateTimezone},
	} {
		if f.format != "" && f.format != timefmt.Milliseconds {
			if _, err := timefmt.Compile(f.format); err != nil {
				probs = append(probs, Problem{"datesConfiguration." + f.field + "Format", err.Error()})
			}
		}
		if f.zone != "" {
			if _, err := timefmt.LoadZone(f.zone); err != nil {
				probs = append(probs, Problem{"datesConfiguration." + f.field + "Timezone", err.Error()})
			}
		}
	}
	return probs
}

// whereClauseOf is the first where= parameter of u's query, decoded when it
// is valid escaping (decoded true), else verbatim.
func whereClauseOf(u string) (where string, decoded bool) {
	_, q, ok := strings.Cut(u, "?")
	if !ok {
		return "", false
	}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "where" {
			if un, err := urlUnescape(v); err == nil {
				return un, true
			}
			return v, false
		}
	}
	return "", false
}
