package classify

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), missing from syscall.
const madvPopulateWrite = 23

// prefault asks the kernel to back the whole 2 MiB pages inside s with
// transparent huge pages and to fault them in with one call. A fresh 20 MB
// weight matrix otherwise costs ~5,000 page faults, tens of milliseconds
// on a virtual machine. Advice only: errors (old kernels, THP off) are
// ignored, and the contents of s are unchanged.
func prefault(s []float32) {
	const huge = 2 << 20
	if len(s)*4 < 2*huge {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	start, end := (p+huge-1)&^(huge-1), (p+uintptr(len(s))*4)&^(huge-1)
	b := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), start-p)), end-start)
	syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	syscall.Madvise(b, madvPopulateWrite)
}
