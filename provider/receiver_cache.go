package provider

import (
	"context"
	"maps"
	"sync/atomic"

	"github.com/eventdesk/eventdesk/model"
)

// maxCachedInstances bounds the webhook instance cache. Only instances that
// exist are cached, so the bound matters only for very large installations,
// which then read the overflow from the store as before.
const maxCachedInstances = 1024

// instanceCache keeps the instances webhooks name, so a busy receiver does
// not pay a read transaction and a JSON decode per request. It lives in the
// Server rather than in package state so that its lifetime is the server's
// and a closed store cannot be kept alive (or confused with a reopened one)
// by a global map.
//
// Readers load an immutable snapshot through one atomic pointer: the hot
// path takes no lock and writes no shared memory, so 64 concurrent clients
// do not contend on a mutex's or RWMutex's reader count. A miss publishes a
// copy with the new entry (copy-on-write); misses happen once per instance
// per instances version, so the copy is rare.
//
// The zero value is an empty cache.
type instanceCache struct {
	snap atomic.Pointer[instanceSnapshot]
}

// instanceSnapshot is the cache's content under one store InstancesVersion.
// It is never modified once published.
type instanceSnapshot struct {
	version uint64
	byID    map[int64]model.Instance
}

// get returns the cached instance id if the cache holds the given version.
func (c *instanceCache) get(version uint64, id int64) (model.Instance, bool) {
	snap := c.snap.Load()
	if snap == nil || snap.version != version {
		return model.Instance{}, false
	}
	in, ok := snap.byID[id]
	return in, ok
}

// put caches in, which must have been read from the store after version was
// read from InstancesVersion. That order is what makes an entry safe: the
// store bumps the version only after a write commits, so any write the read
// missed bumps the version past the one the entry is filed under, and no
// request that starts after that write returns can see the entry.
func (c *instanceCache) put(version uint64, in model.Instance) {
	for {
		cur := c.snap.Load()
		var next *instanceSnapshot
		switch {
		case cur == nil || cur.version < version:
			// The first entry under a newer version drops every older one.
			next = &instanceSnapshot{version: version, byID: map[int64]model.Instance{in.ID: in}}
		case cur.version > version:
			return // read under a version that is already superseded
		default:
			if _, ok := cur.byID[in.ID]; ok || len(cur.byID) >= maxCachedInstances {
				return
			}
			m := make(map[int64]model.Instance, len(cur.byID)+1)
			maps.Copy(m, cur.byID)
			m[in.ID] = in
			next = &instanceSnapshot{version: version, byID: m}
		}
		// Another miss may have published meanwhile; retry on its snapshot
		// rather than overwrite its entry.
		if c.snap.CompareAndSwap(cur, next) {
			return
		}
	}
}

// webhookInstance is s.st.Instance through the server's cache. Callers must
// not modify the returned instance's configuration or tags: they are shared
// with every other request served from the same snapshot.
func (s *Server) webhookInstance(ctx context.Context, id int64) (model.Instance, error) {
	// Read the version before the instance; see put.
	v := s.st.InstancesVersion()
	if in, ok := s.insts.get(v, id); ok {
		return in, nil
	}
	in, err := s.st.Instance(ctx, id)
	if err != nil {
		// Errors, ErrNotFound included, are not cached: a deleted instance
		// must answer 404 at once, and a created one must not be hidden.
		return in, err
	}
	s.insts.put(v, in)
	return in, nil
}
