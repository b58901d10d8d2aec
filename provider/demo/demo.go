// Package demo runs eventdesk against in-process fake Pipedrive and Close
// servers: it provisions one instance per way events arrive (Pipedrive
// polling, Pipedrive webhooks, Close webhooks), points their callbacks at a
// local receiver, and keeps changing vendor records, so an operator can
// watch the whole flow without vendor accounts.
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
	"github.com/eventdesk/eventdesk/store"
)

// Options tune a demo.
type Options struct {
	// Every is the pause between generated vendor changes (default 3 s).
	Every time.Duration
	// FailRate is the share of callbacks the receiver answers with 500, to
	// show retries (default 0.1).
	FailRate float64
	Logger   *slog.Logger
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
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Start brings up the fake vendors and the receiver on loopback ports.
func Start(opts Options) (*Demo, error) {
	if opts.Every <= 0 {
		opts.Every = 3 * time.Second
	}
	if opts.FailRate == 0 {
		opts.FailRate = 0.1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Demo{
		Pipedrive: fakepipedrive.New(fakepipedrive.Options{AutoDeliver: true}),
		Close:     fakeclose.New(fakeclose.Options{AutoDeliver: true}),
		opts:      opts,
	}
	var err error
	if d.PipedriveURL, err = d.serve(d.Pipedrive); err == nil {
		if d.CloseURL, err = d.serve(d.Close); err == nil {
			d.ReceiverURL, err = d.serve(http.HandlerFunc(d.receive))
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

// receive plays the application behind the callback URL.
func (d *Demo) receive(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	if rand.Float64() < d.opts.FailRate {
		http.Error(w, "demo receiver: simulated failure", http.StatusInternalServerError)
		return
	}
	d.Received.Add(1)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{}"))
}

// Provision creates the demo instances and registers their webhooks with
// the fakes (which, being local, can reach a loopback public URL).
func (d *Demo) Provision(ctx context.Context, st *store.Store, publicURL string) ([]model.Instance, error) {
	cfg := func(m map[string]string) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range m {
			b, _ := json.Marshal(v)
			out[k] = b
		}
		return out
	}
	common := map[string]string{
		model.KeyEventsEnabled:   "true",
		model.KeyCallbackURL:     d.ReceiverURL + "/events",
		model.KeySignatureKey:    "demo-signature-key",
		model.KeyRefreshInterval: "1",
	}
	specs := []struct {
		name, element string
		cfg           map[string]string
		register      bool
	}{
		{"Pipedrive (polling)", "pipedrive", map[string]string{model.KeyBaseURL: d.PipedriveURL + "/v1", model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken, model.KeyVendorType: "polling"}, false},
		{"Pipedrive (webhooks)", "pipedrive", map[string]string{model.KeyBaseURL: d.PipedriveURL + "/v1", model.KeyPipedriveToken: fakepipedrive.DefaultAPIToken, model.KeyVendorType: "webhook"}, true},
		{"Close (webhooks)", "closeio", map[string]string{model.KeyBaseURL: d.CloseURL + "/api/v1", model.KeyCloseAPIKey: fakeclose.DefaultAPIKey, model.KeyVendorType: "webhook"}, true},
	}
	var out []model.Instance
	for _, sp := range specs {
		for k, v := range common {
			sp.cfg[k] = v
		}
		name := "Demo " + sp.name
		tags := []string{"demo"}
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: sp.element}, Name: &name, Tags: &tags, Configuration: cfg(sp.cfg)}, time.Now().UTC())
		if err != nil {
			return out, err
		}
		if in, err = st.CreateInstance(in); err != nil {
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

// Generate keeps changing vendor records until Stop: creations, updates
// and the odd deletion, in both fakes.
func (d *Demo) Generate() {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(d.opts.Every)
		defer t.Stop()
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n++
			d.change(n)
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
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	for _, s := range d.servers {
		_ = s.Close()
	}
	d.Pipedrive.Close()
	d.Close.Close()
}
