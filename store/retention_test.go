package store

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestPruneKeepsRecentEventsAndLiveNotifications(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := Open(filepath.Join(t.TempDir(), "ed.db"), Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Configuration: jsonConfig(map[string]string{
		"pipedrive.api.token": "t", "event.notification.enabled": "true", "event.notification.callback.url": "http://127.0.0.1:9/cb",
	})}, now)
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	add := func(at time.Time, n int) []model.Event {
		now = at
		var evs []model.Event
		for i := range n {
			evs = append(evs, model.Event{InstanceID: in.ID, Source: model.SourceWebhook, ObjectType: "contacts",
				ObjectID: strconv.Itoa(i), EventType: model.Updated, VendorEventID: at.String() + strconv.Itoa(i), Raw: []byte(`{}`)})
		}
		res, err := st.AppendEvents(t.Context(), evs)
		if err != nil {
			t.Fatal(err)
		}
		return res.Stored
	}
	start := now
	old := add(start.Add(-10*24*time.Hour), 1500) // more than one batch
	recent := add(start.Add(-time.Hour), 3)
	now = start
	// Mark the old notifications delivered except one that stays dead.
	list, _, err := st.Notifications(t.Context(), NotificationFilter{InstanceID: in.ID}, 500)
	if err != nil {
		t.Fatal(err)
	}
	var recs []AttemptRecord
	var deadID string
	for _, n := range list {
		state := model.StateDelivered
		if deadID == "" && n.CreatedAt.Before(now.Add(-5*24*time.Hour)) {
			state, deadID = model.StateDead, n.ID
		}
		recs = append(recs, AttemptRecord{Attempt: model.Attempt{NotificationID: n.ID, N: 1, Time: now}, State: state})
	}
	if err := st.RecordAttempts(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	res, err := st.Prune(t.Context(), now.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != len(old) {
		t.Errorf("pruned %d events, want %d", res.Events, len(old))
	}
	if res.Notifications == 0 {
		t.Error("no delivered old notification was pruned")
	}
	if res.DedupeKeys != len(old) {
		t.Errorf("pruned %d dedupe keys, want %d (the old ones expired after %s)", res.DedupeKeys, len(old), DedupeWindow)
	}
	for _, e := range recent {
		if _, err := st.Event(t.Context(), e.ID); err != nil {
			t.Errorf("recent event %s pruned: %v", e.ID, err)
		}
	}
	if _, err := st.Event(t.Context(), old[0].ID); err == nil {
		t.Error("old event survived")
	}
	if evs, _, _ := st.Events(t.Context(), EventFilter{InstanceID: in.ID}, 100); len(evs) != len(recent) {
		t.Errorf("instance index lists %d events, want %d", len(evs), len(recent))
	}
	if deadID != "" {
		if n, err := st.Notification(t.Context(), deadID); err != nil || n.State != model.StateDead {
			t.Errorf("dead notification %s must survive pruning: %v %v", deadID, n.State, err)
		}
	}
}

func jsonConfig(m map[string]string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

func TestDeleteInstanceMarksPendingNotificationsDead(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "ed.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Configuration: jsonConfig(map[string]string{
		"pipedrive.api.token": "t", "event.notification.enabled": "true", "event.notification.callback.url": "http://127.0.0.1:9/cb",
	})}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in, err = st.CreateInstance(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendEvents(t.Context(), []model.Event{{InstanceID: in.ID, Source: model.SourceWebhook, ObjectType: "contacts", ObjectID: "1", EventType: model.Created, Raw: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := st.PendingInstances(t.Context()); len(ids) != 1 {
		t.Fatalf("pending instances = %v, want [%d]", ids, in.ID)
	}
	if err := st.DeleteInstance(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
	if ids, _ := st.PendingInstances(t.Context()); len(ids) != 0 {
		t.Errorf("a deleted instance still has pending notifications: %v", ids)
	}
	list, _, _ := st.Notifications(t.Context(), NotificationFilter{State: model.StateDead}, 10)
	if len(list) != 1 || list[0].LastError != "instance deleted" {
		t.Errorf("dead notifications = %+v, want one saying the instance was deleted", list)
	}
}

func TestDeleteInstanceForgetsPollState(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "ed.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mk := func() model.Instance {
		in, err := model.NewInstance(model.InstanceRequest{Element: &model.ElementRef{Key: "pipedrive"}, Configuration: jsonConfig(map[string]string{"pipedrive.api.token": "t"})}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if in, err = st.CreateInstance(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	gone, kept := mk(), mk()
	for _, id := range []int64{gone.ID, kept.ID} {
		for _, res := range []string{"accounts", "contacts"} {
			if err := st.SetPollStatus(t.Context(), model.PollStatus{InstanceID: id, Resource: res, Pages: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.DeleteInstance(t.Context(), gone.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := st.PollStatuses(t.Context(), gone.ID); len(list) != 0 {
		t.Errorf("deleted instance keeps %d poll statuses", len(list))
	}
	if list, _ := st.PollStatuses(t.Context(), kept.ID); len(list) != 2 {
		t.Errorf("other instance has %d poll statuses, want 2", len(list))
	}
}
