package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/eventdesk/eventdesk/provider"
	"github.com/eventdesk/eventdesk/provider/dispatch"
	"github.com/eventdesk/eventdesk/provider/metrics"
	"github.com/eventdesk/eventdesk/provider/poll"
)

// readiness checks that the store takes a durable write and that the
// dispatcher's and the scheduler's loops pass after it.
func readiness(st Store, disp *dispatch.Dispatcher, sched *poll.Scheduler) *metrics.Readiness {
	return metrics.NewReadiness(metrics.ReadyOptions{
		Probe: st.Probe,
		Loops: []metrics.Loop{{Name: "dispatcher", Beats: disp.Beats}, {Name: "scheduler", Beats: sched.Beats}},
	})
}

// loopbackOnly reports whether addr can only be reached from this machine:
// then /metrics needs no credentials on the main listener.
func loopbackOnly(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// serveMetrics starts the --metrics-listen listener, if one is asked for:
// /metrics, /health and /health/ready without auth, for a monitoring
// network. It stops when ctx ends.
func (e *Engine) serveMetrics(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	e.MetricsAddr = ln.Addr().String()
	srv := &http.Server{
		Handler:           provider.OpsHandler(e.Metrics.Handler(), e.Ready),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				e.log.Error("metrics listener stopped", "addr", e.MetricsAddr, "err", err)
			}
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
	}()
	e.log.Info("serving metrics", "addr", e.MetricsAddr)
	return nil
}
