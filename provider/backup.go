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

// backup sends a consistent copy of the database (GET /backup): the hot
// backup of a running engine, which `eventdesk backup` fetches because it
// cannot open the locked file itself. The copy is first written to a
// temporary file next to the database, so the read transaction lasts as
// long as a local copy, not as long as a slow client: an open read
// transaction holds back the file's growth and the reuse of freed pages,
// and so every write behind it.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	tmp, err := os.CreateTemp(filepath.Dir(s.st.Path()), ".eventdesk-download-*")
	if err != nil {
		s.fail(w, r, errorf(http.StatusInternalServerError, fmt.Sprintf("backup: %v", err)), nil)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		s.fail(w, r, errorf(http.StatusInternalServerError, fmt.Sprintf("backup: %v", err)), nil)
		return
	}
	size, err := s.st.WriteBackup(tmp)
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
