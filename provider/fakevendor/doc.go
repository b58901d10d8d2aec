// Package fakevendor holds the machinery that eventdesk's in-process vendor
// fakes (fakepipedrive, fakeclose) have in common: a controllable clock,
// injectable faults, a bounded request log, request intake, a burst
// rate-limit window, a retrying webhook outbox with its AutoDeliver pump,
// and the small JSON and data-generation helpers behind their fast bulk
// generators.
//
// It exists so that a fix to, say, fault matching or delivery retries is
// made once and holds for every fake. Everything a vendor documents
// differently (status codes, error bodies, header names, default windows,
// webhook shapes) stays in the vendor's own package; the pieces here take
// those as parameters. The fakes re-export the types tests use (Clock,
// FakeClock, Fault, RecordedRequest) as aliases, so tests keep naming
// them through the vendor package.
package fakevendor
