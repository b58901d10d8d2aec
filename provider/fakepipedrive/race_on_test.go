//go:build race

package fakepipedrive

// largeN is the size of the large-store test. The race detector makes
// every memory access several times slower, so it checks a tenth of the
// data: enough to exercise many pages, quick enough for go test -race.
const largeN = 10_000
