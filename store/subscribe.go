package store

// Subscription tells a reader that the store changed. It carries no data:
// the reader asks the store for what is new since what it last saw (for
// events, EventsAfter), so a slow reader never loses an event and never
// makes the writer wait or buffer.
type Subscription struct {
	// C receives a value after one or more commits; signals coalesce.
	C  <-chan struct{}
	c  chan struct{}
	h  *Hub
	id int
}

// Subscribe returns a subscription; Close it when done.
func (s *Store) Subscribe() *Subscription { return s.hub.Subscribe() }

// Close ends the subscription; C is closed.
func (sub *Subscription) Close() {
	sub.h.mu.Lock()
	_, ok := sub.h.subs[sub.id]
	delete(sub.h.subs, sub.id)
	sub.h.mu.Unlock()
	if ok {
		close(sub.c)
	}
}

// notify wakes every subscriber without blocking.
func (s *Store) notify() { s.hub.Notify() }

// notifyInstances also bumps InstancesVersion, so schedulers can tell an
// instance change from the flood of event commits.
func (s *Store) notifyInstances() { s.hub.NotifyInstances() }

// InstancesVersion changes whenever an instance is created, changed or
// deleted.
func (s *Store) InstancesVersion() uint64 { return s.hub.InstancesVersion() }
