package backend

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestNewRemoteGuardsTheSecrets(t *testing.T) {
	for _, c := range []struct {
		url      string
		insecure bool
		user     string
		want     string // "" = accepted
	}{
		{"https://events.example.com", false, "u", ""},
		{"https://events.example.com/", false, "u", ""},
		{"http://127.0.0.1:8470", false, "u", ""},
		{"http://localhost:8470", false, "u", ""},
		{"http://[::1]:8470", false, "u", ""},
		{"http://10.0.0.5:8470", false, "u", "plain http to 10.0.0.5"},
		{"http://events.example.com", false, "u", "--insecure"},
		{"http://events.example.com", true, "u", ""},
		{"events.example.com", false, "u", "absolute http(s) URL"},
		{"ftp://events.example.com", false, "u", "absolute http(s) URL"},
		{"https://events.example.com/?x=1", false, "u", "absolute http(s) URL"},
		{"https://events.example.com", false, "", "needs the API secrets"},
	} {
		_, err := NewRemote(RemoteOptions{URL: c.url, Insecure: c.insecure, User: c.user, Organization: "o"})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.url, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.url, err, c.want)
		}
	}
}

func TestReadSSE(t *testing.T) {
	in := ": a comment\nretry: 1000\n\nid: 1.0.0\nevent: event\ndata: {\"a\":\ndata: 1}\n\n: ping\n\nid: 2.0.0\nevent: rejected\ndata:{}\n\n"
	var got []Change
	err := readSSE(strings.NewReader(in), func(c Change) error { got = append(got, c); return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("end of stream: %v, want io.ErrUnexpectedEOF (a stream never ends by itself)", err)
	}
	if len(got) != 2 || got[0].ID != "1.0.0" || got[0].Kind != "event" || string(got[0].Data) != "{\"a\":\n1}" ||
		got[1].ID != "2.0.0" || got[1].Kind != "rejected" || string(got[1].Data) != "{}" {
		t.Errorf("parsed %+v", got)
	}
}

func TestStatusErrorIsNotFoundOnlyFor404(t *testing.T) {
	if !errors.Is(&StatusError{Status: http.StatusNotFound}, ErrNotFound) {
		t.Error("404 is not ErrNotFound")
	}
	if errors.Is(&StatusError{Status: http.StatusBadGateway}, ErrNotFound) {
		t.Error("502 is ErrNotFound")
	}
}
