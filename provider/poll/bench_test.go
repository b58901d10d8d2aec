package poll_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/fakepipedrive"
	"github.com/eventdesk/eventdesk/provider/poll"
)

// BenchmarkPollCycle measures one poll cycle over N changed persons from
// the fake Pipedrive (pages of 500), everything included: HTTP, decoding,
// the where clause, classification and storing the events with their
// notifications (fsync on). It reports records/s and the peak heap in use
// (MemStats.HeapInuse, sampled every millisecond) above what was in use
// before the cycle. The fake runs in a child process, so that its N
// records neither count in this heap nor set the GC's pace.
//
//	go test -run '^$' -bench BenchmarkPollCycle -benchtime 1x ./provider/poll/
func BenchmarkPollCycle(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) { benchPollCycle(b, n) })
	}
}

func benchPollCycle(b *testing.B, n int) {
	base := startFakeProcess(b, n)
	clock := fakepipedrive.NewClock(t0)
	var (
		elapsed time.Duration
		records int
		peak    uint64
	)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clock.Set(t0)
		st := openStore(b, clock.Now, true)
		req := seedRequest(b, "pipedrive-polling.json", base+"/v1")
		withToken(pollerConfig(pdContacts(500, "")))(&req)
		in, err := model.NewInstance(req, clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		if in, err = st.CreateInstance(b.Context(), in); err != nil {
			b.Fatal(err)
		}
		p := poll.New(st, poll.Options{Now: clock.Now})
		clock.Advance(2 * time.Minute) // the fake's records are from t0+1m

		runtime.GC()
		before := heapInUse()
		stop, done := make(chan struct{}), make(chan uint64)
		go func() {
			high := before
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					done <- max(high, heapInUse())
					return
				case <-tick.C:
					high = max(high, heapInUse())
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		status, _, err := p.Poll(context.Background(), in, "contacts", false)
		elapsed += time.Since(start)
		b.StopTimer()
		close(stop)
		high := <-done
		if err != nil {
			b.Fatal(err)
		}
		if status.Records != n || status.Events != n || status.Pages != (n+499)/500 {
			b.Fatalf("status %+v, want %d records and events", status, n)
		}
		records += status.Records
		if high > before {
			peak = max(peak, high-before)
		}
		st.Close()
	}
	rate := float64(records) / elapsed.Seconds()
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("BenchmarkPollCycle/%dk: %d records in %s: %.0f records/s, peak heap in use +%.1f MiB\n",
		n/1000, records, elapsed.Round(time.Millisecond), rate, float64(peak)/(1<<20))
}

// heapInUse is MemStats.HeapInuse (bytes in in-use spans), read through
// runtime/metrics, which does not stop the world.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// fakeProcessEnv carries N to the child process serving the fake.
const fakeProcessEnv = "EVENTDESK_POLL_BENCH_FAKE_PERSONS"

// startFakeProcess runs this test binary again as a fake Pipedrive holding
// n persons changed at t0+1m, and returns its URL. The child ends when its
// stdin closes.
func startFakeProcess(b *testing.B, n int) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakePipedriveProcess$")
	cmd.Env = append(os.Environ(), fakeProcessEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return u
		}
	}
	b.Fatalf("the fake process printed no address: %v", sc.Err())
	return ""
}

// TestFakePipedriveProcess is the child of startFakeProcess; it skips in a
// normal test run.
func TestFakePipedriveProcess(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(fakeProcessEnv))
	if err != nil {
		t.Skip("the fake vendor process of BenchmarkPollCycle")
	}
	fake := fakepipedrive.New(fakepipedrive.Options{Clock: fakepipedrive.NewClock(t0.Add(time.Minute))})
	fake.Generate(fakepipedrive.KindPerson, n)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: fake}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
}
