package postgres

// GroupStats reports how many group commits s made and how many
// AppendEvents calls they carried, for the benchmarks.
func GroupStats(s *Store) (groups, requests int64) {
	return s.writer.groups.Load(), s.writer.requests.Load()
}

// SetGrouping turns the grouping of concurrent AppendEvents calls on or
// off (each call its own transaction), for the benchmark that measures it.
func SetGrouping(on bool) {
	groupLimit = maxGroup
	if !on {
		groupLimit = 1
	}
}

// SetWriterLoops sets how many groups may be in flight in stores opened
// afterwards.
func SetWriterLoops(n int) { writerLoops = n }

// SetScanLimit sets how many ids a filtered page of all events looks at,
// so tests page through small stores the way large ones are paged; it
// returns a function restoring the limit.
func SetScanLimit(n int64) func() {
	old := scanLimit
	scanLimit = n
	return func() { scanLimit = old }
}
