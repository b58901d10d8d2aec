package dispatch

import (
	"context"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Outbox is what the dispatcher needs of a store: the pending
// notifications and their schedule, the instances they go to, and a
// place to record what each attempt did.
type Outbox interface {
	// Subscribe signals commits: new notifications wake their lanes.
	Subscribe() *store.Subscription
	// InstancesVersion changes whenever an instance does.
	InstancesVersion() uint64
	Instance(ctx context.Context, id int64) (model.Instance, error)

	// OutboxSequence is the highest notification id handed out so far.
	OutboxSequence(ctx context.Context) (uint64, error)
	// PendingInstances lists instances with pending notifications.
	PendingInstances(ctx context.Context) ([]int64, error)
	// PendingSchedule lists an instance's pending notifications after a
	// sequence, oldest first, with when each is due.
	PendingSchedule(ctx context.Context, instanceID int64, after uint64, limit int) ([]store.Due, error)
	Notification(ctx context.Context, id string) (model.Notification, error)
	// NotificationsBySeq reads several notifications with their bodies in
	// one transaction, in the order asked, up to a total of body bytes.
	NotificationsBySeq(ctx context.Context, seqs []uint64, maxBytes int) ([]model.Notification, error)

	// RecordAttempts stores attempt outcomes in one commit.
	RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error
	// AbandonOrphans marks a deleted instance's pending notifications
	// dead.
	AbandonOrphans(ctx context.Context, instanceID int64) error
	// SetNotificationsOff records why an instance's callbacks stopped.
	SetNotificationsOff(ctx context.Context, instanceID int64, reason string) error
	Replay(ctx context.Context, id string) (model.Notification, error)
	ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error)
}
