package model

import "net/url"

// urlUnescape decodes a query value; '+' stays a plus because CE users
// write where clauses by hand and rarely mean a space.
func urlUnescape(s string) (string, error) { return url.PathUnescape(s) }

// WhereClause returns the CEQL where clause of a poller URL with its
// template already expanded, or "".
func WhereClause(expandedURL string) string { return whereClause(expandedURL) }
