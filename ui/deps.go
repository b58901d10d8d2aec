package ui

import (
	"context"
	"time"

	"github.com/eventdesk/eventdesk/provider/backend"
)

// Clipboard copies text for the user. A terminal never confirms a copy, so
// a nil error only means the request was sent.
type Clipboard interface {
	Copy(text string) error
}

// Deps are the console's handles on the engine: the engine boundary, in
// process or remote, and the terminal's clipboard.
type Deps struct {
	// Backend is the engine; every read and write goes through it.
	Backend   backend.Backend
	Clipboard Clipboard
	// Addr is the listener's address and PublicURL what vendors reach it
	// at; both go in the header, PublicURL also into webhook URLs.
	Addr      string
	PublicURL string
	// Attached, when set, says in the header how the console reaches a
	// engine running elsewhere ("attached to serve · pid 41 · ADDR").
	Attached string
	// LogPath is shown in the help screen so people know where logs went.
	LogPath string
	// Banner, when set, stands out in the header on every screen: the
	// demo says there that its data is made up.
	Banner string
	// Switcher, when set, lists and attaches to named engines (:ctx).
	Switcher Switcher
}

// opCtx is the context of one load or action run in a command. The
// remote backend bounds each call with its own timeouts, so a plain
// background context is enough and a slow call never blocks Update.
func opCtx() context.Context { return context.Background() }

// Options tune the console for tests and demos.
type Options struct {
	// Now is the clock (default time.Now); golden tests fix it.
	Now func() time.Time
	// Location displays times (default time.Local).
	Location *time.Location
	// Static turns off everything that fires on its own — ticks and the
	// change subscription — so tests drive the model with messages only.
	Static bool
}
