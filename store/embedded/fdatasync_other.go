//go:build !linux

package embedded

import "os"

// fdatasync syncs f (fsync where there is no fdatasync).
func fdatasync(f *os.File) error { return f.Sync() }

// fdatasyncHeld is fdatasync.
func fdatasyncHeld(f *os.File) error { return fdatasync(f) }
