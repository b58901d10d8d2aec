//go:build linux && (amd64 || arm64)

package store

import (
	"errors"
	"os"
	"syscall"
)

// flushRange writes the range's dirty pages to disk and waits for them,
// without the file-wide flush of fdatasync; where the file system has no
// range flush, it flushes the whole file instead.
func flushRange(f *os.File, off, n int64) error {
	const waitBefore, write, waitAfter = 1, 2, 4
	err := syscall.SyncFileRange(int(f.Fd()), off, n, waitBefore|write|waitAfter)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ESPIPE) {
		return f.Sync()
	}
	return err
}
