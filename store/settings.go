package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Setting keys.
const (
	SettingListen     = "listen"
	SettingPublicURL  = "public_url"
	SettingUserSecret = "api.user_secret"
	SettingOrgSecret  = "api.org_secret"
	// SettingRetention is how long events are kept, as a Go duration.
	SettingRetention = "retention"
)

// Setting returns a stored setting and whether it exists.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var (
		v     string
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		// An empty value is stored as a zero-length, non-nil slice.
		if b := tx.Bucket(bucketSettings).Get([]byte(key)); b != nil {
			v, found = string(b), true
		}
		return nil
	})
	return v, found, err
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).Put([]byte(key), []byte(value))
	})
}

// Secrets are the API's User and Organization secrets.
type Secrets struct {
	User         string
	Organization string
}

// APISecrets returns the stored API secrets, generating and storing them on
// first use so a fresh install is never open to anyone.
func (s *Store) APISecrets(ctx context.Context) (Secrets, error) {
	var sec Secrets
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		for _, f := range []struct {
			key string
			dst *string
		}{{SettingUserSecret, &sec.User}, {SettingOrgSecret, &sec.Organization}} {
			if v := b.Get([]byte(f.key)); len(v) > 0 {
				*f.dst = string(v)
				continue
			}
			buf := make([]byte, 24)
			if _, err := rand.Read(buf); err != nil {
				return fmt.Errorf("generate API secret: %w", err)
			}
			*f.dst = base64.RawURLEncoding.EncodeToString(buf)
			if err := b.Put([]byte(f.key), []byte(*f.dst)); err != nil {
				return err
			}
		}
		return nil
	})
	return sec, err
}
