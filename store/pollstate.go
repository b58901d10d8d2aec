package store

import (
	"bytes"
	"encoding/json"

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
func (s *Store) PollStatus(instanceID int64, resource string) (model.PollStatus, error) {
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
func (s *Store) PollStatuses(instanceID int64) ([]model.PollStatus, error) {
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
func (s *Store) SetPollStatus(st model.PollStatus) error {
	err := s.writer.do(func(tx *bolt.Tx) error {
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
