package timefmt

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// allowedVars is quoted whole in errors so a user sees every choice.
const allowedVars = "${gmtDate:FMT}, ${date:FMT}, ${date}, ${dateTimeZone:ZONE:FMT}, ${epoch}, ${epoch:s}, ${epoch:ms}, ${epoch:us}, ${milliseconds}"

// legacyDate is what a bare ${date} of the old event.poller.urls form
// expands to.
var legacyDate = mustCompile("yyyy-MM-dd'T'HH:mm:ssXXX")

type varKind uint8

const (
	vText varKind = iota // literal URL text
	vDate                // pattern in loc
	vEpochS
	vEpochMS
	vEpochUS
)

type part struct {
	kind varKind
	text string // vText: the text; otherwise the variable as written
	pat  *Pattern
	loc  *time.Location
}

// Template is a poller URL with its ${…} date variables resolved ahead of
// time, so a bad variable is reported when the configuration is saved
// rather than at every poll. It is immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []part
}

// ParseTemplate parses a poller URL. A variable ends at the first '}' that
// is not inside a quoted literal of its date pattern, so patterns may hold
// ':' and quoted '}'. ZONE in ${dateTimeZone:ZONE:FMT} runs to the next
// ':' (IANA names have none; write GMT+0530 rather than GMT+05:30).
// Anything outside ${…}, including a lone '$', is copied verbatim.
func ParseTemplate(s string) (*Template, error) {
	t, errs := parseTemplate(s, false)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return t, nil
}

// CheckTemplate parses a poller URL like ParseTemplate but reports every
// bad variable, not only the first, so a configuration check names them
// all at once. When every error is a bad variable, the returned template
// has 0 standing in for each of them, so the text around them (a CEQL
// where clause) can still be checked; it must not be used to poll. After
// an unterminated ${ the rest of the URL has no known shape and the
// template is nil.
func CheckTemplate(s string) (*Template, []error) {
	return parseTemplate(s, true)
}

// badVarStandIn replaces a bad variable in the template CheckTemplate
// returns: a number reads as a value both bare and inside quotes.
const badVarStandIn = "0"

func parseTemplate(s string, all bool) (*Template, []error) {
	t := &Template{src: s}
	var errs []error
	rest := 0 // start of text not yet placed in a part
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "${")
		if k < 0 {
			break
		}
		start := i + k
		end, inQuote := varEnd(s, start+2)
		if end < 0 {
			hint := ""
			if inQuote {
				hint = "; a quote in its date pattern is not closed"
			}
			return nil, append(errs, fmt.Errorf("unterminated ${ at position %d of url (no closing }%s)", runePos(s, start), hint))
		}
		p, perrs := parseVar(s[start : end+1])
		for _, err := range perrs {
			errs = append(errs, fmt.Errorf("variable %s at position %d of url: %w", s[start:end+1], runePos(s, start), err))
			if !all {
				return nil, errs
			}
		}
		if len(perrs) > 0 {
			p = part{kind: vText, text: badVarStandIn}
		}
		if start > rest {
			t.parts = append(t.parts, part{kind: vText, text: s[rest:start]})
		}
		t.parts = append(t.parts, p)
		i = end + 1
		rest = i
	}
	if rest < len(s) {
		t.parts = append(t.parts, part{kind: vText, text: s[rest:]})
	}
	return t, errs
}

// varEnd finds the '}' closing a variable whose body starts at i, skipping
// quoted pattern text; it returns -1 and whether a quote was open at the end.
func varEnd(s string, i int) (int, bool) {
	inQuote := false
	for ; i < len(s); i++ {
		switch s[i] {
		case '\'':
			// '' inside or outside a quote toggles twice, which is right:
			// it stands for one quote character and changes nothing.
			inQuote = !inQuote
		case '}':
			if !inQuote {
				return i, false
			}
		}
	}
	return -1, inQuote
}

// parseVar resolves one ${…} variable. The zone and the pattern of
// ${dateTimeZone:ZONE:FMT} are independent, so both are checked and every
// problem returned, the zone's first.
func parseVar(v string) (part, []error) {
	body := v[2 : len(v)-1]
	name, arg, hasArg := strings.Cut(body, ":")
	p := part{text: v, kind: vDate, loc: time.UTC}
	one := func(format string, args ...any) []error { return []error{fmt.Errorf(format, args...)} }
	var err error
	switch name {
	case "gmtDate", "date":
		if !hasArg {
			if name == "date" {
				p.pat = legacyDate
				return p, nil
			}
			return p, one("needs a date pattern, e.g. ${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}")
		}
		if p.pat, err = Compile(arg); err != nil {
			return p, []error{err}
		}
	case "dateTimeZone":
		zone, pat, ok := strings.Cut(arg, ":")
		if !hasArg || !ok {
			return p, one("needs a zone and a date pattern, e.g. ${dateTimeZone:America/Denver:yyyy-MM-dd'T'HH:mm:ss}")
		}
		var errs []error
		if p.loc, err = LoadZone(zone); err != nil {
			errs = append(errs, err)
		}
		if p.pat, err = Compile(pat); err != nil {
			errs = append(errs, err)
		}
		return p, errs
	case "epoch":
		switch {
		case !hasArg || arg == "ms":
			p.kind = vEpochMS
		case arg == "s":
			p.kind = vEpochS
		case arg == "us":
			p.kind = vEpochUS
		default:
			return p, one("unknown epoch unit %q (allowed: ${epoch}, ${epoch:s}, ${epoch:ms}, ${epoch:us})", arg)
		}
	case "milliseconds":
		if hasArg {
			return p, one("takes no argument (write ${milliseconds})")
		}
		p.kind = vEpochMS
	default:
		return p, one("unknown variable %q (allowed: %s)", name, allowedVars)
	}
	return p, nil
}

// Expand replaces every variable with since, formatted as it says. The
// result is not URL-escaped: where the text lands (path, query, CEQL
// string) decides the escaping, and only the caller knows that. A URL to
// request comes from ExpandURL.
func (t *Template) Expand(since time.Time) string {
	return t.expand(since, nil)
}

// ExpandURL is Expand for a URL that is about to be parsed: a variable's
// value is data, so it is percent-encoded for the part of the URL it lands
// in. Before the template's first literal '?' or '#' that is the path, and
// url.PathEscape applies. After it, url.QueryEscape applies ('+' → %2B,
// '&' → %26, '=' → %3D, '#' → %23, '%' → %25), except that a space becomes
// %20 rather than '+': %20 reads as a space both to a form decoder
// (url.ParseQuery, for vendor URLs) and to a path decoder (the where clause
// of a hub URL, where a '+' stays a plus), so a value decodes back to
// itself either way. The literal text is copied as written and keeps its
// meaning, a '+' or an escape the user wrote included.
func (t *Template) ExpandURL(since time.Time) string {
	inQuery := false
	return t.expand(since, func(p part, v string) string {
		if p.kind == vText {
			inQuery = inQuery || strings.ContainsAny(v, "?#")
			return v
		}
		if inQuery {
			return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
		}
		return url.PathEscape(v)
	})
}

// expand writes each part's text, through esc when it is set; parts come
// to esc in order.
func (t *Template) expand(since time.Time, esc func(p part, v string) string) string {
	var b strings.Builder
	b.Grow(len(t.src) + 16)
	for _, p := range t.parts {
		var v string
		switch p.kind {
		case vText:
			v = p.text
		case vDate:
			v = p.pat.Format(since.In(p.loc))
		case vEpochS:
			v = strconv.FormatInt(since.Unix(), 10)
		case vEpochMS:
			v = strconv.FormatInt(since.UnixMilli(), 10)
		case vEpochUS:
			v = strconv.FormatInt(since.UnixMicro(), 10)
		}
		if esc != nil {
			v = esc(p, v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// Vars lists the variables as written, in order, so a preview can show
// each one beside its value.
func (t *Template) Vars() []string {
	var vars []string
	for _, p := range t.parts {
		if p.kind != vText {
			vars = append(vars, p.text)
		}
	}
	return vars
}

// String returns the template as it was written.
func (t *Template) String() string { return t.src }

// Expand parses s and expands it with since in one step, for callers that
// use a template once.
func Expand(s string, since time.Time) (string, error) {
	t, err := ParseTemplate(s)
	if err != nil {
		return "", err
	}
	return t.Expand(since), nil
}
