package provider

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// backupWriteTime bounds the download of one backup; the server's usual
// write timeout would cut a large database short.
const backupWriteTime = 30 * time.Minute

// backup streams a consistent copy of the database (GET /backup): the hot
// backup of a running engine, which `eventdesk backup` fetches because it
// cannot open the locked file itself.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(backupWriteTime))
	started := false
	n, err := s.st.WriteBackup(w, func(size int64) {
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="eventdesk-backup.db"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		started = true
	})
	if err == nil {
		s.log.Info("backup sent", append(reqAttrs(r), "bytes", n)...)
		return
	}
	if !started {
		s.fail(w, r, errorf(http.StatusInternalServerError, fmt.Sprintf("backup: %v", err)), nil)
		return
	}
	// Part of the copy is out: the only honest signal left is a cut
	// connection, which the client sees as a short body.
	s.log.Error("backup interrupted", append(reqAttrs(r), "bytes", n, "err", err)...)
	panic(http.ErrAbortHandler)
}
