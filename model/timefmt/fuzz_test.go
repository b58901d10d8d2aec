package timefmt

import (
	"math/rand"
	"net/url"
	"strings"
	"testing"
	"time"
)

var seedPatterns = []string{
	"yyyy-MM-dd HH:mm:ss",
	"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
	"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
	"yyyy-MM-dd'T'HH:mm:ssXXX",
	"MM/dd/yyyy HH:mm:ss",
	"EEE, dd MMM yyyy HH:mm:ss Z",
	"EEEE, dd MMMM yyyy hh:mm:ss.SSSSSSSSS a z",
	"yyyyMMddHHmmssSSSSSSSSSXX",
	"h 'o''clock' a",
	"yy-M-d H:m:s.S X",
	"MMM'ch' EEE'sday' z'+01:00'",
	"'unterminated",
	"yyyyQ",
	"XXXX",
	"",
}

// roundTrips reports whether Parse(Format(tm)) must give tm back: the
// pattern holds every field at full precision, nothing lossy (yy, a short
// fraction, X for a half-hour offset) overrides it, and no field is so
// narrow that abutting digits make the text ambiguous.
func roundTrips(p *Pattern, tm time.Time) bool {
	if y := tm.Year(); y < 1 || y > 9999 {
		return false
	}
	name, off := tm.Zone()
	known := !isAllLetters(name) || name == ""
	for _, z := range zoneAbbrevs {
		known = known || name == z.name
	}
	has := map[kind]bool{}
	for i, tok := range p.tokens {
		has[tok.kind] = true
		natural := 2
		switch tok.kind {
		case kYear:
			if tok.n == 2 {
				return false
			}
			natural = 4
		case kFrac:
			if tok.n != 9 {
				return false
			}
		case kZoneZ:
			if off%60 != 0 {
				return false
			}
		case kZoneX:
			if off%60 != 0 || tok.n == 1 && off%3600 != 0 {
				return false
			}
		case kZoneName:
			if !known || off%60 != 0 {
				return false // an abbreviation z cannot read, or offset seconds it drops
			}
			// "GMT" followed by "+…" reads as one offset: truly ambiguous.
			if i+1 < len(p.tokens) && p.tokens[i+1].kind == kLiteral && strings.ContainsAny(p.tokens[i+1].lit[:1], "+-") {
				return false
			}
		}
		if tok.kind.numeric() && tok.n < natural && p.abutsDigits(i, false) {
			return false
		}
	}
	zoned := has[kZoneX] || has[kZoneZ] || has[kZoneName]
	if !zoned && !time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), tm.Location()).Equal(tm) {
		return false // the wall clock repeats (DST ends): loc cannot tell which
	}
	hour := has[kHour24] || has[kHour12] && has[kAmPm]
	return has[kYear] && (has[kMonth] || has[kMonthText]) && has[kDay] && hour &&
		has[kMinute] && has[kSecond] && has[kFrac]
}

func checkRoundTrip(t *testing.T, p *Pattern, tm time.Time) {
	s := p.Format(tm)
	got, err := p.Parse(s, tm.Location())
	if !roundTrips(p, tm) {
		return
	}
	if err != nil {
		t.Fatalf("%q: Parse(Format(%v) = %q): %v", p, tm, s, err)
	}
	if !got.Equal(tm) {
		t.Fatalf("%q: Parse(%q) = %v, want %v", p, s, got, tm)
	}
}

// fuzzTime turns arbitrary numbers into a time in years 1-9999 with a
// whole-minute fixed offset within ±14h, the domain round trips promise.
func fuzzTime(sec int64, nsec uint32, offMin int16) time.Time {
	const lo, hi = -62135596800 + 86400, 253402300799 - 86400 // 0001-01-02 … 9999-12-30
	span := int64(hi - lo)
	sec = lo + ((sec%span)+span)%span
	tm := time.Unix(sec, int64(nsec%1e9))
	return tm.In(offsetZone(int(offMin) % (14*60 + 1) * 60))
}

func FuzzCompile(f *testing.F) {
	for _, s := range seedPatterns {
		f.Add(s)
	}
	times := []time.Time{
		ref,
		ref.In(time.FixedZone("", 5*3600+30*60)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-44, 3, 15, 12, 0, 0, 0, time.UTC),
		time.Date(123456, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -12*3600-45*60-7)),
		time.Date(2024, 11, 3, 1, 30, 0, 0, mustLoad(f, "America/Denver")),
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Compile(pattern)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q, want %q", p.String(), pattern)
		}
		for _, tm := range times {
			checkRoundTrip(t, p, tm)
		}
	})
}

func FuzzParse(f *testing.F) {
	inputs := []string{
		"2024-03-05 07:08:09",
		"2024-03-05T07:08:09.123456Z",
		"2019-01-15T12:41:24.496000+00:00",
		"2019-01-15T12:48:23.395000",
		"2022-11-24T15:18:35.616Z",
		"Tue, 05 Mar 2024 07:08:09 -0500",
		"07:08 GMT+05:30",
		"1700000000123",
		"",
	}
	for i, s := range seedPatterns {
		f.Add(s, inputs[i%len(inputs)], int64(1709622489), uint32(123456789), int16(i*97-300))
	}
	f.Fuzz(func(t *testing.T, pattern, input string, sec int64, nsec uint32, offMin int16) {
		// Whatever the pattern and text: no panic, and errors say something.
		if _, _, err := ParseValue(input, pattern, ""); err != nil && err.Error() == "" {
			t.Fatal("empty ParseValue error")
		}
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		if _, err := p.Parse(input, time.UTC); err != nil && err.Error() == "" {
			t.Fatal("empty Parse error")
		}
		checkRoundTrip(t, p, fuzzTime(sec, nsec, offMin))
	})
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"/hubs/crm/accounts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'",
		"/hubs/crm/contacts?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX}'",
		"${dateTimeZone:America/Denver:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}",
		"a=${epoch}&b=${epoch:s}&c=${epoch:us}&d=${milliseconds}&e=${date}",
		"${gmtDate:yyyy'}'}${",
		"${foo}",
		"$${",
		"plain",
	} {
		f.Add(s)
	}
	since := ref.In(time.FixedZone("", 3600))
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := ParseTemplate(s)
		// CheckTemplate reports what ParseTemplate does, first, and more.
		checked, errs := CheckTemplate(s)
		if (err == nil) != (len(errs) == 0) || err != nil && errs[0].Error() != err.Error() {
			t.Fatalf("ParseTemplate(%q) error %v, but CheckTemplate %v", s, err, errs)
		}
		if err == nil && checked.Expand(since) != tpl.Expand(since) {
			t.Fatalf("CheckTemplate(%q) expands differently", s)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		got := tpl.Expand(since)
		vars := tpl.Vars()
		if len(vars) == 0 && got != s {
			t.Fatalf("no variables, but Expand(%q) = %q", s, got)
		}
		// Each variable stands alone, and the text between them is verbatim.
		rest := s
		for _, v := range vars {
			i := strings.Index(rest, v)
			if i < 0 {
				t.Fatalf("variable %q not found in the rest of %q", v, s)
			}
			if _, err := Expand(v, since); err != nil {
				t.Fatalf("variable %q of %q does not parse alone: %v", v, s, err)
			}
			rest = rest[i+len(v):]
		}
		if !strings.HasSuffix(got, rest) {
			t.Fatalf("Expand(%q) = %q does not end with the trailing text %q", s, got, rest)
		}
		// ExpandURL changes the values only, and each decodes back to
		// itself: in a path, and in a query whether it is read as a form
		// or, like a where clause, with '+' as a plus.
		if len(vars) == 0 && tpl.ExpandURL(since) != s {
			t.Fatalf("no variables, but ExpandURL(%q) = %q", s, tpl.ExpandURL(since))
		}
		for _, v := range vars {
			want, _ := Expand(v, since)
			inPath, _ := ParseTemplate("/" + v)
			inQuery, _ := ParseTemplate("?v=" + v)
			p := strings.TrimPrefix(inPath.ExpandURL(since), "/")
			q := strings.TrimPrefix(inQuery.ExpandURL(since), "?v=")
			for _, c := range []struct {
				esc    string
				decode func(string) (string, error)
			}{{p, url.PathUnescape}, {q, url.QueryUnescape}, {q, url.PathUnescape}} {
				if dec, err := c.decode(c.esc); err != nil || dec != want {
					t.Fatalf("variable %q escaped as %q decodes to %q (%v), want %q", v, c.esc, dec, err, want)
				}
			}
			if strings.ContainsAny(q, "+&=#?/ ") || strings.ContainsAny(p, "?#/ ") {
				t.Fatalf("variable %q escaped as %q in a path, %q in a query", v, p, q)
			}
		}
	})
}

// TestRoundTripShuffled complements the fuzzers, which seldom stumble on a
// full-precision pattern: it shuffles every field with separators chosen to
// collide with them (digits, month and day name tails, offset signs).
func TestRoundTripShuffled(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	seps := []string{"", "", "-", " ", ":", ".", ",", "/", "'T'", "'x'", "'1'", "'12'",
		"'ch'", "'day'", "'Mar'", "'pm'", "'UTC'", "'+'", "'Z'", "'a'"}
	named := []string{"America/New_York", "America/Denver", "EST", "PST", "Asia/Kolkata"}
	for range 20000 {
		pieces := []string{"yyyy", []string{"MM", "MMM", "MMMM", "M"}[r.Intn(4)],
			[]string{"dd", "d"}[r.Intn(2)], "mm", "ss", "SSSSSSSSS"}
		if r.Intn(2) == 0 {
			pieces = append(pieces, "HH")
		} else {
			pieces = append(pieces, "hh", "a")
		}
		if r.Intn(2) == 0 {
			pieces = append(pieces, []string{"X", "XX", "XXX", "Z", "z"}[r.Intn(5)])
		}
		if r.Intn(3) == 0 {
			pieces = append(pieces, []string{"EEE", "EEEE"}[r.Intn(2)])
		}
		r.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		var b strings.Builder
		for _, p := range pieces {
			b.WriteString(p)
			b.WriteString(seps[r.Intn(len(seps))])
		}
		p := compileT(t, b.String())
		tm := fuzzTime(r.Int63()-r.Int63(), uint32(r.Int63()), int16(r.Intn(1700)-850))
		if r.Intn(3) == 0 {
			tm = tm.In(mustLoad(t, named[r.Intn(len(named))]))
		}
		checkRoundTrip(t, p, tm)
	}
}
