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

// fdatasyncHeld is fdatasync without telling the scheduler: the calling
// goroutine keeps its P (and the other goroutines one P fewer) until the
// sync returns, and then runs on at once. Through the scheduler, the P is
// taken away while the sync waits and the goroutine queues behind every
// runnable one afterwards. A garbage collection's stop-the-world waits for
// it, so it is only for syncs known to be short (Store.syncLog).
func fdatasyncHeld(f *os.File) error {
	for {
		_, _, e := syscall.RawSyscall(syscall.SYS_FDATASYNC, f.Fd(), 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
		default:
			return e
		}
	}
}
