package provider

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// rcvSetWebhookPassword changes the instance's webhook Basic password
// directly in the store, as another component (the console, a poller)
// would, bypassing the API.
func (e *rcvEnv) rcvSetWebhookPassword(id int64, pw string) {
	e.t.Helper()
	_, err := e.st.UpdateInstance(context.Background(), id, func(cur model.Instance) (model.Instance, error) {
		next := cur.Clone()
		next.Configuration[model.KeyWebhookPassword] = pw
		return next, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestReceiveSeesInstanceChangesAtOnce guards the webhook instance cache
// against staleness: once a change to an instance has returned (through
// the store or the API), the very next webhook must be judged by it.
func TestReceiveSeesInstanceChangesAtOnce(t *testing.T) {
	e := rcvNew(t, nil)
	pd := e.pipedrive(map[string]string{model.KeyWebhookUsername: "hookuser", model.KeyWebhookPassword: "old-Pass-1"})
	path := rcvHookPath(t, pd)
	n := 0
	post := func(user, pw string) int {
		t.Helper()
		n++
		return e.do("POST", path, rcvBasic(user, pw), rcvV2(fmt.Sprintf("stale-%d", n), n)).Code
	}
	expect := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status %d, want %d", what, got, want)
		}
	}

	// Warm the cache, and make sure it is what answers: otherwise this
	// test would pass without exercising it.
	expect("old password", post("hookuser", "old-Pass-1"), http.StatusOK)
	expect("old password again", post("hookuser", "old-Pass-1"), http.StatusOK)
	if _, ok := e.srv.insts.get(e.st.InstancesVersion(), pd.ID); !ok {
		t.Fatal("the instance is not cached after two webhooks")
	}

	// Changed in the store.
	e.rcvSetWebhookPassword(pd.ID, "store-Pass-2")
	expect("old password after a store update", post("hookuser", "old-Pass-1"), http.StatusUnauthorized)
	expect("new password after a store update", post("hookuser", "store-Pass-2"), http.StatusOK)
	expect("new password, cached", post("hookuser", "store-Pass-2"), http.StatusOK)

	// Changed through PATCH.
	instPath := fmt.Sprintf("%s/instances/%d", prefix, pd.ID)
	if rec := e.authed("PATCH", instPath, []byte(`{"configuration": {"`+model.KeyWebhookPassword+`": "patch-Pass-3"}}`)); rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	expect("old password after PATCH", post("hookuser", "store-Pass-2"), http.StatusUnauthorized)
	expect("new password after PATCH", post("hookuser", "patch-Pass-3"), http.StatusOK)
	if rec := e.authed("PATCH", instPath, []byte(`{"configuration": {"`+model.KeyWebhookUsername+`": "otheruser"}}`)); rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	expect("old username after PATCH", post("hookuser", "patch-Pass-3"), http.StatusUnauthorized)
	expect("new username after PATCH", post("otheruser", "patch-Pass-3"), http.StatusOK)

	// Deleted through the API, while cached.
	expect("cached before DELETE", post("otheruser", "patch-Pass-3"), http.StatusOK)
	if rec := e.authed("DELETE", instPath, nil); rec.Code/100 != 2 {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	rcvErr(t, e.do("POST", path, rcvBasic("otheruser", "patch-Pass-3"), rcvV2("stale-deleted", 1)), http.StatusNotFound, "no instance")

	// Deleted in the store, while cached, and named in Element-Instances.
	pd2 := e.pipedrive(nil)
	hdr := http.Header{"Element-Instances": {fmt.Sprint(pd2.ID)}}
	if rec := e.do("POST", prefix+"/events/pipedrive", hdr, rcvV2("stale-h1", 1)); rec.Code != http.StatusOK {
		t.Fatalf("header form: %d %s", rec.Code, rec.Body)
	}
	if err := e.st.DeleteInstance(t.Context(), pd2.ID); err != nil {
		t.Fatal(err)
	}
	rcvErr(t, e.do("POST", prefix+"/events/pipedrive", hdr, rcvV2("stale-h2", 2)), http.StatusNotFound, "no instance")
}

// TestReceiveInstanceChangesUnderLoad posts webhooks from several
// goroutines while the instance's password keeps changing. A request sent
// with the password current when it started may be refused only if the
// password changed again before it was answered; any other 401 is a stale
// cache entry. Under -race it also checks the cache's synchronisation.
func TestReceiveInstanceChangesUnderLoad(t *testing.T) {
	e := rcvNew(t, nil)
	pw := func(gen int64) string { return fmt.Sprintf("gen-Pass-%d", gen) }
	pd := e.pipedrive(map[string]string{model.KeyWebhookUsername: "hookuser", model.KeyWebhookPassword: pw(0)})
	path := rcvHookPath(t, pd)

	var gen atomic.Int64  // the generation whose password is stored
	var next atomic.Int64 // the generation being stored: ahead of gen while a change commits
	var done atomic.Bool
	var seq, ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				g := gen.Load()
				k := seq.Add(1)
				rec := e.do("POST", path, rcvBasic("hookuser", pw(g)), rcvV2(fmt.Sprintf("load-%d", k), int(k)))
				switch {
				case rec.Code == http.StatusOK:
					ok.Add(1)
				case rec.Code == http.StatusUnauthorized && next.Load() != g:
					// A change began while it was in flight (its commit
					// comes before gen moves on): either answer is right.
					refused.Add(1)
				default:
					t.Errorf("generation %d (now %d): status %d %s", g, gen.Load(), rec.Code, rec.Body)
					return
				}
			}
		})
	}
	const changes = 30
	for g := int64(1); g <= changes && !t.Failed(); g++ {
		time.Sleep(2 * time.Millisecond)
		next.Store(g)
		e.rcvSetWebhookPassword(pd.ID, pw(g))
		gen.Store(g)
	}
	time.Sleep(5 * time.Millisecond)
	done.Store(true)
	wg.Wait()
	if ok.Load() == 0 {
		t.Error("no webhook was accepted")
	}
	t.Logf("%d accepted, %d refused while their password changed", ok.Load(), refused.Load())
	last := gen.Load()
	if code := e.do("POST", path, rcvBasic("hookuser", pw(last-1)), rcvV2("load-final-old", 1)).Code; code != http.StatusUnauthorized {
		t.Errorf("previous password after the load: status %d, want 401", code)
	}
	if code := e.do("POST", path, rcvBasic("hookuser", pw(last)), rcvV2("load-final-new", 1)).Code; code != http.StatusOK {
		t.Errorf("current password after the load: status %d, want 200", code)
	}
}

// TestInstanceCacheVersions checks the cache's own rules: entries answer
// only under their version, a newer version drops older entries, a load
// under a superseded version is not kept, and the size is bounded.
func TestInstanceCacheVersions(t *testing.T) {
	var c instanceCache
	if _, ok := c.get(0, 1); ok {
		t.Fatal("empty cache answered")
	}
	c.put(5, model.Instance{ID: 1, Name: "a"})
	c.put(5, model.Instance{ID: 2, Name: "b"})
	if in, ok := c.get(5, 1); !ok || in.Name != "a" {
		t.Errorf("get(5, 1) = %v, %v", in, ok)
	}
	if _, ok := c.get(6, 1); ok {
		t.Error("entry of version 5 answered under version 6")
	}
	old := c.snap.Load()
	c.put(6, model.Instance{ID: 2, Name: "b2"})
	if _, ok := c.get(6, 1); ok {
		t.Error("version 6 kept an entry of version 5")
	}
	if in, ok := c.get(6, 2); !ok || in.Name != "b2" {
		t.Errorf("get(6, 2) = %v, %v", in, ok)
	}
	if len(old.byID) != 2 || old.byID[2].Name != "b" {
		t.Error("a published snapshot was modified")
	}
	c.put(5, model.Instance{ID: 3, Name: "late"})
	if _, ok := c.get(5, 3); ok {
		t.Error("a load under a superseded version was kept")
	}
	if _, ok := c.get(6, 3); ok {
		t.Error("a load under version 5 answers under version 6")
	}
	for id := int64(1); id <= maxCachedInstances+10; id++ {
		c.put(7, model.Instance{ID: id})
	}
	if n := len(c.snap.Load().byID); n != maxCachedInstances {
		t.Errorf("cache holds %d instances, want the bound %d", n, maxCachedInstances)
	}
}
