package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

// Timeouts for outward calls made from the console: a poll may page
// through a vendor, a registration is one or two requests.
const (
	pollTimeout     = 5 * time.Minute
	registerTimeout = 30 * time.Second
)

// pollDoneMsg is the outcome of "poll now".
type pollDoneMsg struct {
	id       int64
	statuses []model.PollStatus
	events   int
	err      error
}

// pollNow runs a poll of every resource of an instance. Its result goes
// to the root as a toast, so it lands even if the user has moved on.
func pollNow(ctx *Context, in model.Instance) (tea.Cmd, string) {
	p := ctx.Backend
	id := in.ID
	cmd := func() tea.Msg {
		c, cancel := context.WithTimeout(context.Background(), pollTimeout)
		defer cancel()
		sts, evs, err := p.PollNow(c, id, "")
		return pollDoneMsg{id: id, statuses: sts, events: len(evs), err: err}.toast()
	}
	return cmd, fmt.Sprintf("polling #%d %s…", in.ID, in.Name)
}

func (m pollDoneMsg) toast() tea.Msg {
	if m.err != nil {
		return errMsg(fmt.Sprintf("poll #%d failed", m.id), m.err)
	}
	var warn []string
	for _, s := range m.statuses {
		warn = append(warn, s.Warnings...)
	}
	text := fmt.Sprintf("polled #%d: %d resource(s), %d new event(s)", m.id, len(m.statuses), m.events)
	if len(warn) > 0 {
		text += " — warning: " + strings.Join(warn, "; ")
	}
	return toastMsg{text: text, kind: toastOK}
}

// webhookURL is where the vendor posts this instance's events.
func webhookURL(ctx *Context, in model.Instance) string {
	return model.WebhookURL(ctx.PublicURL, in.ElementKey, in.ID)
}

// deleteInstance deletes and reports through a toast.
func deleteInstance(ctx *Context, in model.Instance, after tea.Cmd) tea.Cmd {
	st := ctx.Backend
	return func() tea.Msg {
		if err := st.DeleteInstance(opCtx(), in.ID); err != nil {
			return errMsg("delete failed", err)
		}
		return tea.BatchMsg{toast(toastOK, fmt.Sprintf("deleted instance #%d %s", in.ID, in.Name)), after}
	}
}

// replayOne puts one notification back in line.
func replayOne(ctx *Context, id string) tea.Cmd {
	r := ctx.Backend
	return func() tea.Msg {
		n, err := r.Replay(opCtx(), id)
		if err != nil {
			return errMsg("replay failed", err)
		}
		return toastMsg{text: fmt.Sprintf("notification %s of #%d is pending again", n.ID, n.InstanceID), kind: toastOK}
	}
}

// replayDead replays every dead notification of an instance.
func replayDead(ctx *Context, instanceID int64) tea.Cmd {
	r := ctx.Backend
	return func() tea.Msg {
		ids, err := r.ReplayDead(opCtx(), instanceID, time.Time{})
		if err != nil {
			return errMsg("replay failed", err)
		}
		if len(ids) == 0 {
			return toastMsg{text: fmt.Sprintf("#%d has no dead notifications", instanceID), kind: toastInfo}
		}
		return toastMsg{text: fmt.Sprintf("replaying %d dead notification(s) of #%d", len(ids), instanceID), kind: toastOK}
	}
}

// eventsMode is the instance's events column: off, polling or webhook.
func eventsMode(in model.Instance) string {
	if !in.EventsEnabled() {
		return "off"
	}
	return in.VendorType()
}

// instanceState says whether events flow out: active, no callback,
// callbacks off (a 410 stopped them), poll error, disabled (events off), or
// on hold (the instance disabled: not polled, notifications wait).
func instanceState(in model.Instance, pollErr bool) string {
	switch {
	case in.Disabled:
		return "on hold"
	case !in.EventsEnabled():
		return "disabled"
	case in.NotificationsOff != "":
		return "callbacks off"
	case pollErr && in.Polling():
		return "poll error"
	case in.CallbackURL() == "":
		return "no callback"
	}
	return "active"
}
