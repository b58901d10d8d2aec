package model

import (
	"net/url"
	"time"

	"github.com/eventdesk/eventdesk/model/timefmt"
)

// urlUnescape decodes a query value; '+' stays a plus because CE users
// write where clauses by hand and rarely mean a space.
func urlUnescape(s string) (string, error) { return url.PathUnescape(s) }

// TemplateWhere is the where clause of a poller URL template expanded for
// since, decoded, with the variables' values in it as they were formatted:
// a comparison and the local filter need 2026-11-25T19:05:17+05:30, not an
// escaped or space-mangled form. The URL is expanded with ExpandURL, whose
// escaped values decode back to themselves, so a value's '&', '#' or '%'
// stays inside the clause. Where the clause's literal text is not valid
// escaping (a hand-written LIKE 'Ada%'), the clause is taken verbatim, so
// the values go in verbatim too.
func TemplateWhere(tmpl *timefmt.Template, since time.Time) string {
	if where, decoded := whereClauseOf(tmpl.ExpandURL(since)); decoded || where == "" {
		return where
	}
	where, _ := whereClauseOf(tmpl.Expand(since))
	return where
}
