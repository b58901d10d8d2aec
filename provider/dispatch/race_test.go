//go:build race

package dispatch_test

// raceEnabled is set when built with -race, which slows every request.
const raceEnabled = true
