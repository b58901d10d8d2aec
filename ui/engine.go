package ui

import (
	"context"

	"github.com/eventdesk/eventdesk/provider/backend"
	"github.com/eventdesk/eventdesk/provider/engine"
)

// FromEngine gives the console an engine running in this process.
func FromEngine(e *engine.Engine) Deps {
	return Deps{Backend: e.Backend(), Addr: e.Addr, PublicURL: e.PublicURL}
}

// FromBackend gives the console any engine behind the boundary; the
// header and webhook URLs come from the engine's own description.
func FromBackend(ctx context.Context, b backend.Backend) (Deps, error) {
	info, err := b.Info(ctx)
	if err != nil {
		return Deps{}, err
	}
	return Deps{Backend: b, Addr: info.Addr, PublicURL: info.PublicURL, Attached: info.Attached}, nil
}
