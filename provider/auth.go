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
			// RFC 9110 demands a challenge with every 401; it names the
			// scheme the API expects.
			w.Header().Set("WWW-Authenticate", authChallenge)
			s.fail(w, r, errorf(http.StatusUnauthorized, msg), nil)
			return
		}
		h(w, r)
	})
}

const authHelp = "expected 'Authorization: User <user secret>, Organization <organization secret>' (eventdesk secrets prints them)"

// authChallenge is the WWW-Authenticate value of the API's 401 answers.
const authChallenge = `User realm="eventdesk", charset="UTF-8"`

// wrongSecrets is the one answer to secrets that do not match, whichever of
// the two is wrong: telling them apart would let a caller guess one secret
// at a time.
const wrongSecrets = "the API secrets do not match; " + authHelp

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
	// Both are compared, always: the time taken says nothing about which
	// one is wrong either.
	userOK := subtle.ConstantTimeCompare([]byte(parts["user"]), []byte(s.cfg.Secrets.User))
	orgOK := subtle.ConstantTimeCompare([]byte(parts["organization"]), []byte(s.cfg.Secrets.Organization))
	if userOK&orgOK != 1 {
		return wrongSecrets
	}
	return ""
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "'" + s + "'"
}
