// Package backend is the engine boundary: the one interface the console and
// every command-line verb use to read and change eventdesk's data, whether
// the engine runs in the same process or behind an HTTP API elsewhere.
//
// Nothing here names the store: filters and records are model types, and a
// change to an instance is a patch (model.InstanceRequest) that the engine
// validates exactly as the API's PATCH does. Implementations: the
// in-process one in provider/engine, and the HTTP client Remote here.
package backend

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// ErrNotFound is what every implementation's "no such instance, event or
// notification" errors wrap, so callers can tell a deletion from a fault.
var ErrNotFound = errors.New("not found")

// Backend is everything the console and the command line ask of an engine.
// Every method takes a context: a remote call is cancelled with it.
type Backend interface {
	// Info describes the engine: where it listens, its public URL and how
	// this client reaches it.
	Info(ctx context.Context) (Info, error)

	// Instances lists every instance in id order.
	Instances(ctx context.Context) ([]model.Instance, error)
	// Instance is one instance. In-process it carries its secrets; a
	// remote engine answers them masked (see RevealInstance).
	Instance(ctx context.Context, id int64) (model.Instance, error)
	// RevealInstance is the instance with its secrets in clear: an explicit
	// act, so a remote engine can answer it on its own authed endpoint.
	RevealInstance(ctx context.Context, id int64) (model.Instance, error)
	// CreateInstance validates req and stores a new instance; a
	// *model.ValidationError lists every problem.
	CreateInstance(ctx context.Context, req model.InstanceRequest) (model.Instance, error)
	// PatchInstance applies req to the stored instance through the same
	// validation as the API's PATCH; masked secrets are kept as stored.
	PatchInstance(ctx context.Context, id int64, req model.InstanceRequest) (model.Instance, error)
	// DeleteInstance deletes an instance.
	DeleteInstance(ctx context.Context, id int64) error

	// Events lists events newest first; next is f.Before for the next page
	// (0: none).
	Events(ctx context.Context, f model.EventFilter, limit int) (events []model.Event, next uint64, err error)
	// EventsAfter lists events with a larger id than after, oldest first.
	EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error)
	// LastEventID is the newest event's id (0: none).
	LastEventID(ctx context.Context) (uint64, error)
	// Event is one event with its raw payload.
	Event(ctx context.Context, id string) (model.Event, error)
	// SearchEvents examines one bounded chunk of the stored events older
	// than cursor (0: from the newest), newest first, and returns those f
	// matches (f.Raw looks inside the payloads), at most limit, with their
	// payloads. page.Next resumes the search; page.Done says it reached
	// the oldest event. A search of millions of events is many calls, so
	// a client shows progress and stops by cancelling ctx.
	SearchEvents(ctx context.Context, f model.EventFilter, cursor uint64, limit int) (page model.EventSearchPage, err error)

	// Notifications lists callback notifications newest first, without
	// bodies; next pages as for Events.
	Notifications(ctx context.Context, f model.NotificationFilter, limit int) (list []model.Notification, next uint64, err error)
	// Notification is one notification with its body.
	Notification(ctx context.Context, id string) (model.Notification, error)
	// NotificationOfEvent is the notification that carries event id, with
	// its body; ErrNotFound when there is none (yet).
	NotificationOfEvent(ctx context.Context, eventID string) (model.Notification, error)
	// Attempts are a notification's delivery attempts, oldest first.
	Attempts(ctx context.Context, id string) ([]model.Attempt, error)
	// Replay puts one notification back in line.
	Replay(ctx context.Context, id string) (model.Notification, error)
	// ReplayDead replays an instance's dead notifications created at or
	// after since (zero: all), returning their ids.
	ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error)

	// Rejected lists rejected requests newest first; before and next page.
	Rejected(ctx context.Context, before uint64, limit int) (list []model.Rejected, next uint64, err error)

	// PollStatuses is the poller's state per resource of an instance.
	PollStatuses(ctx context.Context, id int64) ([]model.PollStatus, error)
	// PollerPreview is the next request of each poller resource: of the
	// stored configuration when draft is nil, else of the draft (a poller
	// configuration JSON object, checked as a save would check it).
	PollerPreview(ctx context.Context, id int64, draft []byte) ([]model.PollPreview, error)
	// PollNow runs one poll cycle of an instance (resource "" = all) and
	// stops when ctx ends.
	PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error)
	// RegisterWebhook registers the instance's webhook with its vendor.
	RegisterWebhook(ctx context.Context, id int64) (model.Instance, error)
	// UnregisterWebhook deletes the vendor subscription.
	UnregisterWebhook(ctx context.Context, id int64) (model.Instance, error)

	// Stats are the aggregates of the status bar and instances screen.
	Stats(ctx context.Context) (Stats, error)
	// Lanes are what the dispatcher is doing for each instance with
	// notifications in hand: a held ordered lane, an open circuit, a
	// pause. Empty when the engine delivers nothing (no dispatcher).
	Lanes(ctx context.Context) ([]model.LaneStatus, error)
	// Secrets are the API secrets the engine accepts.
	Secrets(ctx context.Context) (Secrets, error)
	// Backup writes a consistent copy of the database to w.
	Backup(ctx context.Context, w io.Writer) (int64, error)

	// Subscribe signals changes until ctx ends or the subscription is
	// closed.
	Subscribe(ctx context.Context) (Subscription, error)

	// Close releases what the backend holds (an open store, idle
	// connections). It does not stop a remote engine.
	Close() error
}

// Info describes an engine as a client sees it.
type Info struct {
	// Addr is the listener's address, PublicURL what vendors reach it at
	// (webhook URLs are built from it).
	Addr      string `json:"addr"`
	PublicURL string `json:"publicUrl"`
	// PID is the engine's process id (0 when unknown).
	PID int `json:"pid,omitempty"`
	// Version is the engine's version, when it says.
	Version string `json:"version,omitempty"`
	// Attached is empty in-process; otherwise it says how this client
	// reaches the engine ("attached to serve · pid 41 · 127.0.0.1:8470",
	// "remote · https://events.example.com"), for headers and notes.
	Attached string `json:"-"`
}

// Stats are counts the engine keeps or computes without paging events.
type Stats struct {
	Instances   int    `json:"instances"`
	LastEventID uint64 `json:"lastEventId"`
	// EventsLastMinute is the number of events received in the minute
	// before At.
	EventsLastMinute int `json:"eventsLastMinute"`
	// Pending is every notification still to be delivered; Failing those
	// of them waiting for a retry after a failed attempt.
	Pending  int       `json:"pending"`
	Failing  int       `json:"failing"`
	Dead     int       `json:"dead"`
	Rejected int       `json:"rejected"`
	At       time.Time `json:"at"`
	// PerInstance holds each instance's event count (Capped: at least
	// that many) and newest event.
	PerInstance map[int64]InstanceStats `json:"perInstance,omitempty"`
}

// InstanceStats are one instance's event aggregates.
type InstanceStats struct {
	Events     int       `json:"events"`
	Capped     bool      `json:"capped,omitempty"`
	LastEvent  time.Time `json:"lastEvent,omitzero"`
	LastID     uint64    `json:"lastEventId,omitempty"`
	PollErrors bool      `json:"pollErrors,omitempty"`
}

// Secrets are the API's User and Organization secrets.
type Secrets struct {
	User         string `json:"user"`
	Organization string `json:"organization"`
}

// Subscription signals that something changed; the subscriber reloads
// what it shows through the Backend. Signals coalesce, so a slow reader
// never makes the engine wait.
type Subscription interface {
	// C receives a value after one or more changes; it is closed when the
	// subscription ends for good.
	C() <-chan struct{}
	// Link reports the connection's state changes (remote only; nil
	// in-process, where the link cannot break).
	Link() <-chan LinkState
	// Close ends the subscription.
	Close()
}

// LinkState is whether a remote subscription is connected.
type LinkState struct {
	Connected bool
	// Err is why the link is down.
	Err error
}
