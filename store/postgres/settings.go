package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// Setting returns a stored setting and whether it exists.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.pool.QueryRow(ctx, "SELECT value FROM settings WHERE key = $1", key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.connErr(err)
	}
	return v, true, nil
}

// SetSetting stores a setting; every replica reads the same one.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", key, value)
	return s.connErr(err)
}

// APISecrets returns the stored API secrets, generating and storing them on
// first use. Replicas starting together agree on one pair: a secret is
// written only where none is stored, and what is stored is read back.
func (s *Store) APISecrets(ctx context.Context) (store.Secrets, error) {
	var sec store.Secrets
	err := s.inTx(ctx, "", func(tx pgx.Tx) error {
		for _, f := range []struct {
			key string
			dst *string
		}{{store.SettingUserSecret, &sec.User}, {store.SettingOrgSecret, &sec.Organization}} {
			buf := make([]byte, 24)
			if _, err := rand.Read(buf); err != nil {
				return fmt.Errorf("generate API secret: %w", err)
			}
			err := tx.QueryRow(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE settings.value = ''
				RETURNING value`, f.key, base64.RawURLEncoding.EncodeToString(buf)).Scan(f.dst)
			if errors.Is(err, pgx.ErrNoRows) {
				err = tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = $1", f.key).Scan(f.dst)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return sec, err
}
