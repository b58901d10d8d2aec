package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
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

// The crash test re-executes the test binary as the listener process: with
// crashChildEnv=1 the test body runs crashChild instead of the test.
const (
	crashChildEnv = "EVENTDESK_CRASH_CHILD"
	crashDBEnv    = "EVENTDESK_CRASH_DB"
	crashAddrTag  = "EVENTDESK_CRASH_ADDR "
)

const (
	crashPosters  = 16
	crashKillAt   = 300  // acknowledged requests before SIGKILL
	crashMaxPosts = 5000 // a bound, should the kill never come
)

// crashChild is the child's main: it opens the store, starts the engine on
// an ephemeral loopback port, prints the address and serves until SIGKILL
// or, on SIGTERM, stops gracefully and exits 0.
func crashChild() {
	serveChild("crash child", func() (engine.Store, error) { return store.Open(os.Getenv(crashDBEnv), store.Options{}) }, engine.Options{Listen: "127.0.0.1:0"})
}

// serveChild runs an engine on the store open gives until SIGKILL or
// SIGTERM, having printed its address for the parent; it never returns.
func serveChild(name string, open func() (engine.Store, error), opts engine.Options) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(2)
	}
	st, err := open()
	if err != nil {
		fail(err)
	}
	e, err := engine.Start(context.Background(), st, opts)
	if err != nil {
		fail(err)
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	fmt.Printf("%s%s\n", crashAddrTag, e.Addr)
	select {
	case <-term:
	case <-e.Done():
	}
	if err := e.Stop(); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// addrWriter collects a child's stdout and hands over the address line.
type addrWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		for line := range strings.Lines(w.buf.String()) {
			if a, ok := strings.CutPrefix(line, crashAddrTag); ok && strings.HasSuffix(a, "\n") {
				w.sent = true
				w.addr <- strings.TrimSpace(a)
				break
			}
		}
	}
	return len(p), nil
}

// crashProc is a running listener process.
type crashProc struct {
	cmd    *exec.Cmd
	url    string
	stderr bytes.Buffer // read only after exited is closed
	exited chan struct{}
	err    error // cmd.Wait's result, once exited is closed
}

// startCrashChild runs the listener process on the database at path and
// waits until it is listening.
func startCrashChild(t *testing.T, path string) *crashProc {
	t.Helper()
	return startChild(t, "TestCrashKeepsEveryAcknowledgedEvent", crashChildEnv+"=1", crashDBEnv+"="+path)
}

// startChild re-executes the test binary as an engine process: test is
// the test whose body becomes the child's main when env is set. It waits
// until the child prints its address.
func startChild(t *testing.T, test string, env ...string) *crashProc {
	t.Helper()
	p := &crashProc{exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^"+test+"$")
	p.cmd.Env = append(os.Environ(), env...)
	out := &addrWriter{addr: make(chan string, 1)}
	p.cmd.Stdout, p.cmd.Stderr = out, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill() // harmless once it has exited
		<-p.exited
		if t.Failed() {
			t.Logf("child %d stderr:\n%s", p.cmd.Process.Pid, p.stderr.String())
		}
	})
	select {
	case addr := <-out.addr:
		p.url = "http://" + addr
		return p
	case <-p.exited:
		t.Fatalf("child exited before listening: %v", p.err)
	case <-time.After(30 * time.Second):
		t.Fatal("child did not print its address within 30s")
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *crashProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL", p.err)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *crashProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("child did not stop within 15s of SIGTERM")
	}
	if p.err != nil {
		t.Fatalf("child stopped with %v", p.err)
	}
}

// ack is one acknowledged webhook request.
type ack struct {
	n        int64
	vendorID string
	eventID  string
}

// TestCrashKeepsEveryAcknowledgedEvent kills the listener process with
// SIGKILL while 16 clients post webhooks, restarts it on the same file and
// checks that every request answered 2xx was stored exactly once: the
// receiver acknowledges only what is durably committed.
func TestCrashKeepsEveryAcknowledgedEvent(t *testing.T) {
	if os.Getenv(crashChildEnv) == "1" {
		crashChild()
		return
	}
	if testing.Short() {
		t.Skip("starts and kills a listener process")
	}
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := newPipedriveInstance(t, st)
	sec, err := st.APISecrets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	auth := "User " + sec.User + ", Organization " + sec.Organization
	hook := model.WebhookPath("pipedrive", id)

	child := startCrashChild(t, path)
	tr := &http.Transport{MaxIdleConnsPerHost: crashPosters}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var (
		mu      sync.Mutex
		acks    []ack
		next    atomic.Int64
		killNow = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
	)
	for range crashPosters {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > crashMaxPosts {
					return
				}
				resp, err := client.Post(child.url+hook, "application/json", bytes.NewReader(pdBody(n)))
				if err != nil {
					return // the listener is gone
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return // cut off mid-answer: not acknowledged
				}
				if resp.StatusCode/100 != 2 {
					t.Errorf("post %d: status %d: %s", n, resp.StatusCode, body)
					return
				}
				var res struct {
					Stored   int      `json:"stored"`
					EventIDs []string `json:"eventIds"`
				}
				if err := json.Unmarshal(body, &res); err != nil || res.Stored != 1 || len(res.EventIDs) != 1 {
					t.Errorf("post %d: answer %s (%v)", n, body, err)
					return
				}
				mu.Lock()
				acks = append(acks, ack{n: n, vendorID: pdVendorID(n), eventID: res.EventIDs[0]})
				if len(acks) == crashKillAt {
					once.Do(func() { close(killNow) })
				}
				mu.Unlock()
			}
		})
	}
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	select {
	case <-killNow:
	case <-allDone:
		t.Fatalf("posters stopped before %d acknowledgements", crashKillAt)
	}
	child.kill(t)
	<-allDone
	tr.CloseIdleConnections()
	mu.Lock()
	acked := append([]ack(nil), acks...)
	mu.Unlock()
	sent := min(next.Load(), crashMaxPosts)
	if sent >= crashMaxPosts {
		t.Fatalf("the kill did not stop the posters (%d posts)", sent)
	}
	t.Logf("%d posts, %d acknowledged before SIGKILL", sent, len(acked))

	// The restarted listener opens the file, serves every acknowledged
	// event through the API, still knows the deliveries (a vendor retry
	// is a duplicate) and takes new ones.
	child = startCrashChild(t, path)
	getEvent := func(id string) (model.Event, bool) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, child.url+"/elements/api-v2/instances/events/"+id, nil)
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var e model.Event
		if resp.StatusCode != http.StatusOK {
			t.Errorf("acknowledged event %s after restart: %d %s", id, resp.StatusCode, body)
			return e, false
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("event %s: %v", id, err)
		}
		return e, true
	}
	for _, a := range acked {
		e, ok := getEvent(a.eventID)
		if ok && (e.VendorEventID != a.vendorID || e.InstanceID != id) {
			t.Errorf("event %s after restart: vendorEventId %q instance %d, want %q instance %d", a.eventID, e.VendorEventID, e.InstanceID, a.vendorID, id)
		}
	}
	post := func(n int64) (stored, dups int) {
		t.Helper()
		resp, err := client.Post(child.url+hook, "application/json", bytes.NewReader(pdBody(n)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res struct{ Stored, Duplicates int }
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("post %d after restart: %d (%v)", n, resp.StatusCode, err)
		}
		return res.Stored, res.Duplicates
	}
	if len(acked) > 0 {
		if stored, dups := post(acked[0].n); stored != 0 || dups != 1 {
			t.Errorf("retry of acknowledged delivery %s after restart: stored %d, duplicates %d; want 0, 1", acked[0].vendorID, stored, dups)
		}
	}
	if stored, _ := post(crashMaxPosts + 1); stored != 1 {
		t.Errorf("new delivery after restart: stored %d, want 1", stored)
	}
	child.stop(t)

	// And the file itself, opened here after the clean stop: every
	// acknowledged delivery exactly once, and no delivery twice.
	st, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("store does not open after the crash: %v", err)
	}
	defer st.Close()
	count := map[string]int{}
	byVendor := map[string]string{}
	for after := uint64(0); ; {
		evs, err := st.EventsAfter(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			count[e.VendorEventID]++
			byVendor[e.VendorEventID] = e.ID
			after = e.Seq()
		}
	}
	for v, n := range count {
		if n != 1 {
			t.Errorf("delivery %s stored %d times", v, n)
		}
	}
	for _, a := range acked {
		if count[a.vendorID] != 1 {
			t.Errorf("acknowledged delivery %s (event %s) stored %d times, want 1", a.vendorID, a.eventID, count[a.vendorID])
		} else if byVendor[a.vendorID] != a.eventID {
			t.Errorf("acknowledged delivery %s was answered as event %s but is stored as %s", a.vendorID, a.eventID, byVendor[a.vendorID])
		}
	}
	if want := len(acked) + 1; len(count) < want || int64(len(count)) > sent+1 {
		t.Errorf("%d deliveries stored; want between %d (acknowledged + 1) and %d (sent + 1)", len(count), want, sent+1)
	}
	t.Logf("%d events stored, %d acknowledged", len(count), len(acked))
}
