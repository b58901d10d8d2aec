package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
)

// fakeSwitcher offers one context, "lab", backed by another store.
type fakeSwitcher struct {
	lab Deps
	cur string
}

func (f *fakeSwitcher) Contexts() ([]string, string, error) { return []string{"lab"}, f.cur, nil }

func (f *fakeSwitcher) Attach(_ context.Context, name string) (Deps, error) {
	if name != "lab" {
		return Deps{}, errors.New(`no context "` + name + `"`)
	}
	f.cur = name
	return f.lab, nil
}

func TestCtxListsAndSwitchesEngines(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	other := newStore(t)
	mustInstance(t, other, "closeio", "Lab only", map[string]string{model.KeyCloseAPIKey: "k"})
	sw := &fakeSwitcher{lab: Deps{Backend: engine.NewLocal(other, engine.LocalOptions{}), Addr: "10.0.0.9:8470", PublicURL: "https://lab.example.com",
		Attached: "context lab · https://lab.example.com"}}
	h := newHarness(t, st, 100, 30)
	h.app.ctx.Switcher = sw
	h.key(":")
	h.typeText("ctx")
	h.key("enter")
	if !strings.Contains(h.app.toast.text, "contexts: lab") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
	h.key(":")
	h.typeText("ctx nope")
	h.key("enter")
	if !strings.Contains(h.app.toast.text, `no context "nope" — context nope`) {
		t.Fatalf("toast %q", h.app.toast.text)
	}
	h.key("esc") // close the error popup
	h.key(":")
	h.typeText("ctx lab")
	h.key("enter")
	h.contains("Lab only", "context lab · https://lab.example.com")
	if strings.Contains(h.view(), "Pipedrive polling") {
		t.Error("the old engine's instances stayed on screen")
	}
	if !strings.Contains(h.app.toast.text, "now on context lab") {
		t.Errorf("toast %q", h.app.toast.text)
	}
}

// A link that drops shows in the header and keeps the data on screen;
// when it comes back the header says where it is attached again.
func TestHeaderShowsALostLink(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarnessOn(t, "remote", st, 100, 30)
	h.app.ctx.Attached = "attached to serve · pid 41 · 127.0.0.1:8470"
	h.contains("attached to serve · pid 41 · 127.0.0.1:8470")
	h.send(linkMsg{state: backend.LinkState{Err: errors.New("connection refused")}, ok: true})
	h.contains("disconnected · retrying", "Pipedrive polling", "Close webhooks")
	// Back, the console asks the engine who it is (a restart changes the
	// pid) and shows that.
	h.send(linkMsg{state: backend.LinkState{Connected: true}, ok: true})
	if strings.Contains(h.view(), "disconnected") {
		t.Errorf("still disconnected after the link came back:\n%s", h.view())
	}
	h.contains("remote · http://127.0.0.1:")
}

// A write to an engine that is gone fails with a toast that says so.
func TestWriteWhileDisconnectedIsAClearToast(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarnessOn(t, "remote", st, 100, 30)
	dead, err := backend.NewRemote(backend.RemoteOptions{URL: "http://127.0.0.1:1", User: "u", Organization: "o"})
	if err != nil {
		t.Fatal(err)
	}
	h.app.ctx.Backend = dead
	h.key("d")
	h.key("y")
	if !strings.Contains(h.app.toast.text, "delete failed: cannot reach eventdesk at http://127.0.0.1:1") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
	if _, err := st.Instance(t.Context(), 1); err != nil {
		t.Errorf("the instance went: %v", err)
	}
}
