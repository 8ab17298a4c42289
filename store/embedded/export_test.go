package embedded

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

// SetLaterWait sets how long a queued write waits for another to carry it.
func SetLaterWait(s *Store, d time.Duration) {
	s.wmu.Lock()
	s.laterWait = d
	s.wmu.Unlock()
}

// Flatten gives conversation id the keys of the layout before kHead
// instead of its head (without kIdx unless idx, as a file from before kIdx
// had it), and has the next Open migrate the file.
func Flatten(s *Store, id bot.ConversationID, idx bool) error {
	if err := s.settle(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return flatten(tx, []byte(id), idx) })
}
