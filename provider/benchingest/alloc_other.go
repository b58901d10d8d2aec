//go:build !unix

package main

import "os"

// allocated is path's length where block counts are not at hand.
func allocated(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
