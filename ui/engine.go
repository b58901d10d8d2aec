package ui

import (
	"context"
	"net/http"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// FromEngine gives the console a running engine's handles.
func FromEngine(e *engine.Engine) Deps {
	d := Deps{
		Store:     e.Store,
		Webhooks:  engineWebhooks{st: e.Store, publicURL: e.PublicURL, hc: &http.Client{Timeout: registerTimeout}},
		Addr:      e.Addr,
		PublicURL: e.PublicURL,
	}
	// Typed nil pointers would make non-nil interfaces; check first.
	if e.Scheduler != nil {
		d.Poller = e.Scheduler
	}
	if e.Dispatcher != nil {
		d.Replayer = e.Dispatcher
		d.Lanes = e.Dispatcher
	}
	return d
}

// engineWebhooks registers webhooks through the provider package with the
// engine's public URL.
type engineWebhooks struct {
	st        *store.Store
	publicURL string
	hc        *http.Client
}

func (w engineWebhooks) Register(ctx context.Context, id int64) (model.Instance, error) {
	return provider.RegisterWebhook(ctx, w.st, w.publicURL, id, w.hc)
}

func (w engineWebhooks) Unregister(ctx context.Context, id int64) (model.Instance, error) {
	return provider.UnregisterWebhook(ctx, w.st, id, w.hc)
}
