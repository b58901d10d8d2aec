package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/engine"
)

// fakeLanes reports fixed lane states.
type fakeLanes []model.LaneStatus

func (f fakeLanes) Lanes() []model.LaneStatus { return f }

// A held ordered lane and an open circuit show on the instance detail and
// the deliveries screen; testdata/<screen>_held_<w>x<h>.golden, -update
// regenerates them.
func TestGoldenHeldLane(t *testing.T) {
	screens := []struct {
		name  string
		drive func(h *harness)
	}{
		{"detail_held", func(h *harness) { h.key("enter") }},
		{"deliveries_held", func(h *harness) { h.key(":"); h.typeText("deliveries"); h.key("enter") }},
	}
	for _, sc := range screens {
		for _, sz := range sizes {
			for _, kind := range backendKinds {
				name := fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h)
				t.Run(name+"/"+kind, func(t *testing.T) {
					st := newStore(t)
					pd, _ := seed(t, st)
					lanes := fakeLanes{{
						InstanceID: pd.ID, Ordered: true, Queued: 12,
						HeldBy: "41", HeldSince: testNow.Add(-7 * time.Minute),
						CircuitOpen: true, CircuitUntil: testNow.Add(30 * time.Second),
					}}
					h := newHarnessOn(t, kind, st, sz.w, sz.h, func(o *engine.LocalOptions) { o.Lanes = lanes })
					sc.drive(h)
					got := h.view()
					checkSize(t, got, sz.w, sz.h)
					held := "held since " + testNow.Add(-7*time.Minute).UTC().Format("15:04:05") + " by notification 41"
					if !strings.Contains(got, held) || !strings.Contains(got, "circuit open") {
						t.Errorf("the screen does not show the held lane (%q) and the open circuit:\n%s", held, got)
					}
					golden(t, name, got)
				})
			}
		}
	}
}

// Calm lanes say nothing, and another instance's trouble stays off an
// instance's own screens.
func TestLaneTroubleSelectsInstances(t *testing.T) {
	ctx := &Context{Now: func() time.Time { return testNow }, Loc: time.UTC, names: map[int64]string{2: "two"}}
	lanes := []model.LaneStatus{
		{InstanceID: 1, InFlight: 8, Queued: 100},
		{InstanceID: 2, Paused: "instance disabled"},
	}
	if got := laneTrouble(ctx, lanes, 1); len(got) != 0 {
		t.Errorf("a busy but healthy lane reported %v", got)
	}
	if got := laneTrouble(ctx, lanes, 0); len(got) != 1 || got[0] != "#2 two: paused: instance disabled" {
		t.Errorf("all lanes: %v", got)
	}
}
