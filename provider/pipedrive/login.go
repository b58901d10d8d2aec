package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/eventdesk/eventdesk/provider/vendorjson"
)

// LoginPath is the legacy login exchange's path, relative to the base URL.
const LoginPath = "/authorizations"

// ErrNoLoginCredentials: Login was called without an email or a password;
// no request was sent.
var ErrNoLoginCredentials = errors.New("pipedrive: logging in needs both pipedrive.email and pipedrive.password")

// ErrLoginUnreachable means the login request got no answer at all
// (connection refused, DNS, TLS, a timeout): nothing was learnt about the
// credentials, and setting an API token instead would not reach Pipedrive
// either.
var ErrLoginUnreachable = errors.New("no answer from Pipedrive")

// LoginError is Pipedrive's refusal of the login exchange: a non-2xx answer,
// or a 2xx one with "success": false. Error() reads e.g. "pipedrive: POST
// /authorizations: 401: unauthorized access" and never holds the password. It unwraps to ErrCredentialsRejected when Pipedrive refused the
// email and password (see Rejected) and to ErrNotFound on 404 (a base.url
// that is not Pipedrive's API, or an account without the legacy exchange).
type LoginError struct {
	Status  int    // the answer's HTTP status
	Message string // the vendor's message
}

// Error reads "pipedrive: POST /authorizations: <status>: <message>".
func (e *LoginError) Error() string {
	return fmt.Sprintf("pipedrive: %s %s: %d: %s", http.MethodPost, LoginPath, e.Status, e.Message)
}

// Rejected reports whether Pipedrive refused the credentials themselves
// (400, 401, 403, or a 2xx with success false), as opposed to failing to
// answer (404, 429, 5xx), where trying again later may work.
func (e *LoginError) Rejected() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return e.Status >= 200 && e.Status <= 299
}

// Unwrap maps the refusal to a sentinel error.
func (e *LoginError) Unwrap() error {
	if e.Rejected() {
		return ErrCredentialsRejected
	}
	if e.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// Login is Pipedrive's legacy email/password exchange: it posts
// email and password to {baseURL}/authorizations and returns the user's API
// token from the answer. baseURL is the instance's base.url (empty means
// DefaultBaseURL); hc nil means a client with a 30-second timeout.
//
// Errors never contain the password or the token. Refused credentials give
// an error that errors.Is ErrCredentialsRejected (as a *LoginError); a
// missing email or password gives ErrNoLoginCredentials without a request;
// a request that got no answer wraps ErrLoginUnreachable; malformed answers
// are plain errors starting "pipedrive: POST /authorizations:".
func Login(ctx context.Context, hc *http.Client, baseURL, email, password string) (string, error) {
	if strings.TrimSpace(email) == "" || password == "" {
		return "", ErrNoLoginCredentials
	}
	call := vendorjson.Call{
		Vendor: "pipedrive", BaseURL: baseURL, DefaultBaseURL: DefaultBaseURL,
		Method: http.MethodPost, Path: LoginPath, HTTPClient: hc,
		In: map[string]string{"email": email, "password": password},
	}
	status, raw, err := call.Do(ctx)
	if err != nil {
		if status == 0 && ctx.Err() == nil {
			return "", fmt.Errorf("%w (%w)", err, ErrLoginUnreachable)
		}
		return "", err
	}
	if status < 200 || status > 299 {
		return "", &LoginError{Status: status, Message: vendorjson.Message(raw, status)}
	}
	var env struct {
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	// The answer carries the token: errors below name the problem, never
	// an excerpt of the body.
	if err := json.Unmarshal(raw, &env); err != nil {
		return "", call.Errorf("%d: malformed answer (not a JSON object)", status)
	}
	if env.Success != nil && !*env.Success {
		return "", &LoginError{Status: status, Message: vendorjson.Message(raw, status)}
	}
	token := loginToken(env.Data)
	if token == "" {
		return "", call.Errorf("%d: the answer has no api_token", status)
	}
	return token, nil
}

// loginToken reads the api_token from the answer's data: a list with an
// entry per company of the user (each carries the user's token; the first
// non-empty one is taken), or one object.
func loginToken(data json.RawMessage) string {
	type entry struct {
		APIToken string `json:"api_token"`
	}
	var list []entry
	if err := json.Unmarshal(data, &list); err == nil {
		for _, e := range list {
			if e.APIToken != "" {
				return e.APIToken
			}
		}
		return ""
	}
	var one entry
	_ = json.Unmarshal(data, &one)
	return one.APIToken
}
