package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithTest kills the server when the test binary dies, even by a
// timeout's panic that skips every Cleanup.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
