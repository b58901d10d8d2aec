package provider

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// backupWriteTime bounds the download of one backup; the server's usual
// write timeout would cut a large database short.
const backupWriteTime = 30 * time.Minute

// downloadPattern names the local copy a backup download is sent from. It
// is removed as soon as it is created (the open file keeps its data), so a
// crash, kill -9 included, cannot leave one behind; files of this name are
// left only by versions that kept them for the whole download.
const downloadPattern = ".eventdesk-download-*"

// backupRetryAfter is the Retry-After of a backup refused because another
// one is being downloaded.
const backupRetryAfter = "60"

// backup sends a consistent copy of the database (GET /backup): the hot
// backup of a running engine, which `eventdesk backup` fetches because it
// cannot open the locked file itself. The copy is first written to a
// temporary file next to the database, so the read transaction lasts as
// long as a local copy, not as long as a slow client: an open read
// transaction holds back the file's growth and the reuse of freed pages,
// and so every write behind it. Each copy is as large as the database, so
// one download runs at a time: another gets 429 until it ends.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if ext, ok := s.st.(externalBackup); ok {
		s.fail(w, r, errorf(http.StatusNotImplemented, backupAdvice(ext, "eventdesk.dump")), nil)
		return
	}
	if !s.backupBusy.CompareAndSwap(false, true) {
		w.Header().Set("Retry-After", backupRetryAfter)
		s.fail(w, r, errorf(http.StatusTooManyRequests, "a backup is already being downloaded, and each one needs a copy as large as the database; try again when it has finished"), nil)
		return
	}
	defer s.backupBusy.Store(false)
	tmp, err := os.CreateTemp(filepath.Dir(s.st.Path()), downloadPattern)
	if err != nil {
		s.fail(w, r, errorf(http.StatusInternalServerError, fmt.Sprintf("backup: %v", err)), nil)
		return
	}
	// Unlinked at once: the space is freed when the file is closed, which
	// the kernel also does for a process that dies.
	_ = os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		s.fail(w, r, errorf(http.StatusInternalServerError, fmt.Sprintf("backup: %v", err)), nil)
		return
	}
	size, err := s.st.WriteBackup(r.Context(), tmp)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.fail(w, r, errorf(http.StatusInternalServerError, fmt.Sprintf("backup: %v", err)), nil)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(backupWriteTime))
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="eventdesk-backup.db"`)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	n, err := io.Copy(w, tmp)
	if err != nil {
		// The client sees a short body; nothing better can be said now.
		s.log.Warn("backup download interrupted", append(reqAttrs(r), "bytes", n, "err", err)...)
		return
	}
	s.log.Info("backup sent", append(reqAttrs(r), "bytes", n)...)
}

// externalBackup is a store backed up with its server's own tools
// (PostgreSQL: pg_dump), not by eventdesk; BackupCommand says how.
type externalBackup interface {
	BackupCommand(file string) string
}

// backupAdvice is what eventdesk says instead of backing up a store kept
// by a database server: the command to run, with the password masked.
func backupAdvice(st externalBackup, file string) string {
	return "this eventdesk keeps its data in PostgreSQL, which eventdesk backup does not copy; back it up with pg_dump (put the password where *** stands, or leave it out and set PGPASSWORD or ~/.pgpass): " + st.BackupCommand(file)
}

// removeOrphanedDownloads deletes download copies left next to the
// database by a crash of an earlier version. Removing one that a process
// still sends from does not disturb it: its open file keeps the data.
func (s *Server) removeOrphanedDownloads() {
	if _, ok := s.st.(externalBackup); ok {
		return // no database file, so no copies next to one
	}
	found, _ := filepath.Glob(filepath.Join(filepath.Dir(s.st.Path()), downloadPattern))
	for _, f := range found {
		if err := os.Remove(f); err != nil {
			s.log.Warn("could not remove a backup download copy left by a crash", "file", f, "err", err)
			continue
		}
		s.log.Info("removed a backup download copy left by a crash", "file", f)
	}
}
