package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/store"
)

// DefaultMaxBody is the largest request body accepted.
const DefaultMaxBody = 1 << 20

// Config configures the listener.
type Config struct {
	// PublicURL is the URL vendors reach the listener at; webhook URLs are
	// built from it.
	PublicURL string
	// Secrets are the API's User and Organization secrets.
	Secrets store.Secrets
	// Logger receives request errors; nil discards. Repeated warnings and
	// errors are limited to one line per kind every 10 seconds.
	Logger *slog.Logger
	// MaxBody limits request bodies (default DefaultMaxBody).
	MaxBody int64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient calls vendor APIs (nil: the adapters' defaults).
	HTTPClient *http.Client
	// Replayer replays notifications (nil: the store, without waking a
	// running dispatcher).
	Replayer Replayer
	// Poller runs "poll now" (nil: 503, polling not running).
	Poller PollNower
	// Lanes reports the dispatcher's lanes for GET /lanes (nil: none).
	Lanes LaneReporter
	// Addr is the listener's address and Version the program's, both
	// told to attached clients.
	Addr    string
	Version string
	// Webhooks observes every webhook request (nil: nobody).
	Webhooks WebhookObserver
	// Metrics serves GET /metrics (nil: not served), behind the API's
	// auth unless MetricsOpen (meant for a loopback-only listener).
	Metrics     http.Handler
	MetricsOpen bool
	// Ready serves GET /health/ready (nil: not served).
	Ready http.Handler
}

// Server is the HTTP listener: the CE-compatible API and webhook receiver.
type Server struct {
	st  Store
	cfg Config
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux
	// insts caches the instances webhooks name (receiver_cache.go); its
	// zero value is an empty cache, ready when New builds the Server.
	insts instanceCache
	// agg answers GET /stats.
	agg *Aggregator
	// backupBusy is set while a backup is being downloaded (backup.go).
	backupBusy atomic.Bool
}

// New builds a listener over an open store, and removes the backup download
// copies a crash of an earlier version left next to the database.
func New(st Store, cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Requests can fail alike by the thousand (a full disk): one line per
	// kind and window, with the count of those held back.
	log = slog.New(newRepeatLimiter(log.Handler(), repeatWindow, cfg.Now))
	s := &Server{st: st, cfg: cfg, log: log, now: cfg.Now, mux: http.NewServeMux(), agg: NewAggregator(st)}
	s.routes()
	s.removeOrphanedDownloads()
	return s
}

// PublicURL is the URL webhook URLs are built from.
func (s *Server) PublicURL() string { return s.cfg.PublicURL }

const prefix = "/elements/api-v2"

func (s *Server) routes() {
	s.mux.HandleFunc("GET /health", s.health)
	s.opsRoutes()
	s.mux.Handle("GET "+prefix+"/elements", s.authed(s.listElements))
	s.mux.Handle("POST "+prefix+"/instances", s.authed(s.createInstance))
	s.mux.Handle("GET "+prefix+"/instances", s.authed(s.listInstances))
	s.mux.Handle("GET "+prefix+"/instances/{id}", s.authed(s.getInstance))
	s.mux.Handle("PATCH "+prefix+"/instances/{id}", s.authed(s.patchInstance))
	s.mux.Handle("DELETE "+prefix+"/instances/{id}", s.authed(s.deleteInstance))
	s.mux.Handle("POST "+prefix+"/instances/{id}/webhook", s.authed(s.registerAPI))
	s.mux.Handle("DELETE "+prefix+"/instances/{id}/webhook", s.authed(s.registerAPI))
	s.mux.Handle("POST "+prefix+"/instances/{id}/events/poll", s.authed(s.pollNow))
	s.mux.Handle("GET "+prefix+"/backup", s.authed(s.backup))
	s.mux.HandleFunc("/", s.notFound)
	s.eventRoutes()
	s.notificationRoutes()
	s.attachRoutes()
}

// ServeHTTP assigns a request id and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("Elements-Request-Id", id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
	s.mux.ServeHTTP(w, r)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// notFound answers a request no route serves: 405 with Allow when the path
// is served with other methods, else 404. (ServeMux never answers 405 itself
// here, since the catch-all "/" matches every method.)
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if allow := s.allowedMethods(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", "))), nil)
		return
	}
	s.fail(w, r, errorf(http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)), nil)
}

// HTTPServer wraps the handler with every timeout set, so a slow or stalled
// client cannot hold a connection forever.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second, // the SSE stream lifts it per response
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// Serve runs the listener on ln until ctx ends, then shuts down gracefully,
// giving in-flight requests up to 10 seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
