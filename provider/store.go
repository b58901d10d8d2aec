package provider

import (
	"context"
	"io"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// The API, the webhook receiver and the helpers the engine shares with
// them reach the store through the roles below, each of the methods one
// part of the server calls, so that any store offering them (the embedded
// bbolt file or a database server) serves them alike.

// InstanceStore reads and changes instances.
type InstanceStore interface {
	Instance(ctx context.Context, id int64) (model.Instance, error)
	Instances(ctx context.Context) ([]model.Instance, error)
	CreateInstance(ctx context.Context, in model.Instance) (model.Instance, error)
	// UpdateInstance applies fn to the stored instance atomically.
	UpdateInstance(ctx context.Context, id int64, fn func(model.Instance) (model.Instance, error)) (model.Instance, error)
	DeleteInstance(ctx context.Context, id int64) error
	// KeepPipedriveToken stores an API token a login obtained, unless
	// one is stored already; it returns the token to use.
	KeepPipedriveToken(ctx context.Context, id int64, token string) (string, error)
	// InstancesVersion changes whenever an instance is created, changed
	// or deleted; caches of instances key on it.
	InstancesVersion() uint64
}

// Ingest stores what the webhook receiver takes in: events (with the
// notifications they cause, in the same commit) and refused requests.
type Ingest interface {
	AppendEvents(ctx context.Context, events []model.Event) (store.AppendResult, error)
	AddRejected(ctx context.Context, r store.Rejected) error
}

// EventStore reads stored events.
type EventStore interface {
	Event(ctx context.Context, id string) (model.Event, error)
	// Events lists events newest first; next pages (0: none).
	Events(ctx context.Context, f store.EventFilter, limit int) (events []model.Event, next uint64, err error)
	// EventsAfter lists events newer than after, oldest first.
	EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error)
	LastEventID(ctx context.Context) (uint64, error)
	// SearchEvents examines one bounded chunk of the events below cursor,
	// newest first, looking into the payloads for f.Raw.
	SearchEvents(ctx context.Context, f store.EventFilter, cursor uint64, limit int) (model.EventSearchPage, error)
}

// NotificationStore reads the callback outbox and puts notifications back
// in line.
type NotificationStore interface {
	Notification(ctx context.Context, id string) (model.Notification, error)
	// Notifications lists notifications newest first, without bodies.
	Notifications(ctx context.Context, f store.NotificationFilter, limit int) (list []model.Notification, next uint64, err error)
	Attempts(ctx context.Context, id string) ([]model.Attempt, error)
	Replayer
}

// RejectedStore lists refused requests.
type RejectedStore interface {
	RejectedList(ctx context.Context, before uint64, limit int) (list []store.Rejected, next uint64, err error)
}

// PollStatusStore reads the poller's state.
type PollStatusStore interface {
	PollStatuses(ctx context.Context, instanceID int64) ([]model.PollStatus, error)
}

// CountStore answers counts without reading every record.
type CountStore interface {
	Overview(ctx context.Context) (store.Overview, error)
	// FirstEventSince is the first event id received at or after t (0:
	// none).
	FirstEventSince(ctx context.Context, t time.Time) (uint64, error)
	// InstanceBlockCounts counts each instance's events from block from
	// on; see store.Store.InstanceBlockCounts.
	InstanceBlockCounts(ctx context.Context, from uint64) (counts map[int64]store.BlockCount, first, last uint64, err error)
}

// Changes signals commits, for live streams.
type Changes interface {
	Subscribe() *store.Subscription
}

// BackupStore writes a consistent copy of the data.
type BackupStore interface {
	// Path is where the data lives; download copies are written beside
	// it.
	Path() string
	WriteBackup(ctx context.Context, w io.Writer) (int64, error)
}

// AggregateStore is what an Aggregator reads.
type AggregateStore interface {
	CountStore
	PollStatusStore
	Instances(ctx context.Context) ([]model.Instance, error)
	Event(ctx context.Context, id string) (model.Event, error)
}

// PreviewStore is what a poller preview reads.
type PreviewStore interface {
	PollStatusStore
	Instance(ctx context.Context, id int64) (model.Instance, error)
}

// NotificationFinder is what finding an event's notification reads.
type NotificationFinder interface {
	Event(ctx context.Context, id string) (model.Event, error)
	Notification(ctx context.Context, id string) (model.Notification, error)
	Notifications(ctx context.Context, f store.NotificationFilter, limit int) (list []model.Notification, next uint64, err error)
}

// Store is everything the Server uses.
type Store interface {
	InstanceStore
	Ingest
	EventStore
	NotificationStore
	RejectedStore
	PollStatusStore
	CountStore
	Changes
	BackupStore
}
