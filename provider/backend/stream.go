package backend

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Change kinds on the engine's change stream.
const (
	ChangeEvent        = "event"
	ChangeNotification = "notification"
	ChangeInstance     = "instance"
	ChangeRejected     = "rejected"
)

// Change is one message of the engine's change stream: its kind, its id
// (the position to resume after) and its JSON data.
type Change struct {
	ID   string
	Kind string
	Data []byte
}

// Reconnect pacing of a remote subscription: quick at first, then at
// most every few seconds, so a restarting engine is found soon and a dead
// one is not hammered.
var (
	backoffFirst = 250 * time.Millisecond
	backoffMax   = 5 * time.Second
)

// ChangesPath is the change stream's path under the API prefix.
const ChangesPath = "/changes"

// Subscribe implements Backend: it follows the engine's change stream,
// reconnecting with backoff and resuming with Last-Event-ID after the last
// change received, and reports the link's state on Link.
func (r *Remote) Subscribe(ctx context.Context) (Subscription, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &remoteSub{c: make(chan struct{}, 1), link: make(chan LinkState, 1), cancel: cancel}
	go s.run(ctx, r, "")
	return s, nil
}

// Follow streams changes after id ("" = from now) until ctx ends, calling
// fn for each; it reconnects like Subscribe and reports link changes to
// link (nil: ignored). It returns ctx's error, or fn's.
func (r *Remote) Follow(ctx context.Context, after string, fn func(Change) error, link func(LinkState)) error {
	last := after
	delay := backoffFirst
	for {
		err := r.stream(ctx, last, func(c Change) error {
			if c.ID != "" {
				last = c.ID
			}
			if c.Kind == "" {
				return nil
			}
			return fn(c)
		}, func() {
			delay = backoffFirst
			if link != nil {
				link(LinkState{Connected: true})
			}
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var fe fnError
		if errors.As(err, &fe) {
			return fe.err
		}
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusBadRequest) {
			return err // retrying cannot help
		}
		if link != nil {
			if err == nil {
				err = fmt.Errorf("eventdesk at %s closed the change stream", r.base)
			}
			link(LinkState{Err: err})
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, backoffMax)
	}
}

// fnError marks an error of the caller's function, which ends Follow.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// stream reads one connection of the change stream.
func (r *Remote) stream(ctx context.Context, after string, fn func(Change) error, up func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base.String()+apiPrefix+ChangesPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", r.auth)
	req.Header.Set("Accept", "text/event-stream")
	if after != "" {
		req.Header.Set("Last-Event-ID", after)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach eventdesk at %s: %w", r.base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &StatusError{Status: resp.StatusCode, Message: strings.TrimSpace(string(b)), Server: r.base.String()}
	}
	up()
	return readSSE(resp.Body, func(c Change) error {
		if err := fn(c); err != nil {
			return fnError{err}
		}
		return nil
	})
}

// readSSE parses Server-Sent Events, calling fn per dispatched message.
func readSSE(body io.Reader, fn func(Change) error) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var c Change
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if c.Kind != "" || len(data) > 0 {
				c.Data = []byte(strings.Join(data, "\n"))
				if err := fn(c); err != nil {
					return err
				}
			}
			c, data = Change{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			c.ID = value
		case "event":
			c.Kind = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

// remoteSub turns the change stream into the console's change signal.
type remoteSub struct {
	c      chan struct{}
	link   chan LinkState
	cancel context.CancelFunc
	once   sync.Once
}

func (s *remoteSub) run(ctx context.Context, r *Remote, after string) {
	defer close(s.link)
	defer close(s.c)
	err := r.Follow(ctx, after, func(Change) error {
		s.signal()
		return nil
	}, s.setLink)
	if ctx.Err() == nil && err != nil {
		// Given up (the secrets no longer work, say): the last word on
		// the link says why, never silence.
		s.setLink(LinkState{Err: fmt.Errorf("change stream stopped: %w", err)})
	}
}

// setLink keeps only the newest state: the reader wants the present.
func (s *remoteSub) setLink(st LinkState) {
	select {
	case <-s.link:
	default:
	}
	s.link <- st
	if st.Connected {
		s.signal()
	}
}

func (s *remoteSub) signal() {
	select {
	case s.c <- struct{}{}:
	default:
	}
}

func (s *remoteSub) C() <-chan struct{}     { return s.c }
func (s *remoteSub) Link() <-chan LinkState { return s.link }
func (s *remoteSub) Close()                 { s.once.Do(s.cancel) }
