package ui

import (
	"context"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Store is what the console reads and writes. *store.Store satisfies it;
// declaring it here keeps the console's needs visible in one place.
type Store interface {
	Instances() ([]model.Instance, error)
	Instance(id int64) (model.Instance, error)
	CreateInstance(in model.Instance) (model.Instance, error)
	UpdateInstance(id int64, fn func(model.Instance) (model.Instance, error)) (model.Instance, error)
	DeleteInstance(id int64) error

	Events(f store.EventFilter, limit int) ([]model.Event, uint64, error)
	EventsAfter(after uint64, limit int) ([]model.Event, error)
	LastEventID() (uint64, error)
	Event(id string) (model.Event, error)
	EventCount() (int, error)
	Subscribe() *store.Subscription

	Notifications(f store.NotificationFilter, limit int) ([]model.Notification, uint64, error)
	Notification(id string) (model.Notification, error)
	NotificationCounts() (pending, dead int, err error)
	Attempts(id string) ([]model.Attempt, error)

	RejectedList(before uint64, limit int) ([]store.Rejected, uint64, error)
	RejectedCount() (int, error)

	PollStatuses(instanceID int64) ([]model.PollStatus, error)
}

// Poller runs a poll cycle on demand ("P poll now"). An empty resource
// means every resource of the instance. *poll.Scheduler satisfies it; nil
// makes the console say polling is not available.
type Poller interface {
	PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error)
}

// Replayer puts notifications back in line. *dispatch.Dispatcher satisfies
// it (and wakes the instance's delivery lane, which the store alone would
// not).
type Replayer interface {
	Replay(id string) (model.Notification, error)
	ReplayDead(instanceID int64, since time.Time) ([]string, error)
}

// Lanes reports what the dispatcher is doing with each instance's
// notifications (a held ordered lane, an open circuit, a pause).
// *dispatch.Dispatcher satisfies it.
type Lanes interface {
	Lanes() []model.LaneStatus
}

// Webhooks registers and unregisters an instance's webhook with its vendor.
type Webhooks interface {
	Register(ctx context.Context, id int64) (model.Instance, error)
	Unregister(ctx context.Context, id int64) (model.Instance, error)
}

// Clipboard copies text for the user. A terminal never confirms a copy, so
// a nil error only means the request was sent.
type Clipboard interface {
	Copy(text string) error
}

// Deps are the console's handles on the engine. Only Store is required; a
// nil Poller, Replayer, Webhooks or Clipboard turns the matching keys into a
// toast that says the feature is not available. A nil Lanes shows no lane
// state (held lanes, open circuits).
type Deps struct {
	Store     Store
	Poller    Poller
	Replayer  Replayer
	Lanes     Lanes
	Webhooks  Webhooks
	Clipboard Clipboard
	// Addr is the listener's address and PublicURL what vendors reach it
	// at; both go in the header, PublicURL also into webhook URLs.
	Addr      string
	PublicURL string
	// LogPath is shown in the help screen so people know where logs went.
	LogPath string
	// Banner, when set, stands out in the header on every screen: the
	// demo says there that its data is made up.
	Banner string
}

// Options tune the console for tests and demos.
type Options struct {
	// Now is the clock (default time.Now); golden tests fix it.
	Now func() time.Time
	// Location displays times (default time.Local).
	Location *time.Location
	// Static turns off everything that fires on its own — ticks and the
	// store subscription — so tests drive the model with messages only.
	Static bool
}
