package embedded

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openWithBucket opens a store at path with an empty bucket "test".
func openWithBucket(t *testing.T, path string) (*Store, []byte) {
	t.Helper()
	s, err := Open(path, Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	bucket := []byte("test")
	if err := s.update("init", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s, bucket
}

// TestGroupCommit writes from many goroutines at once, some of whose
// functions fail or refuse: every successful write is kept, no failed or
// refused one leaves a trace, and each caller gets its own result.
func TestGroupCommit(t *testing.T) {
	s, bucket := openWithBucket(t, filepath.Join(t.TempDir(), FileName))
	defer s.Close()
	errBoom, errNo := errors.New("boom"), errors.New("no")
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.update("put", func(tx *bolt.Tx) error {
				b := tx.Bucket(bucket)
				switch i % 3 {
				case 1: // writes, then fails: the write must be rolled back
					if err := b.Put(fmt.Appendf(nil, "k%d", i), []byte("x")); err != nil {
						return err
					}
					return errBoom
				case 2: // refuses before writing
					return refuse(errNo)
				}
				return b.Put(fmt.Appendf(nil, "k%d", i), []byte("x"))
			})
		})
	}
	wg.Wait()
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for i := range n {
			got := b.Get(fmt.Appendf(nil, "k%d", i)) != nil
			var want error
			switch i % 3 {
			case 1:
				want = errBoom
			case 2:
				want = errNo
			}
			if !errors.Is(errs[i], want) || (want == nil) != (errs[i] == nil) {
				t.Errorf("write %d: err %v, want %v", i, errs[i], want)
			}
			if got != (want == nil) {
				t.Errorf("write %d: stored %v, want %v", i, got, want == nil)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if s.committing || len(s.queue) > 0 {
		t.Errorf("after the writes: committing %v, %d queued", s.committing, len(s.queue))
	}
}

// TestUpdateLater: a queued write is applied before every write issued
// after it, shares its commit, and is committed on its own (by the timer,
// or by Close) when no other write comes.
func TestUpdateLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, bucket := openWithBucket(t, path)
	defer s.Close()
	put := func(k string) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(k), []byte("x")) }
	}

	// Carried by the next write: one commit, in order, result first.
	SetLaterWait(s, time.Hour)
	results := make(chan error, 1)
	before := s.Commits()
	s.updateLater("a", put("a"), func(err error) { results <- err })
	err := s.update("b", func(tx *bolt.Tx) error {
		if tx.Bucket(bucket).Get([]byte("a")) == nil {
			return errors.New("the queued write is not applied before the later one")
		}
		return put("b")(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-results:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("the queued write's result came after the write that carried it returned")
	}
	if n := s.Commits() - before; n != 1 {
		t.Errorf("%d commits for a queued write and the write after it, want 1", n)
	}

	// Alone: the timer commits it.
	SetLaterWait(s, time.Millisecond)
	s.updateLater("c", put("c"), func(err error) { results <- err })
	select {
	case err := <-results:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a queued write alone was not committed")
	}

	// Queued at Close: committed before the file is closed.
	SetLaterWait(s, time.Hour)
	s.updateLater("d", put("d"), func(err error) { results <- err })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, k := range []string{"a", "b", "c", "d"} {
			if tx.Bucket(bucket).Get([]byte(k)) == nil {
				t.Errorf("%s lost", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
