// Package demo runs eventdesk against in-process fake Pipedrive and Close
// servers: it provisions one instance per vendor and way events arrive
// (Pipedrive and Close, polling and webhooks), points their callbacks at a
// local receiver (one of them at a flaky one, so retries and dead
// notifications can be seen), and keeps changing vendor records, so an
// operator can watch the whole flow without vendor accounts.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/fakeclose"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
)

// Retry is the callback retry policy the demo runs with: CE's schedule
// (4^n) compressed so a failing notification is retried within seconds and
// dead within about 20 s instead of three days.
var Retry = model.RetryPolicy{Base: 250 * time.Millisecond, MaxRetries: 3, Jitter: 0.2}

// Options tune a demo.
type Options struct {
	// Every is the pause between generated vendor changes (default 3 s).
	Every time.Duration
	// FirstPoll is how long after Generate the polling instances get their
	// first poll, so it finds the first burst of changes (default 1.5 s).
	FirstPoll time.Duration
	Logger    *slog.Logger
}

// Demo is a running set of fake vendors, a callback receiver and a change
// generator.
type Demo struct {
	Pipedrive                           *fakepipedrive.Server
	Close                               *fakeclose.Server
	PipedriveURL, CloseURL, ReceiverURL string
	// Received counts callbacks the receiver accepted.
	Received atomic.Int64

	opts    Options
	servers []*http.Server
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	flaky   flaky
}

// Start brings up the fake vendors and the receiver on loopback ports.
func Start(opts Options) (*Demo, error) {
	if opts.Every <= 0 {
		opts.Every = 3 * time.Second
	}
	if opts.FirstPoll <= 0 {
		opts.FirstPoll = 1500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Demo{
		Pipedrive: fakepipedrive.New(fakepipedrive.Options{AutoDeliver: true}),
		Close:     fakeclose.New(fakeclose.Options{AutoDeliver: true}),
		opts:      opts,
		flaky:     flaky{attempts: map[string]int{}, order: map[string]int{}},
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events", d.receive)
	mux.HandleFunc("POST /flaky/events", d.receiveFlaky)
	var err error
	if d.PipedriveURL, err = d.serve(d.Pipedrive); err == nil {
		if d.CloseURL, err = d.serve(d.Close); err == nil {
			d.ReceiverURL, err = d.serve(mux)
		}
	}
	if err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Demo) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	d.servers = append(d.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// receive plays a healthy application behind the callback URL.
func (d *Demo) receive(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	d.Received.Add(1)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{}"))
}

// receiveFlaky plays an unreliable application, deterministically so the
// demo always shows the same things: every fourth notification fails its
// first attempt (a retry is seen), and the third and then every 25th fail
// every attempt the retry policy allows, so they die; a replay of a dead
// one succeeds.
func (d *Demo) receiveFlaky(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	if d.flaky.fail(r.Header.Get("webhook-id")) {
		http.Error(w, "demo receiver: simulated failure", http.StatusInternalServerError)
		return
	}
	d.receive(w, r)
}

// flaky remembers, per notification (webhook-id), its order of arrival and
// how many attempts it has made.
type flaky struct {
	mu       sync.Mutex
	attempts map[string]int
	order    map[string]int
}

func (f *flaky) fail(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.order[id]
	if !ok {
		n = len(f.order) + 1
		f.order[id] = n
	}
	f.attempts[id]++
	switch {
	case n%25 == 3:
		return f.attempts[id] <= Retry.MaxRetries+1
	case n%4 == 0:
		return f.attempts[id] == 1
	}
	return false
}

// Provision creates the demo instances and registers their webhooks with
// the fakes (which, being local, can reach a loopback public URL). Every
// instance is tagged "demo"; the Pipedrive webhooks one calls back to the
// flaky receiver.
func (d *Demo) Provision(ctx context.Context, st provider.InstanceStore, publicURL string) ([]model.Instance, error) {
	cfg := func(m map[string]string) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range m {
			b, _ := json.Marshal(v)
			out[k] = b
		}
		return out
	}
	pd := func(vendorType, callback string) map[string]string {
		return map[string]string{model.KeyBaseURL: d.PipedriveURL + "/v1", model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken,
			model.KeyVendorType: vendorType, model.KeyCallbackURL: callback}
	}
	cl := func(vendorType string) map[string]string {
		return map[string]string{model.KeyBaseURL: d.CloseURL + "/api/v1", model.KeyCloseAPIKey: fakeclose.DefaultAPIKey,
			model.KeyVendorType: vendorType, model.KeyCallbackURL: d.ReceiverURL + "/events"}
	}
	specs := []struct {
		name, element string
		cfg           map[string]string
		register      bool
	}{
		{"Pipedrive (polling)", "pipedrive", pd("polling", d.ReceiverURL+"/events"), false},
		{"Pipedrive (webhooks)", "pipedrive", pd("webhook", d.ReceiverURL+"/flaky/events"), true},
		{"Close (polling)", "closeio", cl("polling"), false},
		{"Close (webhooks)", "closeio", cl("webhook"), true},
	}
	var out []model.Instance
	for _, sp := range specs {
		sp.cfg[model.KeyEventsEnabled] = "true"
		sp.cfg[model.KeySignatureKey] = "demo-signature-key"
		sp.cfg[model.KeyRefreshInterval] = "1"
		name := "Demo " + sp.name
		tags := []string{"demo"}
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: sp.element}, Name: &name, Tags: &tags, Configuration: cfg(sp.cfg)}, time.Now().UTC())
		if err != nil {
			return out, err
		}
		if in, err = st.CreateInstance(ctx, in); err != nil {
			return out, err
		}
		if sp.register {
			if in, err = provider.RegisterWebhook(ctx, st, publicURL, in.ID, nil); err != nil {
				return out, err
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// Poller runs one poll cycle of an instance now; *poll.Scheduler is one.
type Poller interface {
	PollNow(ctx context.Context, id int64, resource string) ([]model.PollStatus, []model.Event, error)
}

// Generate makes a first burst of changes at once (one of each kind), then
// keeps changing vendor records every Options.Every until Stop. With a
// poller, the polling instances among insts are polled Options.FirstPoll
// after the burst, so polled events show within seconds rather than after
// the first refresh interval; the scheduler takes over from there.
func (d *Demo) Generate(p Poller, insts []model.Instance) {
	for n := 1; n <= 6; n++ {
		d.change(n)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(d.opts.Every)
		defer t.Stop()
		n := 6
		for {
			select {
			case <-d.ctx.Done():
				return
			case <-t.C:
			}
			n++
			d.change(n)
		}
	}()
	if p == nil {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(d.opts.FirstPoll):
		}
		for _, in := range insts {
			if !in.Polling() {
				continue
			}
			if _, _, err := p.PollNow(d.ctx, in.ID, ""); err != nil {
				d.opts.Logger.Warn("demo: first poll", "instance", in.ID, "err", err)
			}
		}
	}()
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Linus"}

func (d *Demo) change(n int) {
	name := fmt.Sprintf("%s %d", firstNames[n%len(firstNames)], n)
	switch n % 6 {
	case 0, 3:
		d.Pipedrive.Create(fakepipedrive.KindPerson, map[string]any{"name": name})
	case 1:
		d.Close.Create(fakeclose.KindLead, map[string]any{"display_name": name + " Ltd"})
	case 2:
		if ids := d.Pipedrive.IDs(fakepipedrive.KindPerson); len(ids) > 0 {
			_, _ = d.Pipedrive.Update(fakepipedrive.KindPerson, ids[rand.IntN(len(ids))], map[string]any{"name": name + " (edited)"})
		} else {
			d.Pipedrive.Create(fakepipedrive.KindOrganization, map[string]any{"name": name + " Inc"})
		}
	case 4:
		d.Pipedrive.Create(fakepipedrive.KindDeal, map[string]any{"title": "Deal " + name})
	case 5:
		if ids := d.Close.IDs(fakeclose.KindLead); len(ids) > 3 {
			_ = d.Close.Delete(fakeclose.KindLead, ids[0])
		} else {
			d.Close.Create(fakeclose.KindContact, map[string]any{"name": name})
		}
	}
}

// Stop ends the generator, the fakes and the receiver.
func (d *Demo) Stop() {
	d.cancel()
	d.wg.Wait()
	for _, s := range d.servers {
		_ = s.Close()
	}
	d.Pipedrive.Close()
	d.Close.Close()
}
