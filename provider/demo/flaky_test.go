package demo

import (
	"fmt"
	"testing"
)

// The flaky receiver must show a retry and a dead notification every
// time, and let a replay of the dead one through.
func TestFlakyReceiver(t *testing.T) {
	f := flaky{attempts: map[string]int{}, order: map[string]int{}}
	attemptsUntilOK := func(id string) int {
		for n := 1; n <= 10; n++ {
			if !f.fail(id) {
				return n
			}
		}
		return -1
	}
	want := map[int]int{1: 1, 2: 1, 3: Retry.MaxRetries + 2, 4: 2, 5: 1, 8: 2, 28: Retry.MaxRetries + 2}
	for n := 1; n <= 28; n++ {
		got := attemptsUntilOK(fmt.Sprintf("msg_%d", n))
		if w, ok := want[n]; ok && got != w {
			t.Errorf("notification %d succeeds at attempt %d, want %d", n, got, w)
		}
	}
	// Attempts beyond the policy's are a replay: the third notification
	// dies after MaxRetries+1 failures, so its replay must succeed.
	if Retry.MaxRetries+1 >= 10 {
		t.Fatalf("the demo's retry policy (%d retries) is too long to show a dead notification", Retry.MaxRetries)
	}
}
