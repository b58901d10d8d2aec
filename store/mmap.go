package store

import "math"

// initialMmap is mapped at open whatever the file's size, so bbolt does not
// remap at each doubling of the file up to it (a remap waits for every
// reader and holds up the writer). Address space only: pages are read in
// as used.
const initialMmap = 1 << 30

// mmapSize is bbolt's InitialMmapSize: initialMmap on 64-bit systems.
func mmapSize() int {
	if math.MaxInt > 1<<32 {
		return initialMmap
	}
	return 0
}
