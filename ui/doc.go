// Package ui is eventdesk's terminal console: a Bubble Tea program whose
// root model ([App]) routes a stack of screens — instances, instance detail,
// the instance form, the poller editor, the live event feed, deliveries and
// rejected requests — over one shared [Context] (size, styles, keys and the
// engine boundary, [backend.Backend]).
//
// The console knows the engine only through that boundary: in process, or
// attached to a running engine over its HTTP API. Screens never do I/O in
// Update: every read or write, every vendor call and every clipboard write
// runs in a tea.Cmd whose result comes back as a message addressed to the
// screen that asked for it. The engine's change signal (the store's
// subscription in process, the change stream when attached) is turned into
// throttled refresh messages, so a flood of events costs one reload per
// refresh period; a lost link shows in the header until it is back.
//
// The command line lives in ui/cli; Run starts the console there.
package ui
