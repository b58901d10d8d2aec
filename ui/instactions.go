package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

// instanceActions are the keys that act on one instance. The instance
// list (on the row under the cursor) and the instance detail share them
// and run them through runInstanceAction, so a key never works on one
// screen and silently does nothing on the other.
type instanceActions struct {
	Edit, Delete, Poller, PollNow, Copy, Reveal key.Binding
	Register, Unregister                        key.Binding
	Events, Deliveries, ReplayDead              key.Binding
}

func newInstanceActions() instanceActions {
	return instanceActions{
		Edit:       bind("e", "e", "edit"),
		Delete:     bind("d", "d", "delete"),
		Poller:     bind("p", "p", "poller"),
		PollNow:    bind("P", "P", "poll now"),
		Copy:       bind("y", "y", "copy webhook URL"),
		Reveal:     bind("x", "x", "reveal secrets"),
		Register:   bind("w", "w", "register webhook"),
		Unregister: bind("W", "W", "unregister webhook"),
		Events:     bind("E", "E", "events"),
		Deliveries: bind("D", "D", "deliveries"),
		ReplayDead: bind("R", "R", "replay dead"),
	}
}

// all lists every action, for matching and the help.
func (k instanceActions) all() []key.Binding {
	return []key.Binding{k.Edit, k.Delete, k.Poller, k.PollNow, k.Copy, k.Reveal, k.Register, k.Unregister, k.Events, k.Deliveries, k.ReplayDead}
}

// help groups the actions for a screen's full help.
func (k instanceActions) help() [][]key.Binding {
	return [][]key.Binding{{k.Edit, k.Delete, k.Poller, k.PollNow}, {k.Copy, k.Register, k.Unregister, k.Reveal}, {k.Events, k.Deliveries, k.ReplayDead}}
}

// instanceSite is what an action needs of the screen it runs on.
type instanceSite struct {
	// sid addresses the webhook's answer to the screen.
	sid     int
	confirm *confirmDialog
	// busy, when set, shows a vendor call in progress.
	busy *string
	// reveal shows the instance's stored secrets: the detail toggles
	// them, the list opens the detail with them shown.
	reveal func() tea.Cmd
	// deleted runs once a delete is confirmed: the detail goes back.
	deleted func()
}

// webhookDoneMsg is the vendor's answer to register or unregister.
type webhookDoneMsg struct {
	addr
	register bool
	element  string
	err      error
}

// refreshTop asks the root to reload the screen on top (after a delete,
// which may finish after the screen below came back).
func refreshTop() tea.Msg { return refreshDueMsg{} }

// runInstanceAction runs the action key msg on in, and reports whether
// msg was one.
func runInstanceAction(ctx *Context, site instanceSite, k instanceActions, in model.Instance, msg tea.KeyMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, k.Edit):
		c := in
		return ctx.push(newFormScreen(ctx, &c)), true
	case key.Matches(msg, k.Delete):
		site.confirm.ask(fmt.Sprintf("Delete instance #%d %q (%s)? Its events stay until retention prunes them; its webhook URL stops working.", in.ID, in.Name, in.ElementKey),
			func() tea.Cmd {
				if site.deleted != nil {
					site.deleted()
				}
				return deleteInstance(ctx, in, refreshTop)
			})
		return nil, true
	case key.Matches(msg, k.Poller):
		return ctx.push(newPollerScreen(ctx, in.ID)), true
	case key.Matches(msg, k.PollNow):
		cmd, text := pollNow(ctx, in)
		return tea.Batch(toast(toastInfo, text), cmd), true
	case key.Matches(msg, k.Copy):
		return copyText(webhookURL(ctx, in), "webhook URL"), true
	case key.Matches(msg, k.Reveal):
		return site.reveal(), true
	case key.Matches(msg, k.Register):
		return webhookAction(ctx, site, in, true), true
	case key.Matches(msg, k.Unregister):
		return webhookAction(ctx, site, in, false), true
	case key.Matches(msg, k.Events):
		return ctx.push(newEventsScreen(ctx, in.ID)), true
	case key.Matches(msg, k.Deliveries):
		return ctx.push(newDeliveriesScreen(ctx, in.ID)), true
	case key.Matches(msg, k.ReplayDead):
		site.confirm.ask(fmt.Sprintf("Replay every dead notification of #%d %s? They are sent again, in order, with a fresh retry cycle.", in.ID, in.Name),
			func() tea.Cmd { return replayDead(ctx, in.ID) })
		return nil, true
	}
	return nil, false
}

func elementName(in model.Instance) string {
	if el, ok := in.Element(); ok {
		return el.Name
	}
	return in.ElementKey
}

// webhookAction confirms, then registers or unregisters with the vendor
// in a command: it is a network call.
func webhookAction(ctx *Context, site instanceSite, in model.Instance, register bool) tea.Cmd {
	wh, sid, name := ctx.Backend, site.sid, elementName(in)
	q := fmt.Sprintf("Register %s with %s, so it posts events of #%d to\n%s ?", "a webhook", name, in.ID, webhookURL(ctx, in))
	if !register {
		q = fmt.Sprintf("Delete the %s webhook %s of #%d? The vendor stops sending events.", name, in.Configuration[model.KeyWebhookID], in.ID)
	}
	site.confirm.ask(q, func() tea.Cmd {
		if site.busy != nil {
			*site.busy = "talking to " + name + "…"
		}
		return func() tea.Msg {
			c, cancel := context.WithTimeout(context.Background(), registerTimeout)
			defer cancel()
			var err error
			if register {
				_, err = wh.RegisterWebhook(c, in.ID)
			} else {
				_, err = wh.UnregisterWebhook(c, in.ID)
			}
			return webhookDoneMsg{addr: addr{sid}, register: register, element: name, err: err}
		}
	})
	return nil
}

// toast is the answer to a webhook call, for the screen that made it.
func (m webhookDoneMsg) toast() tea.Cmd {
	verb := "registered"
	if !m.register {
		verb = "unregistered"
	}
	if m.err != nil {
		return toastErr("webhook not "+verb, m.err)
	}
	return toast(toastOK, "webhook "+verb+" with "+m.element)
}

// Jump keys: from an event to its instance and its notification, from a
// notification or a rejected request to its instance.
var (
	jumpInstance     = bind("i", "i", "its instance")
	jumpNotification = bind("n", "n", "its notification")
)

// rejectedInstance is the instance a rejected webhook was meant for, when
// its path is a webhook path whose id decodes.
func rejectedInstance(path string) (int64, bool) {
	rest, ok := strings.CutPrefix(path, "/elements/api-v2/events/")
	if !ok {
		return 0, false
	}
	_, enc, ok := strings.Cut(strings.Trim(rest, "/"), "/")
	if !ok {
		return 0, false
	}
	id, err := model.DecodeInstanceID(enc)
	return id, err == nil
}
