//go:build !race

package fakeclose

// largeN is the size of the large-store test (see race_on_test.go).
const largeN = 100_000
