package metrics

import "time"

// SetClock replaces the clock of m's desk collector; call it before WatchDesk.
func SetClock(m *Metrics, now func() time.Time) { m.now = now }
