package provider

import "net/http"

// opsRoutes serves what operators' tools scrape: /metrics (open only when
// the listener is loopback-only, else behind the API's secrets) and
// /health/ready (open, like /health: load balancers ask it without
// credentials, and it tells nothing secret).
func (s *Server) opsRoutes() {
	if h := s.cfg.Metrics; h != nil {
		if s.cfg.MetricsOpen {
			s.mux.Handle("GET /metrics", h)
		} else {
			s.mux.Handle("GET /metrics", s.authed(h.ServeHTTP))
		}
	}
	if h := s.cfg.Ready; h != nil {
		s.mux.Handle("GET /health/ready", h)
	}
}

// OpsHandler serves only /metrics, /health and /health/ready, without
// auth: for --metrics-listen, a listener of its own that the operator
// binds where only the monitoring network reaches it.
func OpsHandler(metrics, ready http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	if ready != nil {
		mux.Handle("GET /health/ready", ready)
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}
