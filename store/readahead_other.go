//go:build !(linux && (amd64 || arm64))

package store

// readAhead is a no-op where the kernel's advice call is not wired up.
func readAhead(string) {}
