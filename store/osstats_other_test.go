//go:build !linux

package store

import (
	"testing"
	"time"
)

// allocatedBytes is -1 where the file's blocks are not read.
func allocatedBytes(t *testing.T, path string) int64 { return -1 }

// processCPU is 0 where it is not read.
func processCPU() time.Duration { return 0 }
