package signature

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCE(t *testing.T) {
	got := CE("MySecretEventSignatureKey", []byte("<INSERT_EVENT_NOTIFICATION_RESPONSE_BODY>"))
	if want := "sha256=jHdbRx5EZAsOfTwAPJOGkNUzQMVVdu5VJlxcsk+G6jQ="; got != want {
		t.Fatalf("CE = %q, want %q", got, want)
	}
}

func TestStandard(t *testing.T) {
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	body := []byte(`{"test": 2432232314}`)
	for _, secret := range []string{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // bare base64, as the reference libraries accept
	} {
		got, err := Standard(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
		if err != nil {
			t.Fatalf("Standard(%q): %v", secret, err)
		}
		if got != want {
			t.Fatalf("Standard(%q) = %q, want %q", secret, got, want)
		}
	}
}

func TestStandardBadSecret(t *testing.T) {
	for _, secret := range []string{"", "whsec_", "whsec_not base64!", "whsec_%%%%"} {
		_, err := Standard(secret, "msg_1", 1, []byte("{}"))
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Standard(%q) error = %v, want ErrInvalidKey", secret, err)
			continue
		}
		if !strings.Contains(err.Error(), "whsec_") {
			t.Errorf("Standard(%q) error %q does not say what a secret looks like", secret, err)
		}
	}
}

const (
	closeKey  = "058bfb6a3d8cfdc4da7c3be5901b16ae11da982b46a25fb2cd7016e97a140a1c"
	closeTS   = "1544271440"
	closeBody = `{"subscription_id":"whsub_test","event":{"id":"ev_1","object_type":"lead","action":"created","object_id":"lead_1"}}`
	closeSig  = "6a60782fee53001571fe3c922df7de224cf60290f76c45acb4af5d714ea8d409"
)

func TestClose(t *testing.T) {
	got, err := Close(closeKey, closeTS, []byte(closeBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != closeSig {
		t.Fatalf("Close = %q, want %q", got, closeSig)
	}
	for _, key := range []string{"", "xyz", "abc"} {
		if _, err := Close(key, closeTS, []byte(closeBody)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Close(key %q) error = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestVerifyClose(t *testing.T) {
	signed := time.Unix(1544271440, 0)
	body := []byte(closeBody)
	cases := []struct {
		name    string
		key     string
		ts, sig string
		body    []byte
		now     time.Time
		window  time.Duration
		want    error
	}{
		{name: "valid", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed},
		{name: "valid uppercase hex", key: closeKey, ts: closeTS, sig: strings.ToUpper(closeSig), body: body, now: signed},
		{name: "valid 4m59s later", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed.Add(4*time.Minute + 59*time.Second)},
		{name: "valid 5m earlier", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed.Add(-5 * time.Minute)},
		{name: "stale 5m01s later", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed.Add(5*time.Minute + time.Second), want: ErrStaleTimestamp},
		{name: "future 6m", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed.Add(-6 * time.Minute), want: ErrStaleTimestamp},
		{name: "custom window", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed.Add(time.Hour), window: 2 * time.Hour},
		{name: "custom window exceeded", key: closeKey, ts: closeTS, sig: closeSig, body: body, now: signed.Add(time.Minute), window: 30 * time.Second, want: ErrStaleTimestamp},
		{name: "timestamp not integer", key: closeKey, ts: "yesterday", sig: closeSig, body: body, now: signed, want: ErrStaleTimestamp},
		{name: "body altered", key: closeKey, ts: closeTS, sig: closeSig, body: append([]byte(closeBody), ' '), now: signed, want: ErrBadSignature},
		{name: "timestamp altered", key: closeKey, ts: "1544271441", sig: closeSig, body: body, now: signed, want: ErrBadSignature},
		{name: "wrong key", key: strings.Repeat("ab", 32), ts: closeTS, sig: closeSig, body: body, now: signed, want: ErrBadSignature},
		{name: "sig not hex", key: closeKey, ts: closeTS, sig: "zz" + closeSig[2:], body: body, now: signed, want: ErrBadSignature},
		{name: "sig truncated", key: closeKey, ts: closeTS, sig: closeSig[:62], body: body, now: signed, want: ErrBadSignature},
		{name: "forged and stale reports bad signature", key: closeKey, ts: closeTS, sig: strings.Repeat("0", 64), body: body, now: signed.Add(time.Hour), want: ErrBadSignature},
		{name: "missing sig", key: closeKey, ts: closeTS, sig: "", body: body, now: signed, want: ErrMissingSignature},
		{name: "missing ts", key: closeKey, ts: "", sig: closeSig, body: body, now: signed, want: ErrMissingSignature},
		{name: "missing both", key: closeKey, ts: " ", sig: "", body: body, now: signed, want: ErrMissingSignature},
		{name: "bad key", key: "not-hex", ts: closeTS, sig: closeSig, body: body, now: signed, want: ErrInvalidKey},
	}
	sentinels := []error{ErrMissingSignature, ErrBadSignature, ErrStaleTimestamp, ErrInvalidKey}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyClose(c.key, c.ts, c.sig, c.body, c.now, c.window)
			if c.want == nil {
				if err != nil {
					t.Fatalf("VerifyClose: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("VerifyClose error = %v, want %v", err, c.want)
			}
			for _, s := range sentinels {
				if s != c.want && errors.Is(err, s) {
					t.Fatalf("error %v also matches %v", err, s)
				}
			}
			if err.Error() == c.want.Error() {
				t.Fatalf("error %q carries no detail", err)
			}
		})
	}
}
