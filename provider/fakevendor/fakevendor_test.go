package fakevendor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	var ft Faults
	ft.Add("/a", 2, Status(503))
	ft.Add("/a", -1, Slow(time.Second))
	ft.Add("/b", 0, Malformed()) // n == 0 adds nothing
	for i, want := range []Fault{Status(503), Status(503), Slow(time.Second), Slow(time.Second)} {
		if f, ok := ft.Take("/a/x"); !ok || f != want {
			t.Fatalf("take %d = %+v, %v, want %+v", i, f, ok, want)
		}
	}
	if _, ok := ft.Take("/b"); ok {
		t.Error("n == 0 added a fault")
	}
	ft.Clear()
	if _, ok := ft.Take("/a"); ok {
		t.Error("Clear left a fault")
	}
}

func TestSetRetryAfter(t *testing.T) {
	for _, c := range []struct {
		f    Fault
		def  time.Duration
		want string
	}{
		{Status(429), 2 * time.Second, "2"},
		{Fault{Status: 429, RetryAfter: 1500 * time.Millisecond}, time.Second, "2"},
		{Status(503), 0, ""},
		{Fault{Status: 503, RetryAfter: -1}, 0, ""},
	} {
		h := http.Header{}
		c.f.SetRetryAfter(h, c.def)
		if got := h.Get("Retry-After"); got != c.want {
			t.Errorf("%+v def %v: Retry-After %q, want %q", c.f, c.def, got, c.want)
		}
	}
}

func TestRequestLogDropsOldestHalf(t *testing.T) {
	l := RequestLog{Max: 4}
	for i := range 5 {
		l.Record(httptest.NewRequest("GET", "/"+string(rune('a'+i)), nil), nil, time.Unix(int64(i), 0))
	}
	var got string
	for _, r := range l.All() {
		got += r.URL.Path
	}
	if got != "/c/d/e" {
		t.Errorf("log = %s, want /c/d/e", got)
	}
	l.Reset()
	if len(l.All()) != 0 {
		t.Error("Reset kept entries")
	}
}

func TestRateWindow(t *testing.T) {
	var rw RateWindow
	t0 := time.Unix(1000, 0)
	if rt := rw.Hit(t0, 2*time.Second, 0, 40, false); rt != (Rate{Limit: 40, Remaining: 39, Reset: 2}) {
		t.Errorf("nominal = %+v", rt)
	}
	for i := 1; i <= 2; i++ {
		rw.Hit(t0, time.Second, 3, 100, false)
	}
	if rt := rw.Hit(t0.Add(500*time.Millisecond), time.Second, 3, 100, false); !rt.Exceeded || rt.Remaining != 0 || rt.Reset != 1 {
		t.Errorf("over burst = %+v", rt)
	}
	if rt := rw.Hit(t0.Add(time.Second), time.Second, 3, 100, true); rt.Exceeded || rt.Remaining != 0 {
		t.Errorf("new window, spent = %+v", rt)
	}
}

func TestFlushRetriesAndKeepsOrder(t *testing.T) {
	var o Outbox[string]
	o.Add("ok")
	o.Add("fail")
	o.Add("gone")
	send := func(_ context.Context, job string, attempt int, retry bool) (string, bool, bool) {
		if job == "gone" {
			return "", false, false
		}
		return job + ":" + string(rune('0'+attempt)), true, job == "fail"
	}
	if got := Flush(context.Background(), &o, 2, send); len(got) != 2 || got[0] != "ok:1" || got[1] != "fail:1" {
		t.Fatalf("first flush = %v", got)
	}
	if o.Len() != 1 {
		t.Fatalf("pending %d, want the failed job only", o.Len())
	}
	if got := Flush(context.Background(), &o, 2, send); len(got) != 1 || got[0] != "fail:2" || o.Len() != 0 {
		t.Fatalf("second flush = %v, pending %d: the last attempt must not be requeued", got, o.Len())
	}
	o.Add("x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := Flush(ctx, &o, 2, send); len(got) != 0 || o.Len() != 1 {
		t.Errorf("cancelled flush = %v, pending %d", got, o.Len())
	}
}

func TestPump(t *testing.T) {
	var flushes atomic.Int32
	got := make(chan int, 10)
	p := StartPump(func(context.Context) []int { return []int{int(flushes.Add(1))} }, func(n int) { got <- n })
	p.Kick()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("kick did not flush")
	}
	p.Close()
	p.Close()
	var nilPump *Pump
	nilPump.Kick()
	nilPump.Close()
}

func TestPost(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Sig") != "s" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusGone)
	}))
	defer ts.Close()
	status, err := Post(context.Background(), ts.Client(), ts.URL, []byte(`{}`), "fakeacme", func(r *http.Request) { r.Header.Set("X-Sig", "s") })
	var re ReceiverError
	if status != http.StatusGone || !errors.As(err, &re) || err.Error() != "fakeacme: receiver answered 410" {
		t.Errorf("Post = %d, %v", status, err)
	}
}

func TestTruncWriter(t *testing.T) {
	rec := httptest.NewRecorder()
	tw := NewTruncWriter(rec, `{"x`)
	tw.WriteHeader(http.StatusCreated)
	_, _ = tw.Write([]byte(`{"abcd":1}`))
	tw.Finish()
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"abc` {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	NewTruncWriter(rec, `{"x`).Finish()
	if rec.Body.String() != `{"x` {
		t.Errorf("empty body gave %q, want the fallback", rec.Body.String())
	}
}

func TestObjMatchesEncodingJSON(t *testing.T) {
	o := NewObj(0)
	o.Str("a", "q\"\\ü")
	o.Num("b", -3)
	o.Ref("c", 0)
	o.Ref("d", 7)
	o.Raw("e", "[]")
	want, _ := json.Marshal(map[string]any{"a": "q\"\\ü", "b": -3, "c": nil, "d": 7, "e": []any{}})
	if got := o.Done(); string(got) != string(want) {
		t.Errorf("Obj = %s, want %s", got, want)
	}
	// Control characters use \u escapes, which decode to the same string.
	var back string
	if err := json.Unmarshal(AppendJSONString(nil, "a\n\x01"), &back); err != nil || back != "a\n\x01" {
		t.Errorf("AppendJSONString round trip = %q, %v", back, err)
	}
}
