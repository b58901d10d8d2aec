package model

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with an instance: where, and what is allowed.
type Problem struct {
	// Field is a path such as "configuration.pipedrive.email" or "name".
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// ValidationError carries every problem found, so a user fixes them all in
// one round instead of one per attempt.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	if len(parts) == 1 {
		return "invalid instance: " + parts[0]
	}
	return fmt.Sprintf("invalid instance (%d problems): %s", len(parts), strings.Join(parts, "; "))
}

// For returns the messages that concern one field (for form display).
func (e *ValidationError) For(field string) []string {
	var out []string
	for _, p := range e.Problems {
		if p.Field == field || strings.HasPrefix(p.Field, field+".") && field != "configuration" {
			out = append(out, p.Message)
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`<INSERT_[A-Z0-9_]+>`)

// Validate checks a complete instance and returns a *ValidationError naming
// every problem, or nil.
func (in Instance) Validate() error {
	if probs := in.problems(); len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

func (in Instance) problems() []Problem {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	cfg := in.Configuration

	if m := placeholder.FindString(in.Name); m != "" {
		add("name", "still holds the seed placeholder %s; put the instance's name there", m)
	}
	for i, t := range in.Tags {
		if m := placeholder.FindString(t); m != "" {
			add(fmt.Sprintf("tags[%d]", i), "still holds the seed placeholder %s; put a tag there or remove it", m)
		}
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	holdsPlaceholder := map[string]bool{}
	for _, k := range keys {
		if m := placeholder.FindString(cfg[k]); m != "" {
			holdsPlaceholder[k] = true
			add("configuration."+k, "still holds the seed placeholder %s; replace it with the real value", m)
		}
	}

	el, known := LookupElement(in.ElementKey)
	if in.ElementKey != "" && !known {
		add("element.key", "unknown element %q; known elements: %s", in.ElementKey, strings.Join(ElementKeys(), ", "))
	}
	if known {
		probs = append(probs, requiredProblems(el, cfg)...)
	}

	// Every key is checked on its own, so one answer names all problems.
	// A key still holding a seed placeholder has that one problem only: a
	// check of its value would be a follow-on of it.
	value := func(k string) (string, bool) {
		v, ok := cfg[k]
		return v, ok && !holdsPlaceholder[k]
	}
	if v, ok := value(KeyBaseURL); ok {
		if !absoluteHTTP(v) {
			add("configuration."+KeyBaseURL, "must be an absolute http or https URL, got %q", v)
		}
	}
	// mayBeEnabled is false only when events are surely off: a value that
	// is neither true nor false (or a placeholder) may yet become true, so
	// the callback URL is checked then too rather than after that fix.
	mayBeEnabled := false
	if v, ok := cfg[KeyEventsEnabled]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil && !holdsPlaceholder[KeyEventsEnabled] {
			add("configuration."+KeyEventsEnabled, "must be true or false, got %q", v)
		}
		mayBeEnabled = b || err != nil
	}
	if v, ok := value(KeyCallbackURL); ok && mayBeEnabled && strings.TrimSpace(v) != "" && !absoluteHTTP(v) {
		add("configuration."+KeyCallbackURL, "must be an absolute http or https URL while events are enabled, got %q", strings.TrimSpace(v))
	}
	if v, ok := value(KeyVendorType); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "polling", "webhook", "webhooks":
		default:
			add("configuration."+KeyVendorType, "must be polling or webhook (webhooks is accepted too), got %q", v)
		}
	}
	if v, ok := value(KeyRefreshInterval); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			add("configuration."+KeyRefreshInterval, "must be a whole number of minutes, 1 or more, got %q", v)
		}
	}
	// The two JSON documents are checked even around a placeholder, whose
	// resource or header may be the only one of many that is unfinished;
	// only when the placeholder leaves no JSON to read is it their one
	// problem.
	if v, ok := cfg[KeyPollerConfiguration]; ok && strings.TrimSpace(v) != "" {
		pc, pp := ParsePollerConfig([]byte(v))
		if pc != nil || !holdsPlaceholder[KeyPollerConfiguration] {
			probs = append(probs, pp...)
		}
	}
	if v, ok := cfg[KeyCallbackHeaders]; ok && strings.TrimSpace(v) != "" && (json.Valid([]byte(v)) || !holdsPlaceholder[KeyCallbackHeaders]) {
		var h map[string]string
		if err := json.Unmarshal([]byte(v), &h); err != nil {
			add("configuration."+KeyCallbackHeaders, "must be a JSON object of header names to string values: %v", JSONError([]byte(v), err))
		}
	}
	if v, ok := value(KeyConcurrency); ok && strings.TrimSpace(v) != "" {
		if _, err := parseConcurrency(v); err != nil {
			add("configuration."+KeyConcurrency, "%v", err)
		}
	}
	if v, ok := value(KeyOrdered); ok && strings.TrimSpace(v) != "" {
		if _, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			add("configuration."+KeyOrdered, "must be true (one notification at a time, in order) or false (the default: several at once, each on its own retry schedule), got %q", v)
		}
	}
	if v, ok := value(KeyOrderedMaxHold); ok && strings.TrimSpace(v) != "" {
		if _, err := parseMaxHold(v); err != nil {
			add("configuration."+KeyOrderedMaxHold, "%v", err)
		}
	}
	if v, ok := value(KeyStandardSecret); ok && strings.TrimSpace(v) != "" {
		v = strings.TrimSpace(v)
		if err := checkStandardSecret(v); err != nil {
			add("configuration."+KeyStandardSecret, "%v", err)
		}
	}
	if v, ok := value(KeyWebhookSignatureKey); ok && strings.TrimSpace(v) != "" {
		v = strings.TrimSpace(v)
		if !isHex(v) {
			add("configuration."+KeyWebhookSignatureKey, "must be the hex signature_key Close returned when the webhook was subscribed")
		}
	}
	return probs
}

// ClosestRequiredSet picks the alternative of e.RequiredAny that cfg is
// judged by: the first complete one (complete is true), else the first of
// those with the most keys given. A key is given when its value is not
// blank; given counts those of set i. i is -1 when e has no alternatives.
func (e Element) ClosestRequiredSet(cfg map[string]string) (i, given int, complete bool) {
	i, given = -1, -1
	for j, set := range e.RequiredAny {
		have := 0
		for _, k := range set {
			if strings.TrimSpace(cfg[k]) != "" {
				have++
			}
		}
		if have == len(set) {
			return j, have, true
		}
		if have > given {
			i, given = j, have
		}
	}
	if i < 0 {
		return -1, 0, false
	}
	return i, given, false
}

// requiredProblems names each missing key of the alternative closest to
// complete, and mentions the other alternatives.
func requiredProblems(el Element, cfg map[string]string) []Problem {
	present := func(k string) bool { return strings.TrimSpace(cfg[k]) != "" }
	best, _, complete := el.ClosestRequiredSet(cfg)
	if best < 0 || complete {
		return nil
	}
	var others []string
	for i, set := range el.RequiredAny {
		if i == best {
			continue
		}
		if len(set) == 1 {
			others = append(others, set[0])
		} else {
			others = append(others, "both "+strings.Join(set, " and "))
		}
	}
	var probs []Problem
	for _, k := range el.RequiredAny[best] {
		if present(k) {
			continue
		}
		msg := "required by " + el.Key
		if f, ok := el.Field(k); ok && f.Label != "" {
			msg = fmt.Sprintf("required by %s (%s)", el.Key, f.Label)
		}
		if len(others) > 0 {
			msg += "; or give " + strings.Join(others, ", or ")
		}
		probs = append(probs, Problem{"configuration." + k, msg})
	}
	return probs
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
