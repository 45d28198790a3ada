package contracttest

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"
)

// The mock's Idempotency-Key, as Merge documents it for POSTs (a beta, in
// ../shared/upstream/idempotency.md of this project's sources): the first
// request with a key is answered and its answer kept; a later one with the
// same key and the same body gets that answer again; the same key with
// another body gets a 400 naming the header; a key is kept for 24 hours of
// the mock's clock; at most 10,000 keys are kept, the oldest forgotten.
const (
	idempotencyTTL  = 24 * time.Hour
	maxIdempotency  = 10_000
	idempotencyName = "Idempotency-Key"
)

// idempotency is a mock's memory of Idempotency-Keys.
type idempotency struct {
	mu      sync.Mutex
	entries map[string]*answer
	order   []string // keys, oldest first
	max     int
}

// answer is the first answer to a key. done is closed once status and body
// are set, so that a second request that arrives while the first is being
// answered (a double click) waits for it and gets the same answer.
type answer struct {
	hash   [sha256.Size]byte
	at     time.Time
	done   chan struct{}
	status int
	body   any
}

func newIdempotency() *idempotency {
	return &idempotency{entries: map[string]*answer{}, max: maxIdempotency}
}

// claim finds the answer a request with key and body gets. It returns the
// first answer when there is one (first is false: wait for it on done),
// or a new answer to fill in (first is true: answer, then call fill); conflict
// is true when the key was used with another body.
func (id *idempotency) claim(key string, body []byte, now time.Time) (a *answer, first, conflict bool) {
	hash := sha256.Sum256(body)
	id.mu.Lock()
	defer id.mu.Unlock()
	if a := id.entries[key]; a != nil && now.Sub(a.at) < idempotencyTTL {
		return a, false, a.hash != hash
	}
	a = &answer{hash: hash, at: now, done: make(chan struct{})}
	id.entries[key] = a
	id.order = append(id.order, key)
	for len(id.order) > id.max {
		delete(id.entries, id.order[0])
		id.order = id.order[1:]
	}
	return a, true, false
}

// fill records the first answer and wakes who waits for it.
func (a *answer) fill(status int, body any) {
	a.status, a.body = status, body
	close(a.done)
}

// idempotent answers a valid request through the mock's Idempotency-Key
// memory: answer is how the request is answered the first time.
func (m *Mock) idempotent(r *http.Request, body []byte, answer func(*http.Request, []byte) (int, any)) (int, any) {
	key := r.Header.Get(idempotencyName)
	if key == "" {
		return answer(r, body)
	}
	a, first, conflict := m.idempotency.claim(key, body, m.now())
	switch {
	case conflict:
		return http.StatusBadRequest, errorBody{detail: "The Idempotency-Key header was already used with another request body."}
	case first:
		status, out := answer(r, body)
		a.fill(status, out)
		return status, out
	}
	select {
	case <-a.done:
		return a.status, a.body
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	}
}
