package ui

import (
	"slices"
	"testing"

	"github.com/eventdesk/eventdesk/provider/backend"
)

// TestScreensOverTheAPI runs the golden views and the main screen tests
// again with the console attached to the engine over its HTTP API instead
// of in process: the same frames and the same assertions must hold on
// both sides of the engine boundary.
func TestScreensOverTheAPI(t *testing.T) {
	tests := map[string]func(*testing.T){
		"GoldenViews":                         TestGoldenViews,
		"FlowCreateListPoller":                TestFlowCreateListPoller,
		"DeliveriesKeys":                      TestDeliveriesKeys,
		"DeliveriesReplayWithoutDispatcher":   TestDeliveriesReplayWithoutDispatcher,
		"DeliveriesErrorShowsLastHTTPFailure": TestDeliveriesErrorShowsLastHTTPFailure,
		"RejectedKeys":                        TestRejectedKeys,
		"DetailKeys":                          TestDetailKeys,
		"InstancesKeys":                       TestInstancesKeys,
		"InstancesDeleteConfirm":              TestInstancesDeleteConfirm,
		"InstancesFilter":                     TestInstancesFilter,
		"InstancesEmptySaysHowToBegin":        TestInstancesEmptySaysHowToBegin,
		"InstancesCountIsTheEnginesAggregate": TestInstancesCountIsTheEnginesAggregate,
		"FormShowsEveryProblemAtItsField":     TestFormShowsEveryProblemAtItsField,
		"FormSecretsMaskedAndKeptOnEdit":      TestFormSecretsMaskedAndKeptOnEdit,
		"FormReplacingAMaskedSecret":          TestFormReplacingAMaskedSecret,
		"FormCallbackAndWebhookFields":        TestFormCallbackAndWebhookFields,
		"FeedFollowsAndPauses":                TestFeedFollowsAndPauses,
		"FeedFilter":                          TestFeedFilter,
		"FeedDetailReplayAndCopy":             TestFeedDetailReplayAndCopy,
		"PollerPreviewExpandsTheSinceTime":    TestPollerPreviewExpandsTheSinceTime,
		"PollerAddRemoveReset":                TestPollerAddRemoveReset,
	}
	names := make([]string, 0, len(tests))
	for n := range tests {
		names = append(names, n)
	}
	slices.Sort(names)
	harnessKind = "remote"
	defer func() { harnessKind = "local" }()
	if _, ok := newHarness(t, nil, 80, 24).app.ctx.Backend.(*backend.Remote); !ok {
		t.Fatal("the harness is not attached over the API")
	}
	for _, name := range names {
		t.Run(name, tests[name])
	}
}
