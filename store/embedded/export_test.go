package embedded

import "time"

// Commits is how many group commits s made (one transaction, one sync each).
func Commits(s *Store) int64 { return s.commits.Load() }

// SetLaterWait sets how long a queued write waits for another to carry it.
func SetLaterWait(s *Store, d time.Duration) {
	s.bmu.Lock()
	s.laterWait = d
	s.bmu.Unlock()
}
