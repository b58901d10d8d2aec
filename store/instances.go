package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// CreateInstance stores a validated instance under the next id and issues
// its token. The instance must have passed model validation.
func (s *Store) CreateInstance(ctx context.Context, in model.Instance) (model.Instance, error) {
	if err := in.Validate(); err != nil {
		return model.Instance{}, err
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return model.Instance{}, fmt.Errorf("issue token: %w", err)
	}
	in = in.Clone()
	in.Token = base64.StdEncoding.EncodeToString(tok)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstances)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		in.ID = int64(id)
		return putJSON(b, u64(id), in)
	})
	if err != nil {
		return model.Instance{}, fmt.Errorf("create instance: %w", err)
	}
	s.notifyInstances()
	return in, nil
}

// Instance returns one instance, or ErrNotFound.
func (s *Store) Instance(ctx context.Context, id int64) (model.Instance, error) {
	var in model.Instance
	err := s.db.View(func(tx *bolt.Tx) error {
		return getInstance(tx, id, &in)
	})
	return in, err
}

func getInstance(tx *bolt.Tx, id int64, in *model.Instance) error {
	if id <= 0 {
		return fmt.Errorf("instance %d: %w", id, ErrNotFound)
	}
	v := tx.Bucket(bucketInstances).Get(u64(uint64(id)))
	if v == nil {
		return fmt.Errorf("instance %d: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, in); err != nil {
		return fmt.Errorf("instance %d is corrupt: %w", id, err)
	}
	return nil
}

// Instances lists instances in id order.
func (s *Store) Instances(ctx context.Context) ([]model.Instance, error) {
	var out []model.Instance
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInstances).ForEach(func(k, v []byte) error {
			var in model.Instance
			if err := json.Unmarshal(v, &in); err != nil {
				return fmt.Errorf("instance %d is corrupt: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, in)
			return nil
		})
	})
	return out, err
}

// UpdateInstance applies fn to the stored instance inside one write
// transaction, validates the result and stores it. If fn fails nothing
// changes. The same transaction forgets the poll state (status and
// checkpoint) of every resource the stored poller configuration no longer
// names; a configuration that cannot be parsed keeps all of it. Switching
// to webhooks or disabling events keeps the state of the resources still
// configured: polling on demand still uses it, and it is where polling
// resumes.
func (s *Store) UpdateInstance(ctx context.Context, id int64, fn func(model.Instance) (model.Instance, error)) (model.Instance, error) {
	var out model.Instance
	err := s.db.Update(func(tx *bolt.Tx) error {
		var cur model.Instance
		if err := getInstance(tx, id, &cur); err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		// Restore what fn may not change before validating, so the stored
		// result is checked against its real element.
		next.ID, next.Token, next.ElementKey, next.CreatedAt = cur.ID, cur.Token, cur.ElementKey, cur.CreatedAt
		if err := next.Validate(); err != nil {
			return err
		}
		out = next
		if err := putJSON(tx.Bucket(bucketInstances), u64(uint64(id)), next); err != nil {
			return err
		}
		return deleteDroppedPollStatuses(tx, next)
	})
	if err != nil {
		return model.Instance{}, err
	}
	s.notifyInstances()
	return out, nil
}

// DeleteInstance removes an instance. Its events stay until retention prunes
// them, so history remains readable.
func (s *Store) DeleteInstance(ctx context.Context, id int64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstances)
		if b.Get(u64(uint64(id))) == nil {
			return fmt.Errorf("instance %d: %w", id, ErrNotFound)
		}
		if err := abandonPending(tx, id); err != nil {
			return err
		}
		if err := deletePollStatuses(tx, id); err != nil {
			return err
		}
		return b.Delete(u64(uint64(id)))
	})
	if err == nil {
		s.notifyInstances()
	}
	return err
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// KeepPipedriveToken stores token, obtained by a Pipedrive login, as the
// instance's pipedrive.api.token, unless one was stored meanwhile (by
// another login or an edit), which then wins. It returns the token in
// effect, so the poller and webhook registration agree on one.
func (s *Store) KeepPipedriveToken(ctx context.Context, id int64, token string) (string, error) {
	_, err := s.UpdateInstance(ctx, id, func(cur model.Instance) (model.Instance, error) {
		if have := cur.Configuration[model.KeyPipedriveToken]; have != "" {
			token = have
		} else {
			cur.Configuration[model.KeyPipedriveToken] = token
		}
		return cur, nil
	})
	if err != nil {
		return "", fmt.Errorf("store the API token from the Pipedrive login: %w", err)
	}
	return token, nil
}
