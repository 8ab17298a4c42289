package embedded

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/supportbot/supportbot/bot"
)

// SetLaterWait sets how long a queued write waits for another to carry it.
func SetLaterWait(s *Store, d time.Duration) {
	s.bmu.Lock()
	s.laterWait = d
	s.bmu.Unlock()
}

// DropIdx makes conversation id's bucket as a file from before kIdx left it.
func DropIdx(s *Store, id bot.ConversationID) error {
	return s.db.Update(func(tx *bolt.Tx) error { return keysOf(tx, []byte(id)).Delete(kIdx) })
}
