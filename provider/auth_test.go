package provider

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	a := newTestAPI(t)
	u, o := testSecrets.User, testSecrets.Organization
	ok := []string{
		"User " + u + ", Organization " + o,
		"Organization " + o + ", User " + u,
		"User " + u + ", Organization " + o + ", Element c29tZS10b2tlbg==",
		"Element c29tZS10b2tlbg==, Organization " + o + ", User " + u,
		"user " + u + ",organization " + o,
		"  User   " + u + " ,  Organization " + o + "  ",
	}
	for _, h := range ok {
		if rec := a.do("GET", prefix+"/instances", h, nil); rec.Code != http.StatusOK {
			t.Errorf("%q: %d %s", h, rec.Code, rec.Body)
		}
	}
	// One answer whichever secret is wrong, with the hint: telling them
	// apart would let a caller guess one secret at a time.
	wrong := []string{"the API secrets do not match", "User <user secret>, Organization <organization secret>", "eventdesk secrets"}
	bad := []struct {
		header string
		want   []string
	}{
		{"", []string{"missing Authorization header", "User <user secret>, Organization <organization secret>"}},
		{"   ", []string{"missing Authorization header"}},
		{"Organization " + o, []string{"no User part"}},
		{"User " + u, []string{"no Organization part"}},
		{"Element abc", []string{"no User or Organization part"}},
		{"User wrong, Organization " + o, wrong},
		{"User " + u + ", Organization wrong", wrong},
		{"User wrong, Organization wrong", wrong},
		{"User " + o + ", Organization " + u, wrong},
		{"User " + u + ", Organization " + o + ", Bearer xyz", []string{"unknown part 'Bearer'", "User, Organization, Element"}},
		{"Basic dXNlcjpwYXNz", []string{"unknown part 'Basic'"}},
		{"User, Organization " + o, []string{"'User' has no value"}},
		{"User " + u + ", Organization", []string{"'Organization' has no value"}},
		{"User " + u + "x, Organization " + o, wrong},
		{"User " + u[:len(u)-1] + ", Organization " + o, wrong},
	}
	for _, c := range bad {
		rec := a.do("GET", prefix+"/instances", c.header, nil)
		e := apiErr(t, rec, http.StatusUnauthorized, c.want...)
		if got := rec.Header().Get("WWW-Authenticate"); got != `User realm="eventdesk", charset="UTF-8"` {
			t.Errorf("%q: WWW-Authenticate %q", c.header, got)
		}
		if len(c.want) == len(wrong) && c.want[0] == wrong[0] && e.Message != wrongSecrets {
			t.Errorf("%q: message %q, want the same one for every wrong secret", c.header, e.Message)
		}
		for _, s := range []string{u, o} {
			if strings.Contains(e.Message, s) {
				t.Errorf("%q: message %q echoes a secret", c.header, e.Message)
			}
		}
	}
	// Every protected endpoint demands it, the create included.
	for _, r := range []struct{ method, path string }{
		{"GET", prefix + "/elements"},
		{"POST", prefix + "/instances"},
		{"GET", prefix + "/instances/1"},
		{"PATCH", prefix + "/instances/1"},
		{"DELETE", prefix + "/instances/1"},
	} {
		apiErr(t, a.do(r.method, r.path, "User "+u, []byte(`{}`)), http.StatusUnauthorized, "no Organization part")
	}
	// GET /health needs none.
	if rec := a.do("GET", "/health", "", nil); rec.Code != http.StatusOK {
		t.Errorf("/health: %d", rec.Code)
	}
	if rec := a.do("GET", "/health", "User wrong, Organization wrong", nil); rec.Code != http.StatusOK {
		t.Errorf("/health with a wrong header: %d", rec.Code)
	}
	// Every 401 is in the rejected log, the secrets redacted.
	rej, _, err := a.st.RejectedList(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != len(bad)+5 {
		t.Fatalf("rejected log has %d entries, want %d", len(rej), len(bad)+5)
	}
	for _, r := range rej {
		if r.Status != http.StatusUnauthorized {
			t.Errorf("rejected status %d", r.Status)
		}
		checkRedacted(t, r)
		for _, v := range r.Headers["Authorization"] {
			if strings.Contains(v, "wrong") || strings.Contains(v, "dXNlcjpwYXNz") {
				t.Errorf("rejected Authorization %q keeps a credential", v)
			}
		}
	}
	if n := a.storedCount(); n != 0 {
		t.Fatalf("%d instances stored without auth", n)
	}
}
