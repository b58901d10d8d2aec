package store

// Subscription tells a reader that the store changed. It carries no data:
// the reader asks the store for what is new since what it last saw (for
// events, EventsAfter), so a slow reader never loses an event and never
// makes the writer wait or buffer.
type Subscription struct {
	// C receives a value after one or more commits; signals coalesce.
	C  <-chan struct{}
	c  chan struct{}
	s  *Store
	id int
}

type subscription = Subscription

// Subscribe returns a subscription; Close it when done.
func (s *Store) Subscribe() *Subscription {
	c := make(chan struct{}, 1)
	sub := &Subscription{C: c, c: c, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(c)
		return sub
	}
	s.nextID++
	sub.id = s.nextID
	s.subs[sub.id] = sub
	return sub
}

// Close ends the subscription; C is closed.
func (sub *Subscription) Close() {
	sub.s.mu.Lock()
	_, ok := sub.s.subs[sub.id]
	delete(sub.s.subs, sub.id)
	sub.s.mu.Unlock()
	if ok {
		close(sub.c)
	}
}

func (sub *Subscription) close() { close(sub.c) }

// notify wakes every subscriber without blocking.
func (s *Store) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		select {
		case sub.c <- struct{}{}:
		default:
		}
	}
}

// notifyInstances also bumps InstancesVersion, so schedulers can tell an
// instance change from the flood of event commits.
func (s *Store) notifyInstances() {
	s.instVersion.Add(1)
	s.notify()
}

// InstancesVersion changes whenever an instance is created, changed or
// deleted.
func (s *Store) InstancesVersion() uint64 { return s.instVersion.Load() }
