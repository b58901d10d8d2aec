package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database to path while the store
// stays in use (a read transaction sees one snapshot). The copy is written
// to a temporary file and renamed, so path never holds half a backup.
func (s *Store) Backup(ctx context.Context, path string) (int64, error) {
	return writeBackupFile(path, func(w io.Writer) (int64, error) {
		return s.WriteBackup(ctx, w)
	})
}

// WriteBackup writes a consistent copy of the database to w while the
// store stays in use. It holds a read transaction until w has taken it
// all, so w should be fast (a local file), not a network peer.
func (s *Store) WriteBackup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var werr error
		n, werr = tx.WriteTo(ctxWriter{ctx, w})
		return werr
	})
	if cerr := ctx.Err(); err != nil && cerr != nil {
		// bbolt does not wrap its writer's error.
		err = fmt.Errorf("backup stopped after %d bytes: %w", n, cerr)
	}
	return n, err
}

// SaveBackup stores a copy received from WriteBackup (over the network, say)
// at path: written to a temporary file, synced, checked to be an eventdesk
// database this version can open, then renamed, so path never holds a
// partial or foreign file.
func SaveBackup(path string, r io.Reader) (int64, error) {
	return writeBackupFile(path, func(w io.Writer) (int64, error) { return io.Copy(w, r) }, checkBackup)
}

// checkBackup opens a copy read-only and checks its schema.
func checkBackup(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("the copy is not a bbolt database: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if err := checkLength(path, tx); err != nil {
			return fmt.Errorf("the copy is incomplete: %w", err)
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil || meta.Get(keySchema) == nil {
			return errors.New("the copy is not an eventdesk database (no schema version)")
		}
		return nil
	})
}

func writeBackupFile(path string, write func(io.Writer) (int64, error), checks ...func(string) error) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".eventdesk-backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	for _, check := range checks {
		if err == nil {
			err = check(tmp.Name())
		}
	}
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, nil
}

// checkLength refuses a file shorter than its pages: bbolt maps the file and
// would fault (SIGBUS, ending the process) on a page past its end.
func checkLength(path string, tx *bolt.Tx) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() < tx.Size() {
		return fmt.Errorf("%s is %d bytes long but its pages end at byte %d (truncated)", path, fi.Size(), tx.Size())
	}
	return nil
}

// ctxWriter stops a backup once its context ends: a copy of a large file
// to a client that went away must not hold the read transaction on.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
