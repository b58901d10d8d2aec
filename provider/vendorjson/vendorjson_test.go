package vendorjson

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestParseTime(t *testing.T) {
	cases := map[string]time.Time{
		`"2022-11-24T15:18:35.616Z"`:         utc("2022-11-24T15:18:35.616Z"),
		`"2019-01-15T12:48:23.395000"`:       utc("2019-01-15T12:48:23.395Z"),
		`"2019-01-15T12:41:24.496000+00:00"`: utc("2019-01-15T12:41:24.496Z"),
		`"2019-01-15T14:41:24+02:00"`:        utc("2019-01-15T12:41:24Z"),
		`"2023-11-14 22:13:20"`:              utc("2023-11-14T22:13:20Z"),
		`1669304389`:                         time.Unix(1669304389, 0),
		`"1669304389"`:                       time.Unix(1669304389, 0),
		`1669304389123`:                      time.UnixMilli(1669304389123),
		`1700000000123456`:                   time.UnixMicro(1700000000123456),
		`null`:                               {},
		`"soon"`:                             {},
		`{}`:                                 {},
	}
	for in, w := range cases {
		got := ParseTime(json.RawMessage(in))
		if !got.Equal(w) {
			t.Errorf("ParseTime(%s) = %v, want %v", in, got, w)
		}
	}
}

func TestObject(t *testing.T) {
	o, ok := AsObject(json.RawMessage(` {"id": 12345678901234567890, "s": "x", "n": null, "o": {"k": "v"}}`))
	if !ok {
		t.Fatal("not an object")
	}
	if id, ok := o.Str("id"); !ok || id != "12345678901234567890" {
		t.Errorf("Str(id) = %q, %v: big ids must keep every digit", id, ok)
	}
	if _, ok := o.Text("id"); ok {
		t.Error("Text(id) accepted a number")
	}
	if s, ok := o.Text("s"); !ok || s != "x" {
		t.Errorf("Text(s) = %q, %v", s, ok)
	}
	if !o.Has("n") || o.Has("missing") {
		t.Error("Has must see null values and only present keys")
	}
	if _, ok := o.Str("n"); ok {
		t.Error("Str(null) ok")
	}
	if in, ok := o.Obj("o"); !ok || string(in["k"]) != `"v"` {
		t.Errorf("Obj(o) = %v, %v", in, ok)
	}
	if _, ok := AsObject(json.RawMessage(`[1]`)); ok {
		t.Error("AsObject accepted an array")
	}
}

func TestCheckJSON(t *testing.T) {
	if err := CheckJSON("acme", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	err := CheckJSON("acme", []byte(`{"a":`))
	var syn *json.SyntaxError
	if !errors.As(err, &syn) || !strings.HasPrefix(err.Error(), "acme webhook: invalid JSON: ") {
		t.Errorf("CheckJSON = %v", err)
	}
}

func TestMessage(t *testing.T) {
	cases := []struct {
		body   string
		status int
		want   string
	}{
		{`{"errors":{"b":["x","y"],"a":"z"}}`, 400, "a: z; b: x, y"},
		{`{"errors":["bad"],"field-errors":{"url":"Enter a valid URL."}}`, 400, "bad; url: Enter a valid URL."},
		{`{"error":" nope "}`, 401, "nope"},
		{`{"success":false,"error_info":"see docs"}`, 404, "see docs"},
		{`<html>oops</html>`, 502, "<html>oops</html>"},
		{``, 503, "Service Unavailable"},
		{`{}`, 599, "status 599"},
	}
	for _, c := range cases {
		if got := Message([]byte(c.body), c.status); got != c.want {
			t.Errorf("Message(%s, %d) = %q, want %q", c.body, c.status, got, c.want)
		}
	}
}

func TestCallDo(t *testing.T) {
	var gotAuth, gotCT, gotPath, gotBody string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotCT, gotPath = r.Header.Get("X-Key"), r.Header.Get("Content-Type"), r.URL.Path
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		gotBody = string(b[:n])
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"error":"tea"}`))
	}))
	defer ts.Close()
	c := Call{
		Vendor: "acme", BaseURL: ts.URL + "/api/", Method: http.MethodPost, Path: "/things", In: map[string]int{"a": 1},
		Auth: func(r *http.Request) { r.Header.Set("X-Key", "k") },
	}
	status, raw, err := c.Do(context.Background())
	if err != nil || status != http.StatusTeapot || string(raw) != `{"error":"tea"}` {
		t.Fatalf("Do = %d, %s, %v: a non-2xx status is the caller's, not an error", status, raw, err)
	}
	if gotAuth != "k" || gotCT != "application/json" || gotPath != "/api/things" || gotBody != `{"a":1}` {
		t.Errorf("request: auth %q, type %q, path %q, body %q", gotAuth, gotCT, gotPath, gotBody)
	}

	c = Call{Vendor: "acme", BaseURL: "http://user:secret@127.0.0.1:1", Method: http.MethodGet, Path: "/x"}
	_, _, err = c.Do(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "acme: GET /x: ") || strings.Contains(err.Error(), "secret") {
		t.Errorf("transport error = %v: want the call named and no URL credentials", err)
	}
}
