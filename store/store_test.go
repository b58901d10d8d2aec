package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

func TestOpenCreatesDirsWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "eventdesk.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("file mode = %o, want 600", m)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if m := di.Mode().Perm(); m&0o077 != 0 {
		t.Errorf("data directory mode = %o, want no group/other access", m)
	}
}

func TestReopenKeepsState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	clock := newFakeClock()
	s, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.CreateInstance(t.Context(), closeioInstance(t, "one"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(t.Context(), SettingPublicURL, "https://desk.example.com"); err != nil {
		t.Fatal(err)
	}
	sec, err := s.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, s, webhookEvent(in.ID, "v1", "c1"), webhookEvent(in.ID, "", "c2"))
	if err := s.AddRejected(t.Context(), Rejected{Path: "/x", Status: 401}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	got, err := s2.Instance(t.Context(), in.ID)
	if err != nil {
		t.Fatalf("Instance after reopen: %v", err)
	}
	if got.Token != in.Token || got.Name != "one" || got.Configuration["username"] != "api_key_one" {
		t.Errorf("instance after reopen = %+v, want %+v", got, in)
	}
	if v, ok, err := s2.Setting(t.Context(), SettingPublicURL); err != nil || !ok || v != "https://desk.example.com" {
		t.Errorf("Setting after reopen = %q, %v, %v", v, ok, err)
	}
	sec2, err := s2.APISecrets(t.Context())
	if err != nil || sec2 != sec {
		t.Errorf("APISecrets after reopen = %+v, %v; want %+v", sec2, err, sec)
	}
	for _, e := range res.Stored {
		got, err := s2.Event(t.Context(), e.ID)
		if err != nil {
			t.Fatalf("Event(%s) after reopen: %v", e.ID, err)
		}
		if got.ObjectID != e.ObjectID || !got.ReceivedAt.Equal(e.ReceivedAt) {
			t.Errorf("event after reopen = %+v, want %+v", got, e)
		}
	}
	if n, err := s2.RejectedCount(t.Context()); err != nil || n != 1 {
		t.Errorf("RejectedCount after reopen = %d, %v", n, err)
	}
	// Sequences continue, and dedupe keys survive.
	r := mustAppend(t, s2, webhookEvent(in.ID, "v1", "c1"), webhookEvent(in.ID, "v2", "c3"))
	if r.Duplicates != 1 || len(r.Stored) != 1 || r.Stored[0].Seq() != 3 {
		t.Errorf("append after reopen = %+v, want 1 duplicate and id 3", r)
	}
	in2, err := s2.CreateInstance(t.Context(), closeioInstance(t, "two"))
	if err != nil || in2.ID != 2 {
		t.Errorf("second instance after reopen: id %d, %v; want 2", in2.ID, err)
	}
}

func TestOpenLockedFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	type result struct {
		s   *Store
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		s2, err := Open(path, Options{})
		done <- result{s2, err}
	}()
	r := within(t, done, 5*time.Second, "second Open")
	elapsed := time.Since(start)
	if r.err == nil {
		r.s.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if elapsed > 2500*time.Millisecond {
		t.Errorf("second Open took %v, want about the 1 s lock timeout", elapsed)
	}
	if !errors.Is(r.err, ErrLocked) {
		t.Errorf("error %v is not ErrLocked", r.err)
	}
	msg := r.err.Error()
	if strings.Count(msg, "is in use by another eventdesk process") != 1 || !strings.Contains(msg, path) {
		t.Errorf("error %q should say once that the file is in use, and name %s", msg, path)
	}

	// A shorter LockTimeout is honoured, and a read-only open is refused too.
	r2, err := Open(path, Options{LockTimeout: 50 * time.Millisecond, ReadOnly: true})
	if err == nil {
		r2.Close()
		t.Fatal("read-only Open of an exclusively locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("read-only: %v is not ErrLocked", err)
	}

	// Once the first store closes, the file opens again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

func writeSchema(t *testing.T, path string, version uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, u64(version))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInstance(t.Context(), closeioInstance(t, "keep")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	writeSchema(t, path, SchemaVersion+1)

	for _, ro := range []bool{false, true} {
		s, err := Open(path, Options{ReadOnly: ro})
		if err == nil {
			s.Close()
			t.Fatalf("ReadOnly=%v: Open of a newer schema succeeded", ro)
		}
		if !errors.Is(err, ErrNewerSchema) {
			t.Errorf("ReadOnly=%v: %v is not ErrNewerSchema", ro, err)
		}
		if !strings.Contains(err.Error(), "upgrade") || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadOnly=%v: message %q should name the file and say to upgrade", ro, err)
		}
	}
	// The refusal must not have closed the file half-way or altered it: the
	// lock is released and the version is left as found.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 200 * time.Millisecond, ReadOnly: true})
	if err != nil {
		t.Fatalf("file still locked after refused Open: %v", err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); v == nil || binary.BigEndian.Uint64(v) != SchemaVersion+1 {
			t.Errorf("schema version rewritten to %v", v)
		}
		return nil
	})
}

func TestOpenCurrentSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	writeSchema(t, path, SchemaVersion)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of current schema: %v", err)
	}
	// Every bucket exists, so reads on a fresh file work.
	if _, _, err := s.Events(t.Context(), EventFilter{}, 10); err != nil {
		t.Errorf("Events on fresh store: %v", err)
	}
	if _, _, err := s.RejectedList(t.Context(), 0, 10); err != nil {
		t.Errorf("RejectedList on fresh store: %v", err)
	}
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open: %v", err)
	}
	if id, err := ro.LastEventID(t.Context()); err != nil || id != 0 {
		t.Errorf("LastEventID read-only = %d, %v", id, err)
	}
	ro.Close()
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	s := openTest(t, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Writes after Close must fail promptly with ErrClosed, never hang.
	for i := 0; i < 50; i++ {
		done := make(chan error, 2)
		go func() {
			_, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(1, "", "x")})
			done <- err
		}()
		go func() { done <- s.AddRejected(t.Context(), Rejected{}) }()
		for j := 0; j < 2; j++ {
			if err := within(t, done, 5*time.Second, "write after Close"); !errors.Is(err, ErrClosed) {
				t.Fatalf("write after Close: %v, want ErrClosed", err)
			}
		}
	}
}

// A read-only open cannot convert an older layout: it says so instead of
// reading buckets that are not there yet; after one read-write open it works.
func TestReadOnlyOpenOfOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u64(1)) })
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ro, err := Open(path, Options{ReadOnly: true}); err == nil {
		ro.Close()
		t.Fatal("read-only open of a schema 1 file succeeded")
	} else if !errors.Is(err, ErrOlderSchema) || !strings.Contains(err.Error(), "read-write") {
		t.Errorf("error %q: want ErrOlderSchema saying to open it read-write", err)
	}
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open after the upgrade: %v", err)
	}
	defer ro.Close()
	if _, _, err := ro.Events(t.Context(), EventFilter{InstanceID: 1}, 10); err != nil {
		t.Errorf("read-only Events: %v", err)
	}
}

// TestTruncatedFileRefused cuts a database short, as a disk copy or a bad
// restore might, and checks Open answers with an error instead of the
// process dying on a fault when bbolt reads a page past the end.
func TestTruncatedFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		mustAppend(t, s, webhookEvent(1, fmt.Sprint("v", i), fmt.Sprint(i)))
	}
	used, err := s.UsedBytes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Truncate(path, used/3); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("open (read-only %v) of a truncated file: %v, want an error saying it is truncated", ro, err)
		}
	}
}
