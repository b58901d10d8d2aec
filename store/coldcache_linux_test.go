//go:build linux && (amd64 || arm64)

package store

import (
	"os"
	"syscall"
)

// dropFileCache asks the kernel to forget path's cached pages, so the next
// open reads it from the disk as after a reboot (the file must be synced).
func dropFileCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	const fadvDontNeed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		return e
	}
	return nil
}
