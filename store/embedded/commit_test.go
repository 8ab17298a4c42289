package embedded

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

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
	mustSettle(t, s)
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
