package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
)

const (
	loginEmail     = "ops@example.com"
	loginPass      = "pd-Login-Secret-7"
	testLoginToken = "pd-login-token-abc"
)

func loginFake(t *testing.T) (*fakepipedrive.Server, string) {
	t.Helper()
	fake := fakepipedrive.New(fakepipedrive.Options{APIToken: testLoginToken, Email: loginEmail, Password: loginPass})
	t.Cleanup(fake.Close)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

// leaks reports whether an error text shows a secret.
func leaks(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{loginPass, testLoginToken} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a secret", err)
		}
	}
}

func TestLoginExchangesEmailAndPassword(t *testing.T) {
	fake, url := loginFake(t)
	for _, base := range []string{url + "/v1", url + "/api/v1/"} {
		fake.ResetRequests()
		token, err := Login(context.Background(), nil, base, loginEmail, loginPass)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if token != testLoginToken {
			t.Errorf("%s: token %q, want %q", base, token, testLoginToken)
		}
		reqs := fake.Requests()
		if len(reqs) != 1 || reqs[0].Method != http.MethodPost || !strings.HasSuffix(reqs[0].URL.Path, "/v1/authorizations") {
			t.Fatalf("%s: requests %+v", base, reqs)
		}
		var body map[string]string
		if err := json.Unmarshal(reqs[0].Body, &body); err != nil || body["email"] != loginEmail || body["password"] != loginPass {
			t.Errorf("%s: body %s (%v)", base, reqs[0].Body, err)
		}
		if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", base, ct)
		}
		if h := reqs[0].Header.Get("x-api-token"); h != "" || reqs[0].URL.RawQuery != "" {
			t.Errorf("%s: login sent a token (%q) or a query %q", base, h, reqs[0].URL.RawQuery)
		}
	}
}

func TestLoginWrongPassword(t *testing.T) {
	fake, url := loginFake(t)
	_, err := Login(context.Background(), nil, url+"/v1", loginEmail, "not-"+loginPass)
	if !errors.Is(err, ErrCredentialsRejected) {
		t.Fatalf("err = %v, want one that is ErrCredentialsRejected", err)
	}
	var le *LoginError
	if !errors.As(err, &le) || le.Status != http.StatusUnauthorized || !le.Rejected() {
		t.Fatalf("err %#v is not a rejected *LoginError with status 401", err)
	}
	if want := "pipedrive: POST /authorizations: 401: unauthorized access"; err.Error() != want {
		t.Errorf("err %q, want %q", err, want)
	}
	if errors.Is(err, ErrNotFound) {
		t.Error("a 401 is not ErrNotFound")
	}
	leaks(t, err)
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no retry of refused credentials)", n)
	}
}

func TestLoginMissingCredentialsSendsNothing(t *testing.T) {
	fake, url := loginFake(t)
	for _, c := range [][2]string{{"", loginPass}, {loginEmail, ""}, {" ", loginPass}} {
		_, err := Login(context.Background(), nil, url+"/v1", c[0], c[1])
		if !errors.Is(err, ErrNoLoginCredentials) || errors.Is(err, ErrCredentialsRejected) {
			t.Errorf("email %q: err = %v, want ErrNoLoginCredentials", c[0], err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
}

// A vendor that fails to answer is not a refusal of the credentials:
// callers may retry soon.
func TestLoginVendorFailures(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       string
		rejected   bool
		notFound   bool
		errHas     string
		noLoginErr bool
		useFakeOn  int // fake fault status instead of a stub
	}{
		{name: "503", useFakeOn: http.StatusServiceUnavailable, errHas: ": 503: "},
		{name: "429", useFakeOn: http.StatusTooManyRequests, errHas: ": 429: "},
		{name: "403", useFakeOn: http.StatusForbidden, errHas: ": 403: ", rejected: true},
		{name: "404", status: 404, body: `{"success":false,"error":"Unknown method ."}`, notFound: true, errHas: "404: Unknown method"},
		{name: "400", status: 400, body: `{"success":false,"error":"Email is invalid"}`, rejected: true, errHas: "400: Email is invalid"},
		{name: "success false", status: 200, body: `{"success":false,"error":"Login failed"}`, rejected: true, errHas: "200: Login failed"},
		{name: "no token", status: 200, body: `{"success":true,"data":[{"user_id":1}]}`, errHas: "no api_token", noLoginErr: true},
		{name: "not JSON", status: 200, body: `<html>api_token=` + testLoginToken, errHas: "malformed answer", noLoginErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base string
			if tc.useFakeOn != 0 {
				fake, url := loginFake(t)
				fake.Fail("/v1/authorizations", 1, fakepipedrive.Status(tc.useFakeOn))
				base = url + "/v1"
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
				}))
				t.Cleanup(srv.Close)
				base = srv.URL + "/v1"
			}
			token, err := Login(context.Background(), nil, base, loginEmail, loginPass)
			if err == nil {
				t.Fatalf("no error; token %q", token)
			}
			if !strings.Contains(err.Error(), tc.errHas) || !strings.HasPrefix(err.Error(), "pipedrive: POST /authorizations: ") {
				t.Errorf("err %q, want one starting with the call and mentioning %q", err, tc.errHas)
			}
			if errors.Is(err, ErrCredentialsRejected) != tc.rejected {
				t.Errorf("err %q: errors.Is ErrCredentialsRejected = %v, want %v", err, !tc.rejected, tc.rejected)
			}
			if errors.Is(err, ErrNotFound) != tc.notFound {
				t.Errorf("err %q: errors.Is ErrNotFound = %v, want %v", err, !tc.notFound, tc.notFound)
			}
			var le *LoginError
			if errors.As(err, &le) == tc.noLoginErr {
				t.Errorf("err %q: *LoginError = %v", err, !tc.noLoginErr)
			}
			leaks(t, err)
		})
	}
}

// Data as one object (not a list) is read as well; the first entry with a
// token counts.
func TestLoginAnswerShapes(t *testing.T) {
	for _, body := range []string{
		`{"success":true,"data":{"api_token":"` + testLoginToken + `"}}`,
		`{"success":true,"data":[{"company_id":2},{"api_token":"` + testLoginToken + `"}]}`,
		`{"data":[{"api_token":"` + testLoginToken + `"}]}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(body))
		}))
		token, err := Login(context.Background(), srv.Client(), srv.URL, loginEmail, loginPass)
		srv.Close()
		if err != nil || token != testLoginToken {
			t.Errorf("answer %s: token %q, err %v", body, token, err)
		}
	}
}

// A transport failure names the call, not the URL (a base URL may carry
// credentials), and is not a refusal.
func TestLoginTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	_, err := Login(context.Background(), nil, "http://user:basepass@"+strings.TrimPrefix(base, "http://")+"/v1", loginEmail, loginPass)
	if err == nil || errors.Is(err, ErrCredentialsRejected) || !errors.Is(err, ErrLoginUnreachable) {
		t.Fatalf("err = %v, want ErrLoginUnreachable and not a refusal", err)
	}
	if strings.Contains(err.Error(), "basepass") || !strings.HasPrefix(err.Error(), "pipedrive: POST /authorizations: ") {
		t.Errorf("err %q", err)
	}
	leaks(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Login(ctx, nil, base, loginEmail, loginPass); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}
