package embedded

import "time"

// SetLaterWait sets how long a queued write waits for another to carry it.
func SetLaterWait(s *Store, d time.Duration) {
	s.bmu.Lock()
	s.laterWait = d
	s.bmu.Unlock()
}
