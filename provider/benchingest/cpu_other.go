//go:build !linux

package main

import "time"

// processCPU is not measured where /proc is not at hand.
func processCPU(pid int) (time.Duration, bool) { return 0, false }
