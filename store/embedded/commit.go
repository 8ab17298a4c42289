package embedded

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Group commit, for the writes that go to bbolt directly (all but the
// logged ones: wal.go). bbolt syncs the file once per write transaction, and a sync
// costs milliseconds, so one transaction per write would cap the store at a
// few hundred writes a second however many conversations are active. Writes
// that arrive while a transaction commits are queued; the first of them
// becomes the leader and commits the whole queue as one transaction, with
// one sync. Every caller still returns only after its write is on disk, and
// the writes of a batch apply in arrival order, as if serial.
//
// bbolt's db.Batch does the same, but seals a batch after a fixed delay, which
// a lone writer (one conversation) would pay on every write.

// call is one write waiting for its transaction.
type call struct {
	fn   func(*bolt.Tx) error
	done chan error // buffered 1: errLead, then the result
}

// result tells c its result.
func (c *call) result(err error) { c.done <- err }

// laterWait is how long a logged write that nobody waits for
// (OutboxDoneQueue) waits for another write to carry it before the log
// is synced for it alone.
const laterWait = 2 * time.Millisecond

// errLead tells a waiting caller to commit the queue.
var errLead = errors.New("embedded: lead the next commit")

// refusal wraps an error that a write function returns before writing
// anything (a version conflict, a claim held by someone else): the shared
// transaction commits the others' writes, and the caller gets the error.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }

// refuse marks err as returned before any write (expired data purged on
// the way excepted: purging is what the sweeper does anyway).
func refuse(err error) error { return refusal{err} }

// update runs fn in a write transaction shared with concurrent writers and
// returns once it is committed and synced. fn may run more than once (when
// another function of its batch fails, the batch is rolled back and run
// again without it), so it must set, not accumulate, what it reports.
func (s *Store) update(op string, fn func(*bolt.Tx) error) error {
	c := &call{fn: fn, done: make(chan error, 1)}
	s.bmu.Lock()
	s.queue = append(s.queue, c)
	lead := !s.committing
	s.committing = true
	s.bmu.Unlock()
	if lead {
		s.commitQueue()
	}
	for {
		err := <-c.done
		if err != errLead {
			return s.wrap(op, err)
		}
		s.commitQueue()
	}
}

// commitQueue commits everything queued, then hands the lead to the first
// writer waiting meanwhile, if any: each leader commits once, so no caller is
// kept committing others' writes for long.
func (s *Store) commitQueue() {
	s.bmu.Lock()
	calls := s.queue
	s.queue = nil
	s.bmu.Unlock()
	s.commit(calls)
	s.bmu.Lock()
	if len(s.queue) > 0 {
		s.queue[0].done <- errLead
		s.bmu.Unlock()
		return
	}
	s.committing = false
	s.bmu.Unlock()
}

// commit runs calls in one transaction and tells each its result. A
// function that fails (other than by a refusal) rolls the transaction
// back: it is then run alone, for its own error, and the others again.
func (s *Store) commit(calls []*call) {
	for len(calls) > 0 {
		errs := make([]error, len(calls))
		failed := -1
		s.commits.Add(1)
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				err := c.fn(tx)
				if r, ok := err.(refusal); ok {
					errs[i] = r.err
					continue
				}
				if err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for i, c := range calls {
				if err != nil {
					c.result(err)
				} else {
					c.result(errs[i])
				}
			}
			return
		}
		c := calls[failed]
		c.result(s.solo(c.fn))
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// solo runs fn in a transaction of its own.
func (s *Store) solo(fn func(*bolt.Tx) error) error {
	s.commits.Add(1)
	err := s.db.Update(fn)
	if r, ok := err.(refusal); ok {
		return r.err
	}
	return err
}
