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

// replayAskMsg carries a notification to replay, read fresh from the
// engine, to the root, which asks first when the replay re-sends.
type replayAskMsg struct {
	n model.Notification
}

// replayNotification is the one replay of a notification for every
// screen (event list and detail, deliveries and a notification's page):
// it reads the notification, and the root asks the same question
// wherever the key was pressed.
func replayNotification(ctx *Context, id string) tea.Cmd {
	b := ctx.Backend
	return func() tea.Msg {
		n, err := b.Notification(opCtx(), id)
		if err != nil {
			return errMsg("replay of notification "+id+" failed", err)
		}
		return replayAskMsg{n: n}
	}
}

// replayQuestion is what to ask before replaying n, or "" to replay at
// once: a replay that re-sends (a delivered notification, or a batch
// already tried) asks, and says when it re-sends several events. A
// notification never tried sends nothing twice, so it does not ask.
func replayQuestion(ctx *Context, n model.Notification) string {
	batch := ""
	if len(n.EventIDs) > 1 {
		batch = fmt.Sprintf(" It is a batch: all %d events in it are sent again.", len(n.EventIDs))
	}
	switch {
	case n.State == model.StateDelivered:
		return fmt.Sprintf("Notification %s of %s was delivered. Send it again?%s", n.ID, ctx.instanceLabel(n.InstanceID), batch)
	case batch != "" && n.Attempts > 0:
		return fmt.Sprintf("Replay notification %s of %s?%s", n.ID, ctx.instanceLabel(n.InstanceID), batch)
	}
	return ""
}

// replayOne puts one notification back in line; before is the
// notification as it was, so the toast says what the replay did.
func replayOne(ctx *Context, before model.Notification) tea.Cmd {
	r := ctx.Backend
	return func() tea.Msg {
		n, err := r.Replay(opCtx(), before.ID)
		if err != nil {
			return errMsg("replay failed", err)
		}
		events := ""
		if k := len(before.EventIDs); k > 1 {
			events = fmt.Sprintf(" (a batch of %d events)", k)
		}
		if before.State == model.StatePending && before.Attempts == 0 {
			return toastMsg{text: fmt.Sprintf("notification %s of #%d was never tried: it is queued to send now%s", n.ID, n.InstanceID, events), kind: toastOK}
		}
		return toastMsg{text: fmt.Sprintf("notification %s of #%d is pending again%s", n.ID, n.InstanceID, events), kind: toastOK}
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
