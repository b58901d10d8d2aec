package timefmt

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const closeFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"

func TestParseValue(t *testing.T) {
	ms := time.UnixMilli(1700000000123).UTC()
	tests := []struct {
		name         string
		v            any
		format, zone string
		want         time.Time
		fellBack     bool
		wantOffset   int
	}{
		{"close data date", "2019-01-15T12:41:24.496000+00:00", closeFormat, "",
			time.Date(2019, 1, 15, 12, 41, 24, 496000000, time.UTC), false, 0},
		{"close event date without offset falls back, zone applies", "2019-01-15T12:48:23.395000", closeFormat, "",
			time.Date(2019, 1, 15, 12, 48, 23, 395000000, time.UTC), true, 0},
		{"close event date in EST", "2019-01-15T12:48:23.395000", closeFormat, "EST",
			time.Date(2019, 1, 15, 17, 48, 23, 395000000, time.UTC), true, -5 * 3600},
		{"pipedrive v2 with matching pattern", "2022-11-24T15:18:35.616Z", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "",
			time.Date(2022, 11, 24, 15, 18, 35, 616000000, time.UTC), false, 0},
		{"pipedrive v2 with the v1 pattern falls back", "2022-11-24T15:18:35.616Z", "yyyy-MM-dd HH:mm:ss", "",
			time.Date(2022, 11, 24, 15, 18, 35, 616000000, time.UTC), true, 0},
		{"pipedrive v1", "2022-11-24 15:18:35", "yyyy-MM-dd HH:mm:ss", "",
			time.Date(2022, 11, 24, 15, 18, 35, 0, time.UTC), false, 0},
		{"IANA zone with DST", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "America/Denver",
			time.Date(2024, 7, 1, 18, 0, 0, 0, time.UTC), false, -6 * 3600},
		{"GMT", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "GMT",
			time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), false, 0},
		{"UTC", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "UTC",
			time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), false, 0},
		{"EST is fixed, even in July", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "EST",
			time.Date(2024, 7, 1, 17, 0, 0, 0, time.UTC), false, -5 * 3600},
		{"MST is fixed", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "MST",
			time.Date(2024, 7, 1, 19, 0, 0, 0, time.UTC), false, -7 * 3600},
		{"HST is fixed", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "HST",
			time.Date(2024, 7, 1, 22, 0, 0, 0, time.UTC), false, -10 * 3600},
		{"PST is Los Angeles, as in Java", "2024-07-01 12:00:00", "yyyy-MM-dd HH:mm:ss", "PST",
			time.Date(2024, 7, 1, 19, 0, 0, 0, time.UTC), false, -7 * 3600},
		{"offset in the value beats the zone", "2024-07-01T12:00:00+02:00", "yyyy-MM-dd'T'HH:mm:ssXXX", "America/Denver",
			time.Date(2024, 7, 1, 10, 0, 0, 0, time.UTC), false, 2 * 3600},
		{"surrounding space", "  2024-07-01 12:00:00\n", "yyyy-MM-dd HH:mm:ss", "",
			time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), false, 0},
		{"number through a pattern", float64(20240305), "yyyyMMdd", "",
			time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), false, 0},

		{"milliseconds float64", float64(1700000000123), Milliseconds, "", ms, false, 0},
		{"milliseconds json.Number", json.Number("1700000000123"), Milliseconds, "", ms, false, 0},
		{"milliseconds int64", int64(1700000000123), Milliseconds, "", ms, false, 0},
		{"milliseconds int", 1700000000123, Milliseconds, "", ms, false, 0},
		{"milliseconds string", "1700000000123", Milliseconds, "", ms, false, 0},
		{"milliseconds small is still ms", float64(1500), Milliseconds, "", time.UnixMilli(1500), false, 0},
		{"milliseconds fraction", float64(1.5), Milliseconds, "", time.Unix(0, 1500000), false, 0},
		{"milliseconds zone", float64(1700000000123), Milliseconds, "EST", ms, false, -5 * 3600},
		{"milliseconds but ISO text", "2023-11-14T22:13:20.123Z", Milliseconds, "", ms, true, 0},

		{"epoch seconds where a pattern was expected", float64(1700000000), "yyyy-MM-dd", "",
			time.Unix(1700000000, 0), true, 0},
		{"epoch ms text where a pattern was expected", "1700000000123", "yyyy-MM-dd'T'HH:mm:ss", "", ms, true, 0},

		{"no format: ISO", "2024-03-05T07:08:09Z", "", "", time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC), false, 0},
		{"no format: epoch ms", json.Number("1700000000123"), "", "", ms, false, 0},

		// The fallback's ISO 8601 variants.
		{"iso fraction and offset", "2024-03-05T07:08:09.123456789-05:00", "dd/MM/yyyy", "",
			time.Date(2024, 3, 5, 12, 8, 9, 123456789, time.UTC), true, -5 * 3600},
		{"iso basic offset", "2024-03-05T07:08:09+0530", "dd/MM/yyyy", "",
			time.Date(2024, 3, 5, 1, 38, 9, 0, time.UTC), true, 19800},
		{"iso hour offset", "2024-03-05T07:08:09+05", "dd/MM/yyyy", "",
			time.Date(2024, 3, 5, 2, 8, 9, 0, time.UTC), true, 5 * 3600},
		{"iso space and offset", "2024-03-05 07:08:09+00:00", "dd/MM/yyyy", "",
			time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC), true, 0},
		{"iso space, no offset, zone", "2024-03-05 07:08:09", "dd/MM/yyyy", "America/Denver",
			time.Date(2024, 3, 5, 14, 8, 9, 0, time.UTC), true, -7 * 3600},
		{"iso date only", "2024-03-05", "dd/MM/yyyy", "",
			time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fellBack, err := ParseValue(tt.v, tt.format, tt.zone)
			if err != nil {
				t.Fatalf("ParseValue(%#v, %q, %q): %v", tt.v, tt.format, tt.zone, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if fellBack != tt.fellBack {
				t.Errorf("fellBack = %v, want %v", fellBack, tt.fellBack)
			}
			if _, off := got.Zone(); off != tt.wantOffset {
				t.Errorf("offset = %d, want %d", off, tt.wantOffset)
			}
		})
	}
}

func TestParseValueErrors(t *testing.T) {
	tests := []struct {
		v            any
		format, zone string
		want         []string
	}{
		{"not a date", closeFormat, "", []string{`"not a date"`, closeFormat, "at position 1, expected year (yyyy)", "nor RFC 3339/ISO 8601"}},
		{"2024-13-45", "yyyy-MM-dd", "", []string{`"2024-13-45"`, `"yyyy-MM-dd"`, "at position 6, month 13 out of range (1-12)"}},
		{"soon", Milliseconds, "", []string{`"soon"`, "epoch milliseconds"}},
		{float64(9e18), Milliseconds, "", []string{"out of range"}},
		{"yesterday", "", "", []string{`"yesterday"`, "no date format configured"}},
		{"2024-03-05", "yyyy-QQ", "", []string{"date format", "unsupported pattern letter 'Q'"}},
		{"2024-03-05", "yyyy-MM-dd", "Mars/Olympus", []string{`unknown time zone "Mars/Olympus"`}},
		{nil, "yyyy-MM-dd", "", []string{"missing"}},
		{true, "yyyy-MM-dd", "", []string{"bool"}},
		{json.Number("12abc"), Milliseconds, "", []string{"not a number"}},
	}
	for _, tt := range tests {
		_, _, err := ParseValue(tt.v, tt.format, tt.zone)
		if err == nil {
			t.Errorf("ParseValue(%#v, %q, %q) succeeded, want error", tt.v, tt.format, tt.zone)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseValue(%#v, %q, %q) = %q, want it to mention %q", tt.v, tt.format, tt.zone, err, w)
			}
		}
	}
}

func TestLoadZone(t *testing.T) {
	tests := []struct {
		name string
		off  int // at 2024-07-01 12:00 UTC
	}{
		{"", 0}, {"UTC", 0}, {"GMT", 0}, {"utc", 0}, {"Etc/UTC", 0}, {"Z", 0},
		{"EST", -5 * 3600}, {"MST", -7 * 3600}, {"HST", -10 * 3600},
		{"PST", -7 * 3600}, {"CST", -5 * 3600}, {"IST", 19800}, {"JST", 9 * 3600},
		{"America/Denver", -6 * 3600}, {"Europe/London", 3600}, {"Asia/Kolkata", 19800},
		{"GMT+05:30", 19800}, {"GMT-08:00", -8 * 3600}, {"GMT-8", -8 * 3600}, {"GMT+0530", 19800},
		{"UTC+01:00", 3600}, {"+02:00", 7200}, {"-0330", -(3*3600 + 1800)}, {"GMT+5:30", 19800},
	}
	at := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		loc, err := LoadZone(tt.name)
		if err != nil {
			t.Errorf("LoadZone(%q): %v", tt.name, err)
			continue
		}
		if _, off := at.In(loc).Zone(); off != tt.off {
			t.Errorf("LoadZone(%q) offset %d, want %d", tt.name, off, tt.off)
		}
	}
	for _, bad := range []string{"Mars/Olympus", "Local", "GMT+25", "GMT+05:60", "+5:30:00", "../etc/passwd"} {
		loc, err := LoadZone(bad)
		if err == nil {
			t.Errorf("LoadZone(%q) = %v, want error", bad, loc)
			continue
		}
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("LoadZone(%q) = %q, want it to name the zone", bad, err)
		}
	}
	if _, err := LoadZone("Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "IANA name such as America/Denver") {
		t.Errorf("unknown zone error should say what is allowed: %v", err)
	}
}
