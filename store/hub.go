package store

import (
	"sync"
	"sync/atomic"
)

// Hub fans commit signals out to subscriptions. Each backend owns one: the
// bbolt store signals it after its own commits, the PostgreSQL store after
// its own commits and whenever another process's commit is announced on the
// database, so both give their readers the same change stream.
type Hub struct {
	mu     sync.Mutex // guards subs, nextID and closed
	subs   map[int]*Subscription
	nextID int
	closed bool
	// instVersion changes with every instance change (InstancesVersion).
	instVersion atomic.Uint64
}

// Subscribe returns a subscription; Close it when done. A subscription
// taken after Shutdown starts closed.
func (h *Hub) Subscribe() *Subscription {
	c := make(chan struct{}, 1)
	sub := &Subscription{C: c, c: c, h: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(c)
		return sub
	}
	if h.subs == nil {
		h.subs = map[int]*Subscription{}
	}
	h.nextID++
	sub.id = h.nextID
	h.subs[sub.id] = sub
	return sub
}

// Notify wakes every subscriber without blocking; signals coalesce.
func (h *Hub) Notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sub := range h.subs {
		select {
		case sub.c <- struct{}{}:
		default:
		}
	}
}

// NotifyInstances also bumps InstancesVersion, so schedulers can tell an
// instance change from the flood of event commits.
func (h *Hub) NotifyInstances() {
	h.instVersion.Add(1)
	h.Notify()
}

// InstancesVersion changes whenever an instance is created, changed or
// deleted.
func (h *Hub) InstancesVersion() uint64 { return h.instVersion.Load() }

// Shutdown closes every subscription and refuses new ones. It reports
// false when the hub was already shut down, so a store's Close runs once.
func (h *Hub) Shutdown() bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.closed = true
	subs := h.subs
	h.subs = nil
	h.mu.Unlock()
	for _, sub := range subs {
		close(sub.c)
	}
	return true
}
