package poll

import (
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/model/ceql"
	"github.com/eventdesk/eventdesk/model/timefmt"
)

// The where clause of a hub URL holds its variables' values as formatted,
// whatever they contain, and literal text as the user wrote it.
func TestHubWhere(t *testing.T) {
	since := time.Date(2026, 11, 25, 13, 35, 17, 0, time.UTC)
	tests := []struct{ name, url, want string }{
		{"+05:30", "/hubs/crm/contacts?where=update_time>='${dateTimeZone:GMT+0530:yyyy-MM-dd'T'HH:mm:ssXXX}'",
			"update_time>='2026-11-25T19:05:17+05:30'"},
		{"-03:00", "/hubs/crm/contacts?where=update_time>='${dateTimeZone:GMT-0300:yyyy-MM-dd'T'HH:mm:ssXXX}'",
			"update_time>='2026-11-25T10:35:17-03:00'"},
		{"Z", "/hubs/crm/contacts?where=update_time>='${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}'",
			"update_time>='2026-11-25T13:35:17Z'"},
		{"+0530 with spaces", "/hubs/crm/contacts?where=update_time >= '${dateTimeZone:GMT+0530:yyyy-MM-dd HH:mm:ss Z}'",
			"update_time >= '2026-11-25 19:05:17 +0530'"},
		{"& and =", "/hubs/crm/contacts?a=1&where=x='${gmtDate:yyyy'&b=c'}' AND y='${gmtDate:'#%+'}'&z=2",
			"x='2026&b=c' AND y='#%+'"},
		// Escaped literal text decodes; a literal '+' stays a plus.
		{"escaped literal", "/hubs/crm/contacts?where=update_time%3E%3D'${gmtDate:yyyy}+${dateTimeZone:GMT+0530:XX}'",
			"update_time>='2026++0530'"},
		// Not valid escaping: all verbatim, as before values were escaped.
		{"LIKE %", "/hubs/crm/contacts?where=name LIKE 'Ad%' AND update_time>'${dateTimeZone:GMT+0530:yyyy-MM-dd HH:mm:ssZ}'",
			"name LIKE 'Ad%' AND update_time>'2026-11-25 19:05:17+0530'"},
		{"no where", "/hubs/crm/contacts?x=${gmtDate:yyyy}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := timefmt.ParseTemplate(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got := model.TemplateWhere(tmpl, since)
			if got != tt.want {
				t.Errorf("where clause\n %q\nwant %q", got, tt.want)
			}
			if got != "" {
				if _, err := ceql.Parse(got); err != nil {
					t.Errorf("where clause %q: %v", got, err)
				}
			}
		})
	}
}

// The preview decodes what is only escaped for the wire, and keeps what
// would change how the URL reads.
func TestReadableURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://h/v1/x?limit=100&v=2026-11-25+19%3A05%3A17+%2B0530", "http://h/v1/x?limit=100&v=2026-11-25 19:05:17 +0530"},
		{"http://h/v1/x?v=a%26b%3Dc%23d%25e&w=%3F%2F", "http://h/v1/x?v=a%26b%3Dc%23d%25e&w=%3F%2F"},
		{"http://h/v1/a+b/c%20d/e%2Ff%3Fg?k%3D=v", "http://h/v1/a+b/c d/e%2Ff%3Fg?k%3D=v"},
		{"http://h/x?v=%0A%7F%FF%C3%A9", "http://h/x?v=%0A%7F%FFé"},
		{"http://h/x?v=100%", "http://h/x?v=100%"},
		{"http://h/x", "http://h/x"},
		{"http://h/x?", "http://h/x?"},
		{"http://h/x?flag&v=", "http://h/x?flag&v="},
	}
	for _, tt := range tests {
		if got := readableURL(tt.in); got != tt.want {
			t.Errorf("readableURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
