package storetest_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/storetest"
)

func TestBbolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		s, err := store.Open(filepath.Join(t.TempDir(), "eventdesk.db"), store.Options{NoSync: true, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return bboltCtx{s}
	})
}

// bboltCtx gives the bbolt store's methods the context parameter the
// suite calls them with. It goes once the bbolt store's methods take a
// context themselves; then *store.Store is a Backend as it is.
type bboltCtx struct{ *store.Store }

func (b bboltCtx) AppendEvents(_ context.Context, events []model.Event) (store.AppendResult, error) {
	return b.Store.AppendEvents(events)
}
func (b bboltCtx) Event(_ context.Context, id string) (model.Event, error) { return b.Store.Event(id) }
func (b bboltCtx) Events(_ context.Context, f store.EventFilter, limit int) ([]model.Event, uint64, error) {
	return b.Store.Events(f, limit)
}
func (b bboltCtx) EventsAfter(_ context.Context, after uint64, limit int) ([]model.Event, error) {
	return b.Store.EventsAfter(after, limit)
}
func (b bboltCtx) LastEventID(context.Context) (uint64, error) { return b.Store.LastEventID() }
func (b bboltCtx) EventCount(context.Context) (int, error)     { return b.Store.EventCount() }
func (b bboltCtx) FirstEventSince(_ context.Context, t time.Time) (uint64, error) {
	return b.Store.FirstEventSince(t)
}
func (b bboltCtx) InstanceBlockCounts(_ context.Context, from uint64) (map[int64]store.BlockCount, uint64, uint64, error) {
	return b.Store.InstanceBlockCounts(from)
}
func (b bboltCtx) CreateInstance(_ context.Context, in model.Instance) (model.Instance, error) {
	return b.Store.CreateInstance(in)
}
func (b bboltCtx) Instance(_ context.Context, id int64) (model.Instance, error) {
	return b.Store.Instance(id)
}
func (b bboltCtx) Instances(context.Context) ([]model.Instance, error) { return b.Store.Instances() }
func (b bboltCtx) UpdateInstance(_ context.Context, id int64, fn func(model.Instance) (model.Instance, error)) (model.Instance, error) {
	return b.Store.UpdateInstance(id, fn)
}
func (b bboltCtx) DeleteInstance(_ context.Context, id int64) error {
	return b.Store.DeleteInstance(id)
}
func (b bboltCtx) KeepPipedriveToken(_ context.Context, id int64, token string) (string, error) {
	return b.Store.KeepPipedriveToken(id, token)
}
func (b bboltCtx) Notification(_ context.Context, id string) (model.Notification, error) {
	return b.Store.Notification(id)
}
func (b bboltCtx) Notifications(_ context.Context, f store.NotificationFilter, limit int) ([]model.Notification, uint64, error) {
	return b.Store.Notifications(f, limit)
}
func (b bboltCtx) PendingInstances(context.Context) ([]int64, error) {
	return b.Store.PendingInstances()
}
func (b bboltCtx) PendingNotifications(_ context.Context, id int64, after uint64, limit int) ([]model.Notification, error) {
	return b.Store.PendingNotifications(id, after, limit)
}
func (b bboltCtx) PendingSchedule(_ context.Context, id int64, after uint64, limit int) ([]store.Due, error) {
	return b.Store.PendingSchedule(id, after, limit)
}
func (b bboltCtx) NotificationCounts(context.Context) (int, int, error) {
	return b.Store.NotificationCounts()
}
func (b bboltCtx) OutboxSequence(context.Context) (uint64, error) { return b.Store.OutboxSequence() }
func (b bboltCtx) RecordAttempts(_ context.Context, recs []store.AttemptRecord) error {
	return b.Store.RecordAttempts(recs)
}
func (b bboltCtx) Attempts(_ context.Context, id string) ([]model.Attempt, error) {
	return b.Store.Attempts(id)
}
func (b bboltCtx) Replay(_ context.Context, id string) (model.Notification, error) {
	return b.Store.Replay(id)
}
func (b bboltCtx) ReplayDead(_ context.Context, id int64, since time.Time) ([]string, error) {
	return b.Store.ReplayDead(id, since)
}
func (b bboltCtx) AbandonOrphans(_ context.Context, id int64) error {
	return b.Store.AbandonOrphans(id)
}
func (b bboltCtx) SetNotificationsOff(_ context.Context, id int64, reason string) error {
	return b.Store.SetNotificationsOff(id, reason)
}
func (b bboltCtx) PollStatus(_ context.Context, id int64, resource string) (model.PollStatus, error) {
	return b.Store.PollStatus(id, resource)
}
func (b bboltCtx) PollStatuses(_ context.Context, id int64) ([]model.PollStatus, error) {
	return b.Store.PollStatuses(id)
}
func (b bboltCtx) SetPollStatus(_ context.Context, st model.PollStatus) error {
	return b.Store.SetPollStatus(st)
}
func (b bboltCtx) ForgetStalePollStatuses(context.Context) (int, error) {
	return b.Store.ForgetStalePollStatuses()
}
func (b bboltCtx) AddRejected(_ context.Context, r store.Rejected) error {
	return b.Store.AddRejected(r)
}
func (b bboltCtx) RejectedList(_ context.Context, before uint64, limit int) ([]store.Rejected, uint64, error) {
	return b.Store.RejectedList(before, limit)
}
func (b bboltCtx) RejectedCount(context.Context) (int, error) { return b.Store.RejectedCount() }
func (b bboltCtx) Prune(_ context.Context, cutoff time.Time) (store.PruneResult, error) {
	return b.Store.Prune(cutoff)
}
func (b bboltCtx) Setting(_ context.Context, key string) (string, bool, error) {
	return b.Store.Setting(key)
}
func (b bboltCtx) SetSetting(_ context.Context, key, value string) error {
	return b.Store.SetSetting(key, value)
}
func (b bboltCtx) APISecrets(context.Context) (store.Secrets, error) { return b.Store.APISecrets() }
func (b bboltCtx) Overview(context.Context) (store.Overview, error)  { return b.Store.Overview() }
func (b bboltCtx) Probe(context.Context) error                       { return b.Store.Probe() }
func (b bboltCtx) Backup(_ context.Context, path string) (int64, error) {
	return b.Store.Backup(path)
}
func (b bboltCtx) WriteBackup(_ context.Context, w io.Writer) (int64, error) {
	return b.Store.WriteBackup(w)
}
