package provider

import (
	"net/http"
	"sync"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// WebhookObserver is told the outcome of every webhook request. The
// metrics package implements it; Config.Webhooks nil observes nothing and
// costs nothing. WebhookHandled must not keep o.Instances: its array is
// reused for the next request.
type WebhookObserver interface {
	WebhookHandled(o WebhookOutcome)
}

// WebhookOutcome is one webhook request as an observer sees it.
type WebhookOutcome struct {
	// ElementKey is the path's element key, or "" when it names no element.
	ElementKey string
	// Status is the answer's HTTP status.
	Status int
	// Took runs from the handler's start to the end of the answer; a 2xx
	// is only sent after the events are committed with fsync.
	Took time.Duration
	// BodyBytes is the size of an accepted body.
	BodyBytes int
	// Instances are the accepted request's instances with their events.
	Instances []WebhookInstance
}

// WebhookInstance is what one accepted webhook brought one instance.
type WebhookInstance struct {
	ID                 int64
	Stored, Duplicates int
}

// webhookRecorder catches the status of a webhook answer and what
// noteReceived adds about the events.
type webhookRecorder struct {
	http.ResponseWriter
	status int
	out    WebhookOutcome
}

// WriteHeader keeps the first status written.
func (r *webhookRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write counts as a 200 when no status was written first.
func (r *webhookRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the real writer.
func (r *webhookRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var recorders = sync.Pool{New: func() any { return new(webhookRecorder) }}

// observeWebhooks wraps the receiver so every answer reaches the observer;
// without an observer the receiver runs bare.
func (s *Server) observeWebhooks(h http.HandlerFunc) http.HandlerFunc {
	obs := s.cfg.Webhooks
	if obs == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorders.Get().(*webhookRecorder)
		*rec = webhookRecorder{ResponseWriter: w, out: WebhookOutcome{Instances: rec.out.Instances[:0]}}
		h(rec, r)
		rec.out.Took = time.Since(start)
		rec.out.Status = rec.status
		if rec.status == 0 {
			rec.out.Status = http.StatusOK
		}
		if key := r.PathValue("elementKey"); key != "" {
			if _, ok := model.LookupElement(key); ok {
				rec.out.ElementKey = key
			}
		}
		obs.WebhookHandled(rec.out)
		rec.ResponseWriter = nil
		recorders.Put(rec)
	}
}

// noteReceived tells the observer, if any, what an accepted webhook
// brought each instance: perInstance events each, of which res stored some.
func noteReceived(w http.ResponseWriter, insts []model.Instance, perInstance int, res store.AppendResult, bodyBytes int) {
	rec, ok := w.(*webhookRecorder)
	if !ok {
		return
	}
	rec.out.BodyBytes = bodyBytes
	for _, in := range insts {
		stored := 0
		for _, e := range res.Stored {
			if e.InstanceID == in.ID {
				stored++
			}
		}
		rec.out.Instances = append(rec.out.Instances, WebhookInstance{ID: in.ID, Stored: stored, Duplicates: max(0, perInstance-stored)})
	}
}
