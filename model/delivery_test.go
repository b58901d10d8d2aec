package model

import (
	"testing"
	"time"
)

func TestDeliverySettings(t *testing.T) {
	tests := []struct {
		name        string
		cfg         map[string]string
		ordered     bool
		concurrency int
		maxHold     time.Duration
	}{
		{"defaults", nil, false, DefaultConcurrency, DefaultMaxHold},
		{"concurrency set", map[string]string{KeyConcurrency: "3"}, false, 3, DefaultMaxHold},
		{"ordered is one at a time", map[string]string{KeyOrdered: "true", KeyConcurrency: "16"}, true, 1, DefaultMaxHold},
		{"ordered with a hold", map[string]string{KeyOrdered: "TRUE", KeyOrderedMaxHold: "90s"}, true, 1, 90 * time.Second},
		{"hand-edited junk falls back", map[string]string{KeyOrdered: "maybe", KeyConcurrency: "-4", KeyOrderedMaxHold: "soon"}, false, DefaultConcurrency, DefaultMaxHold},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Instance{Configuration: tc.cfg}
			if in.Ordered() != tc.ordered || in.Concurrency() != tc.concurrency || in.MaxHold() != tc.maxHold {
				t.Errorf("ordered %v, concurrency %d, maxHold %v; want %v, %d, %v",
					in.Ordered(), in.Concurrency(), in.MaxHold(), tc.ordered, tc.concurrency, tc.maxHold)
			}
		})
	}
}

func TestDeliverableWaitsWhileDisabled(t *testing.T) {
	in := Instance{Configuration: map[string]string{KeyEventsEnabled: "true", KeyCallbackURL: "http://x/cb"}}
	if !in.Sendable() || !in.Deliverable() {
		t.Fatal("an enabled instance with a callback must be sendable and deliverable")
	}
	in.Disabled = true
	if !in.Sendable() {
		t.Error("a disabled instance must still get notifications queued (they wait)")
	}
	if in.Deliverable() {
		t.Error("a disabled instance's notifications must not be sent")
	}
}

func TestStatusClasses(t *testing.T) {
	tests := []struct {
		status    int
		err       string
		permanent bool
		endpoint  bool
	}{
		{200, "", false, false},
		{400, "", true, false},
		{401, "", true, false},
		{404, "", true, false},
		{422, "", true, false},
		{408, "", false, true},
		{409, "", false, false},
		{410, "", false, false},
		{425, "", false, false},
		{429, "", false, true},
		{500, "", false, true},
		{503, "", false, true},
		{302, "redirect to x not followed", false, false},
		{0, "connection refused", false, true},
		{0, "", false, false},
	}
	for _, tc := range tests {
		if got := PermanentRejection(tc.status); got != tc.permanent {
			t.Errorf("PermanentRejection(%d) = %v, want %v", tc.status, got, tc.permanent)
		}
		if got := EndpointFailure(tc.status, tc.err); got != tc.endpoint {
			t.Errorf("EndpointFailure(%d, %q) = %v, want %v", tc.status, tc.err, got, tc.endpoint)
		}
	}
}
