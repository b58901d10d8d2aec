//go:build unix

package main

import (
	"os"
	"syscall"
)

// allocated is the disk space path takes (its blocks, not its length: a
// file grown by truncation is sparse).
func allocated(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
