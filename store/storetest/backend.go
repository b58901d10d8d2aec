// Package storetest is the conformance suite every eventdesk store passes:
// the same operations with the same results, errors and change
// notifications on bbolt and on PostgreSQL. A backend's tests call Run
// with a function opening a fresh, empty store.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Backend is what the suite exercises: the store's operations, each taking
// a context first.
type Backend interface {
	AppendEvents(ctx context.Context, events []model.Event) (store.AppendResult, error)
	Event(ctx context.Context, id string) (model.Event, error)
	Events(ctx context.Context, f store.EventFilter, limit int) ([]model.Event, uint64, error)
	EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error)
	SearchEvents(ctx context.Context, f store.EventFilter, cursor uint64, limit int) (model.EventSearchPage, error)
	LastEventID(ctx context.Context) (uint64, error)
	EventCount(ctx context.Context) (int, error)
	FirstEventSince(ctx context.Context, t time.Time) (uint64, error)
	InstanceBlockCounts(ctx context.Context, from uint64) (map[int64]store.BlockCount, uint64, uint64, error)

	CreateInstance(ctx context.Context, in model.Instance) (model.Instance, error)
	Instance(ctx context.Context, id int64) (model.Instance, error)
	Instances(ctx context.Context) ([]model.Instance, error)
	UpdateInstance(ctx context.Context, id int64, fn func(model.Instance) (model.Instance, error)) (model.Instance, error)
	DeleteInstance(ctx context.Context, id int64) error
	KeepPipedriveToken(ctx context.Context, id int64, token string) (string, error)
	InstancesVersion() uint64

	Notification(ctx context.Context, id string) (model.Notification, error)
	Notifications(ctx context.Context, f store.NotificationFilter, limit int) ([]model.Notification, uint64, error)
	PendingInstances(ctx context.Context) ([]int64, error)
	PendingNotifications(ctx context.Context, instanceID int64, after uint64, limit int) ([]model.Notification, error)
	NotificationsBySeq(ctx context.Context, seqs []uint64, maxBytes int) ([]model.Notification, error)
	PendingSchedule(ctx context.Context, instanceID int64, after uint64, limit int) ([]store.Due, error)
	NotificationCounts(ctx context.Context) (int, int, error)
	OutboxSequence(ctx context.Context) (uint64, error)
	RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error
	Attempts(ctx context.Context, id string) ([]model.Attempt, error)
	Replay(ctx context.Context, id string) (model.Notification, error)
	ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error)
	AbandonOrphans(ctx context.Context, instanceID int64) error
	SetNotificationsOff(ctx context.Context, instanceID int64, reason string) error

	PollStatus(ctx context.Context, instanceID int64, resource string) (model.PollStatus, error)
	PollStatuses(ctx context.Context, instanceID int64) ([]model.PollStatus, error)
	SetPollStatus(ctx context.Context, st model.PollStatus) error
	ForgetStalePollStatuses(ctx context.Context) (int, error)

	AddRejected(ctx context.Context, r store.Rejected) error
	RejectedList(ctx context.Context, before uint64, limit int) ([]store.Rejected, uint64, error)
	RejectedCount(ctx context.Context) (int, error)

	Prune(ctx context.Context, cutoff time.Time) (store.PruneResult, error)
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
	APISecrets(ctx context.Context) (store.Secrets, error)
	Overview(ctx context.Context) (store.Overview, error)
	Probe(ctx context.Context) error

	PutInstances(ctx context.Context, ins []model.Instance) error
	PutEvents(ctx context.Context, events []model.Event) error
	PutDedupeKeys(ctx context.Context, recs []store.DedupeRecord) error
	PutNotifications(ctx context.Context, ns []model.Notification) error
	PutAttempts(ctx context.Context, as []model.Attempt) error
	PutPollStatuses(ctx context.Context, sts []model.PollStatus) error
	PutSettings(ctx context.Context, settings map[string]string) error
	PutRejected(ctx context.Context, rs []store.Rejected) error
	TableCounts(ctx context.Context) (map[string]int, error)
	NotificationsAfter(ctx context.Context, after uint64, limit int) ([]model.Notification, error)
	Settings(ctx context.Context) (map[string]string, error)
	AllPollStatuses(ctx context.Context) ([]model.PollStatus, error)
	EachDedupeRecord(ctx context.Context, fn func(store.DedupeRecord) error) error

	Subscribe() *store.Subscription
	Close() error
}

// Opener opens a fresh, empty store whose clock is now; the store is
// closed when the test ends.
type Opener func(t *testing.T, now func() time.Time) Backend
