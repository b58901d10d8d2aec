package timefmt

import (
	"fmt"
	"strings"
	"sync"
	"time"

	// Poller hosts are often bare containers without /usr/share/zoneinfo;
	// configurations name IANA zones and must work there too.
	_ "time/tzdata"
)

// javaShortIDs are the three-letter IDs Java's TimeZone.getTimeZone accepts
// (java.time.ZoneId.SHORT_IDS). CE ran on Java, so a configuration saying
// "PST" or "IST" meant exactly these, even where the letters are ambiguous
// elsewhere (BST is Dhaka here, not London). EST, MST and HST are fixed
// offsets in Java, unlike tzdata's links of the same names.
var javaShortIDs = map[string]string{
	"ACT": "Australia/Darwin",
	"AET": "Australia/Sydney",
	"AGT": "America/Argentina/Buenos_Aires",
	"ART": "Africa/Cairo",
	"AST": "America/Anchorage",
	"BET": "America/Sao_Paulo",
	"BST": "Asia/Dhaka",
	"CAT": "Africa/Harare",
	"CNT": "America/St_Johns",
	"CST": "America/Chicago",
	"CTT": "Asia/Shanghai",
	"EAT": "Africa/Addis_Ababa",
	"ECT": "Europe/Paris",
	"IET": "America/Indiana/Indianapolis",
	"IST": "Asia/Kolkata",
	"JST": "Asia/Tokyo",
	"MIT": "Pacific/Apia",
	"NET": "Asia/Yerevan",
	"NST": "Pacific/Auckland",
	"PLT": "Asia/Karachi",
	"PNT": "America/Phoenix",
	"PRT": "America/Puerto_Rico",
	"PST": "America/Los_Angeles",
	"SST": "Pacific/Guadalcanal",
	"VST": "Asia/Ho_Chi_Minh",
}

var fixedIDs = map[string]int{
	"UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "ETC/UTC": 0, "ETC/GMT": 0,
	"EST": -5 * 3600, "MST": -7 * 3600, "HST": -10 * 3600,
}

// zoneCache spares ParseValue, called once per polled record, from
// re-reading the embedded zone database. Only successes are kept, and the
// set of valid names is finite, so the cache cannot grow without bound.
var zoneCache sync.Map // string → *time.Location

// LoadZone resolves a zone name as CE configurations write it: "" (UTC),
// an IANA name such as America/Denver, GMT or UTC, a Java short ID (EST,
// MST and HST as fixed offsets; PST, CST, IST… as Java maps them), or a
// fixed offset GMT+hh:mm, GMT-hhmm, GMT+h or +hh:mm. "Local" is refused:
// the host's zone is not part of a configuration.
func LoadZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return time.UTC, nil
	}
	if loc, ok := zoneCache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := loadZone(name)
	if err != nil {
		return nil, err
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

func loadZone(name string) (*time.Location, error) {
	upper := strings.ToUpper(name)
	if off, ok := fixedIDs[upper]; ok {
		if off == 0 {
			return time.UTC, nil
		}
		return time.FixedZone(upper, off), nil
	}
	if iana, ok := javaShortIDs[upper]; ok {
		name = iana
	}
	if off, ok := parseFixedName(upper); ok {
		return offsetZone(off), nil
	}
	if strings.EqualFold(name, "Local") {
		return nil, fmt.Errorf("time zone %q is not allowed: name the zone, e.g. America/Denver or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as America/Denver, UTC, GMT, a Java ID such as EST or PST, or GMT+hh:mm): %w", name, err)
	}
	return loc, nil
}

// parseFixedName reads Java's custom zone IDs: GMT (or UTC) followed by
// +h, +hh, +hhmm or +hh:mm, and the same offsets without a prefix.
func parseFixedName(s string) (int, bool) {
	for _, prefix := range []string{"GMT", "UTC", "UT"} {
		if strings.HasPrefix(s, prefix) {
			s = s[len(prefix):]
			break
		}
	}
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	neg := s[0] == '-'
	s = s[1:]
	var hh, mm int
	digitsAt := func(t string) bool {
		for i := 0; i < len(t); i++ {
			if !isDigit(t[i]) {
				return false
			}
		}
		return true
	}
	num := func(t string) int {
		v := 0
		for i := 0; i < len(t); i++ {
			v = v*10 + int(t[i]-'0')
		}
		return v
	}
	switch {
	case (len(s) == 1 || len(s) == 2) && digitsAt(s):
		hh = num(s)
	case len(s) == 4 && digitsAt(s):
		hh, mm = num(s[:2]), num(s[2:])
	case len(s) == 5 && s[2] == ':' && digitsAt(s[:2]) && digitsAt(s[3:]):
		hh, mm = num(s[:2]), num(s[3:])
	case len(s) == 4 && s[1] == ':' && digitsAt(s[:1]) && digitsAt(s[2:]):
		hh, mm = num(s[:1]), num(s[2:])
	default:
		return 0, false
	}
	if hh > 23 || mm > 59 {
		return 0, false
	}
	off := (hh*60 + mm) * 60
	if neg {
		off = -off
	}
	return off, true
}
