package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestBackupWhileWriting(t *testing.T) {
	s := openTest(t, nil)
	in, err := s.CreateInstance(t.Context(), closeioInstance(t, "a"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		mustAppend(t, s, webhookEvent(in.ID, "", "seed"))
	}

	// A writer appends pairs of events in one call, and pairs of rejections,
	// until told to stop; a consistent snapshot never holds half a pair.
	stop := make(chan struct{})
	wrote := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				wrote <- n
				return
			default:
			}
			if _, err := s.AppendEvents(t.Context(), []model.Event{webhookEvent(in.ID, "", "p1"), webhookEvent(in.ID, "", "p2")}); err != nil {
				t.Error(err)
			}
			n++
		}
	}()
	// Make sure writes are under way before and during the backups.
	sub := s.Subscribe()
	defer sub.Close()
	within(t, sub.C, 5*time.Second, "a concurrent write")

	dir := t.TempDir()
	var paths []string
	for i := 0; i < 5; i++ {
		p := filepath.Join(dir, "backup"+string(rune('0'+i))+".db")
		n, err := s.Backup(t.Context(), p)
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != n {
			t.Errorf("Backup reported %d bytes, file has %d", n, fi.Size())
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("backup mode %o, want 600", m)
		}
		paths = append(paths, p)
	}
	close(stop)
	if n := within(t, wrote, 10*time.Second, "writer to stop"); n == 0 {
		t.Error("writer made no progress during the backups")
	}

	for _, p := range paths {
		b, err := Open(p, Options{NoSync: true})
		if err != nil {
			t.Fatalf("backup %s does not open: %v", p, err)
		}
		if got, err := b.Instance(t.Context(), in.ID); err != nil || got.Token != in.Token {
			t.Errorf("backup instance = %+v, %v", got, err)
		}
		last, err := b.LastEventID(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		count, err := b.EventCount(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if uint64(count) != last || count < 50 || (count-50)%2 != 0 {
			t.Errorf("backup holds %d events with last id %d: not a consistent snapshot", count, last)
		}
		all, err := b.EventsAfter(t.Context(), 0, count+10)
		if err != nil || len(all) != count {
			t.Errorf("EventsAfter on backup: %d events, %v", len(all), err)
		}
		// The backup is a working store: sequences continue after its last id.
		res, err := b.AppendEvents(t.Context(), []model.Event{webhookEvent(in.ID, "", "after")})
		if err != nil || res.Stored[0].Seq() != last+1 {
			t.Errorf("append to backup: %+v, %v; want id %d", res, err, last+1)
		}
		b.Close()
	}
}

func TestBackupFailureLeavesNoFile(t *testing.T) {
	s := openTest(t, nil)
	mustAppend(t, s, webhookEvent(1, "", "x"))
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope", "backup.db")
	if _, err := s.Backup(t.Context(), missing); err == nil {
		t.Fatal("Backup into a missing directory succeeded")
	} else if !strings.Contains(err.Error(), "backup") {
		t.Errorf("error %q should say it is about the backup", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("Backup created the missing directory: %v", err)
	}

	// A destination that is a directory: the rename fails, and the
	// temporary file must not be left behind.
	target := filepath.Join(dir, "isdir")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(t.Context(), target); err == nil {
		t.Fatal("Backup onto a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "isdir" {
			t.Errorf("left behind %s", e.Name())
		}
	}

	// An existing backup is replaced whole.
	good := filepath.Join(dir, "good.db")
	if err := os.WriteFile(good, []byte("old junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(good); fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced backup mode %o, want 600", fi.Mode().Perm())
	}
	b, err := Open(good, Options{NoSync: true})
	if err != nil {
		t.Fatalf("replaced backup does not open: %v", err)
	}
	if n, _ := b.EventCount(t.Context()); n != 1 {
		t.Errorf("replaced backup holds %d events, want 1", n)
	}
	b.Close()
}
