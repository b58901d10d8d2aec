package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// pollingPipedrive stores a Pipedrive instance polling the element's default
// resources: accounts, contacts and opportunities.
func pollingPipedrive(t *testing.T, st *Store, name string) model.Instance {
	t.Helper()
	in := pipedriveInstance(t, name)
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "polling"
	in, err := st.CreateInstance(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if pc, err := in.Poller(); err != nil || !reflect.DeepEqual(pc.Resources(), []string{"accounts", "contacts", "opportunities"}) {
		t.Fatalf("default poller resources %v (%v)", pc.Resources(), err)
	}
	return in
}

// withoutResources is a PATCH body whose poller configuration is in's
// without the named resources, as the poller editor or the form sends it.
func withoutResources(t *testing.T, in model.Instance, drop ...string) model.InstanceRequest {
	t.Helper()
	pc, err := in.Poller()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range drop {
		delete(pc, r)
	}
	raw, err := json.Marshal(pc)
	if err != nil {
		t.Fatal(err)
	}
	return model.InstanceRequest{Configuration: map[string]json.RawMessage{model.KeyPollerConfiguration: raw}}
}

func patchInstance(st *Store, id int64, req model.InstanceRequest) (model.Instance, error) {
	return st.UpdateInstance(context.Background(), id, func(cur model.Instance) (model.Instance, error) {
		return cur.Patch(req, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC))
	})
}

func setPollStatuses(t *testing.T, st *Store, sts ...model.PollStatus) {
	t.Helper()
	for _, s := range sts {
		if err := st.SetPollStatus(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// pollResources lists the resources with stored poll state.
func pollResources(t *testing.T, st *Store, id int64) []string {
	t.Helper()
	list, err := st.PollStatuses(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, s := range list {
		out = append(out, s.Resource)
	}
	sort.Strings(out)
	return out
}

func wantPollResources(t *testing.T, st *Store, id int64, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := pollResources(t, st, id); !reflect.DeepEqual(got, want) {
		t.Errorf("instance %d has poll state of %v, want %v", id, got, want)
	}
}

func TestUpdateInstanceForgetsDroppedPollResources(t *testing.T) {
	st := openTest(t, nil)
	a, b := pollingPipedrive(t, st, "a"), pollingPipedrive(t, st, "b")
	cp := time.Date(2024, 1, 31, 8, 0, 0, 0, time.UTC)
	contacts := model.PollStatus{InstanceID: a.ID, Resource: "contacts", Checkpoint: cp, Pages: 2, Records: 7, Events: 3}
	setPollStatuses(t, st,
		model.PollStatus{InstanceID: a.ID, Resource: "accounts", Checkpoint: cp, LastError: "vendor answered 404", Failures: 3},
		contacts,
		model.PollStatus{InstanceID: a.ID, Resource: "opportunities", Checkpoint: cp},
		model.PollStatus{InstanceID: b.ID, Resource: "accounts", Checkpoint: cp, LastError: "vendor answered 404"},
	)

	// An update that leaves the poller alone forgets nothing.
	name := "renamed"
	if _, err := patchInstance(st, a.ID, model.InstanceRequest{Name: &name}); err != nil {
		t.Fatal(err)
	}
	wantPollResources(t, st, a.ID, "accounts", "contacts", "opportunities")

	updated, err := patchInstance(st, a.ID, withoutResources(t, a, "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	if pc, _ := updated.Poller(); !reflect.DeepEqual(pc.Resources(), []string{"contacts", "opportunities"}) {
		t.Fatalf("updated resources %v", pc.Resources())
	}
	wantPollResources(t, st, a.ID, "contacts", "opportunities")
	if got, _ := st.PollStatus(t.Context(), a.ID, "contacts"); !reflect.DeepEqual(got, contacts) {
		t.Errorf("kept status changed: %+v, want %+v", got, contacts)
	}
	// The same resource of another instance is not touched.
	wantPollResources(t, st, b.ID, "accounts")

	// Renaming every resource forgets them all.
	pc, _ := updated.Poller()
	raw, _ := json.Marshal(model.PollerConfig{"persons": pc["contacts"]})
	if _, err := patchInstance(st, a.ID, model.InstanceRequest{Configuration: map[string]json.RawMessage{model.KeyPollerConfiguration: raw}}); err != nil {
		t.Fatal(err)
	}
	wantPollResources(t, st, a.ID)
	wantPollResources(t, st, b.ID, "accounts")
}

// The forgetting belongs to the update's transaction: an update that fails
// (its function, or validation of its result) forgets nothing.
func TestUpdateInstanceForgetsPollStateOnlyWithTheUpdate(t *testing.T) {
	st := openTest(t, nil)
	a := pollingPipedrive(t, st, "a")
	setPollStatuses(t, st,
		model.PollStatus{InstanceID: a.ID, Resource: "accounts", LastError: "boom"},
		model.PollStatus{InstanceID: a.ID, Resource: "contacts"},
	)
	drop := withoutResources(t, a, "accounts")

	refused := errors.New("refused")
	_, err := st.UpdateInstance(t.Context(), a.ID, func(cur model.Instance) (model.Instance, error) {
		if _, err := cur.Patch(drop, time.Now()); err != nil {
			t.Fatal(err)
		}
		return model.Instance{}, refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("update: %v", err)
	}
	wantPollResources(t, st, a.ID, "accounts", "contacts")

	// fn's result fails validation (Patch would refuse it; fn may not).
	_, err = st.UpdateInstance(t.Context(), a.ID, func(cur model.Instance) (model.Instance, error) {
		next, err := cur.Patch(drop, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		next.Configuration[model.KeyRefreshInterval] = "0"
		return next, nil
	})
	var verr *model.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("invalid update: %v, want a validation error", err)
	}
	wantPollResources(t, st, a.ID, "accounts", "contacts")
	if cur, _ := st.Instance(t.Context(), a.ID); cur.Configuration[model.KeyPollerConfiguration] != a.Configuration[model.KeyPollerConfiguration] {
		t.Fatal("the refused update changed the instance")
	}

	// The update that succeeds commits the instance and the forgetting
	// together: a writer's status of the dropped resource, queued behind
	// the update or arriving after it, does not bring it back.
	done := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 50 && err == nil; i++ {
			err = st.SetPollStatus(t.Context(), model.PollStatus{InstanceID: a.ID, Resource: "accounts", Pages: i})
		}
		done <- err
	}()
	if _, err := patchInstance(st, a.ID, drop); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantPollResources(t, st, a.ID, "contacts")
}

// Switching to webhooks (or disabling events) keeps the state of resources
// still configured: polling on demand uses it, and polling resumes from it.
func TestUpdateInstanceToWebhooksKeepsPollState(t *testing.T) {
	st := openTest(t, nil)
	a := pollingPipedrive(t, st, "a")
	setPollStatuses(t, st,
		model.PollStatus{InstanceID: a.ID, Resource: "accounts", LastError: "boom"},
		model.PollStatus{InstanceID: a.ID, Resource: "contacts"},
	)
	hooked, err := patchInstance(st, a.ID, model.InstanceRequest{Configuration: jsonConfig(map[string]string{model.KeyVendorType: "webhook"})})
	if err != nil {
		t.Fatal(err)
	}
	if hooked.Polling() {
		t.Fatal("still polling")
	}
	wantPollResources(t, st, a.ID, "accounts", "contacts")
	if _, err := patchInstance(st, a.ID, model.InstanceRequest{Configuration: jsonConfig(map[string]string{model.KeyEventsEnabled: "false"})}); err != nil {
		t.Fatal(err)
	}
	wantPollResources(t, st, a.ID, "accounts", "contacts")
	// Its configuration still rules: dropping a resource forgets it.
	if _, err := patchInstance(st, a.ID, withoutResources(t, hooked, "accounts")); err != nil {
		t.Fatal(err)
	}
	wantPollResources(t, st, a.ID, "contacts")
}

func TestSetPollStatusOfGoneResourceIsNotStored(t *testing.T) {
	st := openTest(t, nil)
	a, b := pollingPipedrive(t, st, "a"), pollingPipedrive(t, st, "b")
	if _, err := patchInstance(st, a.ID, withoutResources(t, a, "accounts")); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteInstance(t.Context(), b.ID); err != nil {
		t.Fatal(err)
	}
	setPollStatuses(t, st,
		model.PollStatus{InstanceID: a.ID, Resource: "accounts", LastError: "instance has no poller resource"},
		model.PollStatus{InstanceID: a.ID, Resource: "contacts"},
		model.PollStatus{InstanceID: b.ID, Resource: "contacts"},
		model.PollStatus{InstanceID: 999, Resource: "contacts"},
	)
	wantPollResources(t, st, a.ID, "contacts")
	wantPollResources(t, st, b.ID)
	wantPollResources(t, st, 999)
}

// ForgetStalePollStatuses clears what older builds left: the state of
// dropped resources and deleted instances. An instance whose poller
// configuration cannot be parsed keeps its state.
func TestForgetStalePollStatuses(t *testing.T) {
	st := openTest(t, nil)
	a, broken, plain := pollingPipedrive(t, st, "a"), pollingPipedrive(t, st, "broken"), pollingPipedrive(t, st, "plain")
	// Written as an older build did: straight into the bucket.
	put := func(fn func(tx *bolt.Tx) error) {
		t.Helper()
		if err := st.db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	put(func(tx *bolt.Tx) error {
		for _, s := range []model.PollStatus{
			{InstanceID: a.ID, Resource: "contacts"},
			{InstanceID: a.ID, Resource: "leads", LastError: "gone"},
			{InstanceID: a.ID, Resource: "contacts-old", LastError: "gone"},
			{InstanceID: broken.ID, Resource: "accounts"},
			{InstanceID: broken.ID, Resource: "leads"},
			{InstanceID: plain.ID, Resource: "opportunities"},
			{InstanceID: 77, Resource: "contacts"},
			{InstanceID: 78, Resource: "accounts"},
		} {
			if err := putJSON(tx.Bucket(bucketPoll), pollKey(s.InstanceID, s.Resource), s); err != nil {
				return err
			}
		}
		// A configuration a newer parser refuses, say.
		broken.Configuration[model.KeyPollerConfiguration] = `{"accounts": nope}`
		return putJSON(tx.Bucket(bucketInstances), u64(uint64(broken.ID)), broken)
	})
	n, err := st.ForgetStalePollStatuses(t.Context())
	if err != nil || n != 4 {
		t.Fatalf("ForgetStalePollStatuses = %d, %v; want 4", n, err)
	}
	wantPollResources(t, st, a.ID, "contacts")
	wantPollResources(t, st, broken.ID, "accounts", "leads")
	wantPollResources(t, st, plain.ID, "opportunities")
	wantPollResources(t, st, 77)
	wantPollResources(t, st, 78)
	if n, err := st.ForgetStalePollStatuses(t.Context()); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0", n, err)
	}
	// The broken instance's statuses are still written while nothing says
	// their resource is gone.
	setPollStatuses(t, st, model.PollStatus{InstanceID: broken.ID, Resource: "contacts"})
	wantPollResources(t, st, broken.ID, "accounts", "contacts", "leads")
}

// BenchmarkSetPollStatus measures one poll status write, whose check that
// the instance still has the resource runs inside the shared write
// transaction webhook writes queue behind.
func BenchmarkSetPollStatus(b *testing.B) {
	st := openTest(b, nil)
	in := pipedriveInstance(b, "a")
	in.Configuration[model.KeyEventsEnabled] = "true"
	in.Configuration[model.KeyVendorType] = "polling"
	in, err := st.CreateInstance(b.Context(), in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.SetPollStatus(b.Context(), model.PollStatus{InstanceID: in.ID, Resource: "contacts", Pages: i}); err != nil {
			b.Fatal(err)
		}
	}
}
