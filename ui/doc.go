// Package ui is eventdesk's terminal console: a Bubble Tea program whose
// root model ([App]) routes a stack of screens — instances, instance detail,
// the instance form, the poller editor, the live event feed, deliveries and
// rejected requests — over one shared [Context] (size, styles, keys and the
// engine's handles).
//
// Screens never do I/O in Update: every read or write of the store, every
// vendor call and every clipboard write runs in a tea.Cmd whose result comes
// back as a message addressed to the screen that asked for it. The store's
// change signal ([store.Subscription]) is turned into throttled refresh
// messages, so a flood of events costs one reload per refresh period.
//
// The command line lives in ui/cli; Run starts the console there.
package ui
