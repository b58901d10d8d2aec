package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

var bucketPoll = []byte("pollstate") // instance(8)+resource → PollStatus

func init() { allBuckets = append(allBuckets, bucketPoll) }

func pollKey(instanceID int64, resource string) []byte {
	return append(u64(uint64(instanceID)), resource...)
}

// PollStatus returns the stored status of one (instance, resource), zero if
// it never ran.
func (s *Store) PollStatus(ctx context.Context, instanceID int64, resource string) (model.PollStatus, error) {
	st := model.PollStatus{InstanceID: instanceID, Resource: resource}
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketPoll).Get(pollKey(instanceID, resource)); v != nil {
			return json.Unmarshal(v, &st)
		}
		return nil
	})
	return st, err
}

// PollStatuses lists an instance's statuses by resource name.
func (s *Store) PollStatuses(ctx context.Context, instanceID int64) ([]model.PollStatus, error) {
	var out []model.PollStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPoll).Cursor()
		prefix := u64(uint64(instanceID))
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var st model.PollStatus
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// SetPollStatus stores a status. The poller calls it only after the poll's
// events are committed, so a checkpoint never runs ahead of its events.
// A status of a resource its instance no longer has (the instance was
// deleted, or the resource dropped from event.poller.configuration while
// the poll ran) is not stored: it would bring back the state that change
// removed.
func (s *Store) SetPollStatus(ctx context.Context, st model.PollStatus) error {
	err := s.writer.do(func(tx *bolt.Tx) error {
		var in model.Instance
		switch err := getInstance(tx, st.InstanceID, &in); {
		case errors.Is(err, ErrNotFound):
			return nil
		case err == nil && !in.KeepsPollerResource(st.Resource):
			return nil
		}
		return putJSON(tx.Bucket(bucketPoll), pollKey(st.InstanceID, st.Resource), st)
	})
	return err
}

// deletePollStatuses forgets an instance's poll state, inside the
// transaction that deletes the instance.
func deletePollStatuses(tx *bolt.Tx, instanceID int64) error {
	b := tx.Bucket(bucketPoll)
	c := b.Cursor()
	prefix := u64(uint64(instanceID))
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// deleteDroppedPollStatuses forgets the poll state (status and checkpoint)
// of every resource in's poller configuration no longer names, inside the
// transaction that stores in. A configuration that cannot be parsed names
// nothing for certain, so its state stays.
func deleteDroppedPollStatuses(tx *bolt.Tx, in model.Instance) error {
	b := tx.Bucket(bucketPoll)
	prefix := u64(uint64(in.ID))
	var have []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		have = append(have, string(k[len(prefix):]))
	}
	// Deleting after the walk: a bbolt cursor may skip a key after Delete.
	for _, r := range in.DroppedPollerResources(have) {
		if err := b.Delete(pollKey(in.ID, r)); err != nil {
			return err
		}
	}
	return nil
}

// ForgetStalePollStatuses deletes poll state no stored instance accounts
// for: that of deleted instances and of resources dropped from an
// instance's poller configuration. Updates and deletes keep instances
// clean; this clears what older builds left behind. It returns how many
// statuses it deleted.
func (s *Store) ForgetStalePollStatuses(ctx context.Context) (int, error) {
	var gone [][]byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPoll)
		var (
			cur  int64 = -1
			in   model.Instance
			ierr error
		)
		err := b.ForEach(func(k, _ []byte) error {
			if len(k) < 8 {
				return nil
			}
			if id := int64(binary.BigEndian.Uint64(k)); id != cur {
				cur, in = id, model.Instance{}
				ierr = getInstance(tx, id, &in)
			}
			// A corrupt instance (another error) keeps its state: nothing
			// is known to be gone.
			if errors.Is(ierr, ErrNotFound) || ierr == nil && !in.KeepsPollerResource(string(k[8:])) {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(gone), nil
}
