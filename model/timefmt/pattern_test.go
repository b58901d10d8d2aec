package timefmt

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// ref is a Tuesday with a microsecond fraction and a nanosecond tail that
// formats must truncate, never round.
var ref = time.Date(2024, 3, 5, 7, 8, 9, 123456789, time.UTC)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestFormat(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	plus530 := time.FixedZone("", 5*3600+30*60)
	minus3 := time.FixedZone("", -3*3600)
	evening := time.Date(2024, 3, 5, 19, 4, 5, 0, time.UTC)
	midnight := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	noon := time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		pattern string
		t       time.Time
		want    string
	}{
		// The seed patterns.
		{"yyyy-MM-dd HH:mm:ss", ref, "2024-03-05 07:08:09"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", ref, "2024-03-05T07:08:09.123456Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", time.Date(2024, 3, 5, 7, 8, 9, 123456000, plus2), "2024-03-05T07:08:09.123456+02:00"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", ref.In(plus2), "2024-03-05T09:08:09.123456+02:00"},
		// Formats that appear in CE documentation.
		{"yyyy-MM-dd'T'HH:mm:ssXXX", ref, "2024-03-05T07:08:09Z"},
		{"yyyy-MM-dd'T'HH:mm:ss'Z'", ref, "2024-03-05T07:08:09Z"},
		{"MM/dd/yyyy HH:mm:ss", ref, "03/05/2024 07:08:09"},
		{"EEE, dd MMM yyyy HH:mm:ss Z", ref, "Tue, 05 Mar 2024 07:08:09 +0000"},
		// Every letter.
		{"yyyy", ref, "2024"},
		{"yy", ref, "24"},
		{"y", ref, "2024"},
		{"yyyyy", ref, "02024"},
		{"yyyy", time.Date(987, 1, 1, 0, 0, 0, 0, time.UTC), "0987"},
		{"yy", time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC), "05"},
		{"MM", ref, "03"},
		{"M", ref, "3"},
		{"M", time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), "11"},
		{"MMM", ref, "Mar"},
		{"MMMM", ref, "March"},
		{"dd", ref, "05"},
		{"d", ref, "5"},
		{"HH", ref, "07"},
		{"H", ref, "7"},
		{"HH", evening, "19"},
		{"hh", evening, "07"},
		{"h", evening, "7"},
		{"h a", midnight, "12 AM"},
		{"h a", noon, "12 PM"},
		{"hh:mm a", evening, "07:04 PM"},
		{"a", ref, "AM"},
		{"mm", ref, "08"},
		{"m", evening, "4"},
		{"ss", ref, "09"},
		{"s", evening, "5"},
		{"S", ref, "1"},
		{"SS", ref, "12"},
		{"SSS", ref, "123"},
		{"SSSSSS", ref, "123456"},
		{"SSSSSSSSS", ref, "123456789"},
		{"SSS", time.Date(2024, 3, 5, 7, 8, 9, 999999999, time.UTC), "999"},
		{"EEE", ref, "Tue"},
		{"E", ref, "Tue"},
		{"EEEE", ref, "Tuesday"},
		{"X", ref, "Z"},
		{"XX", ref, "Z"},
		{"XXX", ref, "Z"},
		{"X", ref.In(plus2), "+02"},
		{"X", ref.In(plus530), "+05"},
		{"XX", ref.In(plus530), "+0530"},
		{"XXX", ref.In(plus530), "+05:30"},
		{"XXX", ref.In(minus3), "-03:00"},
		{"Z", ref, "+0000"},
		{"Z", ref.In(plus530), "+0530"},
		{"Z", ref.In(minus3), "-0300"},
		{"z", ref, "UTC"},
		{"z", ref.In(plus2), "GMT+02:00"},
		{"z", ref.In(mustLoad(t, "America/New_York")), "EST"},
		{"z", time.Date(2024, 7, 1, 0, 0, 0, 0, mustLoad(t, "America/New_York")), "EDT"},
		{"z", ref.In(mustLoad(t, "EST")), "EST"},
		{"z", ref.In(mustLoad(t, "Asia/Dubai")), "GMT+04:00"}, // tzdata says "+04"
		// Literals.
		{"yyyy-MM-dd'T'HH", ref, "2024-03-05T07"},
		{"''", ref, "'"},
		{"h 'o''clock' a", evening, "7 o'clock PM"},
		{"'yyyy'", ref, "yyyy"},
		{"yyyy年MM月dd日", ref, "2024年03月05日"},
		{"[yyyy] #1", ref, "[2024] #1"},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		if got := p.Format(tt.t); got != tt.want {
			t.Errorf("%q.Format(%v) = %q, want %q", tt.pattern, tt.t, got, tt.want)
		}
		if p.String() != tt.pattern {
			t.Errorf("String() = %q, want %q", p.String(), tt.pattern)
		}
	}
}

func TestParse(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	denver := mustLoad(t, "America/Denver")
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		pattern, in string
		loc         *time.Location
		want        time.Time
	}{
		// Seeds and vendors.
		{"yyyy-MM-dd HH:mm:ss", "2024-03-05 07:08:09", nil, utc(2024, 3, 5, 7, 8, 9, 0)},
		{"yyyy-MM-dd HH:mm:ss", "2024-03-05 07:08:09", denver, time.Date(2024, 3, 5, 7, 8, 9, 0, denver)},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2024-03-05T07:08:09.123456Z", nil, utc(2024, 3, 5, 7, 8, 9, 123456000)},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2024-03-05T07:08:09.123456+02:00", nil, utc(2024, 3, 5, 5, 8, 9, 123456000)},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2019-01-15T12:41:24.496000+00:00", nil, utc(2019, 1, 15, 12, 41, 24, 496000000)},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2022-11-24T15:18:35.616Z", nil, utc(2022, 11, 24, 15, 18, 35, 616000000)},
		{"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2022-11-24T15:18:35.616Z", nil, utc(2022, 11, 24, 15, 18, 35, 616000000)},
		{"EEE, dd MMM yyyy HH:mm:ss Z", "Tue, 05 Mar 2024 07:08:09 -0500", nil, utc(2024, 3, 5, 12, 8, 9, 0)},
		{"MM/dd/yyyy HH:mm:ss", "03/05/2024 07:08:09", est, time.Date(2024, 3, 5, 7, 8, 9, 0, est)},
		// Fractions are digits, 1 to 9 of them whatever the run length.
		{"ss.SSS", "09.5", nil, utc(1970, 1, 1, 0, 0, 9, 500000000)},
		{"ss.SSS", "09.123456789", nil, utc(1970, 1, 1, 0, 0, 9, 123456789)},
		{"ss.SSSSSS", "09.616", nil, utc(1970, 1, 1, 0, 0, 9, 616000000)},
		{"ss.S", "09.000001", nil, utc(1970, 1, 1, 0, 0, 9, 1000)},
		// Numeric fields take any width unless they abut another number.
		{"y-M-d H:m:s", "2024-3-5 7:8:9", nil, utc(2024, 3, 5, 7, 8, 9, 0)},
		{"yyyy-MM-dd HH:mm:ss", "2024-3-5 7:8:9", nil, utc(2024, 3, 5, 7, 8, 9, 0)},
		{"yyyyMMddHHmmss", "20240305070809", nil, utc(2024, 3, 5, 7, 8, 9, 0)},
		{"yyyyMMdd'1'", "202403051", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"HHmmssSSS", "070809123", nil, utc(1970, 1, 1, 7, 8, 9, 123000000)},
		{"yy-MM-dd", "24-03-05", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"yy-MM-dd", "99-03-05", nil, utc(1999, 3, 5, 0, 0, 0, 0)},
		{"yy-MM-dd", "2024-03-05", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		// Names, either form, any case.
		{"dd MMM yyyy", "05 mar 2024", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"dd MMM yyyy", "05 March 2024", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"dd MMMM yyyy", "05 March 2024", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"dd MMMM yyyy", "05 Mar 2024", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"MMM'ch' yyyy", "March 2024", nil, utc(2024, 3, 1, 0, 0, 0, 0)},
		{"EEE yyyy-MM-dd", "Tue 2024-03-05", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		{"EEEE yyyy-MM-dd", "tuesday 2024-03-05", nil, utc(2024, 3, 5, 0, 0, 0, 0)},
		// 12-hour clock.
		{"hh:mm a", "07:08 PM", nil, utc(1970, 1, 1, 19, 8, 0, 0)},
		{"hh:mm a", "07:08 am", nil, utc(1970, 1, 1, 7, 8, 0, 0)},
		{"hh:mm a", "12:00 AM", nil, utc(1970, 1, 1, 0, 0, 0, 0)},
		{"hh:mm a", "12:30 PM", nil, utc(1970, 1, 1, 12, 30, 0, 0)},
		{"a hh:mm", "PM 07:08", nil, utc(1970, 1, 1, 19, 8, 0, 0)},
		{"h:mm", "7:08", nil, utc(1970, 1, 1, 7, 8, 0, 0)},
		// Offsets: any form for any of X, XX, XXX, Z.
		{"HH:mmX", "07:08Z", nil, utc(1970, 1, 1, 7, 8, 0, 0)},
		{"HH:mmX", "07:08+02", nil, utc(1970, 1, 1, 5, 8, 0, 0)},
		{"HH:mmXX", "07:08+0230", nil, utc(1970, 1, 1, 4, 38, 0, 0)},
		{"HH:mmXXX", "07:08-05:30", nil, utc(1970, 1, 1, 12, 38, 0, 0)},
		{"HH:mmXXX", "07:08Z", nil, utc(1970, 1, 1, 7, 8, 0, 0)},
		{"HH:mmXXX", "07:08+0200", nil, utc(1970, 1, 1, 5, 8, 0, 0)},
		{"HH:mmX", "07:08+02:00", nil, utc(1970, 1, 1, 5, 8, 0, 0)},
		{"HH:mmZ", "07:08-0800", nil, utc(1970, 1, 1, 15, 8, 0, 0)},
		{"HH:mmZ", "07:08Z", nil, utc(1970, 1, 1, 7, 8, 0, 0)},
		{"HH:mmXyyyy", "07:08+022024", nil, utc(2024, 1, 1, 5, 8, 0, 0)},
		{"HH:mmXX:ss", "07:08+0200:09", nil, utc(1970, 1, 1, 5, 8, 9, 0)},
		// Zone names.
		{"HH:mm z", "07:08 UTC", denver, utc(1970, 1, 1, 7, 8, 0, 0)},
		{"HH:mm z", "07:08 GMT", denver, utc(1970, 1, 1, 7, 8, 0, 0)},
		{"HH:mm z", "07:08 EST", nil, utc(1970, 1, 1, 12, 8, 0, 0)},
		{"HH:mm z", "07:08 EDT", nil, utc(1970, 1, 1, 11, 8, 0, 0)},
		{"HH:mm z", "07:08 CST", nil, utc(1970, 1, 1, 13, 8, 0, 0)},
		{"HH:mm z", "07:08 CDT", nil, utc(1970, 1, 1, 12, 8, 0, 0)},
		{"HH:mm z", "07:08 MST", nil, utc(1970, 1, 1, 14, 8, 0, 0)},
		{"HH:mm z", "07:08 MDT", nil, utc(1970, 1, 1, 13, 8, 0, 0)},
		{"HH:mm z", "07:08 PST", nil, utc(1970, 1, 1, 15, 8, 0, 0)},
		{"HH:mm z", "07:08 PDT", nil, utc(1970, 1, 1, 14, 8, 0, 0)},
		{"HH:mm z", "07:08 GMT+05:30", nil, utc(1970, 1, 1, 1, 38, 0, 0)},
		{"HH:mm z", "07:08 GMT-08:00", nil, utc(1970, 1, 1, 15, 8, 0, 0)},
		// Defaults for absent fields; loc for patterns without a zone.
		{"HH:mm", "07:08", denver, time.Date(1970, 1, 1, 7, 8, 0, 0, denver)},
		{"'T'", "T", nil, utc(1970, 1, 1, 0, 0, 0, 0)},
		{"yyyy-MM-dd", "2024-02-29", nil, utc(2024, 2, 29, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		got, err := p.Parse(tt.in, tt.loc)
		if err != nil {
			t.Errorf("%q.Parse(%q): %v", tt.pattern, tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("%q.Parse(%q) = %v, want %v", tt.pattern, tt.in, got, tt.want)
		}
	}
}

func TestParseZoneResult(t *testing.T) {
	p := compileT(t, "yyyy-MM-dd HH:mmXXX")
	got, err := p.Parse("2024-03-05 07:08+00:00", mustLoad(t, "America/Denver"))
	if err != nil || got.Location() != time.UTC {
		t.Errorf("zero offset: got %v (%v), want UTC", got, err)
	}
	got, err = p.Parse("2024-03-05 07:08+05:30", nil)
	if _, off := got.Zone(); err != nil || off != 19800 {
		t.Errorf("+05:30: got %v (%v)", got, err)
	}
	z := compileT(t, "HH:mm z")
	got, _ = z.Parse("07:08 EST", nil)
	if name, off := got.Zone(); name != "EST" || off != -18000 {
		t.Errorf("EST: zone %s %d", name, off)
	}
}

func compileT(t testing.TB, pattern string) *Pattern {
	t.Helper()
	p, err := Compile(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		pattern, in string
		pos         int
		want        []string
	}{
		{"yyyy-MM-dd", "2024-13-05", 6, []string{"month 13 out of range (1-12)"}},
		{"yyyy-MM-dd", "2024-02-30", 9, []string{"day 30 does not exist in February 2024"}},
		{"yyyy-MM-dd", "2023-02-29", 9, []string{"day 29 does not exist in February 2023"}},
		{"yyyy-MM-dd", "2024-03-32", 9, []string{"day of month 32 out of range"}},
		{"HH:mm", "24:00", 1, []string{"hour 24 out of range (0-23)"}},
		{"HH:mm", "23:60", 4, []string{"minute 60 out of range"}},
		{"HH:mm:ss", "23:59:60", 7, []string{"second 60 out of range"}},
		{"hh a", "13 PM", 1, []string{"hour 13 out of range (0-12)"}},
		{"yyyy-MM-dd", "2024/03/05", 5, []string{`expected "-"`, `found "/03/05"`}},
		{"yyyy-MM-dd", "2024-03-05x", 11, []string{"unexpected text", `"x"`, "after the end of the pattern"}},
		{"yyyy-MM-dd", "2024-03", 8, []string{`expected "-"`, "end of input"}},
		{"yyyy-MM-dd", "2024-03-", 9, []string{"expected day of month (dd)", "end of input"}},
		{"yyyy-MM-dd", "yyyy-03-05", 1, []string{"expected year (yyyy)", `found "yyyy-03-05"`}},
		{"yyyyMMddHH", "2024030", 7, []string{"expected 2-digit day of month (dd)"}},
		{"ss.SSS", "09.1234567890", 4, []string{"too many digits for fractional seconds (SSS)"}},
		{"ss.SSS", "09.", 4, []string{"expected fractional seconds (SSS)"}},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2019-01-15T12:48:23.395000", 27, []string{"expected zone offset (Z, +HH, +HHMM or +HH:MM)", "end of input"}},
		{"HH:mmXXX", "07:08+2:00", 6, []string{"expected zone offset"}},
		{"HH:mmXXX", "07:08+24:00", 6, []string{"expected zone offset"}},
		{"HH:mmXXX:ss", "07:08+0200:09", 6, []string{"expected zone offset (+HH:MM or Z)"}},
		{"HH:mm z", "07:08 CET", 7, []string{"expected zone name (UTC, GMT, GMT+hh:mm, EST"}},
		{"dd MMM", "05 Foo", 4, []string{"expected month name (Jan-Dec or January-December)", `found "Foo"`}},
		{"EEE dd", "Xyz 05", 1, []string{"expected day name"}},
		{"hh a", "07 XM", 4, []string{"expected AM or PM"}},
		{"'日付:'yyyy", "日付:x", 4, []string{"expected year"}}, // positions count characters
	}
	for _, tt := range tests {
		p := compileT(t, tt.pattern)
		_, err := p.Parse(tt.in, nil)
		if err == nil {
			t.Errorf("%q.Parse(%q) succeeded, want error", tt.pattern, tt.in)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q.Parse(%q): error %T is not a *ParseError", tt.pattern, tt.in, err)
			continue
		}
		if pe.Pos != tt.pos {
			t.Errorf("%q.Parse(%q): position %d, want %d (%v)", tt.pattern, tt.in, pe.Pos, tt.pos, err)
		}
		msg := err.Error()
		for _, w := range append(tt.want, tt.in, tt.pattern) {
			if !strings.Contains(msg, w) {
				t.Errorf("%q.Parse(%q): error %q does not mention %q", tt.pattern, tt.in, msg, w)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"yyyyQ", []string{"unsupported pattern letter 'Q' at position 5", "allowed: y M d H h m s S a E X Z z and quoted literals"}},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSk", []string{"unsupported pattern letter 'k' at position 26"}},
		{"YYYY-MM-dd", []string{"unsupported pattern letter 'Y' at position 1"}},
		{"yyyy-MM-dd'T", []string{"unterminated quote at position 11"}},
		{"'", []string{"unterminated quote at position 1"}},
		{"'it''s", []string{"unterminated quote"}},
		{"XXXX", []string{"'X' repeated 4 times", "X, XX or XXX"}},
		{"SSSSSSSSSS", []string{"'S' repeated 10 times", "at most 9"}},
		{"", []string{"empty date pattern"}},
		{"日付 G", []string{"letter 'G' at position 4"}},
	}
	for _, tt := range tests {
		_, err := Compile(tt.pattern)
		if err == nil {
			t.Errorf("Compile(%q) succeeded, want error", tt.pattern)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Compile(%q) = %q, want it to mention %q", tt.pattern, err, w)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	zones := []*time.Location{
		time.UTC,
		time.FixedZone("", 2*3600),
		time.FixedZone("", -(9*3600 + 30*60)),
		time.FixedZone("", 14*3600),
	}
	times := []time.Time{
		ref,
		time.Date(2019, 1, 15, 12, 41, 24, 496000000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 1, time.UTC),
		time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 1, 0, 0, 0, time.UTC),
	}
	patterns := []string{
		"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX",
		"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXX",
		"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSZ",
		"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS z",
		"EEEE, dd MMMM yyyy hh:mm:ss.SSSSSSSSS a XXX",
		"EEE MMM d yyyy h:m:s.SSSSSSSSS a Z",
		"yyyyMMddHHmmssSSSSSSSSSXX",
		"SSSSSSSSS ss mm HH dd MM yyyy XXX",
	}
	for _, ps := range patterns {
		p := compileT(t, ps)
		for _, zone := range zones {
			for _, tm := range times {
				tm = tm.In(zone)
				s := p.Format(tm)
				got, err := p.Parse(s, nil)
				if err != nil {
					t.Errorf("%q: Parse(Format(%v) = %q): %v", ps, tm, s, err)
					continue
				}
				if !got.Equal(tm) {
					t.Errorf("%q: Parse(%q) = %v, want %v", ps, s, got, tm)
				}
			}
		}
	}
	// Without a zone in the pattern, loc carries it.
	p := compileT(t, "yyyy-MM-dd HH:mm:ss.SSSSSSSSS")
	denver := mustLoad(t, "America/Denver")
	tm := ref.In(denver)
	if got, err := p.Parse(p.Format(tm), denver); err != nil || !got.Equal(tm) {
		t.Errorf("round trip in Denver: %v, %v", got, err)
	}
}
