package ui

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

// copyEventCurl reads an event through the engine and copies it as curl;
// a polled event was never posted, so there is nothing to re-post.
func copyEventCurl(ctx *Context, id string) tea.Cmd {
	b, public := ctx.Backend, ctx.PublicURL
	return func() tea.Msg {
		e, err := b.Event(opCtx(), id)
		if err != nil {
			return errMsg("copy as curl", err)
		}
		if e.Source != model.SourceWebhook {
			return toastMsg{text: "event " + id + " was polled, never posted: C copies webhook events as curl", kind: toastInfo}
		}
		return copyMsg{text: eventCurl(public, e), what: "curl command"}
	}
}

// copyCurl is the key that copies a ready-to-run curl command.
var copyCurl = bind("C", "C", "copy as curl")

// shellQuote quotes s for a POSIX shell: single quotes, with each single
// quote inside closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// curlSkip are headers curl sets itself or that would make the re-sent
// request wrong (a stale length, a proxy's hop headers).
var curlSkip = map[string]bool{"Content-Length": true, "Host": true, "Connection": true, "Accept-Encoding": true,
	"Transfer-Encoding": true, "X-Forwarded-For": true, "X-Forwarded-Proto": true, "X-Forwarded-Host": true}

// curlCommand builds the command, one option a line so it can be edited
// before it is run.
func curlCommand(method, url string, headers map[string][]string, body string) string {
	parts := []string{"curl -sS -X " + method + " " + shellQuote(url)}
	names := make([]string, 0, len(headers))
	for k := range headers {
		if !curlSkip[http.CanonicalHeaderKey(k)] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range headers[k] {
			parts = append(parts, "  -H "+shellQuote(k+": "+v))
		}
	}
	if body != "" {
		parts = append(parts, "  --data-binary "+shellQuote(body))
	}
	return strings.Join(parts, " \\\n")
}

// rejectedCurl is a rejected request as received, to fix and send again.
// The stored headers are already redacted; a cut body says so.
func rejectedCurl(publicURL string, r model.Rejected) string {
	cmd := curlCommand(r.Method, strings.TrimRight(publicURL, "/")+r.Path, r.Headers, r.Body)
	if r.Truncated {
		cmd = "# the body was cut to its first 4 KiB when it was recorded\n" + cmd
	}
	return cmd
}

// eventCurl re-posts a webhook event's body, as the vendor sent it, to
// the instance's webhook URL. The listener checks the vendor's
// credentials; they are not stored with the event, so a comment says
// which to add.
func eventCurl(publicURL string, e model.Event) string {
	url := model.WebhookURL(publicURL, e.ElementKey, e.InstanceID)
	cmd := curlCommand("POST", url, map[string][]string{"Content-Type": {"application/json"}}, string(e.Raw))
	return "# add the vendor's credentials if the instance demands them (Pipedrive: -u USER:PASSWORD; Close: its signature headers)\n" + cmd
}

// copyNotificationCurl copies the callback request of notification id as
// eventdesk would send it now: the instance's headers, both signatures
// (made now, so a receiver's timestamp window accepts them) and its Basic
// credentials. The command carries the instance's secrets in clear; that is
// what makes it the exact request.
func copyNotificationCurl(ctx *Context, id string) tea.Cmd {
	b, now := ctx.Backend, ctx.Now
	return func() tea.Msg {
		n, err := b.Notification(opCtx(), id)
		if err != nil {
			return errMsg("copy as curl", err)
		}
		in, err := b.RevealInstance(opCtx(), n.InstanceID)
		if err != nil {
			return errMsg("copy as curl", err)
		}
		cmd, err := notificationCurl(in, n, now())
		if err != nil {
			return errMsg("copy as curl", err)
		}
		return copyMsg{text: cmd, what: "curl command (with the instance's secrets)"}
	}
}

// notificationCurl is the callback request of n to in, signed at now.
func notificationCurl(in model.Instance, n model.Notification, now time.Time) (string, error) {
	if in.CallbackURL() == "" {
		return "", fmt.Errorf("instance %d has no callback URL (%s) to send notification %s to", in.ID, model.KeyCallbackURL, n.ID)
	}
	h, err := model.CallbackHeaders(in, n, now, "eventdesk")
	if err != nil {
		return "", err
	}
	cmd := curlCommand("POST", in.CallbackURL(), h, string(n.Body))
	return "# signed at " + now.UTC().Format(time.RFC3339) + ": receivers that check webhook-timestamp accept it for a few minutes\n" + cmd, nil
}
