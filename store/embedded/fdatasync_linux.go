package embedded

import (
	"os"
	"syscall"
)

// fdatasync syncs f's data and size (not its times).
func fdatasync(f *os.File) error {
	for {
		if err := syscall.Fdatasync(int(f.Fd())); err != syscall.EINTR {
			return err
		}
	}
}
