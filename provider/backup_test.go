package provider

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/eventdesk/eventdesk/store"
)

func TestBackupEndpoint(t *testing.T) {
	a := newTestAPI(t)
	created := a.create(seedBody(t, "pipedrive-polling"))

	apiErr(t, a.do(http.MethodGet, prefix+"/backup", "", nil), http.StatusUnauthorized)

	rec := a.authed(http.MethodGet, prefix+"/backup", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length %s, body %s bytes", got, want)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if _, err := store.SaveBackup(path, bytes.NewReader(rec.Body.Bytes())); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if in, err := st.Instance(created.ID); err != nil || in.Name != created.Name {
		t.Errorf("the copy holds %+v (%v), want instance %d %q", in, err, created.ID, created.Name)
	}

	// A cut download is refused and leaves nothing behind.
	bad := filepath.Join(t.TempDir(), "cut.db")
	if _, err := store.SaveBackup(bad, bytes.NewReader(rec.Body.Bytes()[:rec.Body.Len()/3])); err == nil {
		t.Error("SaveBackup accepted a third of a database")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(bad), "*")); len(m) != 0 {
		t.Errorf("a refused copy left files: %v", m)
	}
}
