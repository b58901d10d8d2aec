package provider

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// authed demands CE's "Authorization: User <u>, Organization <o>" header.
// Parts may come in any order; an "Element <token>" part is allowed.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if msg := s.checkAuth(r.Header.Get("Authorization")); msg != "" {
			s.fail(w, r, errorf(http.StatusUnauthorized, msg), nil)
			return
		}
		h(w, r)
	})
}

const authHelp = "expected 'Authorization: User <user secret>, Organization <organization secret>' (eventdesk secrets prints them)"

func (s *Server) checkAuth(header string) string {
	if strings.TrimSpace(header) == "" {
		return "missing Authorization header; " + authHelp
	}
	parts := map[string]string{}
	for _, p := range strings.Split(header, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		name, value, ok := strings.Cut(p, " ")
		value = strings.TrimSpace(value)
		if !ok || value == "" {
			return "Authorization part " + quoteShort(p) + " has no value; " + authHelp
		}
		switch strings.ToLower(name) {
		case "user", "organization", "element":
			parts[strings.ToLower(name)] = value
		default:
			return "Authorization has an unknown part " + quoteShort(name) + " (allowed: User, Organization, Element); " + authHelp
		}
	}
	var missing []string
	if parts["user"] == "" {
		missing = append(missing, "User")
	}
	if parts["organization"] == "" {
		missing = append(missing, "Organization")
	}
	if len(missing) > 0 {
		return "Authorization header has no " + strings.Join(missing, " or ") + " part; " + authHelp
	}
	userOK := subtle.ConstantTimeCompare([]byte(parts["user"]), []byte(s.cfg.Secrets.User)) == 1
	orgOK := subtle.ConstantTimeCompare([]byte(parts["organization"]), []byte(s.cfg.Secrets.Organization)) == 1
	switch {
	case !userOK && !orgOK:
		return "User and Organization secrets are wrong (eventdesk secrets prints the right ones)"
	case !userOK:
		return "User secret is wrong (eventdesk secrets prints the right one)"
	case !orgOK:
		return "Organization secret is wrong (eventdesk secrets prints the right one)"
	}
	return ""
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "'" + s + "'"
}
