// Command benchingest measures the webhook receiver from outside, as a
// vendor sees it: it starts `eventdesk serve` on a fresh database and a
// plain net/http handler (parse the JSON, answer 200) in separate
// processes, then posts Pipedrive v2 bodies from 64 keep-alive clients in
// rounds that alternate between the two, every request with a meta.id never
// used before (also across rounds). Per round it prints requests per
// second, p50/p99/max latency, the durable/plain ratio, the database
// file's size and each server process's CPU time per request.
//
//	go run ./provider/benchingest -rounds 6 -d 3s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

func main() {
	plain := flag.String("plain", "", "internal: serve the plain handler on this address")
	bin := flag.String("eventdesk", "", "eventdesk binary to run (default: go build the module into a temporary directory)")
	rounds := flag.Int("rounds", 6, "rounds; each runs the durable and the plain server once, taking turns going first")
	dur := flag.Duration("d", 3*time.Second, "length of each side of a round")
	clients := flag.Int("c", 64, "concurrent keep-alive clients")
	keep := flag.Bool("keep", false, "keep the temporary directory (database and serve's log)")
	flag.Parse()
	if *plain != "" {
		servePlain(*plain)
		return
	}
	if err := run(*bin, *rounds, *dur, *clients, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		os.Exit(1)
	}
}

// servePlain is the baseline: read the body, parse it, answer 200.
func servePlain(addr string) {
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func run(bin string, rounds int, dur time.Duration, clients int, keep bool) error {
	dir, err := os.MkdirTemp("", "benchingest")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if bin == "" {
		bin = filepath.Join(dir, "eventdesk")
		build := exec.Command("go", "build", "-o", bin, "github.com/eventdesk/eventdesk")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build eventdesk: %w", err)
		}
	}
	db := filepath.Join(dir, "eventdesk.db")
	id, err := createInstance(db)
	if err != nil {
		return err
	}
	durableAddr, err := freeAddr()
	if err != nil {
		return err
	}
	plainAddr, err := freeAddr()
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	serve := exec.Command(bin, "serve", "--db", db, "--listen", durableAddr, "--log-level", "warn")
	serve.Stdout, serve.Stderr = logf, logf
	self, err := os.Executable()
	if err != nil {
		return err
	}
	plainCmd := exec.Command(self, "-plain", plainAddr)
	plainCmd.Stderr = os.Stderr
	for _, c := range []*exec.Cmd{serve, plainCmd} {
		if err := c.Start(); err != nil {
			return fmt.Errorf("start %s: %w", c.Path, err)
		}
		defer func() {
			if c.ProcessState == nil {
				c.Process.Signal(os.Interrupt)
				c.Wait()
			}
		}()
	}
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	durableURL := "http://" + durableAddr + model.WebhookPath("pipedrive", id)
	plainURL := "http://" + plainAddr + "/"
	for _, u := range []string{durableURL, plainURL} {
		if err := waitUp(client, u); err != nil {
			return err
		}
	}
	var seq atomic.Int64
	// Warm the connections up on both sides.
	load(client, durableURL, clients, 300*time.Millisecond, &seq)
	load(client, plainURL, clients, 300*time.Millisecond, &seq)

	fmt.Printf("%d clients, %v per side per round, Pipedrive v2 body of %d bytes, every meta.id new\n", clients, dur, len(pdBody(0)))
	fmt.Printf("%-5s %-7s %8s %8s %8s %8s %8s %10s %8s\n", "round", "side", "req/s", "p50 ms", "p99 ms", "max ms", "ratio", "file MB", "cpu µs")
	var ratios, cpuRatios []float64
	pids := [2]int{serve.Process.Pid, plainCmd.Process.Pid}
	for r := range rounds {
		var cpu [2]time.Duration
		cpuOK := true
		var res [2]result
		for i := range 2 {
			side := (r + i) % 2 // 0 durable, 1 plain
			u := durableURL
			if side == 1 {
				u = plainURL
			}
			before, ok1 := processCPU(pids[side])
			res[side] = load(client, u, clients, dur, &seq)
			after, ok2 := processCPU(pids[side])
			cpu[side], cpuOK = after-before, cpuOK && ok1 && ok2
			if res[side].err != nil {
				return fmt.Errorf("round %d: %w", r+1, res[side].err)
			}
		}
		ratio := res[0].rate() / res[1].rate()
		ratios = append(ratios, ratio)
		size := int64(0)
		if fi, err := os.Stat(db); err == nil {
			size = fi.Size()
		}
		if cpuOK {
			cpuRatios = append(cpuRatios, res[0].cpuPerRequest(cpu[0])/res[1].cpuPerRequest(cpu[1]))
		}
		for side, name := range []string{"durable", "plain"} {
			x := res[side]
			ratioCol, sizeCol, cpuCol := "", "", "-"
			if side == 0 {
				ratioCol, sizeCol = fmt.Sprintf("%.2f", ratio), fmt.Sprintf("%.1f", float64(size)/(1<<20))
			}
			if cpuOK {
				cpuCol = fmt.Sprintf("%.0f", x.cpuPerRequest(cpu[side]))
			}
			fmt.Printf("%-5d %-7s %8.0f %8.1f %8.1f %8.1f %8s %10s %8s\n", r+1, name, x.rate(), ms(x.pct(0.50)), ms(x.pct(0.99)), ms(x.pct(1)), ratioCol, sizeCol, cpuCol)
		}
	}
	slices.Sort(ratios)
	fmt.Printf("median durable/plain %.2f\n", ratios[len(ratios)/2])
	if len(cpuRatios) > 0 {
		// CPU per request barely moves with other work on the machine,
		// where requests per second swing: compare builds by it there.
		slices.Sort(cpuRatios)
		fmt.Printf("median server CPU per request, durable/plain %.2f\n", cpuRatios[len(cpuRatios)/2])
	}
	// Stop serve to read the file's figures: pages in use, and blocks.
	serve.Process.Signal(os.Interrupt)
	serve.Wait()
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	used, err := st.UsedBytes(context.Background())
	n, _ := st.EventCount(context.Background())
	st.Close()
	if err != nil || n == 0 {
		return fmt.Errorf("read %s back: %d events, %v", db, n, err)
	}
	fmt.Printf("%d events stored; file %.1f MB, %.1f MB allocated, %.1f MB in pages: %.0f bytes per event (body %d bytes)\n",
		n, float64(fileSize(db))/(1<<20), float64(allocated(db))/(1<<20), float64(used)/(1<<20), float64(used)/float64(n), len(pdBody(0)))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func waitUp(c *http.Client, u string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Post(u, "application/json", bytes.NewReader(pdBody(-1)))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not answering: %w", u, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type result struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
	err     error
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

// cpuPerRequest is the server's CPU time per answered request, in µs.
func (r result) cpuPerRequest(cpu time.Duration) float64 {
	return float64(cpu.Microseconds()) / float64(max(r.n, 1))
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p+0.5) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// load posts from clients keep-alive connections for d, each body with the
// next unused meta.id.
func load(c *http.Client, u string, clients int, d time.Duration, seq *atomic.Int64) result {
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 1024)
			var err error
			for time.Now().Before(stop) {
				b := pdBody(seq.Add(1))
				t0 := time.Now()
				var resp *http.Response
				resp, err = c.Post(u, "application/json", bytes.NewReader(b))
				if err != nil {
					break
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d from %s", resp.StatusCode, u)
				}
				if err != nil {
					break
				}
			}
			mu.Lock()
			all = append(all, mine...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r := result{n: len(all), elapsed: time.Since(start), lat: all, err: firstErr}
	slices.Sort(r.lat)
	return r
}

// createInstance sets up the database with one Pipedrive instance (no
// webhook auth, as the in-process benchmark) and returns its id.
func createInstance(db string) (int64, error) {
	st, err := store.Open(db, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	in, err := model.NewInstance(model.InstanceRequest{
		Element:       &model.ElementRef{Key: "pipedrive"},
		Configuration: map[string]json.RawMessage{"pipedrive.api.token": json.RawMessage(`"t"`)},
	}, time.Now())
	if err != nil {
		return 0, err
	}
	in, err = st.CreateInstance(context.Background(), in)
	if err != nil {
		return 0, err
	}
	return in.ID, nil
}
