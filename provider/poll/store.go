package poll

import (
	"context"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Store is what a poll cycle needs of a store: the instance, its
// resource's checkpoint, and a place for the events it finds.
type Store interface {
	Instance(ctx context.Context, id int64) (model.Instance, error)
	PollStatus(ctx context.Context, instanceID int64, resource string) (model.PollStatus, error)
	// SetPollStatus stores a resource's state and checkpoint.
	SetPollStatus(ctx context.Context, st model.PollStatus) error
	// AppendEvents stores events (and the notifications they cause),
	// skipping duplicates.
	AppendEvents(ctx context.Context, events []model.Event) (store.AppendResult, error)
	// KeepPipedriveToken stores an API token a login obtained, unless
	// one is stored already; it returns the token to use.
	KeepPipedriveToken(ctx context.Context, id int64, token string) (string, error)
}

// SchedulerStore is what the scheduler needs beyond a cycle's Store: every
// instance, and word of their changes.
type SchedulerStore interface {
	Store
	Instances(ctx context.Context) ([]model.Instance, error)
	// ForgetStalePollStatuses drops the state of resources no instance
	// polls any more.
	ForgetStalePollStatuses(ctx context.Context) (int, error)
	// Subscribe signals commits.
	Subscribe() *store.Subscription
	// InstancesVersion changes whenever an instance does.
	InstancesVersion() uint64
}
