package dispatch_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
)

// crashDBEnv makes the test binary a child engine on the named database
// (see TestCrashChild).
const crashDBEnv = "EVENTDESK_DISPATCH_CRASH_DB"

// TestCrashChild is not a test: re-executed by TestCrashRecovery with
// crashDBEnv set, it runs a whole engine (listener and dispatcher) on the
// database, prints "ADDR host:port" and serves until killed or until its
// stdin closes (the parent is gone).
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("helper process for TestCrashRecovery")
	}
	st, err := store.Open(path, store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	e, err := engine.Start(t.Context(), st, engine.Options{
		Listen: "127.0.0.1:0",
		// Retries 8 ms, 32 ms, 128 ms, 512 ms, 2 s … after a failure.
		Retry: model.RetryPolicy{Base: 2 * time.Millisecond, MaxRetries: 12},
	})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	fmt.Printf("ADDR %s\n", e.Addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

type child struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

func startChild(t *testing.T, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			} else if strings.HasPrefix(sc.Text(), "ERR ") {
				t.Errorf("child: %s", sc.Text())
			}
		}
		cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		c.kill()
	})
	select {
	case c.addr = <-addr:
	case <-c.exited:
		t.Fatal("child engine exited before listening")
	case <-time.After(10 * time.Second):
		c.kill()
		t.Fatal("child engine did not start within 10s")
	}
	return c
}

// kill sends SIGKILL and waits until the process is gone.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// TestCrashRecovery: after kill -9 and a restart every committed event is
// present and every pending notification is delivered.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts engine processes; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	var up atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) reply {
		if up.Load() {
			return reply{status: 200}
		}
		return reply{status: http.StatusServiceUnavailable, body: "down for maintenance"}
	})
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, st, "crash", rc.URL, nil)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Phase 1: post events while the receiver is down; kill -9 half way.
	c1 := startChild(t, path)
	hookURL := "http://" + c1.addr + model.WebhookPath("pipedrive", in.ID)
	const total, posters = 240, 4
	var (
		mu     sync.Mutex
		acked  = map[string]string{} // vendor id → event id
		killed sync.Once
		wg     sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < total; i += posters {
				vid := fmt.Sprintf("crash-%03d", i)
				resp, err := client.Post(hookURL, "application/json", bytes.NewReader(v2Body(vid, i+1)))
				if err != nil {
					return // the engine is gone
				}
				var res struct {
					EventIDs []string `json:"eventIds"`
				}
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || err != nil || len(res.EventIDs) != 1 {
					t.Errorf("post %s: %d %v %v", vid, resp.StatusCode, err, res.EventIDs)
					return
				}
				mu.Lock()
				acked[vid] = res.EventIDs[0]
				n := len(acked)
				mu.Unlock()
				if n >= total/2 {
					killed.Do(c1.kill)
				}
			}
		}()
	}
	wg.Wait()
	killed.Do(c1.kill)
	if len(acked) < total/2 || len(acked) == total {
		t.Fatalf("%d of %d posts acknowledged; the kill should land half way", len(acked), total)
	}

	// Between the lives: every acknowledged event is stored, and every
	// stored event has its notification.
	st, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := st.Events(t.Context(), store.EventFilter{InstanceID: in.ID}, 10*total)
	if err != nil {
		t.Fatal(err)
	}
	committed := map[string]string{} // vendor id → event id
	for _, e := range events {
		committed[e.VendorEventID] = e.ID
	}
	for vid, id := range acked {
		if committed[vid] != id {
			t.Errorf("acknowledged event %s (%s) is not stored after kill -9", vid, id)
		}
	}
	notified := map[string]bool{}
	list, _, err := st.Notifications(t.Context(), store.NotificationFilter{InstanceID: in.ID}, 10*total)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		for _, id := range n.EventIDs {
			notified[id] = true
		}
	}
	for vid, id := range committed {
		if !notified[id] {
			t.Errorf("stored event %s (%s) has no notification", vid, id)
		}
	}
	pending, _, _ := st.NotificationCounts(t.Context())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged, %d committed, %d pending at the kill, %d requests to the down receiver",
		len(acked), len(committed), pending, rc.count())

	// Phase 2: restart on the same database, receiver up: everything
	// committed arrives.
	up.Store(true)
	startChild(t, path)
	missing := map[string]bool{}
	for vid := range committed {
		missing[vid] = true
	}
	deadline := time.After(15 * time.Second)
	for len(missing) > 0 {
		select {
		case h := <-rc.hits:
			if h.Status == 200 {
				if committed[h.VendorID] != h.EventID {
					t.Errorf("delivery of %s carries event %s, stored as %s", h.VendorID, h.EventID, committed[h.VendorID])
				}
				delete(missing, h.VendorID)
			}
		case <-deadline:
			t.Fatalf("after restart, %d of %d committed events never delivered", len(missing), len(committed))
		}
	}
}
