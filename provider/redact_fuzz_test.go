package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// fuzzSecret is the known secret the fuzzed bodies carry under secret keys.
const fuzzSecret = "S3cr3t-Fuzz-7q"

// The ways a body may spell the key, the separator and the value. Each
// quote function returns the text of a key or value in one syntax, strict or
// not: the API refuses the lenient ones, and the rejected log must keep none
// of them in clear.
var (
	fuzzKeys = []string{
		model.KeyPipedriveToken, model.KeyPipedrivePassword, "password", "token",
		model.KeySignatureKey, model.KeyBasicPassword, "vendor.apikey", "Other.Client.SECRET", " pipedrive.api.token ",
		model.KeyCallbackHeaders,
	}
	fuzzQuotes = []func(string) string{
		func(s string) string { return `"` + s + `"` },
		func(s string) string { return `'` + s + `'` },
		func(s string) string { return s },
		func(s string) string { return "\"" + strings.ReplaceAll(s, "e", `\u0065`) + "\"" },
	}
	fuzzSeps = []string{":", " : ", "", "/* c */:", ": // c\n", "\n:\t"}
	// fuzzValues wrap the quoted secret: a string, an array, an object.
	fuzzValues = []func(q string) string{
		func(q string) string { return q },
		func(q string) string { return "[" + q + "]" },
		func(q string) string { return `{"v":` + q + "}" },
	}
	fuzzWraps = [][2]string{
		{`{"configuration":{`, `}}`},
		{`{'configuration':{`, `}}`},
		{`{configuration:{`, `}}`},
		{`{`, `}`},
		{`{"element":{"key":"pipedrive"},"name":"f","configuration":{"pipedrive.email":"a@b.c",`, `}}`},
		{`// comment` + "\n" + `{"configuration":{`, `,},}`},
		{``, ``},
	}
)

// headersValue is how a body sends the secret as a callback header value:
// as an object, or as the object in a JSON string.
func headersValue(quote func(string) string, variant int) string {
	if variant%2 == 0 {
		return "{" + quote("Authorization") + ":" + quote("Bearer "+fuzzSecret) + "}"
	}
	return `"{\"Authorization\":\"Bearer ` + fuzzSecret + `\"}"`
}

// FuzzRefusedInstanceBodyKeepsNoSecret sends instance bodies (POST and
// PATCH) that carry a known secret under a secret key, in strict and
// lenient syntaxes around fuzzed text, and demands that the secret appears
// in no answer, no log line and no rejected-request record, and is stored
// only under a masked key.
func FuzzRefusedInstanceBodyKeepsNoSecret(f *testing.F) {
	for _, c := range []struct {
		v              uint32
		prefix, suffix string
	}{
		{0, "", ""}, {1, "", ""}, {2, " ", ",}"}, {3, "", ", \"x\": 1"}, {7, "1,", ""}, {11, "", "}"},
		{13, "{", "}"}, {17, "", ",\"name\":\"n\""}, {29, "/*", "*/"}, {101, "", ""}, {1234, "[", "]"},
		{99991, "", "\n"}, {4242, ",,", ""}, {77, "", `,"event.vendor.type":"pigeon"`},
	} {
		f.Add(c.v, c.prefix, c.suffix)
	}
	st, err := store.Open(filepath.Join(f.TempDir(), "eventdesk.db"), store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	var logMu sync.Mutex
	var logs bytes.Buffer
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := New(st, Config{PublicURL: "http://127.0.0.1:8470", Secrets: testSecrets, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{mu: &logMu, w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	a := &testAPI{srv: srv, st: st}
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"},
		Configuration: map[string]json.RawMessage{model.KeyPipedriveToken: json.RawMessage(`"tok"`)}}, now)
	if err != nil {
		f.Fatal(err)
	}
	if in, err = st.CreateInstance(context.Background(), in); err != nil {
		f.Fatal(err)
	}
	patchPath := fmt.Sprintf("%s/instances/%d", prefix, in.ID)

	f.Fuzz(func(t *testing.T, v uint32, pre, suf string) {
		// The prefix may not open a string (which would make the secret
		// part of another value, shown in clear by right), nor may either
		// part carry the secret itself.
		if strings.ContainsAny(pre, "\"'\\") || strings.Contains(pre+suf, fuzzSecret[:4]) || len(pre)+len(suf) > 512 {
			t.Skip()
		}
		pick := func(n int) int { i := int(v % uint32(n)); v /= uint32(n); return i }
		key := fuzzKeys[pick(len(fuzzKeys))]
		quote := fuzzQuotes[pick(len(fuzzQuotes))]
		sep := fuzzSeps[pick(len(fuzzSeps))]
		value := fuzzValues[pick(len(fuzzValues))](quote(fuzzSecret))
		if key == model.KeyCallbackHeaders {
			value = headersValue(quote, pick(2))
		}
		wrap := fuzzWraps[pick(len(fuzzWraps))]
		method, path := "PATCH", patchPath
		if pick(2) == 1 {
			method, path = "POST", prefix+"/instances"
		}
		body := wrap[0] + pre + quote(key) + sep + value + suf + wrap[1]

		a.t = t
		rec := a.authed(method, path, []byte(body))
		answers := []string{rec.Body.String(), fmt.Sprint(rec.Header())}
		answers = append(answers, a.authed("GET", prefix+"/rejected-requests?pageSize=3", nil).Body.String())
		answers = append(answers, a.authed("GET", prefix+"/instances", nil).Body.String())
		for _, ans := range answers {
			if strings.Contains(ans, fuzzSecret) {
				t.Fatalf("%s %s (%d) → an answer shows the secret:\n%s", method, body, rec.Code, ans)
			}
		}
		rej, _, err := st.RejectedList(t.Context(), 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rej {
			if strings.Contains(fmt.Sprintf("%+v", r), fuzzSecret) {
				t.Fatalf("%s %s (%d) → the rejected log keeps the secret: %+v", method, body, rec.Code, r)
			}
		}
		logMu.Lock()
		leaked := strings.Contains(logs.String(), fuzzSecret)
		logMu.Unlock()
		if leaked {
			t.Fatalf("%s %s → a log line shows the secret", method, body)
		}
		if rec.Code == http.StatusOK {
			all, err := st.Instances(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range all {
				if strings.Contains(in.Name+strings.Join(in.Tags, ","), fuzzSecret) {
					t.Fatalf("%s %s → the secret is stored as a name or tag", method, body)
				}
				for k, cv := range in.Configuration {
					if strings.Contains(cv, fuzzSecret) && !model.IsMaskedKey(in.ElementKey, k) {
						t.Fatalf("%s %s → the secret is stored under %q, which is shown in clear", method, body, k)
					}
				}
			}
		}
	})
}
