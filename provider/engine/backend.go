package engine

import (
	"context"
	"errors"
	"io"
	"net/http"

	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/poll"
	"github.com/eventdesk/eventdesk/store"
)

// PollNower runs a poll cycle on demand; the scheduler is one (it keeps a
// manual poll from overlapping the scheduled one).
type PollNower interface {
	PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error)
}

// Replayer puts notifications back in line; the dispatcher is one (it also
// wakes the instance's delivery lane, which the store alone would not).
type Replayer interface {
	Replay(ctx context.Context, id string) (model.Notification, error)
	ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error)
}

// Webhooks registers and unregisters an instance's webhook with its vendor.
type Webhooks interface {
	Register(ctx context.Context, id int64) (model.Instance, error)
	Unregister(ctx context.Context, id int64) (model.Instance, error)
}

// LocalOptions are the in-process backend's parts beyond the store. Nil
// parts fall back to the store alone: poll now polls without a scheduler,
// replays only mark notifications pending for the next dispatcher, and
// webhooks register through the provider package.
type LocalOptions struct {
	Addr      string
	PublicURL string
	PID       int
	Poller    PollNower
	Replayer  Replayer
	// Lanes reports the dispatcher's lanes (nil: none, nothing delivers).
	Lanes    provider.LaneReporter
	Webhooks Webhooks
	// HTTPClient calls vendor APIs (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CloseStore makes Close close the store (a command that opened it
	// for itself); an engine's store closes with the engine.
	CloseStore bool
}

// Local is the in-process backend: the engine's store, scheduler,
// dispatcher and webhook registration behind the engine boundary.
type Local struct {
	st   Store
	opts LocalOptions
	agg  *provider.Aggregator
}

// NewLocal wraps an open store.
func NewLocal(st Store, opts LocalOptions) *Local {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.PublicURL == "" {
		// A constructor has no caller's context; these are two small reads.
		opts.PublicURL = StoredPublicURL(context.Background(), st)
	}
	return &Local{st: st, opts: opts, agg: provider.NewAggregator(st)}
}

// Backend is the running engine behind the engine boundary.
func (e *Engine) Backend() *Local {
	return NewLocal(e.Store, LocalOptions{Addr: e.Addr, PublicURL: e.PublicURL, Poller: e.Scheduler, Replayer: e.Dispatcher, Lanes: e.Dispatcher})
}

// StoredPublicURL is the public URL a listener on st would use: the stored
// one, else http:// and the stored (or default) listen address.
func StoredPublicURL(ctx context.Context, st SettingStore) string {
	if v, _, _ := st.Setting(ctx, store.SettingPublicURL); v != "" {
		return v
	}
	listen, _, _ := st.Setting(ctx, store.SettingListen)
	if listen == "" {
		listen = DefaultListen
	}
	return "http://" + listen
}

var _ backend.Backend = (*Local)(nil)

// notFound makes the store's not-found errors the boundary's, keeping
// their message ("instance 7: not found").
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError{err}
	}
	return err
}

type notFoundError struct{ err error }

func (e notFoundError) Error() string        { return e.err.Error() }
func (e notFoundError) Unwrap() error        { return e.err }
func (e notFoundError) Is(target error) bool { return target == backend.ErrNotFound }

// Info implements backend.Backend.
func (l *Local) Info(ctx context.Context) (backend.Info, error) {
	return backend.Info{Addr: l.opts.Addr, PublicURL: l.opts.PublicURL, PID: l.opts.PID}, nil
}

// Instances implements backend.Backend.
func (l *Local) Instances(ctx context.Context) ([]model.Instance, error) { return l.st.Instances(ctx) }

// Instance implements backend.Backend.
func (l *Local) Instance(ctx context.Context, id int64) (model.Instance, error) {
	in, err := l.st.Instance(ctx, id)
	return in, notFound(err)
}

// RevealInstance implements backend.Backend.
func (l *Local) RevealInstance(ctx context.Context, id int64) (model.Instance, error) {
	return l.Instance(ctx, id)
}

// CreateInstance implements backend.Backend.
func (l *Local) CreateInstance(ctx context.Context, req model.InstanceRequest) (model.Instance, error) {
	return provider.CreateInstance(ctx, l.st, req, l.opts.Now().UTC())
}

// PatchInstance implements backend.Backend.
func (l *Local) PatchInstance(ctx context.Context, id int64, req model.InstanceRequest) (model.Instance, error) {
	in, err := provider.PatchInstance(ctx, l.st, id, req, l.opts.Now().UTC())
	return in, notFound(err)
}

// DeleteInstance implements backend.Backend.
func (l *Local) DeleteInstance(ctx context.Context, id int64) error {
	return notFound(l.st.DeleteInstance(ctx, id))
}

// Events implements backend.Backend.
func (l *Local) Events(ctx context.Context, f model.EventFilter, limit int) ([]model.Event, uint64, error) {
	return l.st.Events(ctx, f, limit)
}

// EventsAfter implements backend.Backend.
func (l *Local) EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error) {
	return l.st.EventsAfter(ctx, after, limit)
}

// LastEventID implements backend.Backend.
func (l *Local) LastEventID(ctx context.Context) (uint64, error) { return l.st.LastEventID(ctx) }

// Event implements backend.Backend.
func (l *Local) Event(ctx context.Context, id string) (model.Event, error) {
	e, err := l.st.Event(ctx, id)
	return e, notFound(err)
}

// SearchEvents implements backend.Backend.
func (l *Local) SearchEvents(ctx context.Context, f model.EventFilter, cursor uint64, limit int) (model.EventSearchPage, error) {
	return l.st.SearchEvents(ctx, f, cursor, limit)
}

// Notifications implements backend.Backend.
func (l *Local) Notifications(ctx context.Context, f model.NotificationFilter, limit int) ([]model.Notification, uint64, error) {
	return l.st.Notifications(ctx, f, limit)
}

// Notification implements backend.Backend.
func (l *Local) Notification(ctx context.Context, id string) (model.Notification, error) {
	n, err := l.st.Notification(ctx, id)
	return n, notFound(err)
}

// NotificationOfEvent implements backend.Backend.
func (l *Local) NotificationOfEvent(ctx context.Context, eventID string) (model.Notification, error) {
	n, err := provider.NotificationOfEvent(ctx, l.st, eventID)
	return n, notFound(err)
}

// Attempts implements backend.Backend.
func (l *Local) Attempts(ctx context.Context, id string) ([]model.Attempt, error) {
	return l.st.Attempts(ctx, id)
}

func (l *Local) replayer() Replayer {
	if l.opts.Replayer != nil {
		return l.opts.Replayer
	}
	return l.st
}

// Replay implements backend.Backend.
func (l *Local) Replay(ctx context.Context, id string) (model.Notification, error) {
	n, err := l.replayer().Replay(ctx, id)
	return n, notFound(err)
}

// ReplayDead implements backend.Backend.
func (l *Local) ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error) {
	if _, err := l.st.Instance(ctx, instanceID); err != nil {
		return nil, notFound(err)
	}
	return l.replayer().ReplayDead(ctx, instanceID, since)
}

// Rejected implements backend.Backend.
func (l *Local) Rejected(ctx context.Context, before uint64, limit int) ([]model.Rejected, uint64, error) {
	return l.st.RejectedList(ctx, before, limit)
}

// PollStatuses implements backend.Backend.
func (l *Local) PollStatuses(ctx context.Context, id int64) ([]model.PollStatus, error) {
	return l.st.PollStatuses(ctx, id)
}

// PollerPreview implements backend.Backend.
func (l *Local) PollerPreview(ctx context.Context, id int64, draft []byte) ([]model.PollPreview, error) {
	out, err := provider.PollerPreview(ctx, l.st, id, draft)
	return out, notFound(err)
}

// PollNow implements backend.Backend.
func (l *Local) PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error) {
	if _, err := l.st.Instance(ctx, id); err != nil {
		return nil, nil, notFound(err)
	}
	if l.opts.Poller != nil {
		return l.opts.Poller.PollNow(ctx, id, resource)
	}
	p := poll.New(l.st, poll.Options{})
	if leases, ok := l.st.(poll.Leases); ok && isShared(l.st) {
		// Replicas may be polling: the resource is leased for this poll.
		return poll.PollNowShared(ctx, l.st, leases, p, processName(), id, resource)
	}
	return poll.PollNow(ctx, l.st, p, id, resource)
}

// RegisterWebhook implements backend.Backend.
func (l *Local) RegisterWebhook(ctx context.Context, id int64) (model.Instance, error) {
	if l.opts.Webhooks != nil {
		return l.opts.Webhooks.Register(ctx, id)
	}
	in, err := provider.RegisterWebhook(ctx, l.st, l.opts.PublicURL, id, l.opts.HTTPClient)
	return in, notFound(err)
}

// UnregisterWebhook implements backend.Backend.
func (l *Local) UnregisterWebhook(ctx context.Context, id int64) (model.Instance, error) {
	if l.opts.Webhooks != nil {
		return l.opts.Webhooks.Unregister(ctx, id)
	}
	in, err := provider.UnregisterWebhook(ctx, l.st, id, l.opts.HTTPClient)
	return in, notFound(err)
}

// Stats implements backend.Backend.
func (l *Local) Stats(ctx context.Context) (backend.Stats, error) {
	return l.agg.Stats(ctx, l.opts.Now())
}

// Lanes implements backend.Backend.
func (l *Local) Lanes(ctx context.Context) ([]model.LaneStatus, error) {
	if l.opts.Lanes == nil {
		return nil, nil
	}
	return l.opts.Lanes.Lanes(), nil
}

// Secrets implements backend.Backend.
func (l *Local) Secrets(ctx context.Context) (backend.Secrets, error) {
	sec, err := l.st.APISecrets(ctx)
	return backend.Secrets{User: sec.User, Organization: sec.Organization}, err
}

// Backup implements backend.Backend.
func (l *Local) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return l.st.WriteBackup(ctx, w)
}

// Subscribe implements backend.Backend.
func (l *Local) Subscribe(ctx context.Context) (backend.Subscription, error) {
	sub := l.st.Subscribe()
	s := &localSub{sub: sub}
	if ctx.Done() != nil {
		go func() {
			<-ctx.Done()
			s.Close()
		}()
	}
	return s, nil
}

type localSub struct{ sub *store.Subscription }

func (s *localSub) C() <-chan struct{}             { return s.sub.C }
func (s *localSub) Link() <-chan backend.LinkState { return nil }
func (s *localSub) Close()                         { s.sub.Close() }

// Close implements backend.Backend.
func (l *Local) Close() error {
	if l.opts.CloseStore {
		return l.st.Close()
	}
	return nil
}
