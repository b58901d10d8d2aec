package timefmt

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTemplateExpand(t *testing.T) {
	since := time.Date(2024, 3, 5, 7, 8, 9, 123456789, time.UTC)
	tests := []struct {
		url, want string
		vars      []string
	}{
		// The seeds' urls.
		{"/hubs/crm/accounts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'",
			"/hubs/crm/accounts?where=update_time>'2024-03-05 07:08:09'",
			[]string{"${date:yyyy-MM-dd HH:mm:ss}"}},
		{"/hubs/crm/contacts?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX}'",
			"/hubs/crm/contacts?where=date_updated>'2024-03-05T07:08:09.123456Z'",
			[]string{"${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX}"}},
		// Each kind.
		{"${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}", "2024-03-05T07:08:09Z", nil},
		{"${dateTimeZone:America/Denver:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}", "2024-03-05T00:08:09.123Z", nil},
		{"${dateTimeZone:Asia/Kolkata:HH:mmXXX}", "12:38+05:30", nil},
		{"${dateTimeZone:EST:HH:mm z}", "02:08 EST", nil},
		{"${epoch}", "1709622489123", nil},
		{"${milliseconds}", "1709622489123", nil},
		{"${epoch:s}", "1709622489", nil},
		{"${epoch:ms}", "1709622489123", nil},
		{"${epoch:us}", "1709622489123456", nil},
		{"${date}", "2024-03-05T07:08:09Z", nil},
		// Text around and between, '}' and ':' inside quotes, lone '$'.
		{"/x?a=${epoch:s}&b=${gmtDate:yyyy}&c=$5", "/x?a=1709622489&b=2024&c=$5",
			[]string{"${epoch:s}", "${gmtDate:yyyy}"}},
		{"${gmtDate:yyyy'}'MM}", "2024}03", nil},
		{"${gmtDate:'{'yyyy''MM'}'}", "{2024'03}", nil},
		{"$${epoch:s}}", "$1709622489}", nil},
		{"no variables, 100% verbatim %20 {x} $ {", "no variables, 100% verbatim %20 {x} $ {", []string{}},
		{"", "", []string{}},
		// Raw: nothing is escaped.
		{"q=${gmtDate:yyyy-MM-dd HH:mm:ss+XXX}", "q=2024-03-05 07:08:09+Z", nil},
	}
	for _, tt := range tests {
		tpl, err := ParseTemplate(tt.url)
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tt.url, err)
			continue
		}
		if got := tpl.Expand(since); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.url, got, tt.want)
		}
		// ${date} and ${gmtDate} format in UTC whatever since's location.
		if got := tpl.Expand(since.In(time.FixedZone("", 2*3600))); got != tt.want {
			t.Errorf("Expand(%q) of a +02:00 since = %q, want %q", tt.url, got, tt.want)
		}
		if tt.vars != nil {
			got := tpl.Vars()
			if len(got) != 0 || len(tt.vars) != 0 {
				if !reflect.DeepEqual(got, tt.vars) {
					t.Errorf("Vars(%q) = %q, want %q", tt.url, got, tt.vars)
				}
			}
		}
		if tpl.String() != tt.url {
			t.Errorf("String() = %q", tpl.String())
		}
		if got, err := Expand(tt.url, since); err != nil || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v", tt.url, got, err)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct {
		url  string
		want []string
	}{
		{"/x?since=${foo}", []string{"${foo}", "position 10", `unknown variable "foo"`,
			"allowed: ${gmtDate:FMT}, ${date:FMT}, ${date}, ${dateTimeZone:ZONE:FMT}, ${epoch}, ${epoch:s}, ${epoch:ms}, ${epoch:us}, ${milliseconds}"}},
		{"${GMTDATE:yyyy}", []string{`unknown variable "GMTDATE"`}},
		{"${}", []string{`unknown variable ""`}},
		{"/x?since=${gmtDate:yyyy-QQ}", []string{"${gmtDate:yyyy-QQ}", "position 10", "unsupported pattern letter 'Q' at position 6"}},
		{"${date:yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSS}", []string{"'S' repeated 10 times"}},
		{"${date:}", []string{"${date:}", "empty date pattern"}},
		{"${gmtDate}", []string{"${gmtDate}", "needs a date pattern"}},
		{"${dateTimeZone:yyyy}", []string{"needs a zone and a date pattern"}},
		{"${dateTimeZone}", []string{"needs a zone and a date pattern"}},
		{"${dateTimeZone:Mars/Olympus:yyyy}", []string{`unknown time zone "Mars/Olympus"`}},
		{"${dateTimeZone:UTC:yyyyQ}", []string{"unsupported pattern letter 'Q'"}},
		{"${epoch:ns}", []string{`unknown epoch unit "ns"`, "${epoch:us}"}},
		{"${milliseconds:x}", []string{"takes no argument"}},
		{"/x?since=${gmtDate:yyyy", []string{"unterminated ${ at position 10"}},
		{"/x?since=${gmtDate:yyyy'}", []string{"unterminated ${ at position 10", "quote in its date pattern is not closed"}},
		{"${epoch} and ${", []string{"unterminated ${ at position 14"}},
		{"/é?${x}", []string{"position 4"}},
	}
	for _, tt := range tests {
		_, err := ParseTemplate(tt.url)
		if err == nil {
			t.Errorf("ParseTemplate(%q) succeeded, want error", tt.url)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseTemplate(%q) = %q, want it to mention %q", tt.url, err, w)
			}
		}
		if _, err2 := Expand(tt.url, time.Now()); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("Expand(%q) error %v, want %v", tt.url, err2, err)
		}
	}
}

// TestCheckTemplateNamesEveryVariable: CheckTemplate reports every bad
// variable (both problems of one ${dateTimeZone:…}), and hands back a
// template with 0 for them, so a where clause around them can be checked.
func TestCheckTemplateNamesEveryVariable(t *testing.T) {
	since := time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name, url string
		want      [][]string // words of each error, in order
		expanded  string     // "" means no template is returned
	}{
		{"every bad variable",
			"/x?a=${nope}&b=${epoch:s}&c=${gmtDate:yyyy-QQ}&where=d>'${milliseconds:x}'",
			[][]string{
				{"${nope} at position 6", `unknown variable "nope"`},
				{"${gmtDate:yyyy-QQ} at position 29", "'Q'"},
				{"${milliseconds:x} at position 57", "takes no argument"},
			},
			"/x?a=0&b=1709622489&c=0&where=d>'0'"},
		{"zone and pattern of one variable",
			"${dateTimeZone:Mars/Olympus:yyyyQ}",
			[][]string{{`unknown time zone "Mars/Olympus"`}, {"'Q'", `"yyyyQ"`}},
			"0"},
		{"bad variable, then unterminated ${",
			"/x?a=${nope}&b=${epoch",
			[][]string{{`unknown variable "nope"`}, {"unterminated ${ at position 16"}},
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, errs := CheckTemplate(tt.url)
			if len(errs) != len(tt.want) {
				t.Fatalf("CheckTemplate(%q) = %v, want %d errors", tt.url, errs, len(tt.want))
			}
			for i, words := range tt.want {
				for _, w := range words {
					if !strings.Contains(errs[i].Error(), w) {
						t.Errorf("error %d = %q, want it to mention %q", i, errs[i], w)
					}
				}
			}
			if _, err := ParseTemplate(tt.url); err == nil || err.Error() != errs[0].Error() {
				t.Errorf("ParseTemplate error %v, want the first of CheckTemplate's, %v", err, errs[0])
			}
			switch {
			case tt.expanded == "" && tpl != nil:
				t.Errorf("template returned after an unterminated ${: %q", tpl.Expand(since))
			case tt.expanded != "" && tpl == nil:
				t.Error("no template returned")
			case tt.expanded != "":
				if got := tpl.Expand(since); got != tt.expanded {
					t.Errorf("Expand = %q, want %q", got, tt.expanded)
				}
			}
		})
	}
}

// ExpandURL escapes each value for the URL part it lands in and leaves
// the literal text as written.
func TestTemplateExpandURL(t *testing.T) {
	since := time.Date(2026, 11, 25, 13, 35, 17, 0, time.UTC)
	tests := []struct{ name, url, want string }{
		// The report: the '+' of the offset is data, so %2B; spaces %20.
		{"query +0530 Z", "/x?v=${dateTimeZone:GMT+0530:yyyy-MM-dd HH:mm:ss Z}",
			"/x?v=2026-11-25%2019%3A05%3A17%20%2B0530"},
		{"query -0300 Z", "/x?v=${dateTimeZone:GMT-0300:yyyy-MM-dd HH:mm:ss Z}",
			"/x?v=2026-11-25%2010%3A35%3A17%20-0300"},
		{"query UTC Z", "/x?v=${gmtDate:yyyy-MM-dd HH:mm:ss Z}",
			"/x?v=2026-11-25%2013%3A35%3A17%20%2B0000"},
		{"query +05:30 XXX", "/x?v=${dateTimeZone:Asia/Kolkata:yyyy-MM-dd'T'HH:mm:ssXXX}",
			"/x?v=2026-11-25T19%3A05%3A17%2B05%3A30"},
		{"query UTC XXX", "/x?v=${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}",
			"/x?v=2026-11-25T13%3A35%3A17Z"},
		{"query +0530 XX", "/x?v=${dateTimeZone:GMT+0530:HHmmXX}", "/x?v=1905%2B0530"},
		// Delimiters from quoted literals stay inside the value.
		{"query & =", "/x?a=1&v=${gmtDate:yyyy'&b='MM}&c=2", "/x?a=1&v=2026%26b%3D11&c=2"},
		{"query # % ;", "/x?v=${gmtDate:yyyy'#%;'}", "/x?v=2026%23%25%3B"},
		// Literal text keeps its meaning: a '+', an escape, a space.
		{"literal +", "/x?q=a+b&v=${gmtDate:yyyy}+${gmtDate:MM}%2B", "/x?q=a+b&v=2026+11%2B"},
		{"where clause", "/hubs/crm/contacts?where=update_time >= '${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}'",
			"/hubs/crm/contacts?where=update_time >= '2026-11-25T19%3A05%3A17%2B05%3A30'"},
		// In the path: url.PathEscape ('+' and ':' are fine there, '?',
		// '#', '/' and spaces are not).
		{"path", "/x/${gmtDate:yyyy-MM-dd HH:mm Z}/${gmtDate:yyyy'/?#'}?v=${gmtDate:yyyy'/?'}",
			"/x/2026-11-25%2013:35%20+0000/2026%2F%3F%23?v=2026%2F%3F"},
		// A fragment is escaped like a query.
		{"fragment", "/x#${gmtDate:yyyy' +'}", "/x#2026%20%2B"},
		// Epochs are digits either way.
		{"epoch", "/x/${epoch:s}?a=${epoch}&b=${milliseconds}&c=${epoch:us}",
			"/x/1795613717?a=1795613717000&b=1795613717000&c=1795613717000000"},
		{"no variables", "/x?q=a+b&c=%2B", "/x?q=a+b&c=%2B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := ParseTemplate(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := tpl.ExpandURL(since); got != tt.want {
				t.Errorf("ExpandURL(%q)\n got %q\nwant %q", tt.url, got, tt.want)
			}
			// Where the literal text has nothing a decoder would change,
			// the query decodes back to what Expand writes, with a form
			// decoder and with a path decoder alike.
			literal := tt.url
			for _, v := range tpl.Vars() {
				literal = strings.Replace(literal, v, "", 1)
			}
			raw, esc := tpl.Expand(since), tpl.ExpandURL(since)
			if !strings.ContainsAny(literal, "+%# ") && strings.Count(raw, "?") == 1 {
				_, rq, _ := strings.Cut(raw, "?")
				_, eq, _ := strings.Cut(esc, "?")
				for _, dec := range []func(string) (string, error){url.QueryUnescape, url.PathUnescape} {
					if got, err := dec(eq); err != nil || got != rq {
						t.Errorf("query %q decodes to %q (%v), want %q", eq, got, err, rq)
					}
				}
			}
		})
	}
}
