package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// listener holds a connection of its own in LISTEN on the commit channel
// and wakes the store's subscribers for every commit announced on it, by
// this process or any other. A lost connection is re-established; as
// announcements may have been missed meanwhile, subscribers are woken (and
// InstancesVersion moved) once it is back.
type listener struct {
	s      *Store
	cancel context.CancelFunc
	done   chan struct{}
}

func startListener(ctx context.Context, s *Store) (*listener, error) {
	conn, err := s.listenConn(ctx)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &listener{s: s, cancel: cancel, done: make(chan struct{})}
	go l.loop(lctx, conn)
	return l, nil
}

func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.rawURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s to listen for changes: %w", s.url, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen for changes on %s: %w", s.url, err)
	}
	return conn, nil
}

func (l *listener) loop(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	backoff := 100 * time.Millisecond
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				conn.Close(context.Background())
				conn = nil
				break
			}
			l.s.announced(n.Payload)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		var err error
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err = l.s.listenConn(cctx)
		cancel()
		if err != nil {
			conn = nil
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		l.s.announced(announceInstances)
	}
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}
